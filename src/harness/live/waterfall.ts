/**
 * The waterfall of a recent sampled write, from the spans files the servers append to
 * (ZABLAB_SPANS_DIR/server-<id>.jsonl): the client's zk.request, the leader's zab.proposal,
 * each voter's zab.ack and each server's zab.commit of one trace, in time order.
 *
 * The files are tailed: each read starts where the last one ended, and at most TAIL_BYTES_MAX
 * of new text is read per file and call (a busy server can write MBs a second; the newest
 * text is what a live view wants). Traces are kept in a small bounded map, oldest dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Attr, SpanEvent, SpanName } from '../../telemetry/names.js';

/** New text read per file and call, at most: the newest is kept, older text skipped. */
export const TAIL_BYTES_MAX = 4 * 1024 * 1024;
/** Traces held while waiting for their other servers' spans. */
export const TRACES_KEPT = 4_000;
const SPANS_FILE = /^server-(\d+)\.jsonl$/;
const NAMES = new Set<string>([SpanName.request, SpanName.proposal, SpanName.ack, SpanName.commit]);
const NAME_HINTS = [SpanName.request, SpanName.proposal, SpanName.ack, SpanName.commit].map((n) => `"name":${JSON.stringify(n)}`);

export type WaterfallStage = 'request' | 'proposal' | 'ack' | 'commit';
const STAGE_OF: Readonly<Record<string, WaterfallStage>> = {
  [SpanName.request]: 'request',
  [SpanName.proposal]: 'proposal',
  [SpanName.ack]: 'ack',
  [SpanName.commit]: 'commit',
};
const STAGE_ORDER: readonly WaterfallStage[] = ['request', 'proposal', 'ack', 'commit'];

export interface WaterfallSpan {
  stage: WaterfallStage;
  serverId: number;
  role: string | null;
  /** ms from the trace's first span start. */
  fromMs: number;
  toMs: number;
  /** Points inside the span (quorum, appended, fsynced, ...), ms from the trace's start. */
  events: { name: string; atMs: number }[];
}

export interface Waterfall {
  traceId: string;
  startEpochMs: number;
  zxid: string | null;
  op: string | null;
  leader: number | null;
  spans: WaterfallSpan[];
  /** Distinct servers with a span in it. */
  servers: number;
}

interface RawSpan {
  stage: WaterfallStage;
  serverId: number;
  role: string | null;
  startEpochMs: number;
  endEpochMs: number;
  events: { name: string; atEpochMs: number }[];
  zxid: string | null;
  op: string | null;
}

/** Epoch ns as a decimal string → epoch ms (to well under a µs of what a chart shows). */
function epochMsOf(v: unknown): number {
  if (typeof v !== 'string' || !/^\d{7,22}$/.test(v)) return NaN;
  return Number(v.slice(0, -6)) + Number(v.slice(-6)) / 1e6;
}

function attrOf(o: Record<string, unknown> | undefined, key: string): unknown {
  return o === undefined ? undefined : o[key];
}

/** One line of a spans file, if it is a span the waterfall draws. */
export function parseWaterfallSpan(line: string, fileServerId: number): (RawSpan & { traceId: string }) | null {
  if (!NAME_HINTS.some((h) => line.includes(h))) return null;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const s = v as Record<string, unknown>;
  const name = s['name'];
  const traceId = s['traceId'];
  if (typeof name !== 'string' || !NAMES.has(name) || typeof traceId !== 'string') return null;
  const startEpochMs = epochMsOf(s['startTimeUnixNano']);
  const endEpochMs = epochMsOf(s['endTimeUnixNano']);
  if (!Number.isFinite(startEpochMs) || !Number.isFinite(endEpochMs)) return null;
  const attrs = (typeof s['attributes'] === 'object' && s['attributes'] !== null ? s['attributes'] : undefined) as Record<string, unknown> | undefined;
  const id = attrOf(attrs, Attr.serverId);
  const role = attrOf(attrs, Attr.role);
  const zxid = attrOf(attrs, Attr.zxid);
  const op = attrOf(attrs, Attr.op);
  const events: RawSpan['events'] = [];
  for (const e of Array.isArray(s['events']) ? (s['events'] as unknown[]) : []) {
    if (typeof e !== 'object' || e === null) continue;
    const at = epochMsOf((e as Record<string, unknown>)['timeUnixNano']);
    const en = (e as Record<string, unknown>)['name'];
    if (typeof en === 'string' && Number.isFinite(at)) events.push({ name: en, atEpochMs: at });
  }
  return {
    traceId,
    stage: STAGE_OF[name]!,
    serverId: typeof id === 'number' ? id : fileServerId,
    role: typeof role === 'string' ? role : null,
    startEpochMs,
    endEpochMs,
    events,
    zxid: typeof zxid === 'string' ? zxid : null,
    op: typeof op === 'string' ? op : null,
  };
}

