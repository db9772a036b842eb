/**
 * ZooKeeperServer: what every server does whatever its role — sessions, reads, applying
 * committed txns and answering the request that caused each, throttling, and the
 * registry of client connections. How a write becomes a committed txn is the WritePath:
 * standalone (log + group commit here), or ZAB (leader proposes, learner forwards).
 */
import { Code, KeeperException, OpCode, zxidHex, type LoggedTxn } from '../jute/index.js';
import type { AuthId, Watcher } from '../tree/index.js';
import { AuthenticationHelper } from './auth/authentication-helper.js';
import type { ZabConfig } from './config.js';
import { processRead, writeReplyBody } from './final.js';
import type { ServerState } from './four-letter.js';
import type { Logger } from './log.js';
import { PendingRequests } from './pending-requests.js';
import { PrepRequestProcessor } from './prep.js';
import { isWriteOp, type Reply, type Request } from './request.js';
import { ServerStats } from './server-stats.js';
import { SessionTracker } from './sessions.js';
import { ServingWaiters } from './serving-waiters.js';
import { sessionHex } from './session-id.js';
import type { ZKDatabase } from './zk-database.js';
import { ServerTelemetry } from '../telemetry/index.js';

/** What the server needs from a client connection beyond being a request origin. */
export interface SessionConnection extends Watcher {
  readonly sessionId: bigint;
  complete(req: Request, reply: Reply): void;
  /** Close because the session ended (expired, closed elsewhere, or moved to another connection). */
  closeForSession(reason: string): void;
  /** Resume reading after throttling. */
  resumeReading(): void;
}

/**
 * The server's current role (standalone, leader, learner, or looking): how writes reach a
 * committed txn, and the role's duties. The host installs one with installRole(); nothing
 * else sets role state on the server.
 */
export interface WritePath {
  /** Decides txns (standalone, leader): its prep processor; null on learners and while looking. */
  readonly prep: PrepRequestProcessor | null;
  /** Expires sessions (standalone, leader); learners report theirs to the leader. */
  readonly expiresSessions: boolean;
  /** globalOutstandingLimit is divided by this (learners of more than 2 voters: voters − 1, as ZooKeeper). */
  readonly outstandingLimitDivisor: number;
  /** Hand a write (or createSession/closeSession, or a learner's sync) on; it completes via applyCommitted. */
  submit(req: Request): void;
  /** Ops that must take the write path on this role, beyond writes (a learner's `sync`). */
  forwards(type: number): boolean;
  /**
   * May a client resume this session here (ZooKeeper asks the leader: REVALIDATE)? Only the
   * deciding server can say 'expired'; 'unknown' (no leader reachable) closes the connection
   * so the client tries again, without telling it its session is gone.
   */
  revalidate(sessionId: bigint, timeoutMs: number): Promise<Revalidation>;
  /** Is the role in broadcast (serving clients)? */
  serving(): boolean;
  state(): ServerState;
  /** False on a leader configured with `leaderServes=no`: it coordinates and leaves clients to learners. */
  acceptsClients?(): boolean;
  /** The zxid `srvr` reports when it differs from the last applied one (a leader: its last proposed). */
  reportedZxid?(): bigint | null;
}

export type Revalidation = 'valid' | 'expired' | 'unknown';

export class ZooKeeperServer {
  readonly sessions: SessionTracker;
  readonly stats = new ServerStats();
  readonly startedAtMs = Date.now();
  /** Auth schemes, enforce.auth and super users, from zoo.cfg. */
  readonly auth: AuthenticationHelper;
  private role: WritePath | null = null;
  /** Requests from our connections in the write path: each is in `pending` until finished. */
  private inProcess = 0;
  private readonly pending = new PendingRequests();
  /** Syncs (still in `pending`) waiting for this server to apply up to a zxid; see completeSync. */
  private syncsWaiting: { zxid: bigint; sessionId: bigint; cxid: number; path: string }[] = [];
  private readonly cnxnsBySession = new Map<bigint, SessionConnection>();
  private readonly throttled = new Set<SessionConnection>();
  private tickTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** New sessions that wait for an election to end (see serving-waiters.ts). */
  readonly servingWaiters: ServingWaiters;

