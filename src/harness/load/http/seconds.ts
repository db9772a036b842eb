/**
 * The measured window one second at a time, for LoadStartOptions.onSecond, emitted once the
 * clock has passed the second's end (so the point is final when it is shown).
 *
 * Not a LoadRecorder per second: the load runs in this process, and turning a recorder into
 * percentiles (packed HDR histograms, one scan per percentile) takes long enough to stall
 * the event loop, and with it the load, for a noticeable time every second. Here a second
 * keeps its latencies (bounded) and sorts them once; the final result's timeline still comes
 * from the LoadRecorder, as in every driver.
 */
import type { OpKind } from '../../scenario/types.js';
import type { TimelinePoint } from '../types.js';

/** Latencies kept per op per second; past this, ops are counted but their latencies not kept. */
const LATENCIES_PER_SECOND_MAX = 100_000;

interface Cell {
  ops: number;
  errors: number;
  latenciesMs: number[];
}

export class SecondStats {
  private t = 0;
  private cells = new Map<OpKind, Cell>();

  constructor(
    private readonly startEpochMs: number,
    private readonly emit: (p: TimelinePoint) => void,
  ) {}

  record(op: OpKind, intendedMs: number, endMs: number, error: string | null): void {
    this.roll(endMs);
    if (endMs < this.startEpochMs) return;
    let c = this.cells.get(op);
    if (c === undefined) {
      c = { ops: 0, errors: 0, latenciesMs: [] };
      this.cells.set(op, c);
    }
    if (error !== null) {
      c.errors++;
      return;
    }
    c.ops++;
    if (c.latenciesMs.length < LATENCIES_PER_SECOND_MAX) c.latenciesMs.push(endMs - intendedMs);
  }

  /** Emits every second that has ended by now. */
  roll(now: number): void {
    while (now >= this.startEpochMs + (this.t + 1) * 1_000) {
      const point = this.point();
      this.cells = new Map();
      this.t++;
      this.emit(point);
    }
  }

  private point(): TimelinePoint {
    const point: TimelinePoint = { t: this.t, ops: 0, errors: 0, p50: 0, p99: 0, byOp: {} };
    const all: number[] = [];
    for (const [op, c] of this.cells) {
      const sorted = c.latenciesMs.sort((a, b) => a - b);
      point.byOp[op] = { ops: c.ops, errors: c.errors, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
      point.ops += c.ops;
      point.errors += c.errors;
      for (const v of sorted) all.push(v);
    }
    all.sort((a, b) => a - b);
    point.p50 = percentile(all, 50);
    point.p99 = percentile(all, 99);
    return point;
  }
}

/** Nearest rank, in ms rounded to µs; 0 when there is none. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return Math.round(sorted[rank - 1]! * 1_000) / 1_000;
}
