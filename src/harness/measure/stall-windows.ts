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
import { RESOURCE_METRICS } from './resources-summary.js';

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

function maxOf(current: number | null, v: number | null): number | null {
  return v === null ? current : current === null || v > current ? v : current;
}

/** Null when no sample reported event-loop delays (nothing to say). */
export function windowStalls(spans: readonly ServerSpan[], samples: readonly StallSample[], scope: StallScope, coverMs = EVENT_LOOP_WINDOW_MS): WindowStalls | null {
  if (samples.length === 0) return null;
  const out: WindowStalls = { eventLoopMaxMs: { during: null, outside: null }, gcPauseMaxMs: { during: null, outside: null } };
  for (const s of samples) {
    const overlapping = spans.filter((span) => covers(s, span, coverMs));
    let during: boolean;
    if (scope === 'own') {
      during = overlapping.some((span) => span.serverId === s.id);
    } else {
      // A learner's own samples while it catches up belong to neither side.
      if (overlapping.some((span) => span.serverId === s.id)) continue;
      during = overlapping.length > 0;
    }
    const side = during ? 'during' : 'outside';
    out.eventLoopMaxMs[side] = maxOf(out.eventLoopMaxMs[side], s.eventLoopMaxMs);
    out.gcPauseMaxMs[side] = maxOf(out.gcPauseMaxMs[side], s.gcPauseMaxMs);
  }
  return out;
}
