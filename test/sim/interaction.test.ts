/**
 * Interaction tests: small scripted clusters whose outcome a ZooKeeper operator would
 * recognise — who gets elected, how a restarted server rejoins, what observers can't do.
 * Every step runs under the simulator's invariant checkers.
 */
import { describe, expect, it } from 'vitest';
import { Scenario } from '../../src/sim/index.js';
import { epochOf } from '../../src/zab/index.js';

/** n txns of epoch `epoch` with write ids from `firstWrite`, as [epoch, counter, writeId]. */
function log(epoch: number, n: number, firstWrite: number): [number, number, number][] {
  return Array.from({ length: n }, (_, i) => [epoch, i + 1, firstWrite + i] as [number, number, number]);
}

describe('Fast Leader Election picks the highest (peer epoch, zxid, server id)', () => {
  it('a higher current epoch wins over a longer log of an older epoch', async () => {
    const s = await Scenario.start({
      voters: 3,
      disks: {
        1: { acceptedEpoch: 2n, currentEpoch: 2n, log: log(1, 3, 100) },
        2: { acceptedEpoch: 1n, currentEpoch: 1n, log: log(1, 5, 100) },
        3: { acceptedEpoch: 1n, currentEpoch: 1n, log: log(1, 2, 100) },
      },
    });
    await s.runUntil(() => s.leader() !== null);
    expect(s.leader()).toBe(1);
    s.expectOk();
  });

  it('with equal epochs the longest log wins, whatever the ids', async () => {
    const s = await Scenario.start({
      voters: 3,
      disks: {
        1: { acceptedEpoch: 1n, currentEpoch: 1n, log: log(1, 4, 100) },
        2: { acceptedEpoch: 1n, currentEpoch: 1n, log: log(1, 6, 100) },
        3: { acceptedEpoch: 1n, currentEpoch: 1n, log: log(1, 4, 100) },
      },
    });
    await s.runUntil(() => s.leader() !== null);
    expect(s.leader()).toBe(2);
    s.expectOk();
  });

  it('with equal epochs and logs the highest id wins, and everyone follows it', async () => {
    const s = await Scenario.start({ voters: 5 });
    await s.electLeader(5);
    for (const id of [1, 2, 3, 4]) expect(s.state(id)).toBe('FOLLOWING(serving)');
    s.expectOk();
  });

  it('the new epoch is above every accepted epoch, and the initial history is committed', async () => {
    const s = await Scenario.start({
      voters: 3,
      disks: {
        1: { acceptedEpoch: 7n, currentEpoch: 4n, log: log(4, 2, 100) },
        2: { acceptedEpoch: 4n, currentEpoch: 4n, log: log(4, 3, 100) },
        3: { acceptedEpoch: 4n, currentEpoch: 4n, log: log(4, 1, 100) },
      },
    });
    await s.electLeader(2);
    const w = await s.write(2);
    await s.stabilize();
    expect(s.acked(w)).toBe(true);
    const last = s.applied(1).at(-1)!;
    expect(epochOf(last.zxid)).toBe(8n);
    // The leader's log (3 txns of epoch 4) became everybody's history, then the new write.
    for (const id of [1, 2, 3]) expect(s.appliedWrites(id)).toEqual([100, 101, 102, w]);
    s.expectOk();
  });
});

