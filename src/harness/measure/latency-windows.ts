/**
 * The load's p99 during windows (snapshots, catch-ups) against outside them, from the per-slot
 * latency buckets the load recorded (load/latency-buckets.ts): the requests completed in the
 * 100 ms slots that overlap any window are pooled, and so are those of every other slot, and
 * each pool has its own p99. Pure.
 */
import { addFlat, quantileMs } from '../load/latency-buckets.js';
import type { LatencyWindowKind, WindowLatency } from '../report/results-sync.js';

/** A span of the measured window, ms from its start. */
export interface Span {
  fromMs: number;
  toMs: number;
}

export interface SlotLatency {
  slotMs: number;
  /** Per slot, flat [bucket, count, ...]. */
  latency: readonly (readonly number[])[];
}

/** Slots that overlap any span: a request completed in them may have waited on what the span holds. */
export function slotsDuring(spans: readonly Span[], slotMs: number, slots: number): boolean[] {
  const during = new Array<boolean>(slots).fill(false);
  for (const s of spans) {
    if (s.toMs < s.fromMs) continue;
    const first = Math.max(0, Math.floor(s.fromMs / slotMs));
    const last = Math.min(slots - 1, Math.floor(s.toMs / slotMs));
    for (let i = first; i <= last; i++) during[i] = true;
  }
  return during;
}

export function windowLatency(kind: LatencyWindowKind, spans: readonly Span[], fine: SlotLatency): WindowLatency {
  const during = slotsDuring(spans, fine.slotMs, fine.latency.length);
  const inside = new Map<number, number>();
  const outside = new Map<number, number>();
  let duringSlots = 0;
  fine.latency.forEach((flat, i) => {
    if (during[i] === true) duringSlots++;
    addFlat(during[i] === true ? inside : outside, flat);
  });
  return { kind, windows: spans.length, duringMs: duringSlots * fine.slotMs, during: quantileMs(inside, 0.99), outside: quantileMs(outside, 0.99) };
}
