/**
 * What a load driver records, in one process (a native load worker, or the http driver's
 * autocannon instances): every completed request with its intended start, its end and its
 * outcome. A recorder's snapshot is plain JSON (histograms in HdrHistogram's compressed
 * base64 form), so workers send it over IPC; mergeSnapshots() turns any number of them into
 * the driver's LoadResult.
 *
 * Times are epoch milliseconds with sub-millisecond fractions (performance.timeOrigin +
 * performance.now()), so that worker processes and the runner share one clock.
 */
import * as hdr from 'hdr-histogram-js';
import { isWriteOp, type LoadDriverName, type OpKind } from '../scenario/types.js';
import type { FaultObservation, LoadResult, OpStats, Percentiles, TimelinePoint } from './types.js';
import { addFlat, bucketOf, toFlat } from './latency-buckets.js';

/** Latencies are recorded in microseconds, up to this (longer ones are clamped to it). */
const LATENCY_US_MAX = 120_000_000;
const FINE_SLOT_MS = 100;
/** Bounds the window a recorder covers (and so its memory): 6 hours. */
const WINDOW_SECONDS_MAX = 6 * 3_600;
const FAULTS_MAX = 1_000;
const ERROR_CODES_MAX = 64;
/** Bounds the per-slot latency buckets (an hour of a busy run has far fewer distinct slot × bucket pairs). */
const SLOT_BUCKETS_MAX = 2_000_000;

/** Epoch ms, sub-millisecond, on the clock every process of the machine shares. */
export function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

function newHistogram(digits: 2 | 3): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: LATENCY_US_MAX, numberOfSignificantValueDigits: digits, useWebAssembly: false });
}

interface OpCell {
  ops: number;
  errors: number;
  hist: hdr.Histogram;
}

export interface OpCellSnapshot {
  ops: number;
  errors: number;
  /** HdrHistogram compressed base64 of latencies in µs. */
  hist: string;
}

export interface RecorderSnapshot {
  startEpochMs: number;
  endEpochMs: number;
  total: Partial<Record<OpKind, OpCellSnapshot>>;
  /** Index = second of the window. */
  seconds: Partial<Record<OpKind, OpCellSnapshot>>[];
  errors: Record<string, number>;
  fineOps: number[];
  fineWrites: number[];
  faults: FaultObservation[];
  missedSlots: number;
  /** Latencies of the successful requests per slot of fineOps, as flat bucket counts (latency-buckets.ts); absent from older senders. */
  fineLatency?: number[][];
  /** The slot buckets hit SLOT_BUCKETS_MAX: later slots have none. */
  fineLatencyTruncated?: boolean;
}

export class LoadRecorder {
  private startEpochMs: number | null = null;
  private endEpochMs: number | null = null;
  private readonly total = new Map<OpKind, OpCell>();
  private readonly seconds: Map<OpKind, OpCell>[] = [];
  private readonly errors = new Map<string, number>();
  private readonly fineOps: number[] = [];
  private readonly fineWrites: number[] = [];
  private readonly faults: FaultObservation[] = [];
  private readonly fineLatency: Map<number, number>[] = [];
  private fineBuckets = 0;
  private fineLatencyTruncated = false;
  private missed = 0;
  /** Completed requests since the last liveOps() call, counted in warm-up too. */
  private liveCount = 0;
  private liveSinceMs = nowEpochMs();

  /** The measured window starts at this time (default now). */
  begin(atEpochMs = nowEpochMs()): void {
    this.startEpochMs = atEpochMs;
  }

  /** The measured window ends; later completions are not counted. */
  end(atEpochMs = nowEpochMs()): void {
    this.endEpochMs ??= atEpochMs;
  }

  noteFault(atEpochMs: number): void {
    if (this.faults.length >= FAULTS_MAX) return;
    this.faults.push({ atEpochMs, firstWriteIssuedEpochMs: null, firstWriteAckEpochMs: null });
  }

  /** Open loop: a request the schedule wanted could not be sent. */
  missedSlot(): void {
    if (this.startEpochMs !== null && this.endEpochMs === null) this.missed++;
  }

  /**
   * One completed request. error: null on success, else a stable code name (ZooKeeper's code
   * name, HTTP_<status>, TIMEOUT). Completions outside the measured window count for live ops only.
   */
  record(op: OpKind, intendedStartEpochMs: number, endEpochMs: number, error: string | null): void {
    this.liveCount++;
    if (error === null && isWriteOp(op)) this.observeWrite(intendedStartEpochMs, endEpochMs);
    const start = this.startEpochMs;
    if (start === null || endEpochMs < start || (this.endEpochMs !== null && endEpochMs > this.endEpochMs)) return;
    const offsetMs = endEpochMs - start;
    const second = Math.floor(offsetMs / 1_000);
    if (second >= WINDOW_SECONDS_MAX) return;
    const latencyUs = Math.min(LATENCY_US_MAX, Math.max(1, Math.round((endEpochMs - intendedStartEpochMs) * 1_000)));
    count(cellOf(this.total, op, 3), latencyUs, error);
    while (this.seconds.length <= second) this.seconds.push(new Map());
    count(cellOf(this.seconds[second]!, op, 2), latencyUs, error);
    if (error !== null) {
      if (this.errors.has(error) || this.errors.size < ERROR_CODES_MAX) this.errors.set(error, (this.errors.get(error) ?? 0) + 1);
      return;
    }
    const slot = Math.floor(offsetMs / FINE_SLOT_MS);
    while (this.fineOps.length <= slot) {
      this.fineOps.push(0);
      this.fineWrites.push(0);
    }
    this.fineOps[slot]!++;
    if (isWriteOp(op)) this.fineWrites[slot]!++;
    this.slotLatency(slot, latencyUs);
  }

