/**
 * Quorum TLS (sslQuorum=true): both peer channels speak TLS and both sides show a
 * certificate, as ZooKeeper's QuorumX509Util does (ssl.quorum.clientAuth=need). The dialer
 * checks the acceptor's certificate against the trust store and, with
 * ssl.quorum.hostnameVerification, against the host its server.N line names. The acceptor
 * checks the dialer's against the trust store and, with hostnameVerification, once the
 * handshake says which member it claims to be: the certificate must name that member's
 * server.N host or the address the connection comes from (ZooKeeper checks the address).
 * A certificate from the trust store's CA that names no member, such as a client
 * certificate, therefore cannot join the quorum.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { TlsVersion } from '../tls/names.js';

export interface PeerTlsOptions {
  /** This server's private key and certificate chain (ssl.quorum.keyStore). */
  key: string;
  cert: string;
  passphrase?: string;
  /** The CA certificates peers' certificates must chain to (ssl.quorum.trustStore). */
  ca: string;
  hostnameVerification: boolean;
  /** Allowed versions, oldest first (ssl.quorum.enabledProtocols). */
  protocols: readonly TlsVersion[];
}

export class PeerTls {
  /** What both sides' contexts are made of; built once (a bad key fails here, at start). */
  private readonly material: tls.SecureContextOptions;
  private readonly context: tls.SecureContext;

  constructor(readonly opts: PeerTlsOptions) {
    if (opts.protocols.length === 0) throw new RangeError('PeerTls: at least one TLS version');
    this.material = {
      key: opts.key,
      cert: opts.cert,
      ...(opts.passphrase === undefined ? {} : { passphrase: opts.passphrase }),
      ca: opts.ca,
      minVersion: opts.protocols[0],
      maxVersion: opts.protocols[opts.protocols.length - 1],
    };
    this.context = tls.createSecureContext(this.material);
  }

  /** A listening server whose 'connection' events carry raw sockets and 'secureConnection' verified ones. */
  createServer(handshakeTimeoutMs: number): tls.Server {
    // tls.Server takes the material itself, not a ready context.
    return tls.createServer({
      ...this.material,
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: handshakeTimeoutMs,
      noDelay: true,
    });
  }

  /** Dials a peer; its certificate is checked before 'secureConnect', and a bad one ends in 'error'. */
  connect(host: string, port: number): tls.TLSSocket {
    return tls.connect({
      host,
      port,
      secureContext: this.context,
      // SNI carries names only.
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
      checkServerIdentity: this.opts.hostnameVerification ? tls.checkServerIdentity : () => undefined,
    });
  }

  /**
   * Why the certificate of a peer that dialed us does not fit the member it claims to be, or
   * undefined when it does: it must name `memberHost` (its server.N host) or the address it
   * connected from.
   */
  dialerIdentityProblem(socket: net.Socket, memberHost: string): string | undefined {
    if (!this.opts.hostnameVerification) return undefined;
    const cert = (socket as tls.TLSSocket).getPeerX509Certificate?.();
    if (cert === undefined) return 'it showed no certificate';
    const names = (host: string): boolean => (net.isIP(host) === 0 ? cert.checkHost(host) !== undefined : cert.checkIP(host) !== undefined);
    const from = socket.remoteAddress?.replace(/^::ffff:/, '');
    if (names(memberHost) || (from !== undefined && names(from))) return undefined;
    const san = cert.subjectAltName ?? 'no subjectAltName';
    return `its certificate (${san}) names neither ${memberHost} nor ${from ?? 'its address'}; issue it for its server.N host, or set ssl.quorum.hostnameVerification=false`;
  }
}
