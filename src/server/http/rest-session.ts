/**
 * The REST face's session. Every REST request runs on one internal ZooKeeper session per
 * server, created lazily through the pipeline exactly as a client connection creates one (a
 * `createSession` request), and registered as a SessionConnection so that a learner reports
 * it to the leader and it never expires while the server lives. When it is closed (expired,
 * or the server left broadcast) the next request creates a new one.
 *
 * Ordering: writes leave in request order and are answered once committed and applied here,
 * so an HTTP client that waits for a write's answer and then reads sees the write. Reads run
 * at once, not queued behind writes in flight: concurrent HTTP requests are independent,
 * like requests from different clients.
 */
import { Code, JuteWriter, OpCode } from '../../jute/index.js';
import type { AuthId, WatchedEvent } from '../../tree/index.js';
import type { Reply, Request } from '../request.js';
import { sessionHex } from '../session-id.js';
import type { SessionConnection, ZooKeeperServer } from '../zk-server.js';

export interface RestSessionOptions {
  /** A request not answered in this time fails with OPERATIONTIMEOUT (a write may still apply). */
  requestTimeoutMs: number;
  /** Writes held while the server is over globalOutstandingLimit; beyond this they fail with THROTTLEDOP. */
  throttledMax: number;
  /** Session timeout asked for (clamped to min/maxSessionTimeout like a client's). */
  sessionTimeoutMs: number;
}

export const DEFAULT_REST_SESSION_OPTIONS: RestSessionOptions = {
  requestTimeoutMs: 30_000,
  throttledMax: 10_000,
  sessionTimeoutMs: 30_000,
};

const CXID_MAX = 0x7fffffff;

interface Waiter {
  resolve(reply: Reply): void;
  timer: NodeJS.Timeout;
}

/** One internal session: the SessionConnection the server sees. */
class InternalSession implements SessionConnection {
  state: 'creating' | 'open' | 'closed' = 'creating';
  readonly ready: Promise<void>;
  readonly waiters = new Map<Request, Waiter>();
  /** Writes held back while the server throttles. */
  readonly throttled: Request[] = [];
  private settleReady!: (err: number) => void;

  constructor(
    readonly sessionId: bigint,
    readonly timeoutMs: number,
    private readonly owner: RestSession,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err === Code.OK ? resolve() : reject(new RestSessionError(err)));
    });
    // A rejection nobody awaits yet (session closed before its first use) is not a crash.
    this.ready.catch(() => undefined);
  }

  /** The createSession request finished (or failed). */
  established(err: number): void {
    if (this.state !== 'creating') return;
    this.state = err === Code.OK ? 'open' : 'closed';
    this.settleReady(err);
  }

  complete(req: Request, reply: Reply): void {
    if (req.type === OpCode.createSession) {
      this.owner.onEstablished(this, reply.err);
      return;
    }
    const w = this.waiters.get(req);
    if (!w) return; // timed out already
    this.waiters.delete(req);
    clearTimeout(w.timer);
    w.resolve(reply);
  }

  closeForSession(reason: string): void {
    this.owner.onClosed(this, reason);
  }

  resumeReading(): void {
    // Called while the server applies a txn: submit from a fresh turn of the event loop, as a socket would.
    setImmediate(() => this.owner.drainThrottled(this));
  }

  process(_event: WatchedEvent): void {
    // REST requests never set watches.
  }

  /** Answer every waiting request with `err`. */
  failAll(err: number, zxid: bigint): void {
    if (this.state === 'creating') this.established(err);
    this.state = 'closed';
    this.throttled.length = 0;
    const waiting = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of waiting) {
      clearTimeout(w.timer);
      w.resolve({ err, zxid, body: null });
    }
  }
}

/** The session could not be created or was lost; `code` is ZooKeeper's result code. */
export class RestSessionError extends Error {
  constructor(readonly code: number) {
    super(code === Code.CONNECTIONLOSS ? 'the server is not serving' : `session failed with code ${code}`);
    this.name = 'RestSessionError';
  }
}

export class RestSession {
  private current: InternalSession | null = null;
  private nextCxid = 1;
  private closed = false;
  private readonly keepAlive: NodeJS.Timeout;
  private readonly opts: RestSessionOptions;

  constructor(
    private readonly server: ZooKeeperServer,
    opts: Partial<RestSessionOptions> = {},
  ) {
    this.opts = { ...DEFAULT_REST_SESSION_OPTIONS, ...opts };
    // Touch the session like a client's pings do: the leader or standalone server must never expire it.
    this.keepAlive = setInterval(() => this.touch(), Math.max(10, Math.floor(server.cfg.tickTime / 2)));
    this.keepAlive.unref();
  }

  /** The session in use, if one is open (for tests and `dump`-style views). */
  get sessionId(): bigint | null {
    return this.current?.state === 'open' ? this.current.sessionId : null;
  }

  /**
   * Run one request on the internal session: a read is answered at once, a write once its
   * txn is committed and applied here. Rejects with RestSessionError when no session can be
   * had; otherwise resolves with the reply (whose `err` may be any ZooKeeper code).
   */
  async submit(type: number, body: Buffer, authInfo: AuthId[]): Promise<Reply> {
    const reply = await this.submitOnce(type, body, authInfo);
    // Expired under us (a partition, a long pause): nothing was applied, so one retry on a new session is safe.
    if (reply.err === Code.SESSIONEXPIRED && !this.closed) return this.submitOnce(type, body, authInfo);
    return reply;
  }

