/**
 * ZooKeeper's known ZAB data-loss bugs, replayed step by step against our core. Each scenario
 * follows the trace of its JIRA issue (or the regression test that came with the fix) and is
 * built so that it WOULD lose or diverge data if the bug were present: the step where the bug
 * bites is marked, and the simulator's checkers (acknowledged writes kept, applied sequences
 * prefixes of one another, no ACK before the data it vouches for is durable) watch every step.
 *
 * Servers: A=1, B=2, C=3 (S0, S1, S2 in ZooKeeper's tests). Each scenario runs twice: with
 * hosts that apply committed txns after their fsync, and before it (as src/server does).
 */
import { describe, expect, it } from 'vitest';
import { Scenario, type ScenarioOptions } from '../../src/sim/index.js';
import { makeZxid } from '../../src/zab/index.js';

const A = 1;
const B = 2;
const C = 3;

function sorted(ws: readonly number[]): number[] {
  return [...ws].sort((a, b) => a - b);
}

/** Run until one leader serves and every running server follows it; return the leader. */
async function settle(s: Scenario): Promise<number> {
  await s.runUntil(() => s.allServing());
  return s.leader()!;
}

/** Every server holds `writes` (and nothing else) in the same order. */
function expectConverged(s: Scenario, writes: readonly number[]): void {
  const ids = s.cluster.ids;
  const reference = s.appliedWrites(ids[0]!);
  for (const id of ids) expect(s.appliedWrites(id), `server ${id}`).toEqual(reference);
  expect(sorted(reference)).toEqual(sorted(writes));
}

/**
 * Restart `follower` while `leader` is up and stop just before it receives the sync: the
 * leader's DIFF/TRUNC/SNAP and what follows wait in flight, the follower's ACKEPOCH and its
 * accepted epoch are done.
 */
async function startSyncAndHoldIt(s: Scenario, follower: number, leader: number): Promise<void> {
  s.holdMessages({ from: leader, to: follower, kind: ['diff', 'trunc', 'snap'] });
  await s.restart(follower);
  await s.runUntil(() => s.pending({ from: leader, to: follower, kind: ['diff', 'trunc', 'snap'] }).length > 0);
  s.releaseMessages();
}

