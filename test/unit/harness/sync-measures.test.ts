/**
 * Cost as state grows (issue #15), the pure parts: spare observers and add-observer in a
 * scenario; snapshot windows placed from mntr samples; p99 during windows against outside them
 * pooled from per-slot latency buckets (not a statistic of per-slot p99s); a catch-up's sync
 * mode from the learner's log or the leader's counters; the report's tables.
 */
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../../../src/harness/errors.js';
import { LoadRecorder, mergeSnapshots } from '../../../src/harness/load/recorder.js';
import { bucketOf, bucketTopUs, quantileMs } from '../../../src/harness/load/latency-buckets.js';
import { catchUpResult, overlapping, syncFromLog, type CatchUpEvidence } from '../../../src/harness/measure/catch-up.js';
import { slotsDuring, windowLatency } from '../../../src/harness/measure/latency-windows.js';
import { leaderAt, snapshotsResult, snapshotWindows, snapshotSummary } from '../../../src/harness/measure/snapshot-windows.js';
import { renderSummary } from '../../../src/harness/report/summary.js';
import { validateResults } from '../../../src/harness/report/validate.js';
import { expandRuns, parseScenario } from '../../../src/harness/scenario/index.js';
import { makeResultsFixture } from '../../helpers/results-fixture.js';

const SRC = 'bench/x.yaml';

function scenarioError(yaml: string): string {
  try {
    parseScenario(yaml, SRC);
  } catch (err) {
    expect(err).toBeInstanceOf(HarnessError);
    return (err as HarnessError).message;
  }
  throw new Error('expected a scenario error');
}