/** A trace worth drawing: the leader's proposal and commits on more than one server. */
function complete(spans: readonly RawSpan[]): boolean {
  const proposal = spans.some((s) => s.stage === 'proposal');
  const commits = new Set(spans.filter((s) => s.stage === 'commit').map((s) => s.serverId));
  return proposal && commits.size >= 2;
}

export function waterfallOf(traceId: string, raw: readonly RawSpan[]): Waterfall {
  const start = Math.min(...raw.map((s) => s.startEpochMs));
  const sorted = [...raw].sort((a, b) => STAGE_ORDER.indexOf(a.stage) - STAGE_ORDER.indexOf(b.stage) || a.startEpochMs - b.startEpochMs || a.serverId - b.serverId);
  const proposal = raw.find((s) => s.stage === 'proposal');
  return {
    traceId,
    startEpochMs: start,
    zxid: proposal?.zxid ?? raw.find((s) => s.zxid !== null)?.zxid ?? null,
    op: raw.find((s) => s.op !== null)?.op ?? null,
    leader: proposal?.serverId ?? null,
    spans: sorted.map((s) => ({
      stage: s.stage,
      serverId: s.serverId,
      role: s.role,
      fromMs: s.startEpochMs - start,
      toMs: s.endEpochMs - start,
      events: s.events.map((e) => ({ name: e.name, atMs: e.atEpochMs - start })),
    })),
    servers: new Set(raw.map((s) => s.serverId)).size,
  };
}

/** Event names worth a word in the waterfall's labels. */
export const LABEL_EVENTS: readonly string[] = [SpanEvent.quorum, SpanEvent.fsynced];

/** Tails a spans directory and answers the newest complete write trace. */
export class SpansTail {
  /** Per file: its inode and how far it was read. */
  private readonly offsets = new Map<string, { ino: number; at: number }>();
  private readonly traces = new Map<string, RawSpan[]>();
  private latest: { traceId: string; startEpochMs: number } | null = null;

  constructor(readonly dir: string) {}

  /** Reads what the files gained since the last call; returns the newest complete write, or null. */
  poll(): Waterfall | null {
    for (const f of this.files()) this.readNew(f.file, f.id);
    // Newest proposal whose trace is complete.
    let best: { traceId: string; startEpochMs: number } | null = this.latest;
    for (const [traceId, spans] of this.traces) {
      if (!complete(spans)) continue;
      const p = spans.find((s) => s.stage === 'proposal')!;
      if (best === null || p.startEpochMs > best.startEpochMs) best = { traceId, startEpochMs: p.startEpochMs };
    }
    this.latest = best;
    if (best === null) return null;
    const spans = this.traces.get(best.traceId);
    return spans === undefined ? null : waterfallOf(best.traceId, spans);
  }

  /** Whether any server has written a spans file yet. */
  hasFiles(): boolean {
    return this.files().length > 0;
  }

  private files(): { file: string; id: number }[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.flatMap((n) => {
      const m = SPANS_FILE.exec(n);
      return m === null ? [] : [{ file: path.join(this.dir, n), id: Number(m[1]) }];
    });
  }

  private readNew(file: string, id: number): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return;
    }
    const size = st.size;
    const seen = this.offsets.get(file);
    // A new file in its place (another inode, or cut shorter) is read from its start.
    let from = seen === undefined || seen.ino !== st.ino || size < seen.at ? 0 : seen.at;
    if (size === from) return;
    const skipped = size - from > TAIL_BYTES_MAX;
    if (skipped) from = size - TAIL_BYTES_MAX;
    const buf = Buffer.allocUnsafe(size - from);
    const fd = fs.openSync(file, 'r');
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, from);
    } finally {
      fs.closeSync(fd);
    }
    // Only whole lines: the rest is read next time, once the server has finished it.
    const lastNl = buf.lastIndexOf(10, n - 1);
    if (lastNl === -1) {
      if (skipped) this.offsets.set(file, { ino: st.ino, at: from });
      return;
    }
    let text = buf.toString('utf8', 0, lastNl);
    this.offsets.set(file, { ino: st.ino, at: from + lastNl + 1 });
    // After a skip the first line is cut in the middle.
    if (skipped) text = text.slice(text.indexOf('\n') + 1);
    for (const line of text.split('\n')) {
      const span = parseWaterfallSpan(line, id);
      if (span === null) continue;
      const { traceId, ...raw } = span;
      let list = this.traces.get(traceId);
      if (list === undefined) {
        list = [];
        this.traces.set(traceId, list);
        if (this.traces.size > TRACES_KEPT) this.traces.delete(this.traces.keys().next().value!);
      }
      list.push(raw);
    }
  }
}
