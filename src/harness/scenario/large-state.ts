/**
 * Checks across the large-state fields of a workload (populate, sessions, watches, watchMode),
 * made per run because a matrix may vary any of them: the watches are set on populated
 * znodes, by held sessions, each on znodes of its own.
 */
import { fail, type FieldContext } from './fields.js';
import { MAX_WATCHES_TOTAL } from './schema.js';
import type { WatchMode, WorkloadSection } from './types.js';

/** The large-state fields with their defaults filled in. */
export function largeStateOf(w: WorkloadSection): { populate: number; sessions: number; watches: number; watchMode: WatchMode } {
  return { populate: w.populate ?? 0, sessions: w.sessions ?? 0, watches: w.watches ?? 0, watchMode: w.watchMode ?? 'oneShot' };
}

export function checkLargeState(ctx: FieldContext, workload: WorkloadSection): void {
  const w = largeStateOf(workload);
  if (w.watches === 0) return;
  if (w.sessions === 0) {
    fail(ctx, ['workload', 'watches'], `is ${w.watches}, but workload.sessions is 0: watches are set by the held sessions (e.g. sessions: 100)`);
  }
  if (w.populate === 0) {
    fail(ctx, ['workload', 'watches'], `is ${w.watches}, but workload.populate is 0: watches are set on populated znodes (e.g. populate: 10000)`);
  }
  if (w.watches > w.populate) {
    fail(ctx, ['workload', 'watches'], `(${w.watches} per session) must be at most workload.populate (${w.populate}): a session watches that many different populated znodes`);
  }
  const total = w.sessions * w.watches;
  if (total > MAX_WATCHES_TOTAL) {
    fail(ctx, ['workload', 'watches'], `× workload.sessions is ${total} watches; at most ${MAX_WATCHES_TOTAL}: lower sessions or watches`);
  }
}
