/**
 * The parts of results.json about catching up and snapshots (issue #15, cost as state grows):
 * per restarted or added server its time to serve and its sync, per server the snapshots it
 * wrote, and the load's p99 during those windows against outside them. All optional in a run:
 * absent in files written before them. Times in ms; `...Ms` positions are relative to the start
 * of the run's measured window.
 */

/** How a learner was brought up to date: ZooKeeper's three sync modes. */
export const SYNC_MODES = ['DIFF', 'TRUNC', 'SNAP'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

export const CATCH_UP_ACTIONS = ['restart', 'add-observer'] as const;
export type CatchUpAction = (typeof CATCH_UP_ACTIONS)[number];

/**
 * Where a sync mode was read: the learner's own log line (zablab "synced with leader ... mode=",
 * ZooKeeper "Getting a diff / a snapshot from leader", "Truncating log"), or the leader's
 * diff_count / snap_count deltas (both programs count a TRUNC in diff_count).
 */
export const SYNC_MODE_SOURCES = ['learner-log', 'leader-counters'] as const;
export type SyncModeSource = (typeof SYNC_MODE_SOURCES)[number];

/**
 * Where a SNAP's size was read: the leader's zk_zab_snap_bytes_sent delta (zablab), the
 * learner's "installed snapshot from leader ... bytes=" (zablab), or the size of the snapshot
 * file the learner writes right after a SNAP (ZooKeeper: the state as of NEWLEADER, so a
 * little more than what was sent when writes went on meanwhile).
 */
export const SYNC_BYTES_SOURCES = ['leader-counter', 'learner-log', 'learner-snapshot-file'] as const;
export type SyncBytesSource = (typeof SYNC_BYTES_SOURCES)[number];

export interface CatchUpResult {
  serverId: number;
  action: CatchUpAction;
  role: 'voter' | 'observer';
  startedAtMs: number;
  /** When the harness started the server's process. */
  startedAtEpochMs: number;
  /**
   * Process start → the server serves: srvr answers in the mode of its role (follower or
   * observer) with a zxid caught up with the leader's (ensemble/serving.ts). Polled every
   * CATCH_UP_POLL_MS; null when not within the run.
   */
  servingAfterMs: number | null;
  syncMode: SyncMode | null;
  syncModeFrom: SyncModeSource | null;
  /** The leader's diff_count / snap_count increase over the catch-up; null when the leader changed meanwhile or did not answer. */
  leaderCounters: { leader: number; diff: number; snap: number } | null;
  /** Bytes of a SNAP; null when not a SNAP or not known. */
  syncBytes: number | null;
  syncBytesFrom: SyncBytesSource | null;
  /** The learner's own follower_sync_time / observer_sync_time since it started: the mean over its syncs, and their number. */
  learnerSyncMs: number | null;
  learnerSyncs: number | null;
}

export interface SnapshotWindow {
  serverId: number;
  /** The mntr sample where cnt_snapshottime grew: the snapshot ended by then. */
  endMs: number;
  /** endMs − durationMs: the estimated start. */
  startMs: number;
  /** Growth of sum_snapshottime (several snapshots' total when count > 1). */
  durationMs: number;
  count: number;
  /**
   * The snapshot ended after the sample before (the end is known to a sample period), so it
   * surely lies in [coverFromMs, endMs] with coverFromMs = previous sample − durationMs: the
   * "during" of p99 during snapshots uses this span.
   */
  coverFromMs: number;
  /** The server led when the window ended (leader changes as the run observed them). */
  leader: boolean;
}

export interface SnapshotsResult {
  /** How often each server's mntr was sampled. */
  sampleMs: number;
  windows: SnapshotWindow[];
  /** Per server: snapshots written during the measured window, their total and longest time. */
  servers: { serverId: number; count: number; totalMs: number; maxMs: number }[];
}

/**
 * What a latency row compares: snapshots on the leader (every write waits on the leader's
 * proposal, fsync and commit), snapshots on any server, catch-ups (process start → serving),
 * and the catch-ups that were SNAPs.
 */
export const LATENCY_WINDOW_KINDS = ['snapshot-leader', 'snapshot-any', 'catch-up', 'snap-sync'] as const;
export type LatencyWindowKind = (typeof LATENCY_WINDOW_KINDS)[number];

export interface LatencyCount {
  /** Successful requests completed in these slots. */
  count: number;
  /** Their p99 (bucketed, < 1.6 % high); null without requests. */
  p99Ms: number | null;
}

/** A longest value seen during windows and outside them; null: no sample on that side. */
export interface DuringOutside {
  during: number | null;
  outside: number | null;
}

/**
 * The servers' longest event-loop delay and GC pause (zablab's mntr) in samples whose second
 * overlaps a window, against the others (measure/stall-windows.ts says whose samples count).
 */
export interface WindowStalls {
  eventLoopMaxMs: DuringOutside;
  gcPauseMaxMs: DuringOutside;
}

/** The mixed load's p99 in the 100 ms slots that overlap windows of a kind, and in every other slot. */
export interface WindowLatency {
  kind: LatencyWindowKind;
  windows: number;
  /** Time in slots counted as during. */
  duringMs: number;
  during: LatencyCount;
  outside: LatencyCount;
  /** Absent for servers that report no event loop (Apache ZooKeeper) and in results written before it was measured. */
  stalls?: WindowStalls;
}