describe('scenario: spare observers and add-observer', () => {
  const base = 'name: s\nensemble: {driver: local, voters: 3, spareObservers: 1}\nworkload: {duration: 30s}\n';

  it('parses, and `last` after add-observer names the observer it added', () => {
    const s = parseScenario(`${base}faults:\n  - {at: 5s, action: restart, target: 2}\n`.replace('restart, target: 2', 'kill, target: follower') + '  - {at: 10s, action: restart, target: last}\n  - {at: 20s, action: add-observer}\n  - {at: 25s, action: kill, target: last}\n', SRC);
    expect(s.ensemble.spareObservers).toBe(1);
    expect(s.faults.map((f) => f.action)).toEqual(['kill', 'restart', 'add-observer', 'kill']);
    expect(s.faults[2]!.target).toBeNull();
    expect(expandRuns(s)).toHaveLength(1);
  });

  it('refuses an add-observer without a spare, with a target, or on a driver that cannot start servers late', () => {
    expect(scenarioError('name: s\nfaults: [{at: 1s, action: add-observer}]\n')).toMatch(/add-observer faults and 0 spare observers/);
    expect(scenarioError(`${base}faults: [{at: 1s, action: add-observer}, {at: 2s, action: add-observer}]\n`)).toMatch(/2 add-observer faults and 1 spare observers/);
    expect(scenarioError(`${base}faults: [{at: 1s, action: add-observer, target: 4}]\n`)).toMatch(/faults\[0\]\.target cannot be set for add-observer/);
    expect(scenarioError('name: s\nensemble: {driver: compose, spareObservers: 1}\n')).toMatch(/spareObservers is 1, but driver compose cannot start a server late/);
    expect(scenarioError('name: s\nensemble: {spareObservers: -1}\n')).toMatch(/spareObservers must be an integer from 0 to 15/);
  });

  it('counts spare observers among the ids a fault may name', () => {
    expect(() => parseScenario(`${base}faults: [{at: 1s, action: add-observer}, {at: 5s, action: kill, target: 4}]\n`, SRC)).not.toThrow();
    expect(scenarioError('name: s\nfaults: [{at: 1s, action: kill, target: 4}]\n')).toMatch(/is server 4, but this run's members are 1 to 3/);
  });
});

describe('snapshot windows from mntr samples', () => {
  const at = (s: number): number => 1_000_000 + s * 1_000;

  it('a window ends at the sample where cnt grew and lasts the growth of sum; the sample before bounds it', () => {
    const w = snapshotWindows([
      { id: 1, atEpochMs: at(0), count: 2, sumMs: 40 },
      { id: 1, atEpochMs: at(0.25), count: 2, sumMs: 40 },
      { id: 1, atEpochMs: at(0.5), count: 3, sumMs: 160 },
      { id: 2, atEpochMs: at(0.5), count: 0, sumMs: 0 },
      { id: 1, atEpochMs: at(0.75), count: 3, sumMs: 160 },
      { id: 2, atEpochMs: at(1), count: 2, sumMs: 50 },
    ]);
    expect(w).toEqual([
      { id: 1, endEpochMs: at(0.5), durationMs: 120, count: 1, coverFromEpochMs: at(0.25) - 120 },
      { id: 2, endEpochMs: at(1), durationMs: 50, count: 2, coverFromEpochMs: at(0.5) - 50 },
    ]);
  });

  it('a restarted process counts from zero at its start, so its first snapshot is placed from there', () => {
    const samples = [
      { id: 3, atEpochMs: at(0), count: 0, sumMs: 0 },
      { id: 3, atEpochMs: at(9), count: 1, sumMs: 30 },
    ];
    // Without the start the window would reach back to the sample before the kill.
    expect(snapshotWindows(samples)[0]!.coverFromEpochMs).toBe(at(0) - 30);
    expect(snapshotWindows(samples, [{ id: 3, atEpochMs: at(8) }])[0]!.coverFromEpochMs).toBe(at(8) - 30);
    // A count that drops (a restart the runner did not make) is a new baseline, not a window.
    expect(snapshotWindows([{ id: 3, atEpochMs: at(0), count: 5, sumMs: 99 }, { id: 3, atEpochMs: at(1), count: 0, sumMs: 0 }])).toEqual([]);
  });

  it('reads cnt and sum, or avg × cnt where a server prints no sum', () => {
    expect(snapshotSummary({ zk_cnt_snapshottime: 2, zk_sum_snapshottime: 31.5 })).toEqual({ count: 2, sumMs: 31.5 });
    expect(snapshotSummary({ zk_cnt_snapshottime: 4, zk_avg_snapshottime: 10 })).toEqual({ count: 4, sumMs: 40 });
    expect(snapshotSummary({ zk_server_state: 'leader' })).toBeNull();
  });

  it('places windows in the run, marks the leader\'s, and sums per server', () => {
    const start = at(0);
    const windows = snapshotWindows([
      { id: 1, atEpochMs: at(1), count: 0, sumMs: 0 },
      { id: 1, atEpochMs: at(2), count: 1, sumMs: 100 },
      { id: 2, atEpochMs: at(1), count: 0, sumMs: 0 },
      { id: 2, atEpochMs: at(5), count: 1, sumMs: 300 },
      { id: 2, atEpochMs: at(40), count: 2, sumMs: 500 },
    ]);
    const changes = [{ atMs: 0, leader: 1 }, { atMs: 3_000, leader: 2 }];
    expect(leaderAt(changes, 2_999)).toBe(1);
    const r = snapshotsResult(windows, start, 30_000, changes, 250);
    expect(r.windows.map((w) => [w.serverId, w.startMs, w.endMs, w.leader])).toEqual([
      [1, 1_900, 2_000, true],
      [2, 4_700, 5_000, true],
    ]);
    expect(r.servers).toEqual([
      { serverId: 1, count: 1, totalMs: 100, maxMs: 100 },
      { serverId: 2, count: 1, totalMs: 300, maxMs: 300 },
    ]);
  });
});

describe('p99 during windows vs outside', () => {
  it('buckets keep a value within 1.6 % and report the top of its bucket', () => {
    for (const us of [1, 63, 64, 127, 128, 1_000, 12_345, 999_999, 120_000_000]) {
      const top = bucketTopUs(bucketOf(us));
      expect(top).toBeGreaterThanOrEqual(us);
      expect((top - us) / us).toBeLessThan(0.016);
    }
  });

  it('is the p99 of the pooled requests of the slots that overlap a window, not a p99 of per-slot p99s', () => {
    const rec = new LoadRecorder();
    rec.begin(0);
    // 10 slots of 100 ms; slot 3 holds 1 slow request among 99 fast ones, slots 4..5 are all slow-ish.
    for (let slot = 0; slot < 10; slot++) {
      for (let k = 0; k < 100; k++) {
        const slow = (slot === 3 && k === 0) || (slot >= 4 && slot <= 5 && k < 5);
        const end = slot * 100 + 50;
        rec.record('setData', end - (slow ? 80 : 1), end, null);
      }
    }
    rec.end(1_000);
    const load = mergeSnapshots('native', [rec.snapshot()]);
    expect(load.fine.latency).toHaveLength(10);
    const fine = { slotMs: 100, latency: load.fine.latency! };
    // Window over slots 3..5: 300 requests, 11 slow: the p99 is slow.
    const during = windowLatency('snapshot-any', [{ fromMs: 320, toMs: 510 }], fine);
    expect(during.duringMs).toBe(300);
    expect(during.during.count).toBe(300);
    // Reported as the top of its bucket: at most 1.6 % above.
    expect(during.during.p99Ms).toBeGreaterThanOrEqual(80);
    expect(during.during.p99Ms).toBeLessThan(80 * 1.016);
    expect(during.outside.count).toBe(700);
    expect(during.outside.p99Ms).toBeCloseTo(1, 1);
    // Each of slots 4 and 5 has a p99 of 80 ms, slot 3 of 1 ms: a "p99 of per-slot p99s" would say
    // 80 for any window holding slot 4; the pooled p99 of slots 3..4 (6 slow of 200) is still 80, of
    // slots 2..3 (1 slow of 200) it is 1 ms.
    expect(windowLatency('catch-up', [{ fromMs: 200, toMs: 399 }], fine).during.p99Ms).toBeCloseTo(1, 1);
  });

  it('marks the slots a span touches; an empty list leaves all outside', () => {
    expect(slotsDuring([{ fromMs: 150, toMs: 250 }], 100, 5)).toEqual([false, true, true, false, false]);
    expect(slotsDuring([{ fromMs: -500, toMs: 10 }], 100, 3)).toEqual([true, false, false]);
    expect(slotsDuring([], 100, 2)).toEqual([false, false]);
    expect(quantileMs(new Map(), 0.99)).toEqual({ count: 0, p99Ms: null });
  });
});

function evidence(over: Partial<CatchUpEvidence>): CatchUpEvidence {
  return {
    serverId: 2,
    action: 'restart',
    role: 'voter',
    program: 'zablab',
    startedAtEpochMs: 10_000,
    servingAtEpochMs: 10_450,
    leaderBefore: { id: 1, mntr: { zk_diff_count: 2, zk_snap_count: 0, zk_zab_snap_bytes_sent: 0 } },
    leaderAfter: { id: 1, mntr: { zk_diff_count: 2, zk_snap_count: 1, zk_zab_snap_bytes_sent: 4_096 } },
    learnerMntr: { zk_cnt_follower_sync_time: 1, zk_sum_follower_sync_time: 12.5 },
    learnerLog: null,
    newSnapshots: [],
    ...over,
  };
}

describe('catch-up sync', () => {
  it('reads the learner\'s own line: zablab\'s mode=, ZooKeeper\'s Learner messages; the last one wins', () => {
    expect(syncFromLog('x INFO [myid:2] synced with leader epoch=1 leader=3 mode=TRUNC\n')).toEqual({ mode: 'TRUNC', bytes: null, zxid: null });
    expect(syncFromLog('installed snapshot from leader zxid=0x100000005 bytes=777\n... synced with leader epoch=2 leader=1 mode=SNAP')).toEqual({ mode: 'SNAP', bytes: 777, zxid: null });
    expect(syncFromLog('2024 INFO [QuorumPeer:Learner@553] - Getting a diff from the leader 0x1\nlater WARN - Truncating log to get in sync with the leader 0x2a\n')).toEqual({ mode: 'TRUNC', bytes: null, zxid: 0x2an });
    expect(syncFromLog('INFO - Getting a snapshot from leader 0x100000010')?.mode).toBe('SNAP');
    expect(syncFromLog('nothing about syncing')).toBeNull();
  });

  it('falls back to the leader\'s counters only when the catch-up was alone and the leader stayed', () => {
    const r = catchUpResult(evidence({}), 9_000, false);
    expect(r).toMatchObject({ startedAtMs: 1_000, servingAfterMs: 450, syncMode: 'SNAP', syncModeFrom: 'leader-counters', syncBytes: 4_096, syncBytesFrom: 'leader-counter', learnerSyncMs: 12.5, learnerSyncs: 1 });
    expect(r.leaderCounters).toEqual({ leader: 1, diff: 0, snap: 1 });
    expect(catchUpResult(evidence({}), 9_000, true).syncMode).toBeNull();
    expect(catchUpResult(evidence({ leaderAfter: { id: 3, mntr: { zk_diff_count: 9, zk_snap_count: 9 } } }), 9_000, false)).toMatchObject({ syncMode: null, leaderCounters: null });
  });

  it('prefers the learner\'s log; a SNAP\'s size from the leader, the learner\'s log or (ZooKeeper) its new snapshot file', () => {
    const zk = evidence({
      program: 'zookeeper',
      leaderBefore: { id: 1, mntr: { zk_diff_count: 0, zk_snap_count: 0 } },
      leaderAfter: { id: 1, mntr: { zk_diff_count: 0, zk_snap_count: 1 } },
      learnerLog: 'Getting a snapshot from leader 0x200000001',
      // snapshot.0: the empty one a new learner writes at its start, before it syncs.
      newSnapshots: [{ zxid: '300000000', bytes: 60_000 }, { zxid: '0', bytes: 699 }, { zxid: '200000001', bytes: 52_000 }],
    });
    expect(catchUpResult(zk, 0, true)).toMatchObject({ syncMode: 'SNAP', syncModeFrom: 'learner-log', syncBytes: 52_000, syncBytesFrom: 'learner-snapshot-file' });
    const zablabOld = evidence({ leaderAfter: { id: 1, mntr: { zk_diff_count: 2, zk_snap_count: 1 } }, learnerLog: 'installed snapshot from leader zxid=0x1 bytes=999\nsynced with leader epoch=1 leader=1 mode=SNAP' });
    expect(catchUpResult(zablabOld, 0, false)).toMatchObject({ syncBytes: 999, syncBytesFrom: 'learner-log' });
    expect(catchUpResult(evidence({ learnerLog: 'synced with leader epoch=1 leader=1 mode=DIFF', servingAtEpochMs: null }), 0, false)).toMatchObject({ syncMode: 'DIFF', syncBytes: null, servingAfterMs: null });
  });

  it('tells which catch-ups overlap (an unfinished one to the end)', () => {
    expect(overlapping([{ fromEpochMs: 0, toEpochMs: 10 }, { fromEpochMs: 20, toEpochMs: 30 }, { fromEpochMs: 25, toEpochMs: null }])).toEqual([false, true, true]);
  });
});

describe('results and report', () => {
  it('validate and render catchUps, snapshots and latencyDuring', () => {
    const results = makeResultsFixture();
    const run = results.runs[0]!;
    run.catchUps = [catchUpResult(evidence({ learnerLog: 'synced with leader epoch=1 leader=1 mode=SNAP' }), 9_000, false)];
    run.snapshots = { sampleMs: 250, windows: [{ serverId: 1, endMs: 2_000, startMs: 1_900, durationMs: 100, count: 1, coverFromMs: 1_650, leader: true }], servers: [{ serverId: 1, count: 1, totalMs: 100, maxMs: 100 }] };
    run.latencyDuring = [
      { kind: 'snapshot-leader', windows: 1, duringMs: 400, during: { count: 40, p99Ms: 9.5 }, outside: { count: 900, p99Ms: 2.5 } },
      {
        kind: 'snapshot-any',
        windows: 1,
        duringMs: 400,
        during: { count: 40, p99Ms: 9.5 },
        outside: { count: 900, p99Ms: 2.5 },
        stalls: { eventLoopMaxMs: { during: 230, outside: 41 }, gcPauseMaxMs: { during: 210.5, outside: null } },
      },
    ];
    const checked = validateResults(JSON.parse(JSON.stringify(results)));
    expect(checked.runs[0]!.catchUps).toHaveLength(1);
    const md = renderSummary(checked);
    expect(md).toContain('## Catch-up and snapshots');
    expect(md).toMatch(/\| restart +\| 2 \(voter\) +\| +1\.0 s \| +450 ms \| SNAP \(learner log\) +\| +4 KiB \|/);
    // Results written before stalls were measured (and Apache ZooKeeper's) show —.
    expect(md).toMatch(/snapshot on the leader \| +1 \| 0\.4 s \| 9\.50 ms \(40 ops\) \| 2\.50 ms \(900 ops\) \| +3\.80× \| +— \| +— \| +— \| +— \|/);
    expect(md).toMatch(/snapshot on any server \| +1 \| 0\.4 s \| 9\.50 ms \(40 ops\) \| 2\.50 ms \(900 ops\) \| +3\.80× \| +230 ms \| +41\.0 ms \| +211 ms \| +— \|/);
    const bad = JSON.parse(JSON.stringify(results)) as { runs: { catchUps: { syncMode: string }[] }[] };
    bad.runs[0]!.catchUps[0]!.syncMode = 'FULL';
    expect(() => validateResults(bad)).toThrow(/catchUps\[0\]\.syncMode must be one of "DIFF", "TRUNC", "SNAP"/);
  });
});
