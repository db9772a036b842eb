/**
 * What every driver asks a member over its client port, whatever runs it: `srvr` for its
 * mode and zxid, `mntr` for its metrics, `conf` for the id it was configured with. Also the
 * generic "the ensemble serves" wait for drivers that know no process (external, compose).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from '../errors.js';
import { caughtUp, fourLetterWord, parseSrvr, type ServingMode } from '../ensemble/index.js';
import { parseMntr } from './mntr.js';
import type { LoadTarget } from '../load/types.js';
import type { EnsembleHandle, Member, MemberMetrics, MemberMode, MemberStatus } from './types.js';

/** One probe may not hold up a status for long: a paused or overloaded server counts as down. */
export const PROBE_TIMEOUT_MS = 2_000;
export const SERVING_POLL_MS = 250;

export interface Address {
  host: string;
  clientPort: number;
}

export interface SrvrProbe {
  mode: MemberMode;
  /** Last processed zxid; null unless the member serves. */
  zxid: bigint | null;
  /** srvr's "Zookeeper version" text; null unless the member serves. */
  version: string | null;
  /** Why the member is down or not serving; null when it serves. */
  reason: string | null;
}

/** `host:port`, with brackets around an IPv6 host. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** EnsembleHandle.connectString(): every member's client address. */
export function connectStringOf(members: readonly Member[]): string {
  return members.map((m) => hostPort(m.host, m.clientPort)).join(',');
}

/** EnsembleHandle.httpUrls(): the HTTP face of every member that has one. */
export function httpUrlsOf(members: readonly Member[]): string[] {
  return members.flatMap((m) => (m.httpPort === null ? [] : [`http://${hostPort(m.host, m.httpPort)}`]));
}

/**
 * What a load driver needs of an ensemble: where its members are, the HTTP face's token, and
 * for an ensemble that serves TLS its secureClientPorts and the client's certificates (the
 * load of a TLS run goes over TLS: that is what it measures).
 */
export function loadTargetOf(handle: EnsembleHandle): LoadTarget {
  const target: LoadTarget = { connectString: handle.connectString(), httpUrls: handle.httpUrls(), adminToken: handle.adminToken };
  if (handle.clientTls !== null) {
    target.connectString = handle.members.map((m) => hostPort(m.host, m.secureClientPort ?? m.clientPort)).join(',');
    target.tls = handle.clientTls;
  }
  return target;
}

/** Maps srvr's mode to a member's: a read-only server has left its quorum, like a looking one. */
export function memberMode(mode: ServingMode): MemberMode {
  switch (mode) {
    case 'leader':
    case 'follower':
    case 'observer':
    case 'standalone':
      return mode;
    case 'read-only':
      return 'looking';
  }
}

/** srvr of one member. Never throws: no answer is `down`, an answer without a serving mode is `looking`. */
export async function probeSrvr(a: Address, timeoutMs = PROBE_TIMEOUT_MS): Promise<SrvrProbe> {
  let text: string;
  try {
    text = await fourLetterWord(a.host, a.clientPort, 'srvr', timeoutMs);
  } catch (err) {
    return { mode: 'down', zxid: null, version: null, reason: err instanceof Error ? err.message : String(err) };
  }
  const srvr = parseSrvr(text);
  if (!srvr.serving) return { mode: 'looking', zxid: null, version: null, reason: srvr.reason };
  return { mode: memberMode(srvr.mode), zxid: srvr.zxid, version: srvr.version, reason: null };
}

/** The program a `srvr` version line belongs to: zablab says so ("3.8.0-zablab-0.1.0, built on ..."). */
export function programFromVersion(version: string | null): EnsembleHandle['program'] {
  if (version === null) return 'unknown';
  if (/zablab/i.test(version)) return 'zablab';
  // Apache ZooKeeper: "3.8.0-<git hash>, built on <date>" (Debian: "3.8.0-11+deb12u2--1, built on ...").
  if (/^\d+\.\d+\.\d+/.test(version)) return 'zookeeper';
  return 'unknown';
}

/** mntr of one member; throws HarnessError when it does not answer with metrics. */
export async function memberMetrics(m: Member, timeoutMs = PROBE_TIMEOUT_MS): Promise<MemberMetrics> {
  const where = `server ${m.id} (${hostPort(m.host, m.clientPort)})`;
  let text: string;
  try {
    text = await fourLetterWord(m.host, m.clientPort, 'mntr', timeoutMs);
  } catch (err) {
    throw new HarnessError('ZABLAB_BENCH_DRIVER', `${where} did not answer mntr: ${err instanceof Error ? err.message : String(err)}`);
  }
  const metrics = parseMntr(text);
  if (Object.keys(metrics).length === 0) {
    const first = text.trim().split('\n', 1)[0] ?? '';
    throw new HarnessError(
      'ZABLAB_BENCH_DRIVER',
      `${where} answered mntr without metrics (${first === '' ? 'empty answer' : JSON.stringify(first.slice(0, 120))}); ` +
        'it may not serve yet, or mntr is missing from its 4lw.commands.whitelist',
    );
  }
  return metrics;
}

