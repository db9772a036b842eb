/**
 * Where a write's time goes, from the spans files the servers wrote (ZABLAB_SPANS_DIR, one
 * `server-<id>.jsonl` each). One trace per write joins the client's server, the leader's
 * proposal and every server's ack and commit.
 *
 * Stages (one row per stage and server; the server and role come from the spans' own
 * `zab.server.id` / `zab.role`):
 *   request    zk.request of the write, on the server the client talks to
 *   queue      that request's start → the leader's proposal start (forwarding, prep), on the
 *              client's server
 *   quorum     proposal start → quorum of acks (leader)
 *   commitSent quorum → COMMIT sent (leader)
 *   append     proposal received → appended to the log (each voter)
 *   fsync      appended → fsynced (each voter: what the write waited for the disk)
 *   ack        zab.ack: proposal received → ACK sent (each voter; the leader's own log: → fsynced)
 *   apply      zab.commit: COMMIT/INFORM received → applied (every server, observers too)
 *
 * The files can be hundreds of MB (at full sampling every read is a span too), so they are
 * read in chunks, twice, with bounded memory: pass 1 samples up to maxWrites write traces
 * (the leader's zab.proposal spans whose start is in the window; a seeded reservoir, so the
 * same files give the same breakdown); pass 2 parses only the spans of those traces. A line
 * that is not a JSON object (a torn tail of a killed server, garbage) is skipped and counted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Attr, SpanEvent, SpanName } from '../../telemetry/names.js';
import type { BreakdownStage, WriteBreakdown } from '../report/results.js';

export const BREAKDOWN_WRITES_MAX = 20_000;
/** The stages, in the order rows are reported. */
export const BREAKDOWN_STAGES = ['request', 'queue', 'quorum', 'commitSent', 'append', 'fsync', 'ack', 'apply'] as const;
export type BreakdownStageName = (typeof BREAKDOWN_STAGES)[number];

const READ_BYTES = 1024 * 1024;
/** A longer line is not a span of ours: skipped (and counted) without being held. */
const LINE_BYTES_MAX = 4 * 1024 * 1024;
const SPANS_FILE = /^server-(\d+)\.jsonl$/;
const TRACE_PREFIX = '{"traceId":"';
const PROPOSAL_NAME = `"name":${JSON.stringify(SpanName.proposal)}`;
const NEEDED = new Set<string>([SpanName.request, SpanName.proposal, SpanName.ack, SpanName.commit]);

export interface BreakdownOptions {
  /** Only writes whose proposal started in [fromEpochMs, toEpochMs]. */
  fromEpochMs?: number;
  toEpochMs?: number;
  /** Writes sampled at most (default and ceiling BREAKDOWN_WRITES_MAX). */
  maxWrites?: number;
}

export interface BreakdownReading {
  breakdown: WriteBreakdown | null;
  /** Write traces in the window (breakdown.writes of them were sampled). */
  writesInWindow: number;
  /** Lines that were not JSON objects (pass 2 counts every line of every file once). */
  malformedLines: number;
  files: number;
}

/** The write breakdown of the traces in dir within the window, or null when there is none. */
export function breakdownFromSpans(dir: string, opts: BreakdownOptions = {}): WriteBreakdown | null {
  return readWriteBreakdown(dir, opts).breakdown;
}

interface SpanLine {
  traceId?: unknown;
  spanId?: unknown;
  parentSpanId?: unknown;
  name?: unknown;
  startTimeUnixNano?: unknown;
  endTimeUnixNano?: unknown;
  attributes?: Record<string, unknown>;
  events?: { name?: unknown; timeUnixNano?: unknown }[];
}

/** What one span contributes, times in ms relative to the epoch base. */
interface SpanTimes {
  spanId: string;
  parentSpanId: string | null;
  serverId: number | null;
  role: string | null;
  startMs: number;
  endMs: number;
  events: Map<string, number>;
}

interface TraceSpans {
  request: SpanTimes[];
  proposal: SpanTimes | null;
  acks: SpanTimes[];
  commits: SpanTimes[];
}

