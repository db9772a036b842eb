/** Small statistics over finite numbers; every function ignores null and non-finite values. */

function finite(values: readonly (number | null)[]): number[] {
  return values.filter((v): v is number => v !== null && Number.isFinite(v));
}

/** The q-quantile (0..1) with linear interpolation between ranks; null for no values. */
export function quantile(values: readonly (number | null)[], q: number): number | null {
  const xs = finite(values).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const rank = Math.min(Math.max(q, 0), 1) * (xs.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return xs[lo]! + (xs[hi]! - xs[lo]!) * (rank - lo);
}

export function median(values: readonly (number | null)[]): number | null {
  return quantile(values, 0.5);
}

export function maxOf(values: readonly (number | null)[]): number | null {
  const xs = finite(values);
  return xs.length === 0 ? null : xs.reduce((m, v) => (v > m ? v : m), -Infinity);
}

export function minOf(values: readonly (number | null)[]): number | null {
  const xs = finite(values);
  return xs.length === 0 ? null : xs.reduce((m, v) => (v < m ? v : m), Infinity);
}

export function sumOf(values: readonly number[]): number {
  return values.reduce((s, v) => s + (Number.isFinite(v) ? v : 0), 0);
}