/** The id and role a member reports in `conf` (serverId=, peerType=1 for an observer), or null. */
export async function probeConf(a: Address, timeoutMs = PROBE_TIMEOUT_MS): Promise<{ id: number; observer: boolean | null } | null> {
  let text: string;
  try {
    text = await fourLetterWord(a.host, a.clientPort, 'conf', timeoutMs);
  } catch {
    return null;
  }
  const id = /^serverId=(\d{1,9})\s*$/m.exec(text)?.[1];
  if (id === undefined) return null;
  const peerType = /^peerType=(\d)\s*$/m.exec(text)?.[1];
  return { id: Number(id), observer: peerType === undefined ? null : peerType === '1' };
}

export function isLeaderMode(mode: MemberMode): boolean {
  return mode === 'leader' || mode === 'standalone';
}

/** The one member that leads (or runs standalone), or null when none or several do. */
export function soleLeader(statuses: readonly MemberStatus[]): number | null {
  const leaders = statuses.filter((s) => isLeaderMode(s.mode));
  return leaders.length === 1 ? leaders[0]!.id : null;
}

/**
 * Why each awaited member does not serve yet (empty when the ensemble serves): exactly one
 * leader, every awaited member serving in a mode its role allows, every learner caught up
 * with the leader (see caughtUp). `firstSeen` remembers each leader's zxid when first seen.
 */
export function notServing(
  members: readonly Member[],
  statuses: readonly MemberStatus[],
  awaited: readonly number[],
  firstSeen: Map<string, bigint>,
): Map<number, string> {
  const why = new Map<number, string>();
  const leaders = statuses.filter((s) => isLeaderMode(s.mode));
  const leader = leaders.length === 1 ? leaders[0] : undefined;
  const leaderKey = leader?.zxid == null ? null : `${leader.id}@${leader.zxid >> 32n}`;
  if (leaderKey !== null && !firstSeen.has(leaderKey)) firstSeen.set(leaderKey, leader!.zxid!);
  for (const id of awaited) {
    const s = statuses.find((x) => x.id === id);
    const m = members.find((x) => x.id === id);
    if (s === undefined || m === undefined) {
      why.set(id, 'not a member of the ensemble');
    } else if (s.zxid === null || s.mode === 'down' || s.mode === 'looking') {
      why.set(id, `mode ${s.mode}`);
    } else if (m.role === 'observer' ? s.mode !== 'observer' : s.mode === 'observer') {
      why.set(id, `reports mode ${s.mode} but is configured as ${m.role}`);
    } else if (leaders.length > 1) {
      why.set(id, `more than one member reports leader: ${leaders.map((l) => l.id).join(', ')}`);
    } else if (leader === undefined || leader.zxid === null || leaderKey === null) {
      why.set(id, 'no member reports leader yet');
    } else if (s.id !== leader.id && !caughtUp(s.zxid, leader.zxid, firstSeen.get(leaderKey) ?? leader.zxid)) {
      why.set(id, `zxid 0x${s.zxid.toString(16)} behind leader ${leader.id}'s 0x${leader.zxid.toString(16)}`);
    }
  }
  return why;
}

/**
 * Polls `status` until the awaited members serve (see notServing); throws HarnessError
 * DRIVER after timeoutMs naming each member that does not, and why.
 */
export async function waitMembersServing(
  members: readonly Member[],
  status: () => Promise<MemberStatus[]>,
  awaited: readonly number[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const firstSeen = new Map<string, bigint>();
  for (;;) {
    const why = notServing(members, await status(), awaited, firstSeen);
    if (why.size === 0) return;
    if (Date.now() >= deadline) {
      const lines = [...why].map(([id, reason]) => {
        const m = members.find((x) => x.id === id);
        return `  server ${id}${m === undefined ? '' : ` (${hostPort(m.host, m.clientPort)})`}: ${reason}`;
      });
      throw new HarnessError('ZABLAB_BENCH_DRIVER', [`the ensemble did not serve within ${timeoutMs} ms:`, ...lines].join('\n'));
    }
    await sleep(SERVING_POLL_MS);
  }
}
