/**
 * The client port: accepts TCP connections, enforces maxCnxns in total and maxClientCnxns
 * per client address (ZooKeeper's NIOServerCnxnFactory rules: a refused socket is closed at
 * once and counted in connection_rejected), and hands each socket to a ServerCnxn.
 *
 * TLS, as ZooKeeper's NettyServerCnxnFactory serves it: secureClientPort speaks TLS only
 * (a plaintext client fails the handshake and is closed), and with client.portUnification the
 * plaintext clientPort also takes TLS clients, told apart by the first byte (0x16 starts every
 * TLS handshake; a ConnectRequest or a four-letter word never does). Every TLS connection goes
 * through one tls.Server that listens nowhere; a verified client certificate gives the
 * connection its x509 id (X509AuthenticationProvider). Limits count a connection from accept,
 * handshake included. Without TLS the plaintext path is what it always was.
 */
import net from 'node:net';
import tls from 'node:tls';
import { subjectDn } from './auth/x509-subject.js';
import type { SaslUsers } from './auth/jaas.js';
import type { Logger } from './log.js';
import { normalizeAddress, ServerCnxn, type CnxnHooks, type TlsPeer } from './cnxn.js';
import { ConnectionThrottle } from './connection-throttle.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { ClientTls } from './tls/client-tls.js';
import type { ZooKeeperServer } from './zk-server.js';

/** The first byte of a TLS handshake record (NettyServerCnxnFactory.TLS_HANDSHAKE_RECORD_TYPE). */
const TLS_HANDSHAKE_RECORD_TYPE = 0x16;

export interface ClientPortOptions {
  host: string;
  port: number;
  /** secureClientPort (and its address): a TLS-only port; null when not set. */
  secure: { host: string; port: number } | null;
  /** client.portUnification: the plaintext port also takes TLS clients. */
  portUnification: boolean;
  /** The TLS server options; required when `secure` or `portUnification` is set. */
  tls: ClientTls | null;
  /** DIGEST-MD5 users; null when none are configured (every SASL login fails). */
  saslUsers: SaslUsers | null;
  maxClientCnxns: number;
  /** Connections in total; 0 = unlimited. */
  maxCnxns: number;
  isFourLetterWord: CnxnHooks['isFourLetterWord'];
  fourLetterWord: CnxnHooks['fourLetterWord'];
}

type AcceptMode = 'plain' | 'tls' | 'sniff';

export class ClientPortListener {
  readonly cnxns = new Set<ServerCnxn>();
  private readonly perAddress = new Map<string, number>();
  private readonly netServer: net.Server;
  private readonly secureServer: net.Server | null = null;
  /** Runs the TLS handshakes of both ports; it listens on no port itself. */
  private readonly tlsServer: tls.Server | null = null;
  /** Sockets accepted whose TLS handshake (or first byte, with port unification) is still awaited, by remote address:port. */
  private readonly handshaking = new Map<string, { addr: string; socket: net.Socket }>();
  private readonly limitLog: RateLimitedLog;
  readonly throttle: ConnectionThrottle;

  constructor(
    private readonly server: ZooKeeperServer,
    private readonly log: Logger,
    private readonly opts: ClientPortOptions,
  ) {
    this.limitLog = new RateLimitedLog(log);
    this.throttle = new ConnectionThrottle(server.cfg);
    if ((opts.secure !== null || opts.portUnification) && opts.tls === null) {
      throw new Error('ClientPortListener: secureClientPort and client.portUnification need the TLS options');
    }
    const plainMode: AcceptMode = opts.portUnification ? 'sniff' : 'plain';
    this.netServer = net.createServer({ noDelay: true }, (socket) => this.accept(socket, plainMode));
    this.netServer.on('error', (err) => this.log.error('client port error', { error: String(err) }));
    if (opts.tls !== null) {
      this.tlsServer = tls.createServer(opts.tls.options);
      this.tlsServer.on('secureConnection', (s: tls.TLSSocket) => this.onSecure(s));
      this.tlsServer.on('tlsClientError', (err: Error, s: tls.TLSSocket) => this.onHandshakeFailed(err, s));
    }
    if (opts.secure !== null) {
      this.secureServer = net.createServer({ noDelay: true }, (socket) => this.accept(socket, 'tls'));
      this.secureServer.on('error', (err) => this.log.error('secure client port error', { error: String(err) }));
    }
  }

  async listen(): Promise<void> {
    await listenOn(this.netServer, this.opts.port, this.opts.host);
    if (this.secureServer !== null) {
      try {
        await listenOn(this.secureServer, this.opts.secure!.port, this.opts.secure!.host);
      } catch (err) {
        await new Promise<void>((resolve) => this.netServer.close(() => resolve()));
        throw err;
      }
    }
  }

  get address(): net.AddressInfo {
    return this.netServer.address() as net.AddressInfo;
  }

  /** secureClientPort's address once listening; null without one. */
  get secureAddress(): net.AddressInfo | null {
    return (this.secureServer?.address() as net.AddressInfo | null | undefined) ?? null;
  }

