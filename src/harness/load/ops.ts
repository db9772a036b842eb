/**
 * The operation mix every load driver draws from: which op comes next (by the workload's
 * read share and per-op weights) and which key it touches. Both pickers are seeded, so a
 * worker's sequence of ops is the same from run to run.
 */
import { READ_OPS, WRITE_OPS, type OpKind, type ReadOp, type WorkloadSection, type WriteOp } from '../scenario/types.js';

export interface OpWeight {
  op: OpKind;
  /** Share of all operations, in [0, 1]; the weights of a mix sum to 1. */
  weight: number;
}

/**
 * The workload's mix as shares of all operations: readPct splits reads from writes, and the
 * per-op weights split each side (defaults: getData for reads, setData for writes). Ops with
 * weight 0 are left out.
 */
export function opMix(w: WorkloadSection): OpWeight[] {
  const readShare = Math.min(100, Math.max(0, w.readPct)) / 100;
  return [...side(READ_OPS, w.reads, { getData: 1 }, readShare), ...side(WRITE_OPS, w.writes, { setData: 1 }, 1 - readShare)];
}

function side<T extends ReadOp | WriteOp>(ops: readonly T[], weights: Partial<Record<T, number>>, fallback: Partial<Record<T, number>>, share: number): OpWeight[] {
  if (share <= 0) return [];
  const given = ops.filter((op) => (weights[op] ?? 0) > 0);
  const use = given.length > 0 ? weights : fallback;
  const picked = ops.filter((op) => (use[op] ?? 0) > 0);
  const sum = picked.reduce((n, op) => n + (use[op] ?? 0), 0);
  return picked.map((op) => ({ op, weight: (share * (use[op] ?? 0)) / sum }));
}

/** mulberry32: a small, fast 32-bit seeded generator; uniform in [0, 1). The one copy (tests use it too). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws ops from a mix with a seeded generator: the same seed gives the same sequence. */
export class OpPicker {
  private readonly ops: OpKind[];
  /** Cumulative weights, normalised so the last is 1. */
  private readonly cumulative: number[];
  private readonly random: () => number;

  constructor(mix: readonly OpWeight[], seed: number) {
    const usable = mix.filter((m) => m.weight > 0 && Number.isFinite(m.weight));
    if (usable.length === 0) throw new RangeError('OpPicker: the op mix has no op with a positive weight; give readPct and the read/write weights');
    const sum = usable.reduce((n, m) => n + m.weight, 0);
    let acc = 0;
    this.ops = usable.map((m) => m.op);
    this.cumulative = usable.map((m) => (acc += m.weight / sum));
    this.cumulative[this.cumulative.length - 1] = 1;
    this.random = mulberry32(seed);
  }

  next(): OpKind {
    const r = this.random();
    for (let i = 0; i < this.cumulative.length; i++) if (r < this.cumulative[i]!) return this.ops[i]!;
    return this.ops[this.ops.length - 1]!;
  }
}

/** The path of key i under root: `${root}/k` + 6-digit index (k000000, k000001, ...). */
export function keyPath(root: string, i: number): string {
  return `${root}/k${String(i).padStart(6, '0')}`;
}

/** Picks key indexes uniformly from [0, keys) with a seeded generator. */
export class KeyPicker {
  private readonly random: () => number;

  constructor(
    private readonly keys: number,
    seed: number,
  ) {
    if (!Number.isInteger(keys) || keys < 1) throw new RangeError(`KeyPicker: keys must be a positive integer, got ${keys}`);
    this.random = mulberry32(seed);
  }

  next(): number {
    return Math.floor(this.random() * this.keys);
  }
}
