/** SnapshotPolicy: ZooKeeper's randomized snapCount rule (SyncRequestProcessor.shouldSnapshot). */
import { describe, expect, it } from 'vitest';
import { SnapshotPolicy } from '../../../src/storage/index.js';
import { seededRandom } from '../../helpers/random.js';

/** Txn counts between snapshots, for `snapshots` snapshots. */
function intervals(policy: SnapshotPolicy, snapshots: number, txnBytes = 0): number[] {
  const out: number[] = [];
  let count = 0;
  while (out.length < snapshots) {
    count++;
    if (policy.onTxnLogged(txnBytes)) {
      out.push(count);
      count = 0;
    }
    if (count > 10_000_000) throw new Error('no snapshot');
  }
  return out;
}

describe('SnapshotPolicy', () => {
  it('snapshots after snapCount/2 + 1 txns when the roll is lowest', () => {
    expect(intervals(new SnapshotPolicy(100, () => 0), 3)).toEqual([51, 51, 51]);
  });

  it('snapshots after snapCount txns when the roll is highest', () => {
    expect(intervals(new SnapshotPolicy(100, () => 0.999999), 3)).toEqual([100, 100, 100]);
  });

  it('every interval lies in [snapCount/2 + 1, snapCount], re-rolled after each snapshot', () => {
    const seen = intervals(new SnapshotPolicy(1000, seededRandom(42)), 400);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(501);
    expect(Math.max(...seen)).toBeLessThanOrEqual(1000);
    expect(new Set(seen).size).toBeGreaterThan(100);
  });

  it('the same seed gives the same snapshot points', () => {
    expect(intervals(new SnapshotPolicy(500, seededRandom(7)), 20)).toEqual(intervals(new SnapshotPolicy(500, seededRandom(7)), 20));
  });

  it('raises a snapCount below 2 to 2, as ZooKeeper does', () => {
    const policy = new SnapshotPolicy(0, () => 0.5);
    expect(policy.snapCount).toBe(2);
    expect(intervals(policy, 3)).toEqual([2, 2, 2]);
  });

  it('the optional size rule snapshots once the logged bytes pass snapSizeBytes/2 + a random part', () => {
    // 100-byte txns, size limit 10 000 bytes with the lowest roll: a snapshot after 5001 bytes, the 51st txn.
    expect(intervals(new SnapshotPolicy(1_000_000, () => 0, 10_000), 2, 100)).toEqual([51, 51]);
    // Disabled (the default): only the count counts.
    expect(intervals(new SnapshotPolicy(1000, () => 0), 1, 1_000_000)).toEqual([501]);
  });

  it('counts the txns since the last snapshot', () => {
    const policy = new SnapshotPolicy(10, () => 0);
    for (let i = 0; i < 4; i++) policy.onTxnLogged();
    expect(policy.txnsSinceSnapshot).toBe(4);
    intervals(policy, 1);
    expect(policy.txnsSinceSnapshot).toBe(0);
  });
});