describe('a restarted server rejoins the current leader', () => {
  it('joins without a new election and catches up with what it missed', async () => {
    const s = await Scenario.start({ voters: 3 });
    await s.electLeader(3);
    const before = [await s.write(3), await s.write(2)];
    await s.stabilize();
    await s.crash(1);
    const missed = [await s.write(3), await s.write(2), await s.write(3)];
    await s.stabilize();
    const epoch = s.cluster.server(3).peer!.epochs.current;
    await s.restart(1);
    await s.runUntil(() => s.serving(1));
    expect(s.leader()).toBe(3);
    expect(s.cluster.server(3).peer!.epochs.current).toBe(epoch);
    // Same history as the leader's: every write, in zxid order (forwarded ones arrive later).
    expect(s.appliedWrites(1)).toEqual(s.appliedWrites(3));
    expect([...s.appliedWrites(1)].sort((a, b) => a - b)).toEqual([...before, ...missed]);
    expect(s.cluster.stats.elections).toBe(1);
    s.expectOk();
  });

  it('writes no copy of the snapshot it loaded when the txns it logs to sync make a snapshot due', async () => {
    const s = await Scenario.start({ voters: 3, snapCount: 4 });
    await s.electLeader(3);
    for (let i = 0; i < 6; i++) await s.write(3);
    await s.stabilize();
    await s.crash(1, { keep: 'all' });
    const missed: number[] = [];
    for (let i = 0; i < 8; i++) missed.push(await s.write(3));
    await s.stabilize();
    const from = s.transcript.length;
    await s.restart(1);
    await s.runUntil(() => s.serving(1));
    await s.stabilize();
    // The DIFF's txns are logged before they apply: a snapshot then would hold the loaded state
    // again under its zxid. It waits for a txn to apply, so every snapshot is of a newer state.
    const taken = s.transcript.slice(from).flatMap((l) => /^\[t=\d+\] 1 info snapshot taken .*"zxid":"(0x[0-9a-f]+)"/.exec(l)?.[1] ?? []);
    expect(taken.length).toBeGreaterThan(0);
    const loaded = s.transcript.slice(from).flatMap((l) => /^\[t=\d+\] 1 info loaded snapshot .*"zxid":"(0x[0-9a-f]+)"/.exec(l)?.[1] ?? []);
    expect(loaded).toHaveLength(1);
    expect(taken).not.toContain(loaded[0]);
    for (const w of missed) expect(s.appliedWrites(1)).toContain(w);
    s.expectOk();
  });

  it('a restarted server with uncommitted txns of an old epoch is truncated back (TRUNC)', async () => {
    const s = await Scenario.start({ voters: 3 });
    await s.electLeader(3);
    const w1 = await s.write(3);
    await s.stabilize();
    // Server 3 logs w2 alone: its followers never see the proposal.
    await s.partition([3]);
    const w2 = await s.write(3);
    await s.stabilize();
    await s.crash(3);
    s.heal();
    await s.electLeader(2);
    const w3 = await s.write(2);
    await s.stabilize();
    await s.restart(3);
    await s.runUntil(() => s.serving(3));
    expect(s.cluster.stats.truncSyncs).toBeGreaterThan(0);
    for (const id of [1, 2, 3]) expect(s.appliedWrites(id)).toEqual([w1, w3]);
    expect(s.acked(w2)).toBe(false);
    expect(s.disk(3).log.some((t) => t.zxid === s.applied(3)[0]!.zxid + 1n)).toBe(false);
    s.expectOk();
  });
});

describe('observers never count toward a quorum', () => {
  it('with 2 of 3 voters down, observers up, nothing commits and nobody leads', async () => {
    const s = await Scenario.start({ voters: 3, observers: 2 });
    await s.electLeader(3);
    const w1 = await s.write(4);
    await s.stabilize();
    expect(s.acked(w1)).toBe(true);
    await s.crash(1);
    await s.crash(2);
    const w2 = await s.write(3);
    await s.stabilize();
    await s.tick(20); await s.stabilize();
    expect(s.acked(w2)).toBe(false);
    for (const id of [3, 4, 5]) expect(s.appliedWrites(id)).toEqual([w1]);
    expect(s.cluster.servingLeaders()).toEqual([]);
    expect(s.state(4)).toBe('LOOKING');
    expect(s.state(5)).toBe('LOOKING');
    s.expectOk();
  });

  it('observers apply what the voters commit (INFORM) and serve writes through the leader', async () => {
    const s = await Scenario.start({ voters: 3, observers: 1 });
    await s.electLeader(3);
    const w = await s.write(4);
    await s.stabilize();
    expect(s.acked(w)).toBe(true);
    expect(s.appliedWrites(4)).toEqual([w]);
    s.expectOk();
  });
});

describe('a slow disk is not a silent learner', () => {
  it('a follower whose fsync hangs past syncLimit still answers pings, so the leader keeps it (soak seed 2074788)', async () => {
    const s = await Scenario.start({ voters: 3 });
    await s.electLeader(3);
    s.holdFsync(1);
    const w = await s.write(3);
    await s.stabilize();
    // Follower 1 logged the proposal but cannot fsync: its ACK waits, its PINGREPLYs do not.
    for (let i = 0; i < 3 * 5; i++) {
      await s.tick();
      await s.stabilize();
    }
    expect(s.pending({ from: 1, to: 3, kind: 'ack' })).toEqual([]);
    expect(s.hasFsyncPending(1)).toBe(true);
    expect(s.state(1)).toBe('FOLLOWING(serving)');
    expect(s.state(3)).toBe('LEADING(serving)');
    expect(s.acked(w)).toBe(true); // 2 and 3 are a quorum
    s.releaseFsync(1);
    await s.stabilize();
    expect(s.appliedWrites(1)).toEqual([w]);
    s.expectOk();
  });
});

