import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_PERCENTILES } from '../../../src/harness/load/recorder.js';
import type { LoadResult } from '../../../src/harness/load/types.js';
import { leaderElectedMs, recovered90Ms, recoveryOf, writeUnavailableMs, type AppliedFault } from '../../../src/harness/measure/recovery.js';
import { readResults, RESULTS_SCHEMA_VERSION, writeReports } from '../../../src/harness/report/index.js';
import { resultOf } from '../../../src/harness/runner/run.js';
import { expandRuns, parseScenario } from '../../../src/harness/scenario/index.js';

/** 100 ms slots: `steady` ops per slot, zero from `gapFrom` for `gapSlots` slots, then `after` per slot. */
function slots(total: number, steady: number, gapFrom: number, gapSlots: number, after = steady): number[] {
  return Array.from({ length: total }, (_, s) => (s < gapFrom ? steady : s < gapFrom + gapSlots ? 0 : after));
}

function load(ops: number[], writes: number[], faults: LoadResult['faults'] = []): LoadResult {
  return {
    driver: 'native',
    startEpochMs: 1_000_000,
    durationMs: ops.length * 100,
    ops: 0,
    opsPerSec: 0,
    latencyMs: { ...EMPTY_PERCENTILES },
    byOp: {},
    errors: {},
    timeline: [],
    fine: { slotMs: 100, ops, writes },
    faults,
    missedSlots: 0,
  };
}

const killLeader: AppliedFault = { action: 'kill', target: 'leader', serverId: 2, atMs: 8_000, atEpochMs: 1_008_000, effectiveEpochMs: 1_008_004, leaderBefore: 2 };

describe('election recovery from observations', () => {
  it('leader elected: the first report of another leader after the fault', () => {
    const changes = [
      { atMs: -3_000, leader: 2 },
      { atMs: 8_020, leader: null },
      { atMs: 8_640, leader: 3 },
    ];
    expect(leaderElectedMs(killLeader, changes)).toEqual({ ms: 640, after: 3 });
  });

  it('no election is expected when the fault hit a follower, or for a restart', () => {
    const changes = [{ atMs: -3_000, leader: 2 }];
    expect(leaderElectedMs({ ...killLeader, serverId: 1 }, changes).ms).toBeNull();
    expect(leaderElectedMs({ ...killLeader, action: 'restart' }, changes).ms).toBeNull();
  });

  it('no new leader before the run ended: null', () => {
    expect(leaderElectedMs(killLeader, [{ atMs: -3_000, leader: 2 }, { atMs: 8_010, leader: null }]).ms).toBeNull();
  });

  it('throughput back to 90 %: the start of the first 1 s window after the fault that averages 90 % of the 5 s before', () => {
    // 20 s; fault at 8 s (slot 80); nothing from slot 80 to 86; full rate from slot 87.
    expect(recovered90Ms(8_000, load(slots(200, 100, 80, 7), []).fine)).toBe(700);
  });

  it('a fault that does not dent throughput recovers at once; one that never recovers is null', () => {
    expect(recovered90Ms(8_000, load(slots(200, 100, 200, 0), []).fine)).toBe(0);
    expect(recovered90Ms(8_000, load(slots(200, 100, 80, 10, 50), []).fine)).toBeNull();
  });

  it('is not back before the first write after the fault, even when reads or a backlog fill the window', () => {
    // Reads go on at full rate through the fault; writes resume 900 ms after it.
    expect(recovered90Ms(8_000, load(slots(200, 100, 200, 0), []).fine, 900)).toBe(900);
  });

  it('needs at least 1 s of history before the fault', () => {
    expect(recovered90Ms(500, load(slots(100, 100, 5, 3), []).fine)).toBeNull();
  });

  it('write unavailability: the longest write-free stretch from the fault to the first write', () => {
    const writes = slots(200, 10, 79, 8); // writes stop just before the fault (slot 79) until slot 87
    expect(writeUnavailableMs(8_000, 750, load([], writes).fine)).toBe(800);
    // A write-free stretch long before the fault does not count.
    const early = slots(200, 10, 20, 30).map((w, s) => (s >= 80 && s < 83 ? 0 : w));
    expect(writeUnavailableMs(8_000, 250, load([], early).fine)).toBe(300);
    expect(writeUnavailableMs(8_000, null, load([], Array.from({ length: 100 }, () => 0)).fine)).toBeNull();
  });

  it('a restart is measured by when the member serves again, not by a first write (writes did not wait for it)', () => {
    const res = load(slots(200, 100, 120, 0), slots(200, 10, 120, 0), [{ atEpochMs: 1_015_000, firstWriteIssuedEpochMs: 1_015_001, firstWriteAckEpochMs: 1_015_004 }]);
    const restart: AppliedFault = { ...killLeader, action: 'restart', target: 'last', atMs: 12_000, atEpochMs: 1_012_000, effectiveEpochMs: 1_015_000, leaderBefore: 1, servingAgainEpochMs: 1_014_950.4 };
    const r = recoveryOf(restart, [{ atMs: -3_000, leader: 1 }], res);
    expect(r.firstWriteMs).toBeNull();
    expect(r.leaderElectedMs).toBeNull();
    expect(r.servingAgainMs).toBe(2_950);
    expect(recoveryOf({ ...restart, servingAgainEpochMs: null }, [], res).servingAgainMs).toBeNull();
    // A kill has no back-in-service column at all.
    expect('servingAgainMs' in recoveryOf(killLeader, [], res)).toBe(false);
  });

  it('recoveryOf joins the fault with the load’s first acknowledged write', () => {
    const res = load(slots(200, 100, 80, 7), slots(200, 10, 80, 7), [{ atEpochMs: 1_008_004, firstWriteIssuedEpochMs: 1_008_300, firstWriteAckEpochMs: 1_008_712.4 }]);
    const r = recoveryOf(killLeader, [{ atMs: -3_000, leader: 2 }, { atMs: 8_500, leader: 1 }], res);
    expect(r).toEqual({
      fault: 'kill',
      target: 'leader',
      serverId: 2,
      atMs: 8_000,
      leaderElectedMs: 500,
      firstWriteMs: 712,
      recovered90Ms: 700,
      writeUnavailableMs: 700,
      leaderBefore: 2,
      leaderAfter: 1,
    });
  });

  it('leader elected is no later than the first write acknowledged after a fault that took the leader (the poll lags)', () => {
    const res = load(slots(200, 100, 80, 1), slots(200, 10, 80, 1), [{ atEpochMs: 1_008_004, firstWriteIssuedEpochMs: 1_008_010, firstWriteAckEpochMs: 1_008_046 }]);
    const polled = [{ atMs: -3_000, leader: 2 }, { atMs: 8_059, leader: 1 }];
    expect(recoveryOf(killLeader, polled, res)).toMatchObject({ leaderElectedMs: 46, firstWriteMs: 46, leaderAfter: 1 });
    // A poll that saw the leader first keeps its time; no new leader seen stays null.
    expect(recoveryOf(killLeader, [{ atMs: -3_000, leader: 2 }, { atMs: 8_030, leader: 1 }], res).leaderElectedMs).toBe(30);
    expect(recoveryOf(killLeader, [{ atMs: -3_000, leader: 2 }], res).leaderElectedMs).toBeNull();
    // A fault that did not take the leader has no election to bound.
    expect(recoveryOf({ ...killLeader, serverId: 1 }, polled, res).leaderElectedMs).toBeNull();
  });
});

