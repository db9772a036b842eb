/** A small seeded PRNG (mulberry32): one seed decides a whole fuzz run, so a failing seed replays. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A child generator for item `index`: independent of how many numbers others have drawn. */
  fork(index: number): Rng {
    return new Rng(Math.imul(this.state ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
  }

  /** Uniform in [0, 2^32). */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor((this.u32() / 2 ** 32) * (hi - lo + 1));
  }

  /** Uniform signed 32-bit integer. */
  i32(): number {
    return this.u32() | 0;
  }

  bool(pTrue = 0.5): boolean {
    return this.u32() / 2 ** 32 < pTrue;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: no items');
    return items[this.int(0, items.length - 1)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** The run's seed: $ZABLAB_FUZZ_SEED when set (to replay), else a fresh one. */
export function fuzzSeed(): number {
  const fromEnv = process.env['ZABLAB_FUZZ_SEED'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      throw new RangeError(`ZABLAB_FUZZ_SEED must be an integer in [0, 4294967295], got '${fromEnv}'`);
    }
    return n;
  }
  return Math.floor(Math.random() * 0x100000000);
}
