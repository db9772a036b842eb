/**
 * Catch-ups, snapshots and p99 during them as plain-text tables, shared by summary.md and
 * report.html: one row per catch-up, per server's snapshots, per kind of window.
 */
import { formatBytes, formatCount, formatMs, formatRatio, formatSecondsFromMs, NOT_OBSERVED } from './format.js';
import type { RunResult } from './results.js';
import type { CatchUpResult, LatencyWindowKind, WindowLatency } from './results-sync.js';

export interface TextTable {
  headers: string[];
  rows: string[][];
  /** Per column: right-aligned (a number). */
  numeric: boolean[];
}

export const SYNC_CAPTIONS = {
  catchUps:
    'Each restart and add-observer: process start → the server serves as follower or observer, caught up with the leader (polled every 20 ms). Sync: DIFF, TRUNC or SNAP, from the learner\'s own log, else from the leader\'s diff_count / snap_count (which count a TRUNC as a DIFF). SNAP bytes: the leader\'s zk_zab_snap_bytes_sent, or the learner\'s log, or ≈ the snapshot file the learner writes right after a SNAP (ZooKeeper). Learner sync: its own follower_sync_time / observer_sync_time.',
  snapshots: 'Snapshots each server wrote in the measured window, from its mntr (cnt_snapshottime, sum_snapshottime sampled every 250 ms).',
  latency:
    'The mixed load\'s p99 over the requests completed in the 100 ms slots that overlap a window, against every other slot. A snapshot window spans from the sample before its end minus its duration to the sample where it ended, so it holds the snapshot for sure and up to one sample period more. Leader: the snapshots of the server leading then, which every write passes through. Event-loop max and GC pause max (zablab): the longest in the servers\' mntr samples of the measured window whose last second overlaps a window, against their other samples; for a snapshot, the server writing it; for a catch-up, every other server (the learner serves nobody yet). — : not measured (Apache ZooKeeper has no event loop).',
} as const;

const KIND_LABELS: Record<LatencyWindowKind, string> = {
  'snapshot-leader': 'snapshot on the leader',
  'snapshot-any': 'snapshot on any server',
  'catch-up': 'catch-up (start → serving)',
  'snap-sync': 'SNAP catch-up',
};

function syncText(c: CatchUpResult): string {
  if (c.syncMode === null) return NOT_OBSERVED;
  return `${c.syncMode} (${c.syncModeFrom === 'learner-log' ? 'learner log' : 'leader counters'})`;
}

function bytesText(c: CatchUpResult): string {
  if (c.syncBytes === null) return NOT_OBSERVED;
  return c.syncBytesFrom === 'learner-snapshot-file' ? `≈ ${formatBytes(c.syncBytes)}` : formatBytes(c.syncBytes);
}

export function catchUpTable(runs: readonly RunResult[]): TextTable | null {
  const rows = runs.flatMap((r) =>
    (r.catchUps ?? []).map((c) => [
      r.name,
      r.ensemble.program,
      c.action,
      `${c.serverId} (${c.role})`,
      formatSecondsFromMs(c.startedAtMs),
      formatMs(c.servingAfterMs),
      syncText(c),
      bytesText(c),
      c.learnerSyncMs === null ? NOT_OBSERVED : `${formatMs(c.learnerSyncMs)}${(c.learnerSyncs ?? 0) > 1 ? ` (mean of ${c.learnerSyncs})` : ''}`,
    ]),
  );
  if (rows.length === 0) return null;
  return {
    headers: ['run', 'program', 'action', 'server', 'at', 'start → serving', 'sync', 'SNAP bytes', 'learner sync'],
    rows,
    numeric: [false, false, false, false, true, true, false, true, true],
  };
}

export function snapshotTable(runs: readonly RunResult[]): TextTable | null {
  const rows = runs.flatMap((r) =>
    (r.snapshots?.servers ?? []).map((s) => {
      const onLeader = (r.snapshots?.windows ?? []).filter((w) => w.serverId === s.serverId && w.leader).reduce((n, w) => n + w.count, 0);
      return [r.name, r.ensemble.program, String(s.serverId), formatCount(s.count), formatCount(onLeader), formatMs(s.totalMs), formatMs(s.count === 0 ? null : s.totalMs / s.count), formatMs(s.maxMs)];
    }),
  );
  if (rows.length === 0) return null;
  return {
    headers: ['run', 'program', 'server', 'snapshots', 'as leader', 'total', 'mean', 'longest'],
    rows,
    numeric: [false, false, true, true, true, true, true, true],
  };
}

function p99Text(l: WindowLatency['during']): string {
  return l.p99Ms === null ? NOT_OBSERVED : `${formatMs(l.p99Ms)} (${formatCount(l.count)} ops)`;
}

function ratioText(w: WindowLatency): string {
  if (w.during.p99Ms === null || w.outside.p99Ms === null || w.outside.p99Ms === 0) return NOT_OBSERVED;
  return formatRatio(w.during.p99Ms / w.outside.p99Ms);
}

export function latencyDuringTable(runs: readonly RunResult[]): TextTable | null {
  const rows = runs.flatMap((r) =>
    (r.latencyDuring ?? [])
      .filter((w) => w.windows > 0)
      .map((w) => [
        r.name,
        r.ensemble.program,
        KIND_LABELS[w.kind],
        formatCount(w.windows),
        formatSecondsFromMs(w.duringMs),
        p99Text(w.during),
        p99Text(w.outside),
        ratioText(w),
        formatMs(w.stalls?.eventLoopMaxMs.during ?? null),
        formatMs(w.stalls?.eventLoopMaxMs.outside ?? null),
        formatMs(w.stalls?.gcPauseMaxMs.during ?? null),
        formatMs(w.stalls?.gcPauseMaxMs.outside ?? null),
      ]),
  );
  if (rows.length === 0) return null;
  return {
    headers: ['run', 'program', 'during', 'windows', 'time', 'p99 during', 'p99 outside', 'during / outside', 'event-loop max during', 'outside', 'GC pause max during', 'outside'],
    rows,
    numeric: [false, false, false, true, true, true, true, true, true, true, true, true],
  };
}

/** The three tables with their captions, those that have rows. */
export function syncTables(runs: readonly RunResult[]): { id: string; title: string; caption: string; table: TextTable }[] {
  const out: { id: string; title: string; caption: string; table: TextTable }[] = [];
  const catchUps = catchUpTable(runs);
  if (catchUps !== null) out.push({ id: 'catch-ups', title: 'Catch-up', caption: SYNC_CAPTIONS.catchUps, table: catchUps });
  const snapshots = snapshotTable(runs);
  if (snapshots !== null) out.push({ id: 'snapshots', title: 'Snapshots', caption: SYNC_CAPTIONS.snapshots, table: snapshots });
  const latency = latencyDuringTable(runs);
  if (latency !== null) out.push({ id: 'latency-during', title: 'p99 during snapshot / SNAP vs outside', caption: SYNC_CAPTIONS.latency, table: latency });
  return out;
}