describe('results.json keeps the 100 ms slots', () => {
  it('so that 90 % throughput and write unavailability can be recomputed from the file', () => {
    // A gap of 7 slots after the fault, then a slow climb back: 30 %, 60 %, 85 %, then full.
    const ramp = (steady: number): number[] => slots(200, steady, 80, 7).map((v, s) => (s >= 87 && s < 90 ? Math.round(steady * [0.3, 0.6, 0.85][s - 87]!) : v));
    const res = load(ramp(100), ramp(10), [{ atEpochMs: 1_008_004, firstWriteIssuedEpochMs: 1_008_300, firstWriteAckEpochMs: 1_008_712.4 }]);
    const recovery = recoveryOf(killLeader, [{ atMs: -3_000, leader: 2 }, { atMs: 8_500, leader: 1 }], res);
    const [plan] = expandRuns(parseScenario('name: x\nworkload: {duration: 20s}\nfaults: [{at: 8s, action: kill, target: leader}]\n', 'x.yaml'));
    const run = resultOf(plan!, new Date(0).toISOString(), 'zablab', res, { recovery: [recovery], leaderChanges: [], metrics: [], breakdown: null }, null);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-slots-'));
    try {
      writeReports(dir, { schemaVersion: RESULTS_SCHEMA_VERSION, tool: { name: 'zablab', version: 'test' }, createdAt: new Date(0).toISOString(), host: { cpus: 1, platform: 'linux', node: 'v20' }, scenarios: [], runs: [run] });
      const [read] = readResults(dir).runs;
      expect(read!.slots).toEqual({ slotMs: 100, ops: ramp(100), writes: ramp(10) });
      const [rec] = read!.recovery;
      // The window from slot 88 (60, 85, then 100 × 8) averages 94.5: 800 ms after the fault.
      expect(rec!.recovered90Ms).toBe(800);
      expect(recovered90Ms(rec!.atMs, read!.slots!, rec!.firstWriteMs ?? 0)).toBe(rec!.recovered90Ms);
      expect(writeUnavailableMs(rec!.atMs, rec!.firstWriteMs, read!.slots!)).toBe(rec!.writeUnavailableMs);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
