/**
 * The standalone write path: prep a txn, append it to the txn log, make it durable with a
 * group commit (one fsync for every txn appended meanwhile), then apply it in zxid order.
 */
import { SnapshotPolicy } from '../storage/index.js';
import type { ServerState } from './four-letter.js';
import type { Request } from './request.js';
import type { Revalidation, WritePath, ZooKeeperServer } from './zk-server.js';

export class StandaloneWritePath implements WritePath {
  private hzxid: bigint;
  /** Txns appended to the log, waiting for fsync then apply, in zxid order. */
  private readonly unapplied: Request[] = [];
  private unsynced = 0;
  private flushScheduled = false;
  private flushing = false;
  private readonly snapshotPolicy: SnapshotPolicy;

  constructor(
    private readonly server: ZooKeeperServer,
    private readonly onFatal: (err: Error) => void,
  ) {
    this.hzxid = server.db.lastProcessedZxid;
    server.prep = server.newPrep();
    this.snapshotPolicy = new SnapshotPolicy(server.cfg.snapCount, Math.random);
  }

  serving(): boolean {
    return true;
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
    this.server.prep!.prep(req, ++this.hzxid);
    db.txnLog.append(req.txn!);
    this.server.telemetry.requestLogged(req.txn!.hdr.zxid, req);
    this.unapplied.push(req);
    this.unsynced++;
    if (this.snapshotPolicy.onTxnLogged()) {
      db.txnLog.rollLog();
      this.server.telemetry.snapshot(db.takeSnapshot()).catch((err: unknown) => this.server.log.error('snapshot failed', { error: String(err) }));
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

  private flush(): void {
    if (this.flushing || this.unsynced === 0) return;
    this.flushing = true;
    const batch = this.unsynced;
    this.unsynced = 0;
    const fsyncStartedMs = performance.now();
    this.server.db.txnLog.commit().then(
      () => {
        this.server.telemetry.logSynced(fsyncStartedMs);
        this.flushing = false;
        try {
          for (const req of this.unapplied.splice(0, batch)) this.server.applyCommitted(req.txn!);
        } catch (err) {
          this.onFatal(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        this.flush();
      },
      (err: unknown) => this.onFatal(new Error(`txn log fsync failed: ${String(err)}`)),
    );
  }

  /** Wait until everything appended is durable and applied. */
  async drain(): Promise<void> {
    while (this.flushing || this.unsynced > 0 || this.flushScheduled) {
      await new Promise((r) => setTimeout(r, 5));
      if (!this.flushing && this.unsynced > 0 && !this.flushScheduled) this.flush();
    }
  }
}
