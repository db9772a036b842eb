/**
 * What each server says about itself (over `srvr` on its client port) and when an
 * ensemble "serves": every awaited server answers with a serving mode, exactly one server
 * leads, and every awaited learner has applied what the leader had.
 */
import { epochOf, fourLetterWord, FourLetterWordError, parseSrvr, type ServingMode } from './four-letter.js';
import type { EnsembleServer, ServerRole } from './layout.js';
import { isOurServer } from './processes.js';

export type ServerMode = ServingMode | 'down' | 'not serving';

export interface ServerStatus {
  id: number;
  /** As configured. */
  role: ServerRole;
  /** As the server reports it now. */
  mode: ServerMode;
  /** Last applied zxid (srvr's Zxid); null unless serving. */
  zxid: bigint | null;
  /** zxid >> 32; null unless serving. */
  epoch: number | null;
  pid: number | null;
  /** The recorded pid runs this server's command line. */
  alive: boolean;
  paused: boolean;
  host: string;
  clientPort: number;
  /** null without TLS. */
  secureClientPort: number | null;
  httpPort: number;
  nodeCount: number | null;
  /** Why the server is down or not serving; null when serving. */
  reason: string | null;
}

/** A single `srvr` may not hold up a status for long: a paused or overloaded server is "not serving". */
export const PROBE_TIMEOUT_MS = 2_000;

export async function probeServer(s: EnsembleServer, markers: readonly string[]): Promise<ServerStatus> {
  const base = { id: s.id, role: s.role, pid: s.pid, paused: s.paused, host: s.host, clientPort: s.clientPort, secureClientPort: s.secureClientPort, httpPort: s.httpPort };
  const none = { zxid: null, epoch: null, nodeCount: null };
  if (s.pid === null) return { ...base, ...none, alive: false, mode: 'down', reason: 'not running' };
  if (!isOurServer(s.pid, markers)) return { ...base, ...none, alive: false, mode: 'down', reason: `process ${s.pid} has exited` };
  if (s.paused) return { ...base, ...none, alive: true, mode: 'not serving', reason: 'paused (SIGSTOP); send CONT to resume it' };
  let answer: string;
  try {
    answer = await fourLetterWord(s.host, s.clientPort, 'srvr', PROBE_TIMEOUT_MS);
  } catch (err) {
    const why =
      err instanceof FourLetterWordError && err.errno === 'ECONNREFUSED'
        ? `client port ${s.clientPort} is not open yet`
        : err instanceof Error
          ? err.message
          : String(err);
    return { ...base, ...none, alive: true, mode: 'not serving', reason: why };
  }
  const srvr = parseSrvr(answer);
  if (!srvr.serving) return { ...base, ...none, alive: true, mode: 'not serving', reason: srvr.reason };
  return { ...base, alive: true, mode: srvr.mode, zxid: srvr.zxid, epoch: epochOf(srvr.zxid), nodeCount: srvr.nodeCount, reason: null };
}

/** Leaders seen while waiting, by `id@epoch`, with the zxid they had when first seen. */
export type LeaderMarks = Map<string, bigint>;

export interface ServingVerdict {
  ok: boolean;
  /** Awaited servers that do not serve yet, and why. */
  notServing: Map<number, string>;
}

function isLeaderMode(mode: ServerMode): boolean {
  return mode === 'leader' || mode === 'standalone';
}

function modeFits(role: ServerRole, mode: ServerMode): boolean {
  return role === 'observer' ? mode === 'observer' : mode === 'leader' || mode === 'follower' || mode === 'standalone';
}

/**
 * Judges one round of statuses: see caughtUp for when a learner has caught up.
 */
export function servingVerdict(statuses: readonly ServerStatus[], awaited: readonly number[], marks: LeaderMarks): ServingVerdict {
  const notServing = new Map<number, string>();
  const leaders = statuses.filter((s) => isLeaderMode(s.mode));
  const leader = leaders.length === 1 ? leaders[0] : undefined;
  if (leader !== undefined && leader.zxid !== null) {
    const key = `${leader.id}@${leader.epoch}`;
    if (!marks.has(key)) marks.set(key, leader.zxid);
  }
  for (const id of awaited) {
    const s = statuses.find((x) => x.id === id);
    if (s === undefined) {
      notServing.set(id, 'not a member of the ensemble');
      continue;
    }
    if (s.reason !== null || s.zxid === null) {
      notServing.set(id, s.reason ?? s.mode);
      continue;
    }
    if (!modeFits(s.role, s.mode)) {
      notServing.set(id, `reports mode ${s.mode} but is configured as ${s.role}`);
      continue;
    }
    if (leaders.length > 1) {
      notServing.set(id, `more than one server reports leader: ${leaders.map((l) => l.id).join(', ')}`);
      continue;
    }
    if (leader === undefined || leader.zxid === null) {
      notServing.set(id, 'no server reports leader yet');
      continue;
    }
    if (s.id === leader.id || caughtUp(s.zxid, leader.zxid, marks.get(`${leader.id}@${leader.epoch}`) ?? leader.zxid)) continue;
    notServing.set(id, `zxid 0x${s.zxid.toString(16)} behind leader ${leader.id}'s 0x${leader.zxid.toString(16)}`);
  }
  return { ok: notServing.size === 0, notServing };
}

const COUNTER_MASK = 0xffffffffn;

/**
 * A serving learner has caught up when its zxid equals the leader's now (exact for an idle
 * ensemble), or is at least what the leader had when first seen (still finishes while
 * clients keep writing). A leader whose epoch has no txn yet reports zxid <epoch, 0> while
 * its learners keep reporting their last txn (ZooKeeper does so; no txn distinguishes them):
 * then serving is the proof, since a learner serves only after the leader's sync (UPTODATE).
 */
export function caughtUp(learnerZxid: bigint, leaderZxid: bigint, leaderFirstSeenZxid: bigint): boolean {
  if (learnerZxid === leaderZxid || learnerZxid >= leaderFirstSeenZxid) return true;
  return (leaderZxid & COUNTER_MASK) === 0n && learnerZxid < leaderZxid;
}
