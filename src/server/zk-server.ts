/**
 * ZooKeeperServer (standalone): the request pipeline. A write is prepared into a txn,
 * appended to the txn log, made durable by a group commit (one fsync for every txn
 * appended meanwhile), then applied to the tree in zxid order and answered. Reads are
 * answered from the tree by the connection once earlier requests of its session are done.
 * The ZAB roles (issue "Replicated ensemble") replace only the step between prep and apply.
 */
import { Code, KeeperException, OpCode, type LoggedTxn } from '../jute/index.js';
import type { ProcessTxnResult, Watcher, AuthId } from '../tree/index.js';
import { SnapshotPolicy, type PurgeTask } from '../storage/index.js';
import type { ZabConfig } from './config.js';
import { processRead, writeReplyBody } from './final.js';
import type { Logger } from './log.js';
import { PrepRequestProcessor } from './prep.js';
import type { Reply, Request, RequestOrigin } from './request.js';
import { ServerStats } from './server-stats.js';
import { SessionTracker } from './sessions.js';
import { sessionHex } from './session-id.js';
import { zxidHex, type ZKDatabase } from './zk-database.js';

/** What the server needs from a client connection beyond being a request origin. */
export interface SessionConnection extends RequestOrigin, Watcher {
  readonly sessionId: bigint;
  /** Close because the session ended (expired, closed elsewhere, or moved to another connection). */
  closeForSession(reason: string): void;
  /** Resume reading after throttling. */
  resumeReading(): void;
}

export class ZooKeeperServer {
  readonly sessions: SessionTracker;
  readonly prep: PrepRequestProcessor;
  readonly stats = new ServerStats();
  readonly startedAtMs = Date.now();
  private hzxid: bigint;
  private inProcess = 0;
  /** Writes appended to the log, waiting for fsync then apply, in zxid order. */
  private readonly unapplied: Request[] = [];
  private unsynced = 0;
  private flushScheduled = false;
  private flushing = false;
  private readonly cnxnsBySession = new Map<bigint, SessionConnection>();
  private readonly throttled = new Set<SessionConnection>();
  private readonly snapshotPolicy: SnapshotPolicy;
  private tickTimer: NodeJS.Timeout | null = null;
  private closed = false;
  purgeTask: PurgeTask | null = null;

  constructor(
    readonly cfg: ZabConfig,
    readonly db: ZKDatabase,
    readonly log: Logger,
    private readonly onFatal: (err: Error) => void,
  ) {
    this.hzxid = db.lastProcessedZxid;
    this.sessions = new SessionTracker({
      serverId: cfg.serverId,
      tickTimeMs: cfg.tickTime,
      now: () => performance.now(),
      onExpire: (s) => this.expire(s.id, s.timeoutMs),
    });
    for (const [id, timeout] of db.sessionsWithTimeouts) this.sessions.track(id, timeout);
    this.prep = new PrepRequestProcessor({
      tree: db.tree,
      sessions: this.sessions,
      extendedTypesEnabled: cfg.extendedTypesEnabled,
      skipACL: cfg.skipACL,
      superDigest: cfg.superDigest,
      nextZxid: () => ++this.hzxid,
      nowMs: () => Date.now(),
    });
    this.snapshotPolicy = new SnapshotPolicy(cfg.snapCount, Math.random);
  }

  start(): void {
    this.tickTimer = setInterval(() => this.sessions.tick(), this.cfg.tickTime);
  }

  get lastProcessedZxid(): bigint {
    return this.db.lastProcessedZxid;
  }

  get outstandingRequests(): number {
    return this.inProcess;
  }

  get state(): 'standalone' {
    return 'standalone';
  }

