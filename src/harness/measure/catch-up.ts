/**
 * What a catch-up (a restart, an added observer) was, from what the runner gathered around it
 * (runner/catch-ups.ts): the learner's log since its start, the leader's mntr before and after,
 * the learner's mntr once it served, the snapshot files it wrote. Pure.
 *
 * The sync mode is read from the learner's own log where it says (it names TRUNC too, and is
 * the learner's, whoever else synced meanwhile), else from the leader's diff_count and
 * snap_count (ZooKeeper's ServerMetrics names; zablab the same), which count every learner's
 * sync and a TRUNC as a DIFF: those are used only when no other catch-up overlapped and the
 * leader stayed the same.
 */
import type { MemberMetrics } from '../drivers/types.js';
import type { CatchUpAction, CatchUpResult, SyncBytesSource, SyncMode, SyncModeSource } from '../report/results-sync.js';

/** What the runner gathered about one catch-up. */
export interface CatchUpEvidence {
  serverId: number;
  action: CatchUpAction;
  role: 'voter' | 'observer';
  program: 'zablab' | 'zookeeper' | 'unknown';
  startedAtEpochMs: number;
  servingAtEpochMs: number | null;
  /** The leader and its mntr just before the start and once the learner served (null: none, or no answer). */
  leaderBefore: { id: number; mntr: MemberMetrics } | null;
  leaderAfter: { id: number; mntr: MemberMetrics } | null;
  /** The learner's mntr once it served. */
  learnerMntr: MemberMetrics | null;
  /** What the learner logged from its start until it served (null: no log to read). */
  learnerLog: string | null;
  /** The snapshot files that appeared in the learner's dataDir/version-2 by the time it served (zxid as hex, from the name). */
  newSnapshots: { zxid: string; bytes: number }[];
}

/** The learner's own account of its sync, from its log: the last sync before it served. */
export function syncFromLog(log: string): { mode: SyncMode; bytes: number | null; zxid: bigint | null } | null {
  let found: { at: number; mode: SyncMode; zxid: bigint | null } | null = null;
  const patterns: [RegExp, SyncMode | null][] = [
    // zablab: "synced with leader epoch=1 leader=3 mode=DIFF"
    [/synced with leader\b[^\n]*\bmode=(DIFF|TRUNC|SNAP)\b/g, null],
    // Apache ZooKeeper's Learner.syncWithLeader, with the zxid the leader synced it to.
    [/Getting a diff from the leader 0x([0-9a-f]+)/gi, 'DIFF'],
    [/Getting a snapshot from leader 0x([0-9a-f]+)/gi, 'SNAP'],
    [/Truncating log to get in sync with the leader 0x([0-9a-f]+)/gi, 'TRUNC'],
  ];
  for (const [re, fixed] of patterns) {
    for (const m of log.matchAll(re)) {
      const mode = fixed ?? (m[1] as SyncMode);
      const zxid = fixed === null ? null : BigInt(`0x${m[1]}`);
      if (found === null || m.index > found.at) found = { at: m.index, mode, zxid };
    }
  }
  if (found === null) return null;
  let bytes: number | null = null;
  // zablab: "installed snapshot from leader zxid=0x... bytes=12345"
  for (const m of log.matchAll(/installed snapshot from leader\b[^\n]*\bbytes=(\d+)/g)) bytes = Number(m[1]);
  return { mode: found.mode, bytes: found.mode === 'SNAP' ? bytes : null, zxid: found.zxid };
}

/**
 * The snapshot a ZooKeeper learner wrote right after a SNAP to `zxid`: the first new one at or
 * after that zxid (a new learner also writes an empty snapshot.0 when it starts, before it syncs).
 */
export function snapshotAfterSnap(snapshots: readonly { zxid: string; bytes: number }[], zxid: bigint): number | null {
  const after = snapshots.map((s) => ({ zxid: BigInt(`0x${s.zxid}`), bytes: s.bytes })).filter((s) => s.zxid >= zxid);
  after.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
  return after[0]?.bytes ?? null;
}

function counter(m: MemberMetrics | undefined, key: string): number | null {
  const v = m?.[key];
  return typeof v === 'number' ? v : null;
}

