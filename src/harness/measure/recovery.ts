/**
 * Election recovery per fault, from what the run observed: the leader as the servers reported
 * it (polled), the first write the load saw acknowledged after the fault, and the load's
 * 100 ms throughput slots. Pure: the runner gathers the observations, this decides the times.
 */
import type { FaultAction, PartitionMode } from '../scenario/types.js';
import type { FaultObservation, LoadResult } from '../load/types.js';
import type { LeaderChange, RecoveryResult } from '../report/results.js';

/** Throughput before a fault is its mean over this long... */
export const BASELINE_MS = 5_000;
/** ...and needs at least this much history to mean anything. */
const BASELINE_MS_MIN = 1_000;
/** Throughput counts as back when a window this long after the fault averages ≥ 90 % of the baseline. */
export const RECOVERED_WINDOW_MS = 1_000;
export const RECOVERED_SHARE = 0.9;

/** A fault as the runner applied it: one step of the scenario's faults (a one-off, or a firing or the end of a repeating one). */
export interface AppliedFault {
  action: FaultAction;
  target: string;
  /** The member it hit; null for a cut into sides that hits no one server (random-halves, bridge) and a heal of every cut. */
  serverId: number | null;
  /** Relative to the measured window's start. */
  atMs: number;
  atEpochMs: number;
  /** When the action had taken effect (the process gone, the pause sent); the load looks for writes issued from then on. */
  effectiveEpochMs: number;
  /** Leader when the fault fired (null: none known). */
  leaderBefore: number | null;
  /** RESTORING actions: when the member was seen serving again (null: not within the run, or not watched). */
  servingAgainEpochMs?: number | null;
  /**
   * The fault took the leader away (it must be elected anew). Unset: a kill, pause or partition
   * of the leader does; set by the runner for a cut into sides (the leader's side holds no quorum).
   */
  takesLeader?: boolean;
  /** A partition by mode: its mode, the sides it cut, and for bridge the voter on both sides. */
  mode?: PartitionMode;
  sides?: number[][];
  bridge?: number;
  /** Which fault of the scenario this step belongs to, and for a repeating one which firing (1-based) or its end. */
  schedule?: { fault: number; firing: number | 'end' };
  /** What the step undid before it acted: the previous firing's kill, pause or cut (or, at the end, the last firing's). */
  undid?: { action: FaultAction; serverId: number | null };
}

/** Actions after which the ensemble may have to elect a leader when they hit the leader. */
const DISRUPTIVE: ReadonlySet<FaultAction> = new Set(['kill', 'pause', 'partition']);

/**
 * Actions that give a member back. Their recovery is "back in service" (the member serves
 * again); "first write" means nothing for them (writes did not wait for the action) and is
 * left out, as is "leader elected" unless the action made the ensemble elect.
 */
export const RESTORING: ReadonlySet<FaultAction> = new Set(['restart', 'resume', 'heal', 'add-observer']);

/**
 * Fault → the first leader report, after the fault, of a member other than the one the fault
 * took away (the servers elect a new leader). Null when the fault did not hit the leader or no
 * new leader was reported before the run ended.
 */
export function leaderElectedMs(fault: AppliedFault, changes: readonly LeaderChange[]): { ms: number | null; after: number | null } {
  const after = [...changes].filter((c) => c.atMs >= fault.atMs);
  const last = [...changes].reverse().find((c) => c.atMs < fault.atMs);
  const taken = fault.takesLeader ?? (DISRUPTIVE.has(fault.action) && fault.leaderBefore === fault.serverId);
  if (!taken || fault.leaderBefore === null) {
    const now = after.at(-1) ?? last;
    return { ms: null, after: now?.leader ?? fault.leaderBefore };
  }
  const gone = fault.leaderBefore;
  const elected = after.find((c) => c.leader !== null && c.leader !== gone);
  return { ms: elected === undefined ? null : elected.atMs - fault.atMs, after: elected?.leader ?? null };
}

/**
 * Fault → 90 % of the throughput before it, over a 1 s window (0 when it never dropped).
 * The search starts no earlier than notBeforeMs after the fault (the first write after it):
 * reads served by followers, or an open loop's backlog draining, can fill a window while
 * writes are still blocked, and that is not recovery.
 */
