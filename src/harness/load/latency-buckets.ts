/**
 * Latency counts by bucket, small enough to keep one set per 100 ms slot of a run: values
 * below 2^SUB_BITS µs each have a bucket of their own, larger ones share a bucket with the
 * values of the same power of two and the same top SUB_BITS bits (HdrHistogram's layout), so a
 * percentile read from the buckets is within 1/2^(SUB_BITS-1) (< 1.6 %) of the exact one. A
 * percentile over any set of slots is then the percentile of the pooled requests, not a
 * statistic of per-slot percentiles.
 *
 * A set of buckets travels as a flat array [bucket, count, bucket, count, ...] (plain JSON, for
 * the load workers' IPC).
 */

/** Bits of the mantissa kept: 64 buckets per power of two. */
const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS;

/** The bucket of a latency in µs (≥ 1, integer). */
export function bucketOf(us: number): number {
  const v = Math.max(1, Math.floor(us));
  if (v < SUB_COUNT) return v;
  const exponent = Math.floor(Math.log2(v));
  const shift = exponent - (SUB_BITS - 1);
  // Math.log2 may round up just below a power of two: the mantissa must land in [32, 64).
  const mantissa = Math.floor(v / 2 ** shift);
  if (mantissa >= SUB_COUNT) return bucketOf(2 ** (exponent + 1));
  if (mantissa < SUB_COUNT / 2) return bucketOf(2 ** exponent);
  return SUB_COUNT + (shift - 1) * (SUB_COUNT / 2) + (mantissa - SUB_COUNT / 2);
}

/** The largest latency (µs) of a bucket: a percentile is reported as its bucket's top, as HdrHistogram does. */
export function bucketTopUs(bucket: number): number {
  if (bucket < SUB_COUNT) return bucket;
  const k = bucket - SUB_COUNT;
  const shift = Math.floor(k / (SUB_COUNT / 2)) + 1;
  const mantissa = (k % (SUB_COUNT / 2)) + SUB_COUNT / 2;
  return (mantissa + 1) * 2 ** shift - 1;
}

/** Adds a flat [bucket, count, ...] array into counts. */
export function addFlat(into: Map<number, number>, flat: readonly number[]): void {
  for (let i = 0; i + 1 < flat.length; i += 2) into.set(flat[i]!, (into.get(flat[i]!) ?? 0) + flat[i + 1]!);
}

export function toFlat(counts: ReadonlyMap<number, number>): number[] {
  const out: number[] = [];
  for (const [b, n] of counts) out.push(b, n);
  return out;
}

export interface BucketPercentile {
  count: number;
  /** null without any request. */
  p99Ms: number | null;
}

/** The value at quantile q (0..1) of the pooled counts, in ms, with the count it is taken of. */
export function quantileMs(counts: ReadonlyMap<number, number>, q: number): BucketPercentile {
  let total = 0;
  for (const n of counts.values()) total += n;
  if (total === 0) return { count: 0, p99Ms: null };
  // The smallest value with at least ceil(q × total) requests at or below it (HdrHistogram's rule).
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const b of [...counts.keys()].sort((x, y) => x - y)) {
    seen += counts.get(b)!;
    if (seen >= rank) return { count: total, p99Ms: bucketTopUs(b) / 1_000 };
  }
  return { count: total, p99Ms: null };
}
