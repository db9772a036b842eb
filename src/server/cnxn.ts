/**
 * ServerCnxn: one client TCP connection. Frames are `int length` + record bytes; the
 * first frame is a ConnectRequest (or the 4 bytes of a four-letter word). Replies leave in
 * request order; watch notifications leave as soon as the change is applied, so a client
 * always sees the event before any reply that reveals the change.
 *
 * Authentication, as ZooKeeper's processPacket does it: `auth` packets (digest, ip, x509 on a
 * TLS connection with a certificate) and SASL packets (DIGEST-MD5) are answered at once and
 * add ids to the connection; a failure is answered AUTHFAILED (SESSIONCLOSEDREQUIRESASLAUTH
 * when SASL is required) and closes the connection. With enforce.auth every other request
 * from a connection that has no id of an enforced scheme is answered
 * SESSIONCLOSEDREQUIRESASLAUTH and the connection is closed; the session itself stays until
 * it expires, as in ZooKeeper.
 */
import type { Socket } from 'node:net';
import {
  AuthPacket,
  Code,
  ConnectRequest,
  ConnectResponse,
  JuteReader,
  JuteWriter,
  KeeperState,
  OpCode,
  GetSASLRequest,
  ReplyHeader,
  RequestHeader,
  SetSASLResponse,
  WatcherEvent,
  Xid,
} from '../jute/index.js';
import { digestOf, type AuthId, type WatchedEvent } from '../tree/index.js';
import { SASL_SCHEME, SUPER_SCHEME, X509_SCHEME } from './auth/authentication-helper.js';
import { DigestMd5Server, SaslFailure } from './auth/digest-md5.js';
import type { SaslUsers } from './auth/jaas.js';
import type { ConnectionThrottle } from './connection-throttle.js';
import { FrameAssembler, type FrameSink } from './frame-assembler.js';
import type { Logger } from './log.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import type { Reply, Request } from './request.js';
import { checkPasswd, generatePasswd, PASSWD_LENGTH, sessionHex } from './session-id.js';
import type { SessionConnection, ZooKeeperServer } from './zk-server.js';
import { zxidHex } from '../jute/index.js';

/** Stop reading a client that does not read its replies once this much is queued. */
const MAX_QUEUED_OUTPUT_BYTES = 8 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

interface Pending {
  req: Request;
  reply: Reply | null;
  write: boolean;
}

export interface CnxnHooks {
  /** Is this the int of a four-letter word? Then `fourLetterWord` answers it. */
  isFourLetterWord(first4: Buffer): boolean;
  fourLetterWord(cmd: string): string;
  onClose(cnxn: ServerCnxn): void;
  /** For what any client can make happen at will (shared by every connection of the port). */
  limitLog: RateLimitedLog;
  /** Which ConnectRequests get a session (shared by every connection of the port). */
  throttle: ConnectionThrottle;
  /** DIGEST-MD5 users (zablab.sasl.jaasFile); null: every SASL login fails. */
  saslUsers: SaslUsers | null;
}

/** What the TLS handshake established about the client. */
export interface TlsPeer {
  /** x509 (and super) ids from a verified client certificate; empty without one. */
  authInfo: AuthId[];
  /** The client showed a certificate that verified (so `addauth x509` succeeds). */
  certificate: boolean;
}

let nextCnxnId = 1;

export class ServerCnxn implements SessionConnection {
  readonly id = nextCnxnId++;
  sessionId = 0n;
  sessionTimeoutMs = 0;
  readonly authInfo: AuthId[] = [];
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly establishedAtMs = Date.now();
  packetsReceived = 0;
  packetsSent = 0;
  lastCxid = -1;
  lastZxid = -1n;
  lastOp = 'NA';
  lastLatencyMs = 0;
  minLatencyMs = Number.MAX_SAFE_INTEGER;
  maxLatencyMs = 0;
  private totalLatencyMs = 0;
  private latencyCount = 0;
  lastResponseAtMs = 0;