  constructor(
    readonly cfg: ZabConfig,
    readonly db: ZKDatabase,
    readonly log: Logger,
    /** Spans and metrics (src/telemetry); the default makes no spans and exports nothing. */
    readonly telemetry: ServerTelemetry = new ServerTelemetry({ serverId: cfg.serverId }),
  ) {
    this.auth = new AuthenticationHelper(cfg);
    // Hold a handshake up to a tick; wait on an election for up to two ticks (ZooKeeper's
    // elections take ~0.2-1 s); past that the server is likely cut off and refuses at once.
    this.servingWaiters = new ServingWaiters(cfg.tickTime, 2 * cfg.tickTime);
    this.sessions = new SessionTracker({
      serverId: cfg.serverId,
      tickTimeMs: cfg.tickTime,
      now: () => performance.now(),
      onExpire: (s) => this.expire(s.id, s.timeoutMs),
    });
  }

  /** A prep processor over this server's tree and sessions (standalone, or a new leader). */
  newPrep(): PrepRequestProcessor {
    return new PrepRequestProcessor({
      tree: this.db.tree,
      sessions: this.sessions,
      extendedTypesEnabled: this.cfg.extendedTypesEnabled,
      skipACL: this.cfg.skipACL,
      superDigest: this.cfg.superDigest,
      providers: this.auth.providers,
      nowMs: () => Date.now(),
    });
  }

  /** The current role; null before the host installs one. */
  get writePath(): WritePath | null {
    return this.role;
  }

  /** Decides txns: on a standalone server and a leader only. */
  get prep(): PrepRequestProcessor | null {
    return this.role?.prep ?? null;
  }

  /** Only the standalone server and the leader expire sessions; learners report them. */
  get expiresSessions(): boolean {
    return this.role?.expiresSessions ?? false;
  }

  /**
   * Switch role. Every session the database knows gets a fresh timer (ZooKeeper does on load
   * and when it starts leading; a learner keeps them to answer reads and report touches).
   */
  installRole(role: WritePath): void {
    this.role = role;
    this.trackDatabaseSessions();
    this.servingWaiters.setServing(this.serving);
  }

  /** Track every session the database knows, with fresh timers (ZooKeeper does on load and on leading). */
  trackDatabaseSessions(): void {
    for (const [id, timeout] of this.db.sessionsWithTimeouts) this.sessions.track(id, timeout);
  }

  start(): void {
    this.tickTimer = setInterval(() => {
      if (this.expiresSessions && this.serving) this.sessions.tick();
    }, this.cfg.tickTime);
  }

  get serving(): boolean {
    return !this.closed && this.writePath !== null && this.writePath.serving();
  }

  /** May clients open sessions here? Not on a leader with `leaderServes=no` (ZooKeeper's rule). */
  get acceptsClients(): boolean {
    return this.serving && (this.writePath?.acceptsClients?.() ?? true);
  }

  get state(): ServerState {
    return this.writePath?.state() ?? 'standalone';
  }

  get lastProcessedZxid(): bigint {
    return this.db.lastProcessedZxid;
  }

  /** ZooKeeper's getZxid(): on a leader the last zxid it handed out, elsewhere the last applied. */
  get reportedZxid(): bigint {
    const z = this.writePath?.reportedZxid?.() ?? null;
    return z !== null && z > this.db.lastProcessedZxid ? z : this.db.lastProcessedZxid;
  }

  get outstandingRequests(): number {
    return this.inProcess;
  }

  /** Does this op go through the write path on this server? */
  takesWritePath(type: number): boolean {
    return isWriteOp(type) || (this.writePath?.forwards(type) ?? false);
  }

  get globalOutstandingLimit(): number {
    return Math.floor(this.cfg.globalOutstandingLimit / (this.role?.outstandingLimitDivisor ?? 1));
  }

  /** ZooKeeperServer.shouldThrottle: over globalOutstandingLimit requests in process. */
  shouldThrottle(cnxnOutstanding: number): boolean {
    return this.globalOutstandingLimit < this.inProcess && cnxnOutstanding > 0;
  }

  throttle(cnxn: SessionConnection): void {
    if (!this.throttled.has(cnxn)) {
      this.throttled.add(cnxn);
      this.stats.throttledOps++;
    }
  }