describe('ZooKeeper data-loss bugs', () => {
  const opts = (o: Partial<ScenarioOptions> = {}): ScenarioOptions => ({ voters: 3, ...o });

  it('ZOOKEEPER-2845: an uncommitted txn kept in memory across a leader change is truncated, never applied', async () => {
    // The old leader logs a txn nobody else sees, stays up (keeping its in-memory state) while
    // the others elect a new leader and commit other txns, then rejoins.
    const s = await Scenario.start(opts());
    await s.electLeader(C);
    const w1 = await s.write(C);
    await s.stabilize();
    await s.partition([C]);
    const lost = await s.write(C); // logged (and fsynced) by C only
    await s.stabilize();
    await s.tick(8); await s.stabilize(); // C notices it has no quorum and looks for a leader; it keeps its log
    expect(s.state(C)).toBe('LOOKING');
    expect(s.disk(C).lastDurableZxid).toBe(makeZxid(1n, 2n));
    const newLeader = await settle(s);
    expect(newLeader).toBe(B);
    const w3 = await s.write(B);
    await s.stabilize();
    s.heal();
    // The bug: C rejoins with <1,2> still in its database; a DIFF without TRUNC would leave it
    // there and C's state would diverge from everybody else's.
    await s.runUntil(() => s.serving(C));
    expect(s.cluster.stats.truncSyncs).toBeGreaterThan(0);
    expect(s.acked(lost)).toBe(false);
    expect(s.disk(C).log.map((t) => t.zxid)).not.toContain(makeZxid(1n, 2n));
    expectConverged(s, [w1, w3]);
    s.expectOk();
  });

  it('ZOOKEEPER-2845 (restart): the uncommitted txn read back from the log is truncated too', async () => {
    const s = await Scenario.start(opts());
    await s.electLeader(C);
    const w1 = await s.write(C);
    await s.stabilize();
    await s.partition([C]);
    const lost = await s.write(C);
    await s.stabilize();
    await s.crash(C, { keep: 'all' });
    s.heal();
    expect(await settle(s)).toBe(B);
    const w3 = await s.write(B);
    await s.stabilize();
    await s.restart(C);
    await s.runUntil(() => s.serving(C));
    expect(s.acked(lost)).toBe(false);
    expectConverged(s, [w1, w3]);
    s.expectOk();
  });

  /** C leads, writes w1 to all, then w2 with A down and C cut off (so only C logs it), and heals. */
  async function w2LoggedByCAlone(): Promise<{ s: Scenario; w1: number; w2: number }> {
    const s = await Scenario.start(opts());
    await s.electLeader(C);
    const w1 = await s.write(C);
    await s.stabilize();
    await s.crash(A);
    await s.partition([C]); // B alone cannot elect anybody
    const w2 = await s.write(C); // logged by C only
    await s.stabilize();
    s.heal(); // C (longest log) is elected again with B
    return { s, w1, w2 };
  }

  it('ZOOKEEPER-3911: a follower ACKs NEWLEADER only once the DIFF txns are durable', async () => {
    // C logs w2 alone, is re-elected, and DIFFs w2 to B. If B acked NEWLEADER before w2 is on
    // its disk, C would establish the epoch and commit w2 (C's client gets its answer); B then
    // crashes losing w2, C never comes back, and A and B form a quorum without w2.
    const { s, w1, w2 } = await w2LoggedByCAlone();
    s.holdMessages({ from: C, to: B, kind: ['diff', 'trunc', 'snap'] });
    await s.runUntil(() => s.pending({ from: C, to: B, kind: 'diff' }).length > 0);
    s.releaseMessages();
    s.holdFsync(B);
    await s.deliverBatch(C, B); // DIFF, PROPOSAL w2, NEWLEADER
    await s.stabilize();
    // The bug would bite here: an ACK of NEWLEADER before B's fsync.
    expect(s.pending({ from: B, to: C, kind: 'ack' })).toEqual([]);
    expect(s.serving(C)).toBe(false);
    expect(s.acked(w2)).toBe(false);
    await s.crash(B); // loses w2 and the new epoch
    await s.crash(C); // and the old leader never comes back
    await s.restart(A);
    await s.restart(B);
    const leader = await settle(s);
    const w3 = await s.write(leader);
    await s.stabilize();
    expect(s.appliedWrites(A)).toEqual([w1, w3]);
    s.expectOk();
  });

  it('ZOOKEEPER-3911 (the fixed path): once B is durable, C establishes and w2 survives B and C crashing', async () => {
    const { s, w1, w2 } = await w2LoggedByCAlone();
    await s.runUntil(() => s.serving(B) && s.serving(C));
    // Committed as part of the new epoch's initial history (its client saw a connection loss
    // when C stepped down, as with ZooKeeper), and applied by both.
    expect(s.appliedWrites(B)).toEqual([w1, w2]);
    expect(s.appliedWrites(C)).toEqual([w1, w2]);
    await s.crash(B);
    await s.crash(C);
    await s.restart(A);
    await s.restart(B);
    const leader = await settle(s);
    expect(s.appliedWrites(leader)).toEqual([w1, w2]);
    s.expectOk();
  });

  /** ZOOKEEPER-4643's trace up to step 3: C leads again and has A's sync in flight; B is down. */
  async function uptoStep3(s: Scenario): Promise<{ early: number[]; w4: number }> {
    await s.electLeader(C);
    const early = [await s.write(C), await s.write(C), await s.write(C)]; // everybody at <1,3>
    await s.stabilize();
    await s.crash(A); // step 1
    const w4 = await s.write(C); // step 2: <1,4> committed by B and C, read by clients
    await s.stabilize();
    expect(s.acked(w4)).toBe(true);
    await s.crash(B); // step 3: B crashes, C restarts, A restarts; C is elected again (longest log)
    await s.crash(C);
    await s.restart(C);
    await startSyncAndHoldIt(s, A, C);
    expect(s.disk(A).acceptedEpoch).toBe(2n);
    return { early, w4 };
  }

  it('ZOOKEEPER-4643: currentEpoch is written after the synced txns, so a crash between them cannot elect a shorter history', async () => {
    const s = await Scenario.start(opts());
    const { early, w4 } = await uptoStep3(s);
    s.holdFsync(A);
    await s.deliverBatch(C, A); // DIFF, PROPOSAL <1,4>, NEWLEADER: one Ready on A
    // The fix's order: the synced txn first, then the epoch.
    expect(s.pendingOps(A)).toEqual(['append', 'currentEpoch']);
    // The bug: A crashes right after updating currentEpoch. Keep exactly what was written up to
    // the epoch update; with the epoch first, <1,4> would be lost while currentEpoch=2 is kept.
    await s.fsyncThrough(A, 'currentEpoch');
    await s.crash(A);
    expect(s.disk(A).currentEpoch).toBe(2n);
    expect(s.disk(A).lastDurableZxid).toBe(makeZxid(1n, 4n));
    // Step 4: A and B restart, C crashes. A has the higher epoch and is elected.
    await s.crash(C);
    await s.restart(A);
    await s.restart(B);
    expect(await settle(s)).toBe(A);
    expect(s.appliedWrites(A)).toEqual([...early, w4]);
    await s.restart(C);
    await settle(s);
    expectConverged(s, [...early, w4]);
    s.expectOk();
  });

  it('ZOOKEEPER-4646: the ACK of NEWLEADER leaves only after the synced txns are durable', async () => {
    const s = await Scenario.start(opts());
    const { early, w4 } = await uptoStep3(s);
    s.holdFsync(A);
    await s.deliverBatch(C, A);
    await s.stabilize();
    // The bug: the ACK went out while the txns were still being logged asynchronously.
    expect(s.pending({ from: A, to: C, kind: 'ack' })).toEqual([]);
    expect(s.serving(C)).toBe(false);
    await s.fsync(A); // durable now: the ACK leaves
    expect(s.pending({ from: A, to: C, kind: 'ack' }).length).toBe(1);
    expect(s.disk(A).lastDurableZxid).toBe(makeZxid(1n, 4n));
    await s.deliver({ from: A, to: C });
    await s.stabilize();
    expect(s.serving(C)).toBe(true);
    await s.crash(A); // right after replying ACK of NEWLEADER
    await s.crash(C); // step 4
    await s.restart(A);
    await s.restart(B);
    expect(await settle(s)).toBe(A); // currentEpoch 2 wins, and A has <1,4>
    expect(s.appliedWrites(A)).toEqual([...early, w4]);
    s.expectOk();
  });

  it('ZOOKEEPER-4785: DIFF-synced txns are logged before the NEWLEADER ACK, not asynchronously after it', async () => {
    // DIFFSyncTest.testTxnLoss_FailToPersistAndCommitTxns: S0 is bounced after it wrote
    // currentEpoch and acked NEWLEADER but before it logged the DIFF txns; it then wins the next
    // election with its higher epoch and truncates the txn away from S1.
    const s = await Scenario.start(opts());
    await s.electLeader(C);
    const w0 = await s.write(C);
    await s.stabilize();
    await s.crash(A); // shut down S0
    const w1 = await s.write(C); // S0 is one txn behind
    await s.stabilize();
    expect(s.acked(w1)).toBe(true);
    await s.crash(B); // shut down S1
    await startSyncAndHoldIt(s, A, C); // restart S0: new election, C leads, DIFF sync of w1
    s.holdFsync(A);
    await s.deliverBatch(C, A);
    await s.stabilize();
    expect(s.pending({ from: A, to: C, kind: 'ack' })).toEqual([]);
    expect(s.serving(C)).toBe(false);
    await s.crash(C); // shut down the leader: S0 looks for a leader again
    expect(s.state(A)).toBe('LOOKING');
    await s.fsyncThrough(A, 'currentEpoch');
    await s.crash(A); // S0 bounced before its fsync completed
    await s.restart(A);
    await s.restart(B); // start S1: new election
    const leader = await settle(s);
    expect(s.appliedWrites(leader)).toEqual([w0, w1]);
    const w3 = await s.write(leader);
    await s.stabilize();
    await s.restart(C); // start the old leader
    await settle(s);
    expectConverged(s, [w0, w1, w3]);
    s.expectOk();
  });

  it('ZOOKEEPER-4785 (no bounce): S0 keeps the DIFF txns in memory and logs them before it can lead', async () => {
    const s = await Scenario.start(opts());
    await s.electLeader(C);
    const w0 = await s.write(C);
    await s.stabilize();
    await s.crash(A);
    const w1 = await s.write(C);
    await s.stabilize();
    await s.crash(B);
    await startSyncAndHoldIt(s, A, C);
    s.holdFsync(A);
    await s.deliverBatch(C, A);
    await s.stabilize();
    await s.crash(C);
    await s.restart(B);
    s.releaseFsync(A);
    const leader = await settle(s);
    expect(leader).toBe(A); // currentEpoch 2 beats B's 1
    expect(s.appliedWrites(A)).toEqual([w0, w1]);
    await s.restart(C);
    await settle(s);
    expectConverged(s, [w0, w1]);
    s.expectOk();
  });

  it.each([
    { sync: 'DIFF', committedLogMax: 1000, logSyncFactor: -1, fromLog: 0 },
    { sync: 'SNAP', committedLogMax: 2, logSyncFactor: -1, fromLog: 0 },
    // ZOOKEEPER-2099: follower1 took a SNAP (its leader does not DIFF from its log), so its
    // log holds follower2's zxid and then jumps to the snapshot's. A DIFF from that log would
    // skip the txns between; the file after the SNAP says what it follows, and the gap shows.
    { sync: 'SNAP, then DIFFs from its log', committedLogMax: 2, logSyncFactor: { 4: 1000 }, fromLog: 0 },
    { sync: 'a DIFF from the log', committedLogMax: 2, logSyncFactor: 1000, fromLog: 3 },
  ])('ZOOKEEPER-4925: a follower that caught up by $sync and then leads syncs others without holes', async ({ committedLogMax, logSyncFactor, fromLog }) => {
    // QuorumSyncTest.testStaleDiffSync: 5 voters, two followers fall behind one after the other;
    // the first one back becomes leader and must sync the second with everything.
    const s = await Scenario.start(opts({ voters: 5, committedLogMax, logSyncFactor }));
    await s.electLeader(5);
    const follower1 = 4;
    const follower2 = 3;
    // Everybody holds a first txn: follower2 comes back at a zxid that logs hold.
    const first = await s.write(5);
    await s.stabilize();
    await s.crash(follower2);
    const foo: number[] = [first];
    for (let i = 0; i < 10; i++) foo.push(await s.write(i % 2 === 0 ? 5 : 1));
    await s.stabilize();
    await s.crash(follower1);
    const bar: number[] = [];
    for (let i = 0; i < 10; i++) bar.push(await s.write(i % 2 === 0 ? 5 : 2));
    await s.stabilize();
    await s.restart(follower1);
    await s.runUntil(() => s.serving(follower1));
    expect(sorted(s.appliedWrites(follower1))).toEqual(sorted([...foo, ...bar]));
    await s.crash(5); // shut down the leader
    const leader = await settle(s);
    expect(leader).toBe(follower1); // the longest log (all have it) and the highest id
    // Txns of the new epoch, more than committedLogMax: the first counts 1, so only a file's
    // link tells the gap before it.
    const baz = [await s.write(leader), await s.write(1), await s.write(leader), await s.write(2)];
    await s.stabilize();
    await s.restart(follower2);
    await s.runUntil(() => s.serving(follower2));
    expect(sorted(s.appliedWrites(follower2))).toEqual(sorted([...foo, ...bar, ...baz]));
    await s.restart(5);
    await settle(s);
    expectConverged(s, [...foo, ...bar, ...baz]);
    expect(s.cluster.stats.logDiffSyncs).toBe(fromLog);
    s.expectOk();
  });
});
