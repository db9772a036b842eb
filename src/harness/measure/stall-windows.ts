/**
 * The servers' longest event-loop delay and GC pause during windows (snapshots, catch-ups)
 * against outside them, from zablab's mntr samples: each sample's `zab_event_loop_delay_recent_max`
 * and `zab_gc_pause_recent_max` cover the second before it, so a sample counts as during a
 * window when that second overlaps it. Which server's samples count depends on the window:
 * a snapshot's own server (what writing it did to that server), or for a catch-up every other
 * server (what syncing the learner did to the ensemble that serves; the learner itself serves
 * nobody yet). Pure.
 */
import { EVENT_LOOP_WINDOW_MS } from '../../telemetry/process-metrics.js';
import type { MemberMetrics } from '../drivers/types.js';
import type { WindowStalls } from '../report/results-sync.js';
import type { Span } from './latency-windows.js';
import { maxOrNull, RESOURCE_METRICS } from './resources-summary.js';

/** One server's sample of its last second, ms from the start of the measured window. */
export interface StallSample {
  id: number;
  atMs: number;
  eventLoopMaxMs: number;
  /** Null where the server does not report GC pauses. */
  gcPauseMaxMs: number | null;
}

/** A window on one server. */
export interface ServerSpan extends Span {
  serverId: number;
}

/** Whose samples a window holds: its own server's, or every other server's. */
export type StallScope = 'own' | 'others';

/** The stall figures of one mntr sample, or null where it has none (Apache ZooKeeper). */
export function stallSample(id: number, atMs: number, mntr: MemberMetrics): StallSample | null {
  const loop = mntr[`zk_${RESOURCE_METRICS.eventLoopDelayMaxMs}`];
  if (typeof loop !== 'number') return null;
  const gc = mntr[`zk_${RESOURCE_METRICS.gcPauseMaxMs}`];
  return { id, atMs, eventLoopMaxMs: loop, gcPauseMaxMs: typeof gc === 'number' ? gc : null };
}

function covers(sample: StallSample, span: Span, coverMs: number): boolean {
  return sample.atMs >= span.fromMs && sample.atMs - coverMs <= span.toMs;
}

/** Null when no sample reported event-loop delays (nothing to say). */
export function windowStalls(spans: readonly ServerSpan[], samples: readonly StallSample[], scope: StallScope, coverMs = EVENT_LOOP_WINDOW_MS): WindowStalls | null {
  if (samples.length === 0) return null;
  const during: StallSample[] = [];
  const outside: StallSample[] = [];
  for (const s of samples) {
    const overlapping = spans.filter((span) => covers(s, span, coverMs));
    const own = overlapping.some((span) => span.serverId === s.id);
    // 'others': a learner's own samples while it catches up belong to neither side.
    if (scope === 'others' && own) continue;
    if (scope === 'own' ? own : overlapping.length > 0) during.push(s);
    else outside.push(s);
  }
  const gc = (side: StallSample[]): number | null => maxOrNull(side.flatMap((s) => (s.gcPauseMaxMs === null ? [] : [s.gcPauseMaxMs])));
  return {
    eventLoopMaxMs: { during: maxOrNull(during.map((s) => s.eventLoopMaxMs)), outside: maxOrNull(outside.map((s) => s.eventLoopMaxMs)) },
    gcPauseMaxMs: { during: gc(during), outside: gc(outside) },
  };
}