  private accept(socket: net.Socket, mode: AcceptMode): void {
    if (mode !== 'plain' && socket.remoteAddress === undefined) {
      // Gone before it was accepted: nothing to hand over (and no address:port to track the handshake by).
      socket.destroy();
      return;
    }
    const addr = normalizeAddress(socket.remoteAddress ?? '');
    const count = this.perAddress.get(addr) ?? 0;
    if (this.opts.maxCnxns > 0 && this.cnxns.size + this.handshaking.size >= this.opts.maxCnxns) {
      this.refuse(socket, 'too many connections', { address: addr, maxCnxns: this.opts.maxCnxns });
      return;
    }
    if (this.opts.maxClientCnxns > 0 && count >= this.opts.maxClientCnxns) {
      this.refuse(socket, 'too many connections from this address', { address: addr, maxClientCnxns: this.opts.maxClientCnxns });
      return;
    }
    this.perAddress.set(addr, count + 1);
    switch (mode) {
      case 'plain':
        this.open(socket, addr, undefined);
        return;
      case 'tls':
        this.startTls(socket, addr);
        return;
      case 'sniff':
        this.sniff(socket, addr);
        return;
    }
  }

  private open(socket: net.Socket, addr: string, peer: TlsPeer | undefined): void {
    const cnxn = new ServerCnxn(
      socket,
      this.server,
      this.log,
      {
        isFourLetterWord: this.opts.isFourLetterWord,
        fourLetterWord: this.opts.fourLetterWord,
        onClose: (c) => this.onClose(c, addr),
        limitLog: this.limitLog,
        throttle: this.throttle,
        saslUsers: this.opts.saslUsers,
      },
      peer,
    );
    this.cnxns.add(cnxn);
  }

  /** Port unification: the first byte says TLS or plaintext; the bytes read go back into the socket. */
  private sniff(socket: net.Socket, addr: string): void {
    const key = remoteKey(socket);
    this.handshaking.set(key, { addr, socket });
    const timer = setTimeout(() => socket.destroy(), this.server.cfg.sessionlessCnxnTimeoutMs);
    timer.unref();
    const onGone = (): void => {
      clearTimeout(timer);
      if (this.handshaking.delete(key)) this.release(addr);
    };
    socket.once('close', onGone);
    socket.on('error', () => undefined);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      socket.off('close', onGone);
      this.handshaking.delete(key);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE_RECORD_TYPE) {
        this.startTls(socket, addr);
      } else {
        this.open(socket, addr, undefined);
        socket.resume();
      }
    });
  }

  private startTls(socket: net.Socket, addr: string): void {
    const key = remoteKey(socket);
    this.handshaking.set(key, { addr, socket });
    socket.once('close', () => {
      if (this.handshaking.delete(key)) this.release(addr);
    });
    // tls.Server takes over the socket (and any bytes unshifted into it).
    this.tlsServer!.emit('connection', socket);
  }

  private onSecure(socket: tls.TLSSocket): void {
    const key = remoteKey(socket);
    const pending = this.handshaking.get(key);
    if (pending === undefined) {
      socket.destroy();
      return;
    }
    this.handshaking.delete(key);
    const client = `${pending.addr}:${socket.remotePort ?? 0}`;
    const certificate = this.opts.tls!.clientAuth === 'none' ? null : socket.getPeerCertificate();
    const presented = certificate !== null && certificate.raw !== undefined;
    let peer: TlsPeer = { authInfo: [], certificate: false };
    if (presented) {
      // clientAuth=want: a certificate is optional, but one that is given must verify (as Java's trust manager insists).
      if (!socket.authorized) {
        this.closeTls(socket, pending.addr, 'closing connection: client certificate not trusted', { client, reason: String(socket.authorizationError) });
        return;
      }
      try {
        peer = { authInfo: this.server.auth.x509Ids(subjectDn(certificate.raw)), certificate: true };
      } catch (err) {
        this.closeTls(socket, pending.addr, 'closing connection: cannot read the client certificate subject', { client, error: String(err) });
        return;
      }
      this.log.debug('TLS client authenticated', { client, id: peer.authInfo[peer.authInfo.length - 1]!.id });
    }
    this.open(socket, pending.addr, peer);
  }

  private closeTls(socket: tls.TLSSocket, addr: string, message: string, fields: object): void {
    this.server.stats.authFailed++;
    this.limitLog.warn(message, fields);
    socket.destroy();
    this.release(addr);
  }

  /** Garbage, a plaintext client on secureClientPort, a certificate that does not verify, or a handshake that took too long. */
  private onHandshakeFailed(err: Error, socket: tls.TLSSocket): void {
    this.server.stats.authFailed++;
    const pending = this.handshaking.get(remoteKey(socket));
    this.limitLog.warn('closing connection: TLS handshake failed', {
      client: `${pending?.addr ?? normalizeAddress(socket.remoteAddress ?? '')}:${socket.remotePort ?? 0}`,
      error: (err as NodeJS.ErrnoException).code ?? err.message,
    });
    // Node leaves a timed-out handshake's socket open; the 'close' of the socket releases its slot.
    socket.destroy();
  }

  private refuse(socket: net.Socket, why: string, fields: object): void {
    this.server.telemetry.connectionRejected();
    this.limitLog.warn(`refusing connection: ${why}`, fields);
    socket.on('error', () => undefined);
    socket.destroy();
  }

  private onClose(c: ServerCnxn, addr: string): void {
    if (!this.cnxns.delete(c)) return;
    this.release(addr);
  }

  private release(addr: string): void {
    const n = (this.perAddress.get(addr) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(addr);
    else this.perAddress.set(addr, n);
  }

  async close(): Promise<void> {
    const closing = [this.netServer, ...(this.secureServer === null ? [] : [this.secureServer])].map(
      (s) => new Promise<void>((resolve) => s.close(() => resolve())),
    );
    for (const c of [...this.cnxns]) c.close();
    for (const { socket } of this.handshaking.values()) socket.destroy();
    await Promise.all(closing);
  }
}

function listenOn(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** The remote end of a socket; a TLSSocket over a net.Socket reports the same. */
function remoteKey(socket: net.Socket): string {
  return `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
}
