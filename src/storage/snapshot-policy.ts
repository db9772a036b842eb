/**
 * When to take a snapshot (SyncRequestProcessor.shouldSnapshot): after a random number of
 * txns in [snapCount/2 + 1, snapCount], so that the servers of an ensemble do not all
 * snapshot at once; optionally also after a random number of logged bytes in
 * (snapSizeBytes/2, snapSizeBytes] (ZooKeeper's zookeeper.snapSizeLimitInKb).
 */
import { StorageError } from './errors.js';

/** ZooKeeper's snapCount default. */
export const DEFAULT_SNAP_COUNT = 100_000;
/** ZooKeeper resets a smaller snapCount to 2. */
export const MIN_SNAP_COUNT = 2;

export class SnapshotPolicy {
  readonly snapCount: number;
  private txnCount = 0;
  private txnBytes = 0;
  private randRoll = 0;
  private randSize = 0;

  /**
   * @param snapCount txns between snapshots, on average 3/4 of it; below 2 it counts as 2.
   * @param random a generator in [0, 1): Math.random, or a seeded one in the simulator.
   * @param snapSizeBytes 0 (the default) disables the size rule.
   */
  constructor(
    snapCount: number,
    private readonly random: () => number,
    readonly snapSizeBytes = 0,
  ) {
    if (!Number.isSafeInteger(snapCount)) {
      throw new StorageError('ZABLAB_STORAGE_BAD_ARGUMENT', `snapCount must be an integer, got ${snapCount}`);
    }
    if (!Number.isSafeInteger(snapSizeBytes) || snapSizeBytes < 0) {
      throw new StorageError('ZABLAB_STORAGE_BAD_ARGUMENT', `snapSizeBytes must be a non-negative integer, got ${snapSizeBytes}`);
    }
    this.snapCount = Math.max(MIN_SNAP_COUNT, snapCount);
    this.reroll();
  }

  /** Call once per logged txn (with its size for the size rule); true => take a snapshot now. */
  onTxnLogged(txnBytes = 0): boolean {
    this.txnCount++;
    this.txnBytes += txnBytes;
    const half = Math.floor(this.snapCount / 2);
    const bySize = this.snapSizeBytes > 0 && this.txnBytes > Math.floor(this.snapSizeBytes / 2) + this.randSize;
    if (this.txnCount <= half + this.randRoll && !bySize) return false;
    this.reroll();
    return true;
  }

  /** Txns counted toward the next snapshot. */
  get txnsSinceSnapshot(): number {
    return this.txnCount;
  }

  private reroll(): void {
    this.txnCount = 0;
    this.txnBytes = 0;
    this.randRoll = this.pick(Math.floor(this.snapCount / 2));
    this.randSize = this.pick(Math.floor(this.snapSizeBytes / 2));
  }

  /** An integer in [0, bound), or 0 when bound is 0. */
  private pick(bound: number): number {
    const r = this.random();
    const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1 - Number.EPSILON) : 0;
    return Math.floor(unit * bound);
  }
}