  private async submitOnce(type: number, body: Buffer, authInfo: AuthId[]): Promise<Reply> {
    const s = await this.session();
    const req: Request = {
      sessionId: s.sessionId,
      cxid: this.cxid(),
      type,
      body,
      origin: s,
      authInfo,
      receivedAtMs: performance.now(),
      err: Code.OK,
    };
    if (!this.server.serving) {
      // Left broadcast a moment ago (the session is about to be closed): answer as a client connection would be.
      return { err: Code.CONNECTIONLOSS, zxid: this.server.lastProcessedZxid, body: null };
    }
    this.server.touchSession(s.sessionId, s.timeoutMs);
    // Traced and counted like a client connection's request (zk.request, readlatency/updatelatency, zab_requests).
    const telemetry = this.server.telemetry;
    telemetry.requestStarted(req);
    const write = this.server.takesWritePath(type);
    const reply = write ? await this.write(s, req) : this.server.processRead(req, null);
    telemetry.requestFinished(req, reply.err, write);
    if (reply.err === Code.SESSIONEXPIRED) this.drop(s, 'session expired');
    return reply;
  }

  private write(s: InternalSession, req: Request): Promise<Reply> {
    if (s.throttled.length >= this.opts.throttledMax) {
      return Promise.resolve({ err: Code.THROTTLEDOP, zxid: this.server.lastProcessedZxid, body: null });
    }
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        if (!s.waiters.delete(req)) return;
        const i = s.throttled.indexOf(req);
        if (i >= 0) s.throttled.splice(i, 1);
        resolve({ err: Code.OPERATIONTIMEOUT, zxid: this.server.lastProcessedZxid, body: null });
      }, this.opts.requestTimeoutMs);
      s.waiters.set(req, { resolve, timer });
      s.throttled.push(req);
      this.drainThrottled(s);
    });
  }

  /**
   * Submit held writes in order while the server is under globalOutstandingLimit. As on a
   * client connection, a session with nothing in flight is never held back, so the server's
   * next answer to us (which resumes us) always comes.
   */
  drainThrottled(s: InternalSession): void {
    while (s.throttled.length > 0 && s.state === 'open') {
      if (this.server.shouldThrottle(s.waiters.size - s.throttled.length)) {
        this.server.throttle(s);
        return;
      }
      this.server.submitWrite(s.throttled.shift()!);
    }
  }

  private async session(): Promise<InternalSession> {
    if (this.closed) throw new RestSessionError(Code.CONNECTIONLOSS);
    let s = this.current;
    if (s === null || s.state === 'closed') {
      if (!this.server.serving) throw new RestSessionError(Code.CONNECTIONLOSS);
      s = this.create();
    }
    await s.ready;
    return s;
  }

  private create(): InternalSession {
    const cfg = this.server.cfg;
    const timeoutMs = Math.min(Math.max(this.opts.sessionTimeoutMs, cfg.minSessionTimeout), cfg.maxSessionTimeout);
    const s = new InternalSession(this.server.sessions.createSessionId(), timeoutMs, this);
    this.current = s;
    const w = new JuteWriter(4);
    w.writeInt(timeoutMs);
    const req: Request = {
      sessionId: s.sessionId,
      cxid: 0,
      type: OpCode.createSession,
      body: w.toBuffer(),
      origin: s,
      authInfo: [],
      receivedAtMs: performance.now(),
      err: Code.OK,
    };
    const timer = setTimeout(() => {
      if (s.state === 'creating') this.drop(s, 'createSession timed out', Code.OPERATIONTIMEOUT);
    }, this.opts.requestTimeoutMs);
    s.ready.then(
      () => clearTimeout(timer),
      () => clearTimeout(timer),
    );
    this.server.submitWrite(req);
    return s;
  }

  onEstablished(s: InternalSession, err: number): void {
    if (s.state !== 'creating') return;
    if (this.closed || s !== this.current) {
      s.established(Code.CONNECTIONLOSS);
      return;
    }
    s.established(err);
    if (err !== Code.OK) {
      this.server.log.info('REST session could not be created', { code: err });
      return;
    }
    this.server.registerSession(s);
    this.server.log.debug('REST session established', { session: sessionHex(s.sessionId), timeoutMs: s.timeoutMs });
  }

  onClosed(s: InternalSession, reason: string): void {
    this.drop(s, reason);
  }

  /** Forget `s`; its waiting requests fail (the server already failed those it held). */
  private drop(s: InternalSession, reason: string, err: number = Code.CONNECTIONLOSS): void {
    if (s.state === 'closed' && s !== this.current) return;
    this.server.log.debug('REST session closed', { session: sessionHex(s.sessionId), reason });
    s.failAll(err, this.server.lastProcessedZxid);
    this.server.unregisterConnection(s);
    if (this.current === s) this.current = null;
  }

  private touch(): void {
    const s = this.current;
    if (s?.state !== 'open') return;
    // A learner reports the touch to its leader; a standalone server or leader extends it here.
    this.server.touchSession(s.sessionId, s.timeoutMs);
    const tracked = this.server.sessions.get(s.sessionId);
    if (this.server.expiresSessions && (tracked === undefined || tracked.closing)) {
      // The session's owner (standalone or leader) no longer knows it: it is gone.
      this.drop(s, 'session no longer tracked');
    }
  }

  private cxid(): number {
    const c = this.nextCxid;
    this.nextCxid = c >= CXID_MAX ? 1 : c + 1;
    return c;
  }

  /** Fail waiting requests and close the session (through the pipeline, when serving; not awaited). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    const s = this.current;
    if (s === null) return;
    const wasOpen = s.state === 'open';
    this.drop(s, 'HTTP server closing');
    if (wasOpen && this.server.serving) {
      this.server.submitWrite({
        sessionId: s.sessionId,
        cxid: this.cxid(),
        type: OpCode.closeSession,
        body: Buffer.alloc(0),
        origin: null,
        authInfo: [],
        receivedAtMs: performance.now(),
        err: Code.OK,
      });
    }
  }
}
