/** Latency samples and their percentiles: a sorted array, exact for the sample counts a bench phase makes. */

/** Upper bound on samples kept per phase (about 8 MB); beyond it, every other sample is dropped. */
const SAMPLES_MAX = 1_000_000;

export class LatencyRecorder {
  private samples = new Float64Array(1 << 16);
  private count = 0;
  private stride = 1;
  private seen = 0;

  record(latencyUs: number): void {
    this.seen += 1;
    if (this.seen % this.stride !== 0) return;
    if (this.count === this.samples.length) {
      if (this.samples.length < SAMPLES_MAX) {
        const grown = new Float64Array(Math.min(SAMPLES_MAX, this.samples.length * 2));
        grown.set(this.samples);
        this.samples = grown;
      } else {
        this.halve();
      }
    }
    this.samples[this.count++] = latencyUs;
  }

  /** Keep every other sample and record half as often from now on: an unbiased thinning. */
  private halve(): void {
    let j = 0;
    for (let i = 0; i < this.count; i += 2) this.samples[j++] = this.samples[i]!;
    this.count = j;
    this.stride *= 2;
  }

  summary(): LatencySummary {
    const sorted = this.samples.slice(0, this.count).sort();
    const at = (q: number): number => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      samples: sorted.length,
      meanUs: sorted.length === 0 ? Number.NaN : sum / sorted.length,
      p50Us: at(0.5),
      p90Us: at(0.9),
      p99Us: at(0.99),
      p999Us: at(0.999),
      maxUs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    };
  }
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
