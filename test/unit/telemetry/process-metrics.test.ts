import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { EVENT_LOOP_WINDOW_MS, EventLoopMonitor, observationsOf, type DelayObservations } from '../../../src/telemetry/process-metrics.js';
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

describe('process gauges in mntr', () => {
  it('lists resident memory and heap, and the event loop once it is watched', () => {
    const without = new Map(new ZabMetrics().monitorValues());
    expect(without.get('process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(without.get('nodejs_heap_size_used_bytes')).toBeGreaterThan(2 ** 20);
    expect(without.has('zab_event_loop_delay_recent_p99')).toBe(false);
    const watched = new Map(
      new ZabMetrics(undefined, () => ({ pendingSyncs: 0, leaderUptimeMs: null, eventLoop: { count: 100, p99Ms: 1.5, maxMs: 42.25 } })).monitorValues(),
    );
    expect(watched.get('zab_event_loop_delay_recent_p99')).toBe(1.5);
    expect(watched.get('zab_event_loop_delay_recent_max')).toBe(42.25);
  });
});
