/**
 * autopurge (PurgeTxnLog + DatadirCleanupManager): keep the newest snapRetainCount
 * snapshots and the txn logs needed to replay from the oldest of them; delete the rest.
 */
import * as path from 'node:path';
import { StorageError } from './errors.js';
import { LOG_FILE_PREFIX, SNAPSHOT_FILE_PREFIX, listZxidFiles, removeFile, versionDir, type ZxidFile } from './files.js';
import { looksLikeCompleteSnapshot } from './file-snap-store.js';
import { nodeFs, type StorageFs } from './fs.js';

/** PurgeTxnLog refuses fewer; QuorumPeerConfig raises a smaller autopurge.snapRetainCount to it. */
export const MIN_SNAP_RETAIN_COUNT = 3;
/** setInterval's largest delay (about 24.8 days). */
const MAX_INTERVAL_MS = 2 ** 31 - 1;

export interface PurgeOptions {
  /** The configured dataDir (snapshots are in `<dataDir>/version-2`). */
  dataDir: string;
  /** The configured dataLogDir, when the txn log lives apart from the snapshots. */
  dataLogDir?: string;
  /** Snapshots to keep; at least 3. */
  snapRetainCount: number;
  /** The file system (default: the machine's). */
  fs?: StorageFs;
}

/** Purge once; returns the paths removed, oldest snapshot's logs first. */
export async function purgeTxnLogs(opts: PurgeOptions): Promise<{ removed: string[] }> {
  const retain = opts.snapRetainCount;
  if (!Number.isSafeInteger(retain) || retain < MIN_SNAP_RETAIN_COUNT) {
    throw new StorageError(
      'ZABLAB_STORAGE_BAD_ARGUMENT',
      `snapRetainCount must be an integer >= ${MIN_SNAP_RETAIN_COUNT}, got ${retain}`,
    );
  }
  const fs = opts.fs ?? nodeFs;
  const snapDir = versionDir(opts.dataDir);
  const logDir = versionDir(opts.dataLogDir ?? opts.dataDir);
  const snaps = await listZxidFiles(fs, snapDir, SNAPSHOT_FILE_PREFIX);
  // The newest `retain` snapshots that look complete; partial ones do not count.
  const kept: ZxidFile[] = [];
  for (let i = snaps.length - 1; i >= 0 && kept.length < retain; i--) {
    if (await looksLikeCompleteSnapshot(fs, snaps[i]!.path)) kept.push(snaps[i]!);
  }
  const oldestKept = kept.at(-1);
  if (oldestKept === undefined) return { removed: [] };
  const least = oldestKept.zxid;

  const logs = await listZxidFiles(fs, logDir, LOG_FILE_PREFIX);
  // A log starting before `least` may hold txns after it: keep the newest such log.
  let neededLog: bigint | null = null;
  for (const log of logs) if (log.zxid <= least) neededLog = log.zxid;
  const doomed = [
    ...logs.filter((f) => f.zxid < least && f.zxid !== neededLog),
    ...snaps.filter((f) => f.zxid < least),
  ];
  const removed: string[] = [];
  for (const f of doomed) {
    await removeFile(fs, f.path);
    removed.push(f.path);
  }
  return { removed };
}

export interface PurgeTaskOptions {
  dataDir: string;
  dataLogDir?: string;
  /** autopurge.snapRetainCount; raised to 3 when smaller, as ZooKeeper does. */
  snapRetainCount: number;
  /** autopurge.purgeInterval in hours; 0 (ZooKeeper's default) disables the task. */
  purgeIntervalHours: number;
  log?: (msg: string) => void;
}

/** Runs purgeTxnLogs at start and then every purgeIntervalHours; never two runs at once. */
export class PurgeTask {
  private readonly opts: PurgeOptions;
  private readonly intervalMs: number;
  private readonly log: (msg: string) => void;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<{ removed: string[] }> | null = null;

  constructor(opts: PurgeTaskOptions) {
    this.log = opts.log ?? ((msg) => console.warn(`zablab storage: ${msg}`));
    if (!Number.isFinite(opts.purgeIntervalHours) || opts.purgeIntervalHours < 0) {
      throw new StorageError(
        'ZABLAB_STORAGE_BAD_ARGUMENT',
        `autopurge.purgeInterval must be a number of hours >= 0, got ${opts.purgeIntervalHours}`,
      );
    }
    let retain = opts.snapRetainCount;
    if (!Number.isSafeInteger(retain) || retain < MIN_SNAP_RETAIN_COUNT) {
      this.log(`invalid autopurge.snapRetainCount ${retain}; using ${MIN_SNAP_RETAIN_COUNT}`);
      retain = MIN_SNAP_RETAIN_COUNT;
    }
    this.opts = { dataDir: opts.dataDir, dataLogDir: opts.dataLogDir, snapRetainCount: retain };
    const ms = opts.purgeIntervalHours * 3_600_000;
    if (ms > MAX_INTERVAL_MS) this.log(`autopurge.purgeInterval ${opts.purgeIntervalHours}h is too long; purging every ${MAX_INTERVAL_MS} ms`);
    this.intervalMs = Math.min(ms, MAX_INTERVAL_MS);
  }

  start(): void {
    if (this.timer !== null) return;
    if (this.intervalMs <= 0) {
      this.log('autopurge.purgeInterval is 0: the purge task is not scheduled');
      return;
    }
    this.timer = setInterval(() => void this.runOnce().catch(() => undefined), this.intervalMs);
    this.timer.unref();
    void this.runOnce().catch(() => undefined);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One purge now (joins a run in progress). Errors are logged and rethrown. */
  runOnce(): Promise<{ removed: string[] }> {
    if (this.running === null) {
      this.running = purgeTxnLogs(this.opts)
        .then(
          (result) => {
            for (const f of result.removed) this.log(`purged ${path.basename(f)} (${f})`);
            return result;
          },
          (err: unknown) => {
            this.log(`purge failed: ${err instanceof Error ? err.message : String(err)}`);
            throw err;
          },
        )
        .finally(() => {
          this.running = null;
        });
    }
    return this.running;
  }
}
