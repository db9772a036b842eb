/**
 * What the live view shows, as the runner (or `zablab watch`) publishes it: each server's
 * role, epoch, zxid and whether it serves; per-second throughput and p99 per op; outstanding
 * requests per server; fault and leader-change markers; the run of a matrix; and the
 * waterfall of a recent sampled write. Observations only: no znode data, no credentials.
 *
 * Every series is bounded (the last SECONDS_KEPT seconds), so a day-long bench holds a page's
 * worth. It is a ProgressSink too, so the runner's progress (run i of n, phase) reaches it
 * without the run loop knowing about the page.
 */
import type { MemberMode, MemberRole } from '../drivers/types.js';
import type { TimelinePoint } from '../load/types.js';
import { nowEpochMs } from '../load/recorder.js';
import type { AppliedFault } from '../measure/recovery.js';
import type { ProgressSink } from '../runner/progress.js';
import type { OpKind } from '../scenario/types.js';
import type { Waterfall } from './waterfall.js';

/** Seconds of history the charts keep. */
export const SECONDS_KEPT = 120;
export const MARKERS_KEPT = 50;
export const NOTES_KEPT = 20;

export interface LiveServer {
  id: number;
  role: MemberRole;
  mode: MemberMode;
  /** zxid >> 32; null when the server does not answer. */
  epoch: number | null;
  /** As hex (0x...), null when the server does not answer. */
  zxid: string | null;
  serving: boolean;
  outstanding: number | null;
}

export interface LiveMarker {
  atEpochMs: number;
  kind: 'fault' | 'leader';
  label: string;
}

export interface LiveRun {
  index: number;
  total: number;
  name: string;
  phase: string;
  /** Seconds of the measured window done / planned, once it is open. */
  measured: string | null;
  liveOpsPerSec: number | null;
}

/** One second of the load: successful ops and p99 (ms) per op. */
export interface LiveSecond {
  atEpochMs: number;
  byOp: Partial<Record<OpKind, { ops: number; p99: number }>>;
}

export interface LiveSnapshot {
  source: 'bench' | 'watch';
  /** Bumped on every change: the page (and tests) see it move without a reload. */
  seq: number;
  nowEpochMs: number;
  /** Charts' time 0: the run's start (bench) or the watch's start. */
  originEpochMs: number;
  run: LiveRun | null;
  /** Finished runs of the matrix, one summary line each (the last few). */
  done: string[];
  servers: LiveServer[];
  leader: number | null;
  seconds: LiveSecond[];
  /** Outstanding requests per server (mntr), about once a second. */
  outstanding: { atEpochMs: number; id: number; value: number }[];
  markers: LiveMarker[];
  notes: string[];
  waterfall: Waterfall | null;
  /** Why there is no waterfall (no spans dir, no sampled write yet). */
  waterfallNote: string;
}

export const ZXID_EPOCH_SHIFT = 32n;

export function zxidText(zxid: bigint | null): string | null {
  return zxid === null ? null : `0x${zxid.toString(16)}`;
}

export function epochText(zxid: bigint | null): number | null {
  return zxid === null ? null : Number(zxid >> ZXID_EPOCH_SHIFT);
}

const SERVING: ReadonlySet<MemberMode> = new Set(['leader', 'follower', 'observer', 'standalone']);

export function isServing(mode: MemberMode): boolean {
  return SERVING.has(mode);
}

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

export class LiveState implements ProgressSink {
  private seq = 0;
  private origin = nowEpochMs();
  private run: LiveRun | null = null;
  private readonly done: string[] = [];
  private servers: LiveServer[] = [];
  private leaderId: number | null = null;
  private leaderKnown = false;
  private seconds: LiveSecond[] = [];
  private outstanding: LiveSnapshot['outstanding'] = [];
  private markers: LiveMarker[] = [];
  private readonly notes: string[] = [];
  private waterfall: Waterfall | null = null;
  private waterfallNote = 'waiting for the ensemble';
  private windowStart: number | null = null;

  constructor(readonly source: 'bench' | 'watch') {}

  private changed(): void {
    this.seq++;
  }

  // ---- ProgressSink: the runner's progress -------------------------------------------

  runStarted(index: number, total: number, name: string): void {
    this.origin = nowEpochMs();
    this.run = { index, total, name, phase: 'starting', measured: null, liveOpsPerSec: null };
    this.servers = [];
    this.leaderId = null;
    this.leaderKnown = false;
    this.seconds = [];
    this.outstanding = [];
    this.markers = [];
    this.waterfall = null;
    this.waterfallNote = 'waiting for the ensemble';
    this.windowStart = null;
    this.changed();
  }

  phase(phase: string): void {
    if (this.run !== null) this.run.phase = phase;
    this.changed();
  }

  liveOps(opsPerSec: number): void {
    if (this.run !== null) this.run.liveOpsPerSec = Math.round(opsPerSec);
    this.changed();
  }