  unthrottle(cnxn: SessionConnection): void {
    this.throttled.delete(cnxn);
  }

  registerSession(cnxn: SessionConnection): void {
    const prev = this.cnxnsBySession.get(cnxn.sessionId);
    if (prev && prev !== cnxn) prev.closeForSession('session moved to another connection');
    this.cnxnsBySession.set(cnxn.sessionId, cnxn);
  }

  unregisterConnection(cnxn: SessionConnection): void {
    if (this.cnxnsBySession.get(cnxn.sessionId) === cnxn) this.cnxnsBySession.delete(cnxn.sessionId);
    this.throttled.delete(cnxn);
    this.db.tree.removeWatcher(cnxn);
  }

  revalidate(sessionId: bigint, timeoutMs: number): Promise<Revalidation> {
    if (!this.writePath) return Promise.resolve('unknown');
    return this.writePath.revalidate(sessionId, timeoutMs);
  }

  /** A write from a client connection (or the server itself): answered once committed and applied. */
  submitWrite(req: Request): void {
    const path = this.writePath;
    if (this.closed || !path || !path.serving()) {
      req.origin?.complete(req, { err: Code.CONNECTIONLOSS, zxid: this.lastProcessedZxid, body: null });
      return;
    }
    if (req.origin) {
      // Only requests someone waits for count as in process (and can throttle clients).
      this.inProcess++;
      this.pending.add(req);
    }
    path.submit(req);
  }

  /**
   * A txn is committed (or, standalone, durable): apply it, then answer the request that
   * caused it if it came through one of our connections.
   */
  applyCommitted(txn: LoggedTxn): void {
    const { hdr, body } = txn;
    let rc;
    try {
      rc = this.db.applyTxn(txn);
    } catch (err) {
      // Our state is broken if a decided txn cannot apply: stop rather than diverge.
      throw new Error(`applying txn ${zxidHex(hdr.zxid)} failed: ${String(err)}`);
    }
    this.prep?.applied(hdr.zxid);
    this.releaseSyncs();
    if (body.type === OpCode.createSession) {
      this.sessions.track(hdr.clientId, body.record.timeOut);
    }
    const req = this.pending.take(hdr.clientId, hdr.cxid, false);
    if (body.type === OpCode.closeSession) {
      this.sessions.remove(hdr.clientId);
      if (!req) {
        // Expired, or closed through another server: drop the connection that still holds it.
        this.cnxnsBySession.get(hdr.clientId)?.closeForSession('session closed');
        this.cnxnsBySession.delete(hdr.clientId);
      }
    }
    if (!req) return;
    let err: number;
    let replyBody: Buffer | null = null;
    if (body.type === OpCode.error) {
      err = body.record.err;
    } else if (body.type === OpCode.multi) {
      // A failed multi still answers OK; each op's result carries its own error.
      err = Code.OK;
      replyBody = writeReplyBody(req.type, rc);
    } else {
      err = rc.err;
      if (err === Code.OK) replyBody = writeReplyBody(req.type, rc);
    }
    this.finish(req, { err, zxid: this.lastProcessedZxid, body: replyBody });
  }

  /**
   * A `sync` may be answered once this server has applied every txn up to `zxid`: on a learner
   * the commits the leader sent before its sync reply, on the leader every proposal made
   * before the sync. Not earlier: the commit may already be acknowledged to another client by
   * a server that applied it, while our own apply still waits behind our fsync, and a read
   * after the sync must see it.
   */
  completeSync(sessionId: bigint, cxid: number, path: string, zxid: bigint): void {
    if (this.db.lastProcessedZxid >= zxid) this.answerSync(sessionId, cxid, path);
    else this.syncsWaiting.push({ zxid, sessionId, cxid, path });
  }

  private answerSync(sessionId: bigint, cxid: number, path: string): void {
    const req = this.pending.take(sessionId, cxid, true);
    if (!req) return;
    const b = Buffer.alloc(4 + Buffer.byteLength(path));
    b.writeInt32BE(Buffer.byteLength(path), 0);
    b.write(path, 4);
    this.finish(req, { err: Code.OK, zxid: this.lastProcessedZxid, body: b });
  }