/** The breakdown plus how it was read. */
export function readWriteBreakdown(dir: string, opts: BreakdownOptions = {}): BreakdownReading {
  const from = opts.fromEpochMs ?? -Infinity;
  const to = opts.toEpochMs ?? Infinity;
  const maxWrites = Math.max(1, Math.min(Math.floor(opts.maxWrites ?? BREAKDOWN_WRITES_MAX), BREAKDOWN_WRITES_MAX));
  const files = spansFiles(dir);
  const clock = new NanosClock();

  // Pass 1: the leader's proposals in the window, sampled.
  const sample = new Reservoir(maxWrites);
  for (const file of files) {
    forEachLine(file, (line) => {
      if (!line.includes(PROPOSAL_NAME)) return;
      const span = parseSpan(line);
      if (span === null || span.name !== SpanName.proposal || typeof span.traceId !== 'string') return;
      const startMs = clock.epochMs(span.startTimeUnixNano);
      if (startMs >= from && startMs <= to) sample.offer(span.traceId);
    });
  }
  const traces = new Map<string, TraceSpans>();
  for (const id of sample.items) traces.set(id, { request: [], proposal: null, acks: [], commits: [] });

  // Pass 2: every server's spans of the sampled traces.
  let malformed = 0;
  for (const file of files) {
    forEachLine(file, (line) => {
      const trimmed = line.trim();
      if (trimmed === '') return;
      if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) {
        malformed++;
        return;
      }
      // Our writers put the trace id first: most lines are dismissed without parsing.
      if (trimmed.startsWith(TRACE_PREFIX) && !traces.has(trimmed.slice(TRACE_PREFIX.length, TRACE_PREFIX.length + 32))) return;
      const span = parseSpan(trimmed);
      if (span === null) {
        malformed++;
        return;
      }
      const trace = typeof span.traceId === 'string' ? traces.get(span.traceId) : undefined;
      if (trace === undefined || typeof span.name !== 'string' || !NEEDED.has(span.name)) return;
      const times = spanTimes(span, clock);
      if (times === null) return;
      switch (span.name) {
        case SpanName.request:
          trace.request.push(times);
          return;
        case SpanName.proposal:
          trace.proposal = times;
          return;
        case SpanName.ack:
          trace.acks.push(times);
          return;
        case SpanName.commit:
          trace.commits.push(times);
          return;
      }
    }, () => malformed++);
  }

  const stages = new StageSamples();
  let writes = 0;
  for (const t of traces.values()) {
    const p = t.proposal;
    if (p === null) continue;
    writes++;
    // The client's request is the proposal's parent (a session expiry's proposal has none).
    const req = t.request.find((r) => r.spanId === p.parentSpanId) ?? (t.request.length === 1 ? t.request[0] : undefined);
    if (req !== undefined) {
      stages.add('request', req, req.endMs - req.startMs);
      stages.add('queue', req, p.startMs - req.startMs);
    }
    const quorum = p.events.get(SpanEvent.quorum);
    const commitSent = p.events.get(SpanEvent.commitSent);
    if (quorum !== undefined) stages.add('quorum', p, quorum - p.startMs);
    if (quorum !== undefined && commitSent !== undefined) stages.add('commitSent', p, commitSent - quorum);
    for (const a of t.acks) {
      const appended = a.events.get(SpanEvent.appended);
      const fsynced = a.events.get(SpanEvent.fsynced);
      if (appended !== undefined) stages.add('append', a, appended - a.startMs);
      if (appended !== undefined && fsynced !== undefined) stages.add('fsync', a, fsynced - appended);
      stages.add('ack', a, a.endMs - a.startMs);
    }
    for (const c of t.commits) stages.add('apply', c, c.endMs - c.startMs);
  }
  return {
    breakdown: writes === 0 ? null : { writes, stages: stages.rows() },
    writesInWindow: sample.seen,
    malformedLines: malformed,
    files: files.length,
  };
}

/** The spans files of dir, in server id order. */
function spansFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((f) => ({ f, m: SPANS_FILE.exec(f) }))
    .filter((x) => x.m !== null)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
    .map((x) => path.join(dir, x.f));
}

/** Each line of a file (without its \n), read in chunks; an over-long line goes to `tooLong` instead. */
function forEachLine(file: string, onLine: (line: string) => void, tooLong: () => void = () => undefined): void {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    let carry: Buffer[] = [];
    let carryBytes = 0;
    let skipping = false;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, READ_BYTES, null);
      if (n === 0) break;
      let start = 0;
      for (let nl = buf.indexOf(10, 0); nl !== -1 && nl < n; nl = buf.indexOf(10, start)) {
        if (skipping) skipping = false;
        else if (carryBytes + nl - start > LINE_BYTES_MAX) tooLong();
        else if (carryBytes === 0) onLine(buf.toString('utf8', start, nl));
        else onLine(Buffer.concat([...carry, buf.subarray(start, nl)]).toString('utf8'));
        carry = [];
        carryBytes = 0;
        start = nl + 1;
      }
      if (start < n && !skipping) {
        if (carryBytes + n - start > LINE_BYTES_MAX) {
          tooLong();
          skipping = true;
          carry = [];
          carryBytes = 0;
        } else {
          carry.push(Buffer.from(buf.subarray(start, n)));
          carryBytes += n - start;
        }
      }
    }
    // A last line without \n: a server killed mid-write leaves one (it is usually torn).
    if (carryBytes > 0 && !skipping) onLine(Buffer.concat(carry).toString('utf8'));
  } finally {
    fs.closeSync(fd);
  }
}

