import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { EVENT_LOOP_WINDOW_MS, EventLoopMonitor, observationsOf, type DelayObservations, type EventLoopWindow } from '../../../src/telemetry/process-metrics.js';
import { ZabMetrics } from '../../../src/telemetry/metrics.js';

describe('observationsOf', () => {
  it('spreads a window over its percentile points, keeping the count', () => {
    // 200 samples: half at 1 ms, 49 % at 2 ms, the top 1 % at 80 ms.
    const pct = new Map([
      [0, 1e6],
      [50, 1e6],
      [99, 2e6],
      [100, 80e6],
    ]);
    const obs = observationsOf(pct, 200);
    expect(obs).toEqual([
      [1, 100],
      [2, 98],
      [80, 2],
    ]);
  });

  it('gives every sample to the top when the points are sparse', () => {
    expect(observationsOf(new Map([[100, 5e6]]), 7)).toEqual([[5, 7]]);
    const obs: DelayObservations = observationsOf(new Map([[37.5, 1e6], [75, 3e6]]), 8);
    expect(obs.reduce((n, [, c]) => n + c, 0)).toBe(8);
  });
});

describe('EventLoopMonitor', () => {
  it('sees a blocked event loop in the window after it, as p99 and max and as histogram observations', async () => {
    const metrics = new ZabMetrics();
    const windows: DelayObservations[] = [];
    const monitor = new EventLoopMonitor((obs) => {
      windows.push(obs);
      for (const [ms, n] of obs) metrics.eventLoopDelay.record(ms, n);
    });
    try {
      await sleep(50);
      const until = performance.now() + 150;
      while (performance.now() < until) {
        // the event loop is held, as a long synchronous task would hold it
      }
      await sleep(EVENT_LOOP_WINDOW_MS * 1.5);
      expect(monitor.recent.maxMs).toBeGreaterThanOrEqual(100);
      expect(monitor.recent.count).toBeGreaterThan(0);
      const max = new Map(metrics.monitorValues()).get('max_zab_event_loop_delay')!;
      expect(max).toBeGreaterThanOrEqual(100);
      expect(windows.length).toBeGreaterThan(0);
    } finally {
      monitor.stop();
    }
  });
});

describe('EventLoopMonitor GC pauses', () => {
  it("counts the collector's pauses in the window they ended in, and each one in the histogram", async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const metrics = new ZabMetrics();
    const monitor = new EventLoopMonitor(() => undefined, (ms) => metrics.gcPause.record(ms), 200);
    try {
      // A heap of many small objects, so that a full collection takes measurable time.
      const held = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `n${i}` }));
      gc();
      gc();
      // The window the pauses ended in becomes `recent` when it rolls; a quiet one replaces it.
      const seen: EventLoopWindow[] = [];
      for (let i = 0; i < 40; i++) {
        await sleep(20);
        if (seen.at(-1) !== monitor.recent) seen.push(monitor.recent);
      }
      expect(held.length).toBe(300_000);
      const withPauses = seen.filter((w) => w.gcPauseMaxMs > 0);
      expect(withPauses.length).toBeGreaterThanOrEqual(1);
      const max = Math.max(...withPauses.map((w) => w.gcPauseMaxMs));
      for (const w of withPauses) expect(w.gcPauseMs).toBeGreaterThanOrEqual(w.gcPauseMaxMs);
      const values = new Map(metrics.monitorValues());
      expect(values.get('cnt_zab_gc_pause')).toBeGreaterThanOrEqual(2);
      expect(values.get('max_zab_gc_pause')).toBeCloseTo(max, 2);
      expect(seen.at(-1)!.gcPauseMaxMs).toBeLessThan(max);
    } finally {
      monitor.stop();
    }
  });
});

describe('process gauges in mntr', () => {
  it('lists resident memory and heap, and the event loop once it is watched', () => {
    const without = new Map(new ZabMetrics().monitorValues());
    expect(without.get('process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(without.get('nodejs_heap_size_used_bytes')).toBeGreaterThan(2 ** 20);
    expect(without.has('zab_event_loop_delay_recent_p99')).toBe(false);
    // Watched, but before its first window has rolled: nothing yet, rather than zeros.
    const unrolled = new Map(
      new ZabMetrics(undefined, () => ({ pendingSyncs: 0, leaderUptimeMs: null, eventLoop: { count: 0, p99Ms: 0, maxMs: 0, gcPauseMaxMs: 0, gcPauseMs: 0 } })).monitorValues(),
    );
    expect(unrolled.has('zab_event_loop_delay_recent_max')).toBe(false);
    expect(unrolled.has('zab_gc_pause_recent_max')).toBe(false);
    const watched = new Map(
      new ZabMetrics(undefined, () => ({ pendingSyncs: 0, leaderUptimeMs: null, eventLoop: { count: 100, p99Ms: 1.5, maxMs: 42.25, gcPauseMaxMs: 30.5, gcPauseMs: 61 } })).monitorValues(),
    );
    expect(watched.get('zab_event_loop_delay_recent_p99')).toBe(1.5);
    expect(watched.get('zab_event_loop_delay_recent_max')).toBe(42.25);
    expect(watched.get('zab_gc_pause_recent_max')).toBe(30.5);
    expect(watched.get('zab_gc_time_recent')).toBe(61);
  });
});
