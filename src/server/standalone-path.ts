/**
 * The standalone write path: prep a txn, append it to the txn log, make it durable with a
 * group commit (one fsync for every txn appended meanwhile), then apply it in zxid order.
 * A log that fails is never retried (what reached the disk is unknown; an fsync error can
 * have dropped the data): the path stops serving and reports the error as fatal, once.
 */
import { SnapshotPolicy } from '../storage/index.js';
import { ExitCode, fatalError, type FatalHandler } from './fatal.js';
import type { ServerState } from './four-letter.js';
import type { PrepRequestProcessor } from './prep.js';
import type { Request } from './request.js';
import type { Revalidation, WritePath, ZooKeeperServer } from './zk-server.js';

export class StandaloneWritePath implements WritePath {
  readonly prep: PrepRequestProcessor;
  readonly expiresSessions = true;
  readonly outstandingLimitDivisor = 1;
  private hzxid: bigint;
  /** Txns appended to the log, waiting for fsync then apply, in zxid order. */
  private readonly unapplied: Request[] = [];
  private unsynced = 0;
  private flushScheduled = false;
  /** The commit in flight, if any (drain() waits for it). */
  private flushing: Promise<void> | null = null;
  private failed = false;
  private readonly snapshotPolicy: SnapshotPolicy;

  constructor(
    private readonly server: ZooKeeperServer,
    private readonly onFatal: FatalHandler,
  ) {
    this.hzxid = server.db.lastProcessedZxid;
    this.prep = server.newPrep();
    this.snapshotPolicy = new SnapshotPolicy(server.cfg.snapCount, Math.random);
    server.db.again = () => {
      if (!this.failed) this.snapshotNow();
    };
  }

  /** A fuzzy snapshot from a new log file on; a snapshot that cannot be written stops the server (as ZooKeeper). */
  snapshotNow(): void {
    const db = this.server.db;
    db.txnLog.rollLog();
    this.server.telemetry
      .snapshot(db.takeSnapshot())
      .catch((err: unknown) => this.fail(fatalError('cannot write a snapshot', err, ExitCode.TXNLOG_ERROR_TAKING_SNAPSHOT)));
  }

  serving(): boolean {
    return !this.failed;
  }

  state(): ServerState {
    return 'standalone';
  }

  forwards(): boolean {
    return false;
  }

  revalidate(sessionId: bigint, timeoutMs: number): Promise<Revalidation> {
    return Promise.resolve(this.server.sessions.touch(sessionId, timeoutMs) ? 'valid' : 'expired');
  }

  submit(req: Request): void {
    const db = this.server.db;
    try {
      this.prep.prep(req, ++this.hzxid);
      db.txnLog.append(req.txn!);
    } catch (err) {
      this.fail(fatalError('cannot append to the txn log', err));
      return;
    }
    this.server.telemetry.requestLogged(req.txn!.hdr.zxid, req);
    this.unapplied.push(req);
    this.unsynced++;
    if (this.snapshotPolicy.onTxnLogged()) this.snapshotNow();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Let every request read in this I/O phase join the same fsync.
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    if (this.failed || this.flushing !== null || this.unsynced === 0) return;
    const batch = this.unsynced;
    this.unsynced = 0;
    const fsyncStartedMs = performance.now();
    this.flushing = this.server.db.txnLog.commit().then(
      () => {
        this.flushing = null;
        this.server.telemetry.logSynced(fsyncStartedMs);
        try {
          for (const req of this.unapplied.splice(0, batch)) this.server.applyCommitted(req.txn!);
        } catch (err) {
          this.fail(fatalError('cannot apply a durable txn', err));
          return;
        }
        this.flush();
      },
      (err: unknown) => {
        this.flushing = null;
        this.fail(fatalError('the txn log failed', err));
      },
    );
  }

  private fail(err: Parameters<FatalHandler>[0]): void {
    if (this.failed) return;
    this.failed = true;
    this.onFatal(err);
  }

  /** Wait until everything appended is durable and applied (or the log has failed: then nothing more will be). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.failed) return;
      if (this.flushing !== null) await this.flushing;
      else if (this.unsynced > 0) this.flush();
      else if (this.flushScheduled) await new Promise((r) => setImmediate(r));
      else return;
    }
  }
}
