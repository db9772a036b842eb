/**
 * Shrinks a non-linearizable sub-history to one a person can read, by dropping ops while it
 * stays non-linearizable (delta debugging: halves, then quarters, ... then single ops).
 *
 * Only drops that keep the witness honest are tried, i.e. drops after which "still not
 * linearizable" still proves the whole history is not:
 * - a read: it changes nothing, so a linearization of the whole restricts to one without it;
 * - a write or cas whose new value no remaining op observes (reads it or expects it): in a
 *   linearization of the whole, the op after it is then a write, which hides it.
 * Dropping just any op would not do: without the write of 1, a read of 1 is an anomaly of
 * its own, and the witness would point at the wrong op.
 */
import { observedValues, READ, writtenValue, type RegisterOp } from './register.js';
import { searchLinearization, type SearchBudget } from './wgl.js';

export interface ShrinkResult {
  ops: RegisterOp[];
  /** false when the budget ran out before no op could be dropped any more. */
  shrunk: boolean;
}

/** `ops` must be non-linearizable; returns a sub-history that still is, in the same order. */
export function shrinkWitness(ops: readonly RegisterOp[], budget: SearchBudget): ShrinkResult {
  let current = ops.slice();
  let chunk = Math.max(1, Math.ceil(current.length / 2));
  for (;;) {
    let dropped = false;
    for (let i = 0; i < current.length; ) {
      if (budget.clock() > budget.deadlineMs) return { ops: current, shrunk: false };
      const drop = honestDrop(current, i, chunk);
      if (drop.size > 0) {
        const rest = current.filter((r) => !drop.has(r));
        // Unknown (budget) counts as linearizable: the drop is not kept.
        if (searchLinearization(rest, budget).linearizable === false) {
          current = rest;
          dropped = true;
          continue;
        }
      }
      i += chunk;
    }
    // Dropping one op can free another (a write whose only reader went), so single ops repeat until none goes.
    if (chunk === 1 && !dropped) return { ops: current, shrunk: true };
    chunk = Math.max(1, Math.floor(chunk / 2));
  }
}

/** The ops of current[i, i + chunk) that may be dropped together (see the module comment). */
function honestDrop(current: readonly RegisterOp[], i: number, chunk: number): Set<RegisterOp> {
  const drop = new Set(current.slice(i, i + chunk));
  for (;;) {
    const seen = observedValues(current.filter((r) => !drop.has(r)));
    let kept = false;
    for (const r of drop) {
      if (r.kind !== READ && seen.has(writtenValue(r))) {
        drop.delete(r);
        kept = true;
      }
    }
    if (!kept) return drop;
  }
}