function parseSpan(line: string): SpanLine | null {
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as SpanLine) : null;
  } catch {
    return null;
  }
}

/**
 * Epoch nanoseconds (19-digit strings) → ms relative to the first time seen: a double holds
 * epoch nanoseconds only to 256 ns, differences of relative ms keep every nanosecond.
 */
class NanosClock {
  private baseMs: number | null = null;

  /** Relative ms, or NaN when `v` is not a nanosecond count. */
  relMs(v: unknown): number {
    if (typeof v !== 'string' || !/^\d{7,22}$/.test(v)) return NaN;
    const wholeMs = Number(v.slice(0, -6));
    this.baseMs ??= wholeMs;
    return wholeMs - this.baseMs + Number(v.slice(-6)) / 1e6;
  }

  /** Epoch ms (to a few hundred ns), or NaN. */
  epochMs(v: unknown): number {
    if (typeof v !== 'string' || !/^\d{7,22}$/.test(v)) return NaN;
    return Number(v.slice(0, -6)) + Number(v.slice(-6)) / 1e6;
  }
}

function spanTimes(span: SpanLine, clock: NanosClock): SpanTimes | null {
  const startMs = clock.relMs(span.startTimeUnixNano);
  const endMs = clock.relMs(span.endTimeUnixNano);
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || typeof span.spanId !== 'string') return null;
  const attrs = span.attributes ?? {};
  const serverId = attrs[Attr.serverId];
  const role = attrs[Attr.role];
  const events = new Map<string, number>();
  for (const e of Array.isArray(span.events) ? span.events : []) {
    const at = clock.relMs(e.timeUnixNano);
    if (typeof e.name === 'string' && Number.isFinite(at) && !events.has(e.name)) events.set(e.name, at);
  }
  return {
    spanId: span.spanId,
    parentSpanId: typeof span.parentSpanId === 'string' ? span.parentSpanId : null,
    serverId: typeof serverId === 'number' && Number.isFinite(serverId) ? serverId : null,
    role: typeof role === 'string' ? role : null,
    startMs,
    endMs,
    events,
  };
}

/** Reservoir sampling (Algorithm R) with a fixed seed: the same files give the same sample. */
class Reservoir {
  readonly items: string[] = [];
  seen = 0;
  private state = 0x9e3779b9;

  constructor(private readonly size: number) {}

  offer(item: string): void {
    this.seen++;
    if (this.items.length < this.size) {
      this.items.push(item);
      return;
    }
    const j = this.next() % this.seen;
    if (j < this.size) this.items[j] = item;
  }

  /** xorshift32. */
  private next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
}

class StageSamples {
  private readonly byKey = new Map<string, { stage: BreakdownStageName; serverId: number | null; role: string | null; ms: number[] }>();

  add(stage: BreakdownStageName, span: SpanTimes, ms: number): void {
    if (!Number.isFinite(ms)) return;
    const key = `${stage}/${span.serverId ?? ''}`;
    let s = this.byKey.get(key);
    if (s === undefined) {
      s = { stage, serverId: span.serverId, role: span.role, ms: [] };
      this.byKey.set(key, s);
    }
    // Processes on one host stamp times from their own start-up clock readings: a difference
    // across servers (queue) can come out a few µs below zero; it is zero.
    s.ms.push(Math.max(0, ms));
  }

  rows(): BreakdownStage[] {
    const rows: BreakdownStage[] = [];
    for (const s of this.byKey.values()) {
      const sorted = Float64Array.from(s.ms).sort();
      let sum = 0;
      for (const v of sorted) sum += v;
      rows.push({
        stage: s.stage,
        serverId: s.serverId,
        role: s.role,
        count: sorted.length,
        meanMs: round(sum / sorted.length),
        p50Ms: round(rank(sorted, 0.5)),
        p99Ms: round(rank(sorted, 0.99)),
      });
    }
    const order = (stage: string): number => BREAKDOWN_STAGES.indexOf(stage as BreakdownStageName);
    return rows.sort((a, b) => order(a.stage) - order(b.stage) || (a.serverId ?? -1) - (b.serverId ?? -1));
  }
}

/** Nearest-rank percentile of sorted values. */
function rank(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** µs resolution is all a ms figure in a report needs. */
function round(ms: number): number {
  return Math.round(ms * 1_000) / 1_000;
}