  measured(doneSec: number, totalSec: number): void {
    if (this.run !== null) this.run.measured = `${Math.min(doneSec, totalSec)}/${totalSec} s`;
    this.changed();
  }

  note(text: string): void {
    push(this.notes, text, NOTES_KEPT);
    this.changed();
  }

  runDone(summary: string): void {
    if (this.run !== null) push(this.done, `[${this.run.index}/${this.run.total}] ${this.run.name}: ${summary}`, NOTES_KEPT);
    if (this.run !== null) this.run.phase = 'done';
    this.changed();
  }

  close(): void {
    if (this.run !== null) this.run.phase = 'finished';
    this.changed();
  }

  // ---- what the run observes -----------------------------------------------------------

  /** The measured window opened: the load's seconds count from here. */
  windowStarted(atEpochMs: number): void {
    this.windowStart = atEpochMs;
    this.changed();
  }

  /** One second of the load (LoadStartOptions.onSecond: t counts from the window's start). */
  second(p: TimelinePoint): void {
    const byOp: LiveSecond['byOp'] = {};
    for (const [op, s] of Object.entries(p.byOp)) {
      if (s !== undefined) byOp[op as OpKind] = { ops: s.ops, p99: s.p99 };
    }
    const atEpochMs = (this.windowStart ?? this.origin) + p.t * 1_000;
    push(this.seconds, { atEpochMs, byOp }, SECONDS_KEPT);
    this.changed();
  }

  /** A poll of every server (srvr): role, mode, zxid; the leader (and its markers) follows from it unless told otherwise. */
  serversPolled(list: readonly { id: number; role: MemberRole; mode: MemberMode; zxid: bigint | null }[], atEpochMs = nowEpochMs(), leaderFromIt = true): void {
    const before = new Map(this.servers.map((s) => [s.id, s]));
    this.servers = list.map((s) => ({
      id: s.id,
      role: s.role,
      mode: s.mode,
      epoch: epochText(s.zxid),
      zxid: zxidText(s.zxid),
      serving: isServing(s.mode),
      // A server that does not serve has no figure of now to show.
      outstanding: isServing(s.mode) ? (before.get(s.id)?.outstanding ?? null) : null,
    }));
    const leaders = list.filter((s) => s.mode === 'leader' || s.mode === 'standalone');
    if (leaderFromIt) this.leader(leaders.length === 1 ? leaders[0]!.id : null, atEpochMs);
    this.changed();
  }

  /** Who leads now (null: none, or several); a change is a marker. */
  leader(id: number | null, atEpochMs = nowEpochMs()): void {
    if (this.leaderKnown && id === this.leaderId) return;
    const first = !this.leaderKnown;
    this.leaderKnown = true;
    this.leaderId = id;
    // The first leader seen is where the page starts, not a change.
    if (!first || id === null) push(this.markers, { atEpochMs, kind: 'leader', label: id === null ? 'no leader' : `leader: server ${id}` }, MARKERS_KEPT);
    this.changed();
  }

  /** mntr's outstanding_requests of one server. */
  outstandingOf(id: number, value: number, atEpochMs = nowEpochMs()): void {
    push(this.outstanding, { atEpochMs, id, value }, SECONDS_KEPT * Math.max(1, this.servers.length));
    const s = this.servers.find((x) => x.id === id);
    if (s?.serving === true) s.outstanding = value;
    this.changed();
  }

  fault(f: AppliedFault): void {
    const what = f.sides !== undefined ? `sides ${f.sides.map((s) => `{${s.join(',')}}`).join(' ')}` : f.serverId === null ? 'every cut' : `server ${f.serverId}`;
    push(this.markers, { atEpochMs: f.atEpochMs, kind: 'fault', label: `${f.action} ${f.target} (${what})` }, MARKERS_KEPT);
    this.changed();
  }

  setWaterfall(w: Waterfall | null, note: string): void {
    if (w === null && this.waterfall !== null && note === this.waterfallNote) return;
    if (w !== null && this.waterfall !== null && w.traceId === this.waterfall.traceId && w.spans.length === this.waterfall.spans.length) return;
    if (w !== null) this.waterfall = w;
    this.waterfallNote = note;
    this.changed();
  }

  snapshot(): LiveSnapshot {
    return {
      source: this.source,
      seq: this.seq,
      nowEpochMs: nowEpochMs(),
      originEpochMs: this.origin,
      run: this.run === null ? null : { ...this.run },
      done: [...this.done],
      servers: this.servers.map((s) => ({ ...s })),
      leader: this.leaderId,
      seconds: [...this.seconds],
      outstanding: [...this.outstanding],
      markers: [...this.markers],
      notes: [...this.notes],
      waterfall: this.waterfall,
      waterfallNote: this.waterfallNote,
    };
  }
}