  /** Answers the syncs waiting for what has now been applied. */
  private releaseSyncs(): void {
    if (this.syncsWaiting.length === 0) return;
    const applied = this.db.lastProcessedZxid;
    const ready = this.syncsWaiting.filter((w) => w.zxid <= applied);
    if (ready.length === 0) return;
    this.syncsWaiting = this.syncsWaiting.filter((w) => w.zxid > applied);
    for (const w of ready) this.answerSync(w.sessionId, w.cxid, w.path);
  }

  private finish(req: Request, reply: Reply): void {
    this.inProcess--;
    this.stats.recordLatency(performance.now() - req.receivedAtMs);
    req.origin?.complete(req, reply);
    if (this.throttled.size > 0 && this.globalOutstandingLimit >= this.inProcess) {
      const paused = [...this.throttled];
      this.throttled.clear();
      for (const c of paused) c.resumeReading();
    }
  }

  /** A request the write path could not take (no leader right now). */
  fail(req: Request, err: number): void {
    if (!this.pending.remove(req)) return;
    this.finish(req, { err, zxid: this.lastProcessedZxid, body: null });
  }

  /** The role ended: every waiting request loses its connection (clients retry elsewhere). */
  failPending(reason: string): void {
    if (this.pending.size > 0) this.log.info('failing requests in flight', { count: this.pending.size, reason });
    const reqs = this.pending.takeAll();
    this.syncsWaiting = [];
    for (const req of reqs) this.finish(req, { err: Code.CONNECTIONLOSS, zxid: this.lastProcessedZxid, body: null });
    this.inProcess = 0;
  }

  /** Close every client connection (a server leaving broadcast does, as ZooKeeper). */
  closeAllConnections(reason: string): void {
    for (const c of [...this.cnxnsBySession.values()]) c.closeForSession(reason);
    this.cnxnsBySession.clear();
  }

  /** Sessions whose clients sent something since the last report (ZooKeeper's learner touch table). */
  private touched = new Map<bigint, number>();

  /** A client of ours is alive: extend its session here and remember it for the leader. */
  touchSession(sessionId: bigint, timeoutMs: number): void {
    this.sessions.touch(sessionId, timeoutMs);
    // Only a learner reports touches; the deciding server's own tracker is the authority.
    if (!this.expiresSessions) this.touched.set(sessionId, timeoutMs);
  }

  /** The sessions touched since the last call (a learner sends them to its leader). */
  takeTouchedSessions(): [bigint, number][] {
    const out = [...this.touched];
    this.touched = new Map();
    return out;
  }

  /** Answer a read-only request now (the caller guarantees its session's earlier requests are done). */
  processRead(req: Request, watcher: Watcher | null): Reply {
    this.stats.recordLatency(performance.now() - req.receivedAtMs);
    let body: Buffer | null = null;
    let err: number = Code.OK;
    try {
      if (req.type !== OpCode.ping) this.sessions.checkSession(req.sessionId);
      body = processRead(
        { tree: this.db.tree, skipACL: this.cfg.skipACL, superDigest: this.cfg.superDigest, providers: this.auth.providers },
        req.type,
        req.body,
        req.authInfo,
        req.sessionId,
        watcher,
      );
    } catch (e) {
      err = e instanceof KeeperException ? e.code : Code.MARSHALLINGERROR;
      body = null;
    }
    return { err, zxid: this.lastProcessedZxid, body };
  }

  private expire(sessionId: bigint, timeoutMs: number): void {
    this.log.info('expiring session', { session: sessionHex(sessionId), timeoutMs });
    const req = serverRequest(sessionId, OpCode.closeSession);
    this.telemetry.sessionExpiring(req, timeoutMs);
    this.submitWrite(req);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.servingWaiters.refuseAll();
  }

  sessionConnections(): ReadonlyMap<bigint, SessionConnection> {
    return this.cnxnsBySession;
  }
}

/** A request the server makes itself (session expiry): no connection waits for it. */
export function serverRequest(sessionId: bigint, type: number): Request {
  const noAuth: AuthId[] = [];
  return {
    sessionId,
    cxid: 0,
    type,
    body: Buffer.alloc(0),
    origin: null,
    authInfo: noAuth,
    receivedAtMs: performance.now(),
    err: Code.OK,
  };
}