  /** One successful request's latency into its slot's buckets (what p99 over any set of slots is computed from). */
  private slotLatency(slot: number, latencyUs: number): void {
    while (this.fineLatency.length <= slot) this.fineLatency.push(new Map());
    const buckets = this.fineLatency[slot]!;
    const b = bucketOf(latencyUs);
    const n = buckets.get(b);
    if (n !== undefined) {
      buckets.set(b, n + 1);
    } else if (this.fineBuckets < SLOT_BUCKETS_MAX) {
      buckets.set(b, 1);
      this.fineBuckets++;
    } else {
      this.fineLatencyTruncated = true;
    }
  }

  /** Completions per second since the previous call (warm-up included), for progress output. */
  liveOps(now = nowEpochMs()): number {
    const elapsedMs = now - this.liveSinceMs;
    const rate = elapsedMs > 0 ? (this.liveCount * 1_000) / elapsedMs : 0;
    this.liveCount = 0;
    this.liveSinceMs = now;
    return rate;
  }

  snapshot(): RecorderSnapshot {
    const start = this.startEpochMs ?? nowEpochMs();
    return {
      startEpochMs: start,
      endEpochMs: this.endEpochMs ?? nowEpochMs(),
      total: snapshotCells(this.total),
      seconds: this.seconds.map(snapshotCells),
      errors: Object.fromEntries(this.errors),
      fineOps: [...this.fineOps],
      fineWrites: [...this.fineWrites],
      faults: this.faults.map((f) => ({ ...f })),
      missedSlots: this.missed,
      fineLatency: this.fineLatency.map(toFlat),
      fineLatencyTruncated: this.fineLatencyTruncated,
    };
  }

  /** Frees the histograms' memory. */
  destroy(): void {
    for (const c of this.total.values()) c.hist.destroy();
    for (const s of this.seconds) for (const c of s.values()) c.hist.destroy();
  }

  private observeWrite(issuedMs: number, ackMs: number): void {
    for (const f of this.faults) {
      if (issuedMs < f.atEpochMs) continue;
      if (f.firstWriteAckEpochMs === null || ackMs < f.firstWriteAckEpochMs) {
        f.firstWriteAckEpochMs = ackMs;
        f.firstWriteIssuedEpochMs = issuedMs;
      }
    }
  }
}

function cellOf(cells: Map<OpKind, OpCell>, op: OpKind, digits: 2 | 3): OpCell {
  let c = cells.get(op);
  if (c === undefined) {
    c = { ops: 0, errors: 0, hist: newHistogram(digits) };
    cells.set(op, c);
  }
  return c;
}

/** Failed requests count as errors and do not enter the latency histogram. */
function count(c: OpCell, latencyUs: number, error: string | null): void {
  if (error !== null) {
    c.errors++;
    return;
  }
  c.ops++;
  c.hist.recordValue(latencyUs);
}

function snapshotCells(cells: Map<OpKind, OpCell>): Partial<Record<OpKind, OpCellSnapshot>> {
  const out: Partial<Record<OpKind, OpCellSnapshot>> = {};
  for (const [op, c] of cells) out[op] = { ops: c.ops, errors: c.errors, hist: hdr.encodeIntoCompressedBase64(c.hist) };
  return out;
}

function decode(b64: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(b64, 32, false);
}

export const EMPTY_PERCENTILES: Percentiles = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };

function percentiles(h: hdr.Histogram): Percentiles {
  if (h.totalCount === 0) return { ...EMPTY_PERCENTILES };
  const ms = (us: number): number => Math.round(us) / 1_000;
  return {
    count: h.totalCount,
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/** Adds histogram b64 into acc (created on first use, in the precision of the first one). */
function addInto(acc: Map<string, hdr.Histogram>, key: string, b64: string): void {
  const h = decode(b64);
  const into = acc.get(key);
  if (into === undefined) {
    acc.set(key, h);
    return;
  }
  into.add(h);
  h.destroy();
}

function sumArrays(arrays: number[][]): number[] {
  const out: number[] = [];
  for (const a of arrays) for (let i = 0; i < a.length; i++) out[i] = (out[i] ?? 0) + a[i]!;
  for (let i = 0; i < out.length; i++) out[i] ??= 0;
  return out;
}

/**
 * One LoadResult from the snapshots of every process of a load driver. The window is the
 * earliest start to the latest end; throughput is ops over that window.
 */
export function mergeSnapshots(driver: LoadDriverName, snaps: readonly RecorderSnapshot[]): LoadResult {
  if (snaps.length === 0) throw new Error('mergeSnapshots: no snapshots');
  const startEpochMs = Math.min(...snaps.map((s) => s.startEpochMs));
  const endEpochMs = Math.max(...snaps.map((s) => s.endEpochMs));
  const durationMs = Math.max(1, endEpochMs - startEpochMs);
  const totalHists = new Map<string, hdr.Histogram>();
  const opCounts = new Map<OpKind, { ops: number; errors: number }>();
  for (const s of snaps) {
    for (const [op, cell] of Object.entries(s.total) as [OpKind, OpCellSnapshot][]) {
      const c = opCounts.get(op) ?? { ops: 0, errors: 0 };
      c.ops += cell.ops;
      c.errors += cell.errors;
      opCounts.set(op, c);
      addInto(totalHists, op, cell.hist);
    }
  }
  const all = newHistogram(3);
  const byOp: Partial<Record<OpKind, OpStats>> = {};
  let ops = 0;
  for (const [op, c] of opCounts) {
    const h = totalHists.get(op)!;
    all.add(h);
    byOp[op] = { ops: c.ops, opsPerSec: (c.ops * 1_000) / durationMs, errors: c.errors, latencyMs: percentiles(h) };
    ops += c.ops;
  }
  const timeline = mergeSeconds(snaps);
  const errors: Record<string, number> = {};
  for (const s of snaps) for (const [code, n] of Object.entries(s.errors)) errors[code] = (errors[code] ?? 0) + n;
  const faults = mergeFaults(snaps);
  const result: LoadResult = {
    driver,
    startEpochMs,
    durationMs,
    ops,
    opsPerSec: (ops * 1_000) / durationMs,
    latencyMs: percentiles(all),
    byOp,
    errors,
    timeline,
    fine: {
      slotMs: FINE_SLOT_MS,
      ops: sumArrays(snaps.map((s) => s.fineOps)),
      writes: sumArrays(snaps.map((s) => s.fineWrites)),
      latency: mergeSlotLatency(snaps),
      ...(snaps.some((s) => s.fineLatencyTruncated === true) ? { latencyTruncated: true } : {}),
    },
    faults,
    missedSlots: snaps.reduce((n, s) => n + s.missedSlots, 0),
  };
  all.destroy();
  for (const h of totalHists.values()) h.destroy();
  return result;
}

function mergeSeconds(snaps: readonly RecorderSnapshot[]): TimelinePoint[] {
  const seconds = Math.max(0, ...snaps.map((s) => s.seconds.length));
  const out: TimelinePoint[] = [];
  for (let t = 0; t < seconds; t++) {
    const hists = new Map<string, hdr.Histogram>();
    const counts = new Map<OpKind, { ops: number; errors: number }>();
    for (const s of snaps) {
      for (const [op, cell] of Object.entries(s.seconds[t] ?? {}) as [OpKind, OpCellSnapshot][]) {
        const c = counts.get(op) ?? { ops: 0, errors: 0 };
        c.ops += cell.ops;
        c.errors += cell.errors;
        counts.set(op, c);
        addInto(hists, op, cell.hist);
      }
    }
    const all = newHistogram(2);
    const point: TimelinePoint = { t, ops: 0, errors: 0, p50: 0, p99: 0, byOp: {} };
    for (const [op, c] of counts) {
      const h = hists.get(op)!;
      all.add(h);
      const p = percentiles(h);
      point.byOp[op] = { ops: c.ops, errors: c.errors, p50: p.p50, p99: p.p99 };
      point.ops += c.ops;
      point.errors += c.errors;
    }
    const p = percentiles(all);
    point.p50 = p.p50;
    point.p99 = p.p99;
    out.push(point);
    all.destroy();
    for (const h of hists.values()) h.destroy();
  }
  return out;
}

/** Every process's bucket counts, slot by slot. */
function mergeSlotLatency(snaps: readonly RecorderSnapshot[]): number[][] {
  const slots: Map<number, number>[] = [];
  for (const s of snaps) {
    (s.fineLatency ?? []).forEach((flat, i) => {
      while (slots.length <= i) slots.push(new Map());
      addFlat(slots[i]!, flat);
    });
  }
  return slots.map(toFlat);
}

/** Same fault (same time) seen by every process: the earliest acknowledged write wins. */
function mergeFaults(snaps: readonly RecorderSnapshot[]): FaultObservation[] {
  const byTime = new Map<number, FaultObservation>();
  for (const s of snaps) {
    for (const f of s.faults) {
      const seen = byTime.get(f.atEpochMs);
      if (seen === undefined) byTime.set(f.atEpochMs, { ...f });
      else if (f.firstWriteAckEpochMs !== null && (seen.firstWriteAckEpochMs === null || f.firstWriteAckEpochMs < seen.firstWriteAckEpochMs)) {
        seen.firstWriteAckEpochMs = f.firstWriteAckEpochMs;
        seen.firstWriteIssuedEpochMs = f.firstWriteIssuedEpochMs;
      }
    }
  }
  return [...byTime.values()].sort((a, b) => a.atEpochMs - b.atEpochMs);
}