  /** ZooKeeperServer.shouldThrottle: over globalOutstandingLimit requests in process. */
  shouldThrottle(cnxnOutstanding: number): boolean {
    return this.cfg.globalOutstandingLimit < this.inProcess && cnxnOutstanding > 0;
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

  /** A write (or createSession/closeSession): prep, log, and answer once durable and applied. */
  submitWrite(req: Request): void {
    if (this.closed) {
      req.origin?.complete(req, { err: Code.CONNECTIONLOSS, zxid: this.lastProcessedZxid, body: null });
      return;
    }
    this.inProcess++;
    this.prep.prep(req);
    const txn = req.txn!;
    this.db.txnLog.append(txn);
    this.unapplied.push(req);
    this.unsynced++;
    if (this.snapshotPolicy.onTxnLogged()) {
      this.db.txnLog.rollLog();
      void this.takeSnapshotSafely();
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Let every request read in this I/O phase join the same fsync.
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  private async takeSnapshotSafely(): Promise<void> {
    try {
      await this.db.takeSnapshot();
    } catch (err) {
      this.log.error('snapshot failed', { error: String(err) });
    }
  }

  private flush(): void {
    if (this.flushing || this.unsynced === 0) return;
    this.flushing = true;
    const batch = this.unsynced;
    this.unsynced = 0;
    this.db.txnLog.commit().then(
      () => {
        this.flushing = false;
        this.applyDurable(batch);
        this.flush();
      },
      (err: unknown) => this.onFatal(new Error(`txn log fsync failed: ${String(err)}`)),
    );
  }

  private applyDurable(count: number): void {
    const reqs = this.unapplied.splice(0, count);
    for (const req of reqs) this.applyAndReply(req);
  }

  private applyAndReply(req: Request): void {
    const txn = req.txn as LoggedTxn;
    let rc: ProcessTxnResult;
    try {
      rc = this.db.applyTxn(txn);
    } catch (err) {
      // A txn that cannot apply means our state is broken: stop rather than diverge.
      this.onFatal(new Error(`applying txn ${zxidHex(txn.hdr.zxid)} failed: ${String(err)}`));
      return;
    }
    this.prep.applied(txn.hdr.zxid);
    if (txn.body.type === OpCode.closeSession) this.finishCloseSession(req);
    let err = req.err;
    let body: Buffer | null = null;
    if (req.type === OpCode.multi && txn.body.type === OpCode.multi) {
      // A failed multi still answers OK; each op's result carries its own error.
      err = Code.OK;
      body = writeReplyBody(req.type, rc);
    } else if (err === Code.OK) {
      err = rc.err;
      if (err === Code.OK) body = writeReplyBody(req.type, rc);
    }
    this.finish(req, { err, zxid: this.lastProcessedZxid, body });
  }

  private finishCloseSession(req: Request): void {
    this.sessions.remove(req.sessionId);
    if (req.origin === null) {
      // Expired: close the connection that still holds the session, if any.
      this.cnxnsBySession.get(req.sessionId)?.closeForSession('session expired');
      this.cnxnsBySession.delete(req.sessionId);
    }
  }

  private finish(req: Request, reply: Reply): void {
    this.inProcess--;
    this.stats.recordLatency(performance.now() - req.receivedAtMs);
    req.origin?.complete(req, reply);
    if (this.throttled.size > 0 && this.cfg.globalOutstandingLimit >= this.inProcess) {
      const paused = [...this.throttled];
      this.throttled.clear();
      for (const c of paused) c.resumeReading();
    }
  }

  /** Answer a read-only request now (the caller guarantees its session's earlier requests are done). */
  processRead(req: Request, watcher: Watcher | null): Reply {
    this.stats.recordLatency(performance.now() - req.receivedAtMs);
    let body: Buffer | null = null;
    let err: number = Code.OK;
    try {
      if (req.type !== OpCode.ping) this.sessions.checkSession(req.sessionId);
      body = processRead(
        { tree: this.db.tree, skipACL: this.cfg.skipACL, superDigest: this.cfg.superDigest },
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
    this.submitWrite(this.serverRequest(sessionId, OpCode.closeSession));
  }

  private serverRequest(sessionId: bigint, type: number): Request {
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

  /** Stop: finish what is durable, then close files. Pending requests get no reply. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.purgeTask?.stop();
    while (this.flushing || this.unsynced > 0 || this.flushScheduled) {
      await new Promise((r) => setTimeout(r, 5));
      if (!this.flushing && this.unsynced > 0 && !this.flushScheduled) this.flush();
    }
    await this.db.close();
  }

  sessionConnections(): ReadonlyMap<bigint, SessionConnection> {
    return this.cnxnsBySession;
  }
}