/** The leader's diff_count / snap_count increase over the catch-up, when it led throughout and printed both. */
export function leaderCounterDelta(e: Pick<CatchUpEvidence, 'leaderBefore' | 'leaderAfter'>): { leader: number; diff: number; snap: number } | null {
  const { leaderBefore: b, leaderAfter: a } = e;
  if (b === null || a === null || b.id !== a.id) return null;
  const diff = [counter(b.mntr, 'zk_diff_count'), counter(a.mntr, 'zk_diff_count')];
  const snap = [counter(b.mntr, 'zk_snap_count'), counter(a.mntr, 'zk_snap_count')];
  if (diff.includes(null) || snap.includes(null)) return null;
  return { leader: a.id, diff: diff[1]! - diff[0]!, snap: snap[1]! - snap[0]! };
}

/** The learner's follower_sync_time / observer_sync_time summary since it started. */
function learnerSync(e: CatchUpEvidence): { ms: number | null; count: number | null } {
  const name = e.role === 'observer' ? 'observer_sync_time' : 'follower_sync_time';
  const count = counter(e.learnerMntr ?? undefined, `zk_cnt_${name}`);
  const sum = counter(e.learnerMntr ?? undefined, `zk_sum_${name}`);
  const avg = counter(e.learnerMntr ?? undefined, `zk_avg_${name}`);
  if (count === null || count === 0) return { ms: null, count };
  const mean = sum !== null ? sum / count : avg;
  return { ms: mean === null ? null : Math.round(mean * 1_000) / 1_000, count };
}

/**
 * One catch-up's result. `overlapped`: another catch-up ran at the same time, so the leader's
 * counters cannot be told apart between them.
 */
export function catchUpResult(e: CatchUpEvidence, windowStartEpochMs: number, overlapped: boolean): CatchUpResult {
  const fromLog = e.learnerLog === null ? null : syncFromLog(e.learnerLog);
  const counters = leaderCounterDelta(e);
  let syncMode: SyncMode | null = null;
  let syncModeFrom: SyncModeSource | null = null;
  if (fromLog !== null) {
    syncMode = fromLog.mode;
    syncModeFrom = 'learner-log';
  } else if (counters !== null && !overlapped && counters.snap + counters.diff === 1) {
    syncMode = counters.snap === 1 ? 'SNAP' : 'DIFF';
    syncModeFrom = 'leader-counters';
  }
  let syncBytes: number | null = null;
  let syncBytesFrom: SyncBytesSource | null = null;
  if (syncMode === 'SNAP') {
    const sentBefore = counter(e.leaderBefore?.mntr, 'zk_zab_snap_bytes_sent');
    const sentAfter = counter(e.leaderAfter?.mntr, 'zk_zab_snap_bytes_sent');
    if (counters !== null && !overlapped && counters.snap === 1 && sentBefore !== null && sentAfter !== null) {
      syncBytes = sentAfter - sentBefore;
      syncBytesFrom = 'leader-counter';
    } else if (fromLog?.bytes != null) {
      syncBytes = fromLog.bytes;
      syncBytesFrom = 'learner-log';
    } else if (e.program === 'zookeeper' && fromLog?.zxid != null) {
      // ZooKeeper's learner writes a snapshot right after a SNAP (Learner.syncWithLeader).
      syncBytes = snapshotAfterSnap(e.newSnapshots, fromLog.zxid);
      syncBytesFrom = syncBytes === null ? null : 'learner-snapshot-file';
    }
  }
  const sync = learnerSync(e);
  return {
    serverId: e.serverId,
    action: e.action,
    role: e.role,
    startedAtMs: Math.round(e.startedAtEpochMs - windowStartEpochMs),
    startedAtEpochMs: Math.round(e.startedAtEpochMs),
    servingAfterMs: e.servingAtEpochMs === null ? null : Math.max(0, Math.round(e.servingAtEpochMs - e.startedAtEpochMs)),
    syncMode,
    syncModeFrom,
    leaderCounters: counters,
    syncBytes,
    syncBytesFrom,
    learnerSyncMs: sync.ms,
    learnerSyncs: sync.count,
  };
}

/** Catch-ups whose start-to-serving spans overlap another's (an unfinished one spans to the end). */
export function overlapping(spans: readonly { fromEpochMs: number; toEpochMs: number | null }[]): boolean[] {
  return spans.map((a, i) =>
    spans.some((b, j) => j !== i && a.fromEpochMs <= (b.toEpochMs ?? Number.POSITIVE_INFINITY) && b.fromEpochMs <= (a.toEpochMs ?? Number.POSITIVE_INFINITY)),
  );
}
