/**
 * When each server wrote a snapshot, from its mntr samples: zablab and ZooKeeper both keep
 * `snapshottime` as a summary (zk_cnt_snapshottime, zk_sum_snapshottime in ms). Where cnt grew
 * between two samples a snapshot ended in between; sum grew by its duration. Pure: the runner
 * feeds samples (SnapshotSampler), this places the windows.
 */
import type { MemberMetrics } from '../drivers/types.js';
import type { LeaderChange } from '../report/results.js';
import type { SnapshotsResult, SnapshotWindow } from '../report/results-sync.js';

/** One server's snapshottime summary at one moment (epoch ms, when its mntr answered). */
export interface SnapshotSample {
  id: number;
  atEpochMs: number;
  count: number;
  sumMs: number;
}

/** The server's process started anew at this time: its counters start from 0 there. */
export interface ProcessStart {
  id: number;
  atEpochMs: number;
}

/** A window in epoch ms, before it is placed in the run. */
export interface SnapshotWindowEpoch {
  id: number;
  endEpochMs: number;
  durationMs: number;
  count: number;
  coverFromEpochMs: number;
}

/** cnt and sum of snapshottime in an mntr answer; sum from avg × cnt where a server prints no sum. */
export function snapshotSummary(mntr: MemberMetrics): { count: number; sumMs: number } | null {
  const count = mntr['zk_cnt_snapshottime'];
  if (typeof count !== 'number') return null;
  const sum = mntr['zk_sum_snapshottime'];
  if (typeof sum === 'number') return { count, sumMs: sum };
  const avg = mntr['zk_avg_snapshottime'];
  return typeof avg === 'number' ? { count, sumMs: avg * count } : null;
}

/**
 * The snapshot windows of a run: for each server, in time order, a window wherever cnt grew.
 * A server's first sample is its baseline; a process start (restart, add-observer) is a new
 * baseline of zeros at that time, so that what the new process snapshots is placed too. A
 * count that drops without a known start (a restart the runner did not make) is a new baseline.
 */
export function snapshotWindows(samples: readonly SnapshotSample[], starts: readonly ProcessStart[] = []): SnapshotWindowEpoch[] {
  type Event = { kind: 'sample'; s: SnapshotSample } | { kind: 'start'; at: number; id: number };
  const events: Event[] = [
    ...samples.map((s): Event => ({ kind: 'sample', s })),
    ...starts.map((p): Event => ({ kind: 'start', at: p.atEpochMs, id: p.id })),
  ].sort((a, b) => (a.kind === 'sample' ? a.s.atEpochMs : a.at) - (b.kind === 'sample' ? b.s.atEpochMs : b.at));
  const last = new Map<number, { atEpochMs: number; count: number; sumMs: number }>();
  const windows: SnapshotWindowEpoch[] = [];
  for (const e of events) {
    if (e.kind === 'start') {
      last.set(e.id, { atEpochMs: e.at, count: 0, sumMs: 0 });
      continue;
    }
    const s = e.s;
    const prev = last.get(s.id);
    last.set(s.id, { atEpochMs: s.atEpochMs, count: s.count, sumMs: s.sumMs });
    if (prev === undefined || s.count <= prev.count) continue;
    const durationMs = Math.max(0, s.sumMs - prev.sumMs);
    windows.push({ id: s.id, endEpochMs: s.atEpochMs, durationMs, count: s.count - prev.count, coverFromEpochMs: prev.atEpochMs - durationMs });
  }
  return windows.sort((a, b) => a.endEpochMs - b.endEpochMs || a.id - b.id);
}

/** The leader at a time (ms from the window's start), from the run's leader changes. */
export function leaderAt(changes: readonly LeaderChange[], atMs: number): number | null {
  let leader: number | null = null;
  for (const c of changes) {
    if (c.atMs > atMs) break;
    leader = c.leader;
  }
  return leader;
}

/**
 * The windows placed in the run (ms from the window's start), those that end inside the
 * measured window [0, durationMs], with per-server counts and times.
 */
export function snapshotsResult(
  windows: readonly SnapshotWindowEpoch[],
  windowStartEpochMs: number,
  durationMs: number,
  changes: readonly LeaderChange[],
  sampleMs: number,
): SnapshotsResult {
  const placed: SnapshotWindow[] = windows
    .map((w) => {
      const endMs = Math.round(w.endEpochMs - windowStartEpochMs);
      return {
        serverId: w.id,
        endMs,
        startMs: Math.round(w.endEpochMs - w.durationMs - windowStartEpochMs),
        durationMs: Math.round(w.durationMs * 1_000) / 1_000,
        count: w.count,
        coverFromMs: Math.round(w.coverFromEpochMs - windowStartEpochMs),
        leader: leaderAt(changes, endMs) === w.id,
      };
    })
    .filter((w) => w.endMs >= 0 && w.endMs <= durationMs);
  const servers = new Map<number, { serverId: number; count: number; totalMs: number; maxMs: number }>();
  for (const w of placed) {
    const s = servers.get(w.serverId) ?? { serverId: w.serverId, count: 0, totalMs: 0, maxMs: 0 };
    s.count += w.count;
    s.totalMs = Math.round((s.totalMs + w.durationMs) * 1_000) / 1_000;
    s.maxMs = Math.max(s.maxMs, w.durationMs / w.count);
    servers.set(w.serverId, s);
  }
  return { sampleMs, windows: placed, servers: [...servers.values()].sort((a, b) => a.serverId - b.serverId) };
}

/** Samples kept per run (4 numbers each): a day at 4 a second for 5 servers. */
const SNAPSHOT_SAMPLES_MAX = 2_000_000;

/** Collects the snapshottime summaries of every mntr sample the run takes (EnsembleObserver's listener). */
export class SnapshotSampler {
  private readonly samples: SnapshotSample[] = [];

  note(id: number, atEpochMs: number, mntr: MemberMetrics): void {
    const s = snapshotSummary(mntr);
    if (s === null || this.samples.length >= SNAPSHOT_SAMPLES_MAX) return;
    this.samples.push({ id, atEpochMs, count: s.count, sumMs: s.sumMs });
  }

  all(): readonly SnapshotSample[] {
    return this.samples;
  }
}