describe('regressions found by the simulator', () => {
  it('ZOOKEEPER-1732: established members report the current epoch in their vote', async () => {
    const s = await Scenario.start({ voters: 3 });
    await s.electLeader(3);
    await s.crash(3);
    await s.electLeader(2);
    const epoch = s.cluster.server(2).peer!.epochs.current;
    expect(epoch).toBe(2n);
    // Without the update, 1 and 2 would keep reporting the epoch they were elected in (1), and a
    // restarted server could not count a quorum of matching (leader, epoch) votes.
    expect(s.cluster.server(1).peer!.vote.peerEpoch).toBe(epoch);
    expect(s.cluster.server(2).peer!.vote.peerEpoch).toBe(epoch);
    await s.restart(3);
    await s.runUntil(() => s.serving(3));
    expect(s.leader()).toBe(2);
    s.expectOk();
  });

  it('a learner whose LEADERINFO arrived while it was LOOKING gets it again when it asks again', async () => {
    const s = await Scenario.start({ voters: 3 });
    await s.electLeader(3);
    await s.cluster.dropConnection(1, 3);
    // 1 learns from the others that 3 leads and asks to follow; its FOLLOWERINFO waits in flight.
    await s.deliver({ kind: 'notification' });
    expect(s.state(1)).toBe('FOLLOWING');
    // 1 hears nothing from 3 and looks again (everything else flows); then 3 answers, too late.
    for (let i = 0; i < 15 && s.state(1) !== 'LOOKING'; i++) {
      await s.tick();
      for (const [from, to] of [[3, 2], [2, 3], [2, 1], [1, 2]] as const) await s.deliver({ from, to });
    }
    expect(s.state(1)).toBe('LOOKING');
    expect(s.pending({ from: 1, to: 3, kind: 'followerinfo' }).length).toBeGreaterThan(0);
    await s.deliver({ from: 1, to: 3, kind: 'followerinfo' });
    await s.deliver({ from: 3, to: 1 });
    // Re-elected, 1 sends the same FOLLOWERINFO: 3 must answer it again.
    await s.runUntil(() => s.serving(1), 40);
    expect(s.leader()).toBe(3);
    s.expectOk();
  });

  it('a proposal still outstanding when followers re-sync commits: they are cut back and ACK it again', async () => {
    // Followers 1 and 2 log w and lose their ACKs with their connection; the ACKs of 3 and 4 are
    // slow. Re-synced by DIFF from what they logged, 1 and 2 would never ACK w again and the
    // leader could not commit anything until 3 and 4 answer; ZooKeeper TRUNCs them to the last
    // committed zxid and sends the outstanding proposals again.
    const s = await Scenario.start({ voters: 5 });
    await s.electLeader(5);
    const acksOf = (from: number) => ({ from, to: 5, kind: 'ack' as const });
    for (const f of [1, 2, 3, 4]) s.holdMessages(acksOf(f));
    const w = await s.write(5);
    await s.stabilize();
    expect(s.acked(w)).toBe(false);
    await s.releaseMessages(acksOf(1)); await s.releaseMessages(acksOf(2));
    await s.cluster.dropConnection(1, 5);
    await s.cluster.dropConnection(2, 5);
    await s.stabilize();
    expect(s.serving(1) && s.serving(2)).toBe(true);
    expect(s.acked(w)).toBe(true);
    s.expectOk();
  });

  it('ACKs from a follower\'s earlier session do not count once a re-sync rewrote its log', async () => {
    const s = await Scenario.start({ voters: 5 });
    await s.electLeader(5);
    s.holdFsync(2);
    s.holdMessages({ from: 5, to: 3, kind: 'proposal' });
    s.holdMessages({ from: 5, to: 4, kind: 'proposal' });
    const w = await s.write(5);
    await s.stabilize(); // 1 logged w and ACKed it; 2 is logging it; 3 and 4 have not seen it
    s.holdFsync(1);
    await s.cluster.dropConnection(1, 5);
    await s.stabilize(); // 1 re-syncs: TRUNC to the committed zxid, then w again
    expect(s.pendingOps(1)).toEqual(['truncate']);
    await s.fsyncThrough(1, 'truncate');
    await s.crash(1); // its disk now lacks w
    await s.fsync(2); await s.stabilize(); // 2 ACKs: with 1's old ACK that would make 3 of 5
    expect(s.acked(w)).toBe(false);
    await s.releaseMessages(); await s.stabilize();
    expect(s.acked(w)).toBe(true);
    s.expectOk(); // w was applied only once 3 voters held it durably
  });
});
