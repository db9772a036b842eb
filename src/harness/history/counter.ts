/**
 * Jepsen's "counter" check: clients add deltas to one counter (e.g. a znode's integer data
 * changed by cas loops), then one final read. The value must be the initial value plus every
 * acknowledged delta, give or take the indeterminate ones, each of which may or may not have
 * applied:
 *
 *   lower = initial + sum(ok deltas) + sum(negative info deltas)
 *   upper = initial + sum(ok deltas) + sum(positive info deltas)
 *
 * Failed deltas did not apply and count nowhere. Below `lower` means acknowledged increments
 * were lost; above `upper` means some applied twice, or out of nowhere. Like Jepsen's, the
 * check is on these bounds, not on which subsets of the indeterminate deltas could sum to
 * the value (a value between them that no subset gives passes).
 */
import { HistoryError } from './errors.js';
import type { Outcome } from './types.js';

export interface CounterDelta {
  delta: number;
  outcome: Outcome;
}

export interface CounterHistory {
  /** The counter's value before the first delta (default 0). */
  initial?: number;
  deltas: CounterDelta[];
  /** What the final read returned, after the deltas stopped. */
  finalValue: number;
}

export interface CounterVerdict {
  valid: boolean;
  /** initial + the acknowledged deltas. */
  acknowledged: number;
  lower: number;
  upper: number;
  finalValue: number;
  /** finalValue minus the nearest bound it is outside of (0 when valid): negative is lost, positive is extra. */
  outsideBy: number;
}

export function checkCounter(history: CounterHistory): CounterVerdict {
  const initial = history.initial ?? 0;
  integer(initial, 'initial');
  integer(history.finalValue, 'finalValue');
  if (!Array.isArray(history.deltas)) throw new HistoryError('ZABLAB_HISTORY_INPUT', 'a counter history needs deltas: an array of {delta, outcome}');
  // bigint sums: many deltas near 2^53 must not round into a wrong verdict.
  let acked = BigInt(initial);
  let down = 0n;
  let up = 0n;
  history.deltas.forEach((d, i) => {
    integer(d.delta, `deltas[${i}].delta`);
    const delta = BigInt(d.delta);
    switch (d.outcome) {
      case 'ok':
        acked += delta;
        break;
      case 'info':
        if (delta < 0n) down += delta;
        else up += delta;
        break;
      case 'fail':
        break;
      default:
        throw new HistoryError('ZABLAB_HISTORY_INPUT', `deltas[${i}].outcome must be ok, fail or info, got ${JSON.stringify(d.outcome)}`);
    }
  });
  const final = BigInt(history.finalValue);
  const lower = acked + down;
  const upper = acked + up;
  const outsideBy = final < lower ? final - lower : final > upper ? final - upper : 0n;
  return {
    valid: outsideBy === 0n,
    acknowledged: toNumber(acked, 'the acknowledged sum'),
    lower: toNumber(lower, 'the lower bound'),
    upper: toNumber(upper, 'the upper bound'),
    finalValue: history.finalValue,
    outsideBy: toNumber(outsideBy, 'the distance to the bounds'),
  };
}

function integer(v: unknown, what: string): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new HistoryError('ZABLAB_HISTORY_INPUT', `${what} must be an integer within ±2^53, got ${JSON.stringify(v)}`);
}

function toNumber(v: bigint, what: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new HistoryError('ZABLAB_HISTORY_INPUT', `${what} (${v}) is past 2^53; use smaller deltas`);
  return n;
}