export function recovered90Ms(atMs: number, fine: LoadResult['fine'], notBeforeMs = 0): number | null {
  const slot = fine.slotMs;
  const faultSlot = Math.floor(atMs / slot);
  const baseSlots = Math.min(Math.floor(BASELINE_MS / slot), faultSlot);
  if (baseSlots * slot < BASELINE_MS_MIN) return null;
  let baseSum = 0;
  for (let s = faultSlot - baseSlots; s < faultSlot; s++) baseSum += fine.ops[s] ?? 0;
  const baseline = baseSum / baseSlots;
  if (baseline <= 0) return null;
  const win = Math.max(1, Math.round(RECOVERED_WINDOW_MS / slot));
  // Windows that end past the recorded slots would count missing slots as zeros.
  for (let s = Math.floor((atMs + notBeforeMs) / slot); s + win <= fine.ops.length; s++) {
    let sum = 0;
    for (let k = s; k < s + win; k++) sum += fine.ops[k] ?? 0;
    // The window must start with work done, so a stall's last empty slot does not count as recovered.
    if ((fine.ops[s] ?? 0) > 0 && sum / win >= RECOVERED_SHARE * baseline) return Math.max(0, s * slot - atMs);
  }
  return null;
}

/**
 * The longest stretch of 100 ms slots without an acknowledged write that overlaps the time
 * from the fault to the first write after it (or to the end of the run). Null without writes.
 */
export function writeUnavailableMs(atMs: number, firstWriteMs: number | null, fine: LoadResult['fine']): number | null {
  const slot = fine.slotMs;
  if (!fine.writes.some((w) => w > 0)) return null;
  const from = Math.floor(atMs / slot);
  const to = firstWriteMs === null ? fine.writes.length - 1 : Math.floor((atMs + firstWriteMs) / slot);
  let best = 0;
  let runStart = -1;
  for (let s = 0; s <= fine.writes.length; s++) {
    const empty = s < fine.writes.length && (fine.writes[s] ?? 0) === 0;
    if (empty && runStart < 0) runStart = s;
    if (!empty && runStart >= 0) {
      const runEnd = s - 1;
      if (runEnd >= from && runStart <= to) best = Math.max(best, runEnd - runStart + 1);
      runStart = -1;
    }
  }
  return best * slot;
}

export function recoveryOf(fault: AppliedFault, changes: readonly LeaderChange[], load: LoadResult): RecoveryResult {
  const obs: FaultObservation | undefined = load.faults.find((f) => f.atEpochMs === fault.effectiveEpochMs);
  const restoring = RESTORING.has(fault.action);
  const firstWriteMs = restoring || obs?.firstWriteAckEpochMs == null ? null : Math.max(0, Math.round(obs.firstWriteAckEpochMs - fault.atEpochMs));
  const elected = leaderElectedMs(fault, changes);
  // The poll sees the new leader up to a poll interval and a probe late (a probe waits on a
  // server busy electing). A write acknowledged after a fault that took the leader was
  // committed by a new one, so the election was over by then: the earlier of the two bounds.
  const electedMs = elected.ms === null ? null : firstWriteMs === null ? elected.ms : Math.min(elected.ms, firstWriteMs);
  return {
    fault: fault.action,
    target: fault.target,
    serverId: fault.serverId,
    atMs: Math.round(fault.atMs),
    leaderElectedMs: electedMs === null ? null : Math.round(electedMs),
    firstWriteMs,
    recovered90Ms: roundOrNull(recovered90Ms(fault.atMs, load.fine, firstWriteMs ?? 0)),
    writeUnavailableMs: roundOrNull(writeUnavailableMs(fault.atMs, firstWriteMs, load.fine)),
    ...(restoring ? { servingAgainMs: fault.servingAgainEpochMs == null ? null : Math.max(0, Math.round(fault.servingAgainEpochMs - fault.atEpochMs)) } : {}),
    leaderBefore: fault.leaderBefore,
    leaderAfter: elected.after,
    ...(fault.mode === undefined ? {} : { mode: fault.mode }),
    ...(fault.sides === undefined ? {} : { sides: fault.sides.map((s) => [...s]) }),
    ...(fault.bridge === undefined ? {} : { bridge: fault.bridge }),
    ...(fault.schedule === undefined ? {} : { schedule: { ...fault.schedule } }),
    ...(fault.undid === undefined ? {} : { undid: { ...fault.undid } }),
  };
}

function roundOrNull(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms);
}
