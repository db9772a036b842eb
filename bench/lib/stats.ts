/**
 * Latency histogram with log-linear buckets (the HdrHistogram layout, simplified): exact to the
 * microsecond below 128 µs, then 128 buckets per power of two, so any value is off by < 0.8 %.
 * Fixed memory (about 3,500 counters), O(1) record, and mergeable: each load worker keeps one
 * and the parent adds them up, which a list of samples could not do cheaply.
 */

/** Buckets per power of two; also the count of exact 1 µs buckets at the bottom. */
const SUB_BUCKETS = 128;
const SUB_BITS = 7; // log2(SUB_BUCKETS)
/** Largest value kept apart; anything longer (1 hour+) lands in the last bucket. */
const VALUE_MAX_US = 3_600_000_000;
const BUCKETS = bucketOf(VALUE_MAX_US) + 1;

function bucketOf(valueUs: number): number {
  const v = Math.floor(valueUs);
  if (v < SUB_BUCKETS) return Math.max(0, v);
  let exp = Math.floor(Math.log2(v)) - SUB_BITS; // v / 2^exp is in [128, 256)
  // log2 may round across a power of two; step back into range.
  if (Math.floor(v / 2 ** exp) >= 2 * SUB_BUCKETS) exp += 1;
  else if (Math.floor(v / 2 ** exp) < SUB_BUCKETS) exp -= 1;
  const sub = Math.floor(v / 2 ** exp);
  return SUB_BUCKETS * exp + sub; // exp 0 starts at 128: bucket = 128 + (sub - 128) at exp 0
}

/** The middle of a bucket's value range, in µs. */
function bucketValue(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const exp = Math.floor(index / SUB_BUCKETS) - 1;
  const sub = SUB_BUCKETS + (index % SUB_BUCKETS);
  return (sub + 0.5) * 2 ** exp;
}

export interface LatencySummary {
  samples: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

/** What crosses the process boundary: non-empty buckets only. */
export interface HistogramSnapshot {
  /** [bucket index, count] pairs, index ascending. */
  buckets: [number, number][];
  count: number;
  sumUs: number;
  minUs: number;
  maxUs: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private count = 0;
  private sumUs = 0;
  private minUs = Number.POSITIVE_INFINITY;
  private maxUs = 0;

  get samples(): number {
    return this.count;
  }

  record(latencyUs: number): void {
    if (!(latencyUs >= 0)) return; // NaN or negative: a clock oddity, not a latency
    this.counts[Math.min(BUCKETS - 1, bucketOf(latencyUs))]! += 1;
    this.count += 1;
    this.sumUs += latencyUs;
    if (latencyUs < this.minUs) this.minUs = latencyUs;
    if (latencyUs > this.maxUs) this.maxUs = latencyUs;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumUs = 0;
    this.minUs = Number.POSITIVE_INFINITY;
    this.maxUs = 0;
  }

  snapshot(): HistogramSnapshot {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { buckets, count: this.count, sumUs: this.sumUs, minUs: this.minUs, maxUs: this.maxUs };
  }

  /** Adds another histogram's samples (e.g. a worker's snapshot) to this one. */
  merge(s: HistogramSnapshot): void {
    for (const [i, n] of s.buckets) {
      if (!Number.isInteger(i) || i < 0 || i >= BUCKETS) throw new RangeError(`histogram bucket ${i} is outside [0, ${BUCKETS})`);
      this.counts[i]! += n;
    }
    this.count += s.count;
    this.sumUs += s.sumUs;
    if (s.count > 0) {
      this.minUs = Math.min(this.minUs, s.minUs);
      this.maxUs = Math.max(this.maxUs, s.maxUs);
    }
  }

  /** The value at quantile q (0..1): the middle of the bucket holding the ceil(q·n)-th sample. */
  quantileUs(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxUs, Math.max(this.minUs, bucketValue(i)));
    }
    return this.maxUs;
  }

  summary(): LatencySummary {
    const empty = this.count === 0;
    return {
      samples: this.count,
      meanUs: empty ? Number.NaN : this.sumUs / this.count,
      p50Us: this.quantileUs(0.5),
      p90Us: this.quantileUs(0.9),
      p99Us: this.quantileUs(0.99),
      p999Us: this.quantileUs(0.999),
      maxUs: empty ? Number.NaN : this.maxUs,
    };
  }
}