  /** 'waiting': the ConnectRequest waits for the server to serve (an election is under way). */
  private state: 'new' | 'waiting' | 'connecting' | 'established' | 'closed' = 'new';
  private isOldClient = false;
  private readonly frames = new FrameAssembler();
  private readonly frameSink: FrameSink = {
    onLength: (length) => this.onLength(length),
    onFrame: (frame) => {
      this.onFrame(frame);
      return !this.isClosed();
    },
  };
  private readonly queue: Pending[] = [];
  /** Has an id of an enforced scheme (or nothing is enforced): checked until true, then never again. */
  private enforcePassed: boolean;
  private sasl: DigestMd5Server | null = null;
  /** Frames read while the session is being created; processed once it exists. */
  private readonly held: Buffer[] = [];
  private out: JuteWriter | null = null;
  private paused = false;
  private throttledNow = false;
  /** Closes the connection unless its ConnectRequest is read first (ZooKeeper's sessionless connection timeout). */
  private sessionlessTimer: NodeJS.Timeout | null;

  constructor(
    private readonly socket: Socket,
    private readonly server: ZooKeeperServer,
    private readonly log: Logger,
    private readonly hooks: CnxnHooks,
    /** Set for a TLS connection. */
    private readonly tlsPeer?: TlsPeer,
  ) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    // Every connection is authenticated by its address (ZooKeeper's ip scheme).
    this.authInfo.push({ scheme: 'ip', id: this.remoteAddress });
    if (tlsPeer !== undefined) this.authInfo.push(...tlsPeer.authInfo);
    this.enforcePassed = server.auth.isCnxnAuthenticated(this.authInfo);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.closedByClient());
    socket.on('close', () => this.closedByClient());
    socket.on('drain', () => this.maybeResume());
    this.sessionlessTimer = setTimeout(() => this.expireSessionless(), server.cfg.sessionlessCnxnTimeoutMs);
    this.sessionlessTimer.unref();
  }

  /**
   * No whole ConnectRequest within nio.sessionlessCnxnTimeout. Unlike ZooKeeper, whose timer
   * restarts on every read, this is a deadline from accept: trickling the ConnectRequest a
   * byte at a time does not keep a connection open.
   */
  private expireSessionless(): void {
    this.sessionlessTimer = null;
    if (this.state !== 'new') return;
    this.server.telemetry.sessionlessConnectionExpired();
    this.hooks.limitLog.info('closing connection: no ConnectRequest within nio.sessionlessCnxnTimeout', {
      client: this.describe(),
      timeoutMs: this.server.cfg.sessionlessCnxnTimeoutMs,
    });
    this.close();
  }

  private stopSessionlessTimer(): void {
    if (this.sessionlessTimer === null) return;
    clearTimeout(this.sessionlessTimer);
    this.sessionlessTimer = null;
  }

  get outstanding(): number {
    return this.queue.length;
  }

  get avgLatencyMs(): number {
    return this.latencyCount === 0 ? 0 : this.totalLatencyMs / this.latencyCount;
  }

  /** `crst`: forget counters and latencies. */
  resetStats(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.lastCxid = -1;
    this.lastZxid = -1n;
    this.lastOp = 'NA';
    this.lastLatencyMs = 0;
    this.minLatencyMs = Number.MAX_SAFE_INTEGER;
    this.maxLatencyMs = 0;
    this.totalLatencyMs = 0;
    this.latencyCount = 0;
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  get isEstablished(): boolean {
    return this.state === 'established';
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.frames.push(chunk, this.frameSink);
  }

  /** A frame's length prefix: a four-letter word (first prefix only), or a length within jute.maxbuffer. */
  private onLength(length: number): boolean {
    if (this.state === 'new') {
      const first4 = Buffer.alloc(4);
      first4.writeInt32BE(length);
      if (this.hooks.isFourLetterWord(first4)) {
        this.answerFourLetterWord(first4.toString('latin1'));
        return false;
      }
    }
    if (length < 0 || length > this.server.cfg.juteMaxBuffer) {
      this.hooks.limitLog.warn('closing connection: frame length out of range', {
        client: this.describe(),
        length,
        juteMaxBuffer: this.server.cfg.juteMaxBuffer,
      });
      this.close();
      return false;
    }
    return true;
  }

  private onFrame(frame: Buffer): void {
    this.packetsReceived++;
    this.server.stats.packetsReceived++;
    try {
      switch (this.state) {
        case 'new':
          this.onConnectRequest(frame);
          return;
        case 'waiting':
        case 'connecting':
          if (this.held.length >= 10_000) throw new Error('too many requests before the session was established');
          this.held.push(frame);
          return;
        case 'established':
          this.onRequest(frame);
          return;
        case 'closed':
          return;
      }
    } catch (err) {
      // Undecodable bytes from the client: drop this connection only.
      this.hooks.limitLog.warn('closing connection: malformed packet', { client: this.describe(), error: String(err) });
      this.close();
    }
  }

  private onConnectRequest(frame: Buffer): void {
    this.stopSessionlessTimer();
    const r = new JuteReader(frame);
    const cr = ConnectRequest.read(r);
    this.isOldClient = r.remaining < 1;
    const cfg = this.server.cfg;
    if (!this.server.acceptsClients) {
      const waiting = this.server.servingWaiters.wait(
        this,
        () => {
          if (this.state !== 'waiting') return;
          this.state = 'new';
          this.onConnectRequest(frame);
        },
        () => {
          this.log.debug('refusing session: the server did not start serving in time', { client: this.describe() });
          this.close();
        },
      );
      if (waiting) {
        this.state = 'waiting';
        return;
      }
      this.log.debug('refusing session: not serving clients', { client: this.describe() });
      this.close();
      return;
    }
    // As ZooKeeper: the throttle decides before anything else is done for the request.
    const admission = this.hooks.throttle.admit(this.remoteAddress, cr.sessionId);
    if (!admission.admitted) {
      this.server.telemetry.connectionRejected();
      this.hooks.limitLog.warn('closing connection: connection throttle', { client: this.describe(), limit: admission.limit });
      this.close();
      return;
    }
    this.server.telemetry.connectionAdmitted(admission.deficit);
    if (cr.lastZxidSeen > this.server.lastProcessedZxid) {
      this.log.info('refusing session: client has seen a newer zxid', {
        client: this.describe(),
        clientZxid: zxidHex(cr.lastZxidSeen),
        ourZxid: zxidHex(this.server.lastProcessedZxid),
      });
      this.close();
      return;
    }
    this.sessionTimeoutMs = Math.min(Math.max(cr.timeOut, cfg.minSessionTimeout), cfg.maxSessionTimeout);
    if (cr.sessionId === 0n) {
      this.sessionId = this.server.sessions.createSessionId();
      this.state = 'connecting';
      const w = new JuteWriter(4);
      w.writeInt(this.sessionTimeoutMs);
      const req = this.makeRequest(0, OpCode.createSession, w.toBuffer());
      this.server.telemetry.requestStarted(req);
      this.server.submitWrite(req);
      return;
    }
    this.sessionId = cr.sessionId;
    if (!checkPasswd(cr.sessionId, cr.passwd)) {
      this.finishSessionInit(false);
      return;
    }
    // Frames that arrive while the session is being revalidated wait in `held`.
    this.state = 'connecting';
    this.server.revalidate(cr.sessionId, this.sessionTimeoutMs).then(
      (answer) => {
        if (this.state !== 'connecting') return;
        // No leader to ask: drop the connection so the client retries, keeping its session.
        if (answer === 'unknown') this.close();
        else this.finishSessionInit(answer === 'valid');
      },
      () => this.close(),
    );
  }

  private finishSessionInit(valid: boolean): void {
    const w = this.output();
    const at = w.reserveLength();
    ConnectResponse.write(w, {
      protocolVersion: 0,
      timeOut: valid ? this.sessionTimeoutMs : 0,
      sessionId: valid ? this.sessionId : 0n,
      passwd: valid ? generatePasswd(this.sessionId) : Buffer.alloc(PASSWD_LENGTH),
    });
    if (!this.isOldClient) w.writeBool(false);
    w.patchLength(at);
    this.packetsSent++;
    this.server.stats.packetsSent++;
    if (!valid) {
      this.log.info('session expired or invalid on reconnect', { session: sessionHex(this.sessionId) });
      this.flushThenClose();
      return;
    }
    this.state = 'established';
    this.server.registerSession(this);
    const held = this.held.splice(0);
    for (const f of held) {
      if (this.state !== 'established') break;
      this.onFrame(f);
    }
  }

  private makeRequest(cxid: number, type: number, body: Buffer): Request {
    return {
      sessionId: this.sessionId,
      cxid,
      type,
      body,
      origin: this,
      authInfo: this.authInfo,
      receivedAtMs: performance.now(),
      err: Code.OK,
      traceSpan: undefined,
    };
  }

  private onRequest(frame: Buffer): void {
    const r = new JuteReader(frame);
    const h = RequestHeader.read(r);
    const body = frame.subarray(r.offset);
    this.server.touchSession(this.sessionId, this.sessionTimeoutMs);
    if (h.type === OpCode.auth) {
      this.onAuth(h.xid, AuthPacket.read(new JuteReader(body)));
      return;
    }
    if (h.type === OpCode.sasl) {
      this.onSasl(h.xid, GetSASLRequest.read(new JuteReader(body)).token ?? EMPTY);
      return;
    }
    if (!this.enforcePassed && !this.enforceAuthentication(h.xid)) return;
    const req = this.makeRequest(h.xid, h.type, body);
    this.server.telemetry.requestStarted(req);
    const write = this.server.takesWritePath(h.type);
    this.queue.push({ req, reply: null, write });
    if (write) {
      this.server.submitWrite(req);
      if (this.server.shouldThrottle(this.queue.length)) this.throttle();
    } else {
      this.drain();
    }
  }

  /** ProviderRegistry.getServerProvider(scheme).handleAuthentication, for the schemes zablab has. */
  private onAuth(xid: number, p: AuthPacket): void {
    let ok = false;
    if (this.server.auth.providers.has(p.scheme)) {
      switch (p.scheme) {
        case 'digest':
          if (p.auth !== null) {
            const digest = digestOf(p.auth.toString('utf8'));
            const sup = this.server.cfg.superDigest;
            if (sup !== undefined && digest === sup) this.addAuthInfo({ scheme: SUPER_SCHEME, id: '' });
            this.addAuthInfo({ scheme: 'digest', id: digest });
            ok = true;
          }
          break;
        case 'ip':
          // The ip scheme authenticates by address only; the connection already has it.
          ok = true;
          break;
        case X509_SCHEME:
          // X509AuthenticationProvider: only a TLS connection whose certificate verified.
          ok = this.tlsPeer?.certificate === true;
          break;
        case SASL_SCHEME:
          // SASLAuthenticationProvider: SASL is negotiated with SASL packets, never by addauth.
          break;
      }
    }
    this.sendReply(xid, 0n, ok ? Code.OK : Code.AUTHFAILED, null);
    if (!ok) {
      this.hooks.limitLog.warn('authentication failed', { client: this.describe(), scheme: p.scheme });
      this.flushThenClose();
    }
  }

  /** One SASL packet (ZooKeeperServer.processSasl with the DIGEST-MD5 server). */
  private onSasl(xid: number, token: Buffer): void {
    let response: Buffer;
    try {
      if (this.hooks.saslUsers === null) throw new SaslFailure('no users are configured (zablab.sasl.jaasFile)');
      this.sasl ??= new DigestMd5Server(this.hooks.saslUsers);
      const step = this.sasl.evaluateResponse(token);
      if (step.complete) {
        this.addAuthInfo({ scheme: SASL_SCHEME, id: step.authorizationId });
        if (this.server.auth.isSaslSuperUser(step.authorizationId)) this.addAuthInfo({ scheme: SUPER_SCHEME, id: '' });
        this.log.info('SASL authenticated', { client: this.describe(), id: step.authorizationId });
      }
      response = step.token;
    } catch (err) {
      if (!(err instanceof SaslFailure)) throw err;
      this.hooks.limitLog.warn('closing connection: SASL authentication failed', { client: this.describe(), reason: err.message });
      const code = this.server.auth.saslAuthRequired ? Code.SESSIONCLOSEDREQUIRESASLAUTH : Code.AUTHFAILED;
      this.sendReply(xid, 0n, code, saslResponse(null), true);
      this.flushThenClose();
      return;
    }
    this.sendReply(xid, 0n, Code.OK, saslResponse(response));
  }

  /** AuthenticationHelper.enforceAuthentication: false (and the connection closing) when it has no id of an enforced scheme. */
  private enforceAuthentication(xid: number): boolean {
    if (this.server.auth.isCnxnAuthenticated(this.authInfo)) {
      this.enforcePassed = true;
      return true;
    }
    this.hooks.limitLog.warn('closing connection: not authenticated with a scheme enforce.auth.schemes requires', {
      client: this.describe(),
      schemes: this.authInfo.map((a) => a.scheme).join(','),
      required: this.server.auth.enforceAuthSchemes.join(','),
    });
    this.sendReply(xid, 0n, Code.SESSIONCLOSEDREQUIRESASLAUTH, null);
    this.flushThenClose();
    return false;
  }

  private addAuthInfo(id: AuthId): void {
    if (!this.authInfo.some((a) => a.scheme === id.scheme && a.id === id.id)) this.authInfo.push(id);
  }

  /** RequestOrigin: a write (or createSession) is done. */
  complete(req: Request, reply: Reply): void {
    if (this.state === 'closed') return;
    if (req.type === OpCode.createSession) {
      this.server.telemetry.requestFinished(req, reply.err, true);
      this.finishSessionInit(reply.err === Code.OK);
      return;
    }
    const p = this.queue.find((e) => e.req === req);
    if (!p) return;
    p.reply = reply;
    this.drain();
  }

  /** Send every reply that is ready, in order; run reads whose turn has come. */
  private drain(): void {
    while (this.queue.length > 0 && this.state !== 'closed') {
      const head = this.queue[0]!;
      if (!head.reply) {
        if (head.write) return;
        head.reply = this.server.processRead(head.req, this);
      }
      this.queue.shift();
      this.recordReply(head.req, head.reply);
      const xid = head.req.type === OpCode.ping ? Xid.ping : head.req.cxid;
      this.sendReply(xid, head.reply.zxid, head.reply.err, head.reply.body);
      this.server.telemetry.requestFinished(head.req, head.reply.err, head.write);
      if (head.req.type === OpCode.closeSession) {
        this.flushThenClose();
        return;
      }
    }
    if (this.throttledNow && !this.server.shouldThrottle(this.queue.length)) this.resumeReading();
  }

  private recordReply(req: Request, reply: Reply): void {
    const ms = performance.now() - req.receivedAtMs;
    this.lastLatencyMs = ms;
    if (ms < this.minLatencyMs) this.minLatencyMs = ms;
    if (ms > this.maxLatencyMs) this.maxLatencyMs = ms;
    this.totalLatencyMs += ms;
    this.latencyCount++;
    this.lastCxid = req.cxid;
    this.lastZxid = reply.zxid;
    this.lastOp = opShortName(req.type);
    this.lastResponseAtMs = Date.now();
  }

  /** Watcher: a watched znode changed. */
  process(event: WatchedEvent): void {
    if (this.state !== 'established') return;
    const w = this.output();
    const at = w.reserveLength();
    ReplyHeader.write(w, { xid: Xid.notification, zxid: event.zxid, err: 0 });
    WatcherEvent.write(w, { type: event.type, state: event.state ?? KeeperState.SyncConnected, path: event.path });
    w.patchLength(at);
    this.packetsSent++;
    this.server.stats.packetsSent++;
  }

  /** `withError`: send the body with an error too (ZooKeeper's failed SASL reply carries an empty SetSASLResponse). */
  private sendReply(xid: number, zxid: bigint, err: number, body: Buffer | null, withError = false): void {
    const w = this.output();
    const at = w.reserveLength();
    ReplyHeader.write(w, { xid, zxid, err });
    if (body !== null && (err === Code.OK || withError)) w.writeRaw(body);
    w.patchLength(at);
    this.packetsSent++;
    this.server.stats.packetsSent++;
  }

  /** The output buffer of this event-loop turn; flushed in one socket write. */
  private output(): JuteWriter {
    if (this.out === null) {
      this.out = new JuteWriter(1024);
      queueMicrotask(() => this.flushOutput());
    }
    return this.out;
  }

  private flushOutput(): void {
    const w = this.out;
    this.out = null;
    if (w === null || this.socket.destroyed) return;
    this.socket.write(w.view().length === 0 ? EMPTY : w.toBuffer());
    if (this.socket.writableLength > MAX_QUEUED_OUTPUT_BYTES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (this.paused && !this.throttledNow) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private throttle(): void {
    this.throttledNow = true;
    this.server.throttle(this);
    this.socket.pause();
  }

  /** SessionConnection: the server is under globalOutstandingLimit again. */
  resumeReading(): void {
    if (!this.throttledNow) return;
    this.throttledNow = false;
    this.server.unthrottle(this);
    if (!this.paused) this.socket.resume();
  }

  private answerFourLetterWord(cmd: string): void {
    let text: string;
    try {
      text = this.hooks.fourLetterWord(cmd);
    } catch (err) {
      text = `Error: ${String(err)}\n`;
    }
    this.state = 'closed';
    this.stopSessionlessTimer();
    this.socket.end(text);
    this.hooks.onClose(this);
  }

  closeForSession(reason: string): void {
    this.log.debug('closing connection', { client: this.describe(), reason });
    this.flushThenClose();
  }

  private flushThenClose(): void {
    if (this.state === 'closed') return;
    this.flushOutput();
    this.state = 'closed';
    this.socket.end();
    this.cleanup();
  }

  /** The socket ended or failed under us: the client went away (ZooKeeper's connection_drop_count). */
  private closedByClient(): void {
    if (this.state !== 'closed') this.server.telemetry.connectionDropped();
    this.close();
  }

  close(): void {
    if (this.state === 'closed' && this.socket.destroyed) return;
    const wasOpen = this.state !== 'closed';
    this.state = 'closed';
    this.socket.destroy();
    if (wasOpen) this.cleanup();
  }

  private cleanup(): void {
    this.stopSessionlessTimer();
    this.server.servingWaiters.cancel(this);
    for (const p of this.queue) this.server.telemetry.requestAbandoned(p.req);
    this.queue.length = 0;
    this.held.length = 0;
    if (this.sessionId !== 0n) this.server.unregisterConnection(this);
    this.hooks.onClose(this);
  }

  describe(): string {
    return `${this.remoteAddress}:${this.remotePort}${this.sessionId !== 0n ? ` session ${sessionHex(this.sessionId)}` : ''}`;
  }
}

function saslResponse(token: Buffer | null): Buffer {
  const w = new JuteWriter(8 + (token?.length ?? 0));
  SetSASLResponse.write(w, { token });
  return w.toBuffer();
}

/** A client's address as ZooKeeper shows it: IPv4-mapped IPv6 as plain IPv4. */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** The 4-letter op names ZooKeeper shows in `cons` (lastOp). */
function opShortName(type: number): string {
  switch (type) {
    case OpCode.ping:
      return 'PING';
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      return 'CREA';
    case OpCode.delete:
    case OpCode.deleteContainer:
      return 'DELE';
    case OpCode.setData:
      return 'SETD';
    case OpCode.getData:
      return 'GETD';
    case OpCode.exists:
      return 'EXIS';
    case OpCode.getChildren:
    case OpCode.getChildren2:
      return 'GETC';
    case OpCode.multi:
      return 'MULT';
    case OpCode.multiRead:
      return 'MLTR';
    case OpCode.closeSession:
      return 'CLOS';
    case OpCode.sync:
      return 'SYNC';
    case OpCode.setACL:
      return 'SETA';
    case OpCode.getACL:
      return 'GETA';
    case OpCode.setWatches:
      return 'SETW';
    case OpCode.setWatches2:
      return 'STW2';
    case OpCode.addWatch:
      return 'ADDW';
    case OpCode.check:
      return 'CHEC';
    default:
      return 'OTHR';
  }
}
