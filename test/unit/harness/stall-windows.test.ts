import { describe, expect, it } from 'vitest';
import { stallSample, windowStalls, type StallSample } from '../../../src/harness/measure/stall-windows.js';

const s = (id: number, atMs: number, eventLoopMaxMs: number, gcPauseMaxMs: number | null = null): StallSample => ({ id, atMs, eventLoopMaxMs, gcPauseMaxMs });

describe('stallSample', () => {
  it("reads zablab's mntr keys and gives null for a server without an event loop", () => {
    expect(stallSample(2, 500, { zk_zab_event_loop_delay_recent_max: 12.5, zk_zab_gc_pause_recent_max: 3 })).toEqual(s(2, 500, 12.5, 3));
    expect(stallSample(2, 500, { zk_zab_event_loop_delay_recent_max: 12.5 })).toEqual(s(2, 500, 12.5, null));
    expect(stallSample(1, 500, { zk_avg_latency: 1 })).toBeNull();
  });
});

describe('windowStalls', () => {
  // Server 1 writes a snapshot over [2000, 2600]; a sample covers the second before it.
  const spans = [{ serverId: 1, fromMs: 2_000, toMs: 2_600 }];
  const samples = [
    s(1, 1_000, 20, 1), // covers [0, 1000]: before
    s(1, 2_100, 300, 250), // covers [1100, 2100]: overlaps the start
    s(1, 3_500, 40, 5), // covers [2500, 3500]: overlaps the end
    s(1, 3_700, 90, 80), // covers [2700, 3700]: after
    s(2, 2_300, 500, 400), // another server, during server 1's snapshot
  ];

  it("own: the window's server's samples whose second overlaps it are during; its others and other servers' are outside", () => {
    expect(windowStalls(spans, samples, 'own', 1_000)).toEqual({
      eventLoopMaxMs: { during: 300, outside: 500 },
      gcPauseMaxMs: { during: 250, outside: 400 },
    });
  });

  it("others: a learner's own samples while it catches up count on neither side", () => {
    expect(windowStalls(spans, samples, 'others', 1_000)).toEqual({
      eventLoopMaxMs: { during: 500, outside: 90 },
      gcPauseMaxMs: { during: 400, outside: 80 },
    });
  });

  it('says null for a side without samples, and nothing without any sample', () => {
    expect(windowStalls([], [s(1, 1_000, 20)], 'own', 1_000)).toEqual({ eventLoopMaxMs: { during: null, outside: 20 }, gcPauseMaxMs: { during: null, outside: null } });
    expect(windowStalls(spans, [], 'own', 1_000)).toBeNull();
  });
});
