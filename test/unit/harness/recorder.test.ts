import { describe, expect, it } from 'vitest';
import { LoadRecorder, mergeSnapshots } from '../../../src/harness/load/recorder.js';

const T0 = 1_700_000_000_000;

describe('LoadRecorder', () => {
  it('counts only the measured window, per op and per second, with HDR percentiles in ms', () => {
    const r = new LoadRecorder();
    r.record('getData', T0 - 500, T0 - 499, null); // warm-up: not counted
    r.begin(T0);
    for (let i = 0; i < 1_000; i++) r.record('getData', T0 + i * 0.9, T0 + i * 0.9 + 2, null); // 2 ms each, all in second 0
    for (let i = 0; i < 10; i++) r.record('setData', T0 + 1_000 + i, T0 + 1_000 + i + 50, null); // 50 ms, second 1
    r.record('setData', T0 + 1_100, T0 + 1_200, 'CONNECTIONLOSS');
    r.end(T0 + 2_000);
    r.record('getData', T0 + 2_001, T0 + 2_002, null); // after the window
    const res = mergeSnapshots('native', [r.snapshot()]);
    expect(res.durationMs).toBe(2_000);
    expect(res.ops).toBe(1_010);
    expect(res.opsPerSec).toBeCloseTo(505, 5);
    expect(res.byOp.getData?.ops).toBe(1_000);
    expect(res.byOp.getData?.latencyMs.p50).toBeCloseTo(2, 1);
    expect(res.byOp.setData?.latencyMs.p99).toBeCloseTo(50, 0);
    expect(res.byOp.setData?.errors).toBe(1);
    expect(res.errors).toEqual({ CONNECTIONLOSS: 1 });
    expect(res.timeline.map((p) => p.ops)).toEqual([1_000, 10]);
    expect(res.timeline[1]?.errors).toBe(1);
    expect(res.fine.ops.reduce((a, b) => a + b, 0)).toBe(1_010);
    expect(res.fine.writes.reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('latency is measured from the intended start (open loop: no coordinated omission)', () => {
    const r = new LoadRecorder();
    r.begin(T0);
    // Intended 1 s before completion: a stall shows as 1 s of latency.
    r.record('getData', T0 + 100, T0 + 1_100, null);
    expect(mergeSnapshots('native', [r.snapshot()]).latencyMs.max).toBeCloseTo(1_000, -1);
  });

  it('merges processes: summed counts, merged histograms, the earliest write after each fault', () => {
    const a = new LoadRecorder();
    const b = new LoadRecorder();
    for (const r of [a, b]) {
      r.begin(T0);
      r.noteFault(T0 + 500);
    }
    a.record('setData', T0 + 400, T0 + 900, null); // issued before the fault: not the first write after it
    a.record('setData', T0 + 600, T0 + 950, null);
    b.record('setData', T0 + 700, T0 + 800, null);
    a.end(T0 + 1_000);
    b.end(T0 + 1_000);
    const res = mergeSnapshots('native', [a.snapshot(), b.snapshot()]);
    expect(res.ops).toBe(3);
    expect(res.faults).toEqual([{ atEpochMs: T0 + 500, firstWriteIssuedEpochMs: T0 + 700, firstWriteAckEpochMs: T0 + 800 }]);
  });

  it('snapshots are plain JSON (they cross IPC)', () => {
    const r = new LoadRecorder();
    r.begin(T0);
    r.record('exists', T0, T0 + 1, null);
    const snap = JSON.parse(JSON.stringify(r.snapshot())) as ReturnType<LoadRecorder['snapshot']>;
    expect(mergeSnapshots('http', [snap]).byOp.exists?.ops).toBe(1);
  });
});
