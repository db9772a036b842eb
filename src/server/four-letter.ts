/**
 * ZooKeeper's four-letter words on the client port: a connection whose first 4 bytes spell a
 * known word gets a text answer and is closed. Output formats follow ZooKeeper 3.8 byte for
 * byte, so scripts and monitoring written for ZooKeeper keep working; commands outside
 * `4lw.commands.whitelist` answer "<cmd> is not executed because it is not in the whitelist."
 *
 * The server describes itself through ServerView, a plain interface of cheap getters.
 */
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { FOUR_LETTER_WORDS, type FourLetterWord } from './config-keys.js';
import { formatServerSpec, type ZabConfig } from './config.js';

export { FOUR_LETTER_WORDS, type FourLetterWord } from './config-keys.js';

/** The ZooKeeper release whose client protocol and 4lw formats zablab follows. */
export const ZOOKEEPER_COMPAT_VERSION = '3.8.0';

/** What most words answer while the server cannot serve (starting, electing, closing). */
export const ZK_NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

/** Longest answer; a server with millions of watches must not build a gigabyte string. */
export const FOUR_LETTER_OUTPUT_MAX_CHARS = 16 * 1024 * 1024;

export type ServerState = 'standalone' | 'leader' | 'follower' | 'observer';
/** ZAB's phases as ZooKeeper names them (QuorumPeer.ZabState). */
export type ZabPhase = 'election' | 'discovery' | 'synchronization' | 'broadcast';
/** How a learner is being synced (QuorumPeer.SyncMode). */
export type SyncMode = 'none' | 'diff' | 'snap' | 'trunc';

/** ServerStats: counters since start or the last `srst`. Latencies in ms. */
export interface ServerStatsView {
  minLatencyMs: number;
  /** Mean, any precision; printed rounded to 4 decimals as ZooKeeper does. */
  avgLatencyMs: number;
  maxLatencyMs: number;
  packetsReceived: number;
  packetsSent: number;
  numAliveConnections: number;
  outstandingRequests: number;
  lastProcessedZxid: bigint;
  uptimeMs: number;
  /** Bytes of client responses; -1 before the first. */
  lastClientResponseSize: number;
  /** TLS clients refused at the handshake or for their certificate. */
  authFailedCount: number;
  minClientResponseSize: number;
  maxClientResponseSize: number;
}

export interface DataTreeStats {
  nodeCount: number;
  /** All watches, data and child (mntr's zk_watch_count). */
  watchCount: number;
  ephemeralsCount: number;
  /** Sum of path lengths and data sizes, as DataTree.approximateDataSize. */
  approximateDataSize: number;
}

/** Watch table summary. ZooKeeper's wchs/wchc/wchp report data watches (getData/exists) only. */
export interface WatchSummary {
  connections: number;
  paths: number;
  watches: number;
}

/** The leader's view of its learners (mntr, and the proposal sizes in srvr/stat). */
export interface LeaderStatsView {
  learners: number;
  syncedFollowers: number;
  syncedNonVotingFollowers: number;
  syncedObservers: number;
  pendingSyncs: number;
  leaderUptimeMs: number;
  /** Serialized proposal sizes in bytes; -1 before the first proposal. */
  lastProposalSize: number;
  minProposalSize: number;
  maxProposalSize: number;
}

/** One client connection (ServerCnxn's stats). */
export interface ConnectionView {
  /** The peer's IP as the socket reports it (an IPv4-mapped IPv6 address is shown as IPv4). */
  remoteAddress: string;
  remotePort: number;
  /** NIO interest ops: 1 = reading (OP_READ), 0 = reads paused (throttled or closing), |4 = a write is pending. */
  interestOps: number;
  outstandingRequests: number;
  packetsReceived: number;
  packetsSent: number;
  /** 0n before the session handshake. */
  sessionId: bigint;
  /** ZooKeeper's short op name of the last reply (GETD, SETD, CREA, PING, ...); 'NA' before any. */
  lastOperation: string;
  /** Wall-clock epoch ms when the connection was accepted. */
  establishedMs: number;
  sessionTimeoutMs: number;
  /** -1 when none yet. */
  lastCxid: number;
  /** -1n when none yet. */
  lastZxid: bigint;
  lastResponseMs: number;
  lastLatencyMs: number;
  minLatencyMs: number;
  /** Printed as an integer (ZooKeeper divides whole milliseconds). */
  avgLatencyMs: number;
  maxLatencyMs: number;
  /** When the connection expires if idle (epoch ms), for `dump`'s connection sets. */
  expiresAtMs: number;
}

/** A session this server tracks. */
export interface SessionView {
  sessionId: bigint;
  timeoutMs: number;
  /** Epoch ms. Standalone and leader group sessions by expiry time in `dump`; learners list timeouts. */
  expiresAtMs: number;
}

export interface ServerView {
  /** Text after "Zookeeper version: "; see formatFullVersion. */
  readonly version: string;
  /** False while starting, electing or closing: then most words answer ZK_NOT_SERVING. */
  isServing(): boolean;
  state(): ServerState;
  /** Quorum servers only: for mntr's zk_peer_state ("following - broadcast"). */
  zabState?(): { phase: ZabPhase; syncMode: SyncMode } | undefined;
  /** Quorum servers only: voters needed for a quorum. */
  quorumSize?(): number | undefined;
  /** Observers only: the id of the server they follow. */
  observerMasterId?(): number | undefined;
  /** Present while leading. */
  leaderStats?(): LeaderStatsView | undefined;
  stats(): ServerStatsView;
  /** `srst`: zero latencies, packet counts and response sizes. */
  resetStats(): void;
  tree(): DataTreeStats;
  connections(): Iterable<ConnectionView>;
  /** `crst`: reset every connection's counters and latencies. */
  resetConnectionStats(): void;
  /** Global sessions this server tracks. */
  sessions(): Iterable<SessionView>;
  /** How many sessions() lists, without listing them (mntr). */
  sessionCount(): number;
  localSessionCount?(): number;
  /** Session id → its ephemeral paths. */
  ephemerals(): Iterable<readonly [bigint, Iterable<string>]>;
  watchSummary(): WatchSummary;
  watchesBySession(): Iterable<readonly [bigint, Iterable<string>]>;
  watchesByPath(): Iterable<readonly [string, Iterable<bigint>]>;
  /** Bytes of snapshot files in dataDir/version-2 and of txn logs in dataLogDir/version-2. */
  dataDirSizeBytes(): number;
  logDirSizeBytes(): number;
  /** `envi` lines; see nodeEnvironment. */
  environment(): Iterable<readonly [string, string]>;
  openFileDescriptorCount?(): number;
  maxFileDescriptorCount?(): number;
  /** Further mntr lines, key without the zk_ prefix (counters and summaries from telemetry). */
  monitorValues?(): Iterable<readonly [string, number | bigint | string]>;
}

const wordCodes: ReadonlyMap<number, FourLetterWord> = new Map(
  FOUR_LETTER_WORDS.map((w) => [Buffer.from(w, 'latin1').readInt32BE(0), w]),
);

/** The word spelled by a connection's first 4 bytes (its would-be length prefix), if any. */
export function fourLetterWordOf(first4: Buffer): FourLetterWord | undefined {
  if (first4.length < 4) return undefined;
  return wordCodes.get(first4.readInt32BE(0));
}

/** Whether a connection's first 4 bytes are a four-letter word rather than a length prefix. */
export function isFourLetterWord(first4: Buffer): boolean {
  return fourLetterWordOf(first4) !== undefined;
}

/** ZooKeeper's Version.getFullVersion() shape: "3.8.0-zablab-0.1.0, built on 2026-01-31 12:00 UTC". */
export function formatFullVersion(zablabVersion: string, builtOn: Date): string {
  const d = builtOn.toISOString();
  return `${ZOOKEEPER_COMPAT_VERSION}-zablab-${zablabVersion}, built on ${d.slice(0, 10)} ${d.slice(11, 16)} UTC`;
}

/** Answer to `cmd` (a word isFourLetterWord accepted); the server writes it and closes the connection. */
export function runFourLetterWord(cmd: string, view: ServerView, cfg: ZabConfig): string {
  const word = FOUR_LETTER_WORDS.find((w) => w === cmd);
  if (word === undefined) throw new RangeError(`"${cmd}" is not a four-letter word zablab implements`);
  if (!cfg.fourLetterWhitelist.has(word)) return `${word} is not executed because it is not in the whitelist.\n`;
  const out = new Out(FOUR_LETTER_OUTPUT_MAX_CHARS);
  try {
    answer(word, view, cfg, out);
  } catch (err) {
    if (!(err instanceof OutputFull)) throw err;
    out.parts.push(`\n(output truncated at ${FOUR_LETTER_OUTPUT_MAX_CHARS} characters)\n`);
  }
  return out.parts.join('');
}

function answer(word: FourLetterWord, view: ServerView, cfg: ZabConfig, out: Out): void {
  // These three answer whatever the state.
  if (word === 'ruok') return out.print('imok');
  if (word === 'envi') return envi(view, out);
  if (word === 'isro') return out.print(view.isServing() ? 'rw' : 'null');
  if (!view.isServing()) return out.println(ZK_NOT_SERVING);
  return answerServing(word, view, cfg, out);
}

function answerServing(word: Exclude<FourLetterWord, 'ruok' | 'envi' | 'isro'>, view: ServerView, cfg: ZabConfig, out: Out): void {
  switch (word) {
    case 'srvr':
    case 'stat':
      return stat(word, view, out);
    case 'conf':
      return conf(view, cfg, out);
    case 'cons':
      for (const c of view.connections()) out.println(connectionInfo(c, false));
      return out.println();
    case 'crst':
      view.resetConnectionStats();
      return out.println('Connection stats reset.');
    case 'srst':
      view.resetStats();
      return out.println('Server stats reset.');
    case 'dirs':
      out.println(`datadir_size: ${view.dataDirSizeBytes()}`);
      return out.println(`logdir_size: ${view.logDirSizeBytes()}`);
    case 'dump':
      return dump(view, out);
    case 'mntr':
      return mntr(view, out);
    case 'wchs': {
      const s = view.watchSummary();
      out.print(`${s.connections} connections watching ${s.paths} paths\nTotal watches:${s.watches}`);
      return out.println();
    }
    case 'wchc':
      for (const [sessionId, paths] of view.watchesBySession()) {
        out.println(`0x${longHex(sessionId)}`);
        for (const p of paths) out.println(`\t${p}`);
      }
      return out.println();
    case 'wchp':
      for (const [p, sessionIds] of view.watchesByPath()) {
        out.println(p);
        for (const id of sessionIds) out.println(`\t0x${longHex(id)}`);
      }
      return out.println();
  }
}

function stat(word: 'srvr' | 'stat', view: ServerView, out: Out): void {
  out.println(`Zookeeper version: ${view.version}`);
  if (word === 'stat') {
    out.println('Clients:');
    for (const c of view.connections()) out.println(connectionInfo(c, true));
    out.println();
  }
  const s = view.stats();
  const state = view.state();
  out.println(`Latency min/avg/max: ${s.minLatencyMs}/${javaDouble(s.avgLatencyMs)}/${s.maxLatencyMs}`);
  out.println(`Received: ${s.packetsReceived}`);
  out.println(`Sent: ${s.packetsSent}`);
  out.println(`Connections: ${s.numAliveConnections}`);
  out.println(`Outstanding: ${s.outstandingRequests}`);
  out.println(`Zxid: 0x${longHex(s.lastProcessedZxid)}`);
  out.println(`Mode: ${state}`);
  out.println(`Node count: ${view.tree().nodeCount}`);
  const leader = state === 'leader' ? view.leaderStats?.() : undefined;
  if (leader !== undefined) {
    out.println(`Proposal sizes last/min/max: ${leader.lastProposalSize}/${leader.minProposalSize}/${leader.maxProposalSize}`);
  }
}

/** ServerCnxn.dumpConnectionInfo. */
export function connectionInfo(c: ConnectionView, brief: boolean): string {
  let s = ` /${displayAddress(c.remoteAddress)}:${c.remotePort}[${c.interestOps === 0 ? '0' : c.interestOps.toString(16)}]`;
  s += `(queued=${c.outstandingRequests},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (!brief && c.sessionId !== 0n) {
    s += `,sid=0x${longHex(c.sessionId)},lop=${c.lastOperation},est=${c.establishedMs},to=${c.sessionTimeoutMs}`;
    if (c.lastCxid >= 0) s += `,lcxid=0x${longHex(BigInt(c.lastCxid))}`;
    s += `,lzxid=0x${longHex(c.lastZxid)},lresp=${c.lastResponseMs},llat=${c.lastLatencyMs}`;
    s += `,minlat=${c.minLatencyMs},avglat=${Math.trunc(c.avgLatencyMs)},maxlat=${c.maxLatencyMs}`;
  }
  return `${s})`;
}

function conf(view: ServerView, cfg: ZabConfig, out: Out): void {
  out.println(`clientPort=${cfg.clientPort}`);
  out.println(`secureClientPort=${cfg.secureClientPort === 0 ? -1 : cfg.secureClientPort}`); // ZooKeeper's -1: none
  out.println(`dataDir=${path.join(cfg.dataDir, 'version-2')}`);
  out.println(`dataDirSize=${view.dataDirSizeBytes()}`);
  out.println(`dataLogDir=${path.join(cfg.dataLogDir, 'version-2')}`);
  out.println(`dataLogSize=${view.logDirSizeBytes()}`);
  out.println(`tickTime=${cfg.tickTime}`);
  out.println(`maxClientCnxns=${cfg.maxClientCnxns}`);
  out.println(`minSessionTimeout=${cfg.minSessionTimeout}`);
  out.println(`maxSessionTimeout=${cfg.maxSessionTimeout}`);
  out.println(`clientPortListenBacklog=${cfg.clientPortListenBacklog}`);
  out.println(`serverId=${cfg.serverId}`);
  if (cfg.standalone) return;
  const self = cfg.servers.find((s) => s.id === cfg.serverId);
  out.println(`initLimit=${cfg.initLimit}`);
  out.println(`syncLimit=${cfg.syncLimit}`);
  out.println('electionAlg=3');
  out.println(`electionPort=${self?.electionPort ?? ''}`);
  out.println(`quorumPort=${self?.quorumPort ?? ''}`);
  out.println(`peerType=${cfg.peerType === 'observer' ? 1 : 0}`); // LearnerType ordinal
  out.println('membership: ');
  for (const s of cfg.servers) out.println(`server.${s.id}=${formatServerSpec(s)}`); // QuorumServer.toString
  out.print('version=0'); // no reconfig, so the config version stays 0 (and ZooKeeper prints no newline)
}

function dump(view: ServerView, out: Out): void {
  out.println('SessionTracker dump:');
  const state = view.state();
  const sessions = [...view.sessions()];
  if (state === 'follower' || state === 'observer') {
    // LearnerSessionTracker: the learner knows timeouts, not expiry times.
    out.println(`Global Sessions(${sessions.length}):`);
    sessions.sort((a, b) => compareLong(a.sessionId, b.sessionId));
    for (const s of sessions) out.println(`0x${longHex(s.sessionId)}\t${s.timeoutMs}ms`);
  } else {
    out.print('Session ');
    expirySets(sessions.map((s) => [s.expiresAtMs, `0x${longHex(s.sessionId)}`]), out);
  }
  out.println('ephemeral nodes dump:');
  const ephemerals = [...view.ephemerals()];
  out.println(`Sessions with Ephemerals (${ephemerals.length}):`);
  for (const [sessionId, paths] of ephemerals) {
    out.println(`0x${longHex(sessionId)}:`);
    for (const p of paths) out.println(`\t${p}`);
  }
  out.println('Connections dump:');
  out.print('Connections ');
  const conns = [...view.connections()].map((c): [number, string] => [
    c.expiresAtMs,
    `ip: /${displayAddress(c.remoteAddress)}:${c.remotePort} sessionId: 0x${longHex(c.sessionId)}`,
  ]);
  expirySets(conns, out);
}

/** ExpiryQueue.dump: "Sets (groups)/(elements):" then each expiry time with its elements. */
function expirySets(items: [number, string][], out: Out): void {
  const byTime = new Map<number, string[]>();
  for (const [t, s] of items) {
    const group = byTime.get(t);
    if (group === undefined) byTime.set(t, [s]);
    else group.push(s);
  }
  out.println(`Sets (${byTime.size})/(${items.length}):`);
  for (const t of [...byTime.keys()].sort((a, b) => a - b)) {
    const group = byTime.get(t)!;
    out.println(`${group.length} expire at ${javaDate(t)}:`);
    for (const s of group) out.println(`\t${s}`);
  }
}

function mntr(view: ServerView, out: Out): void {
  const line = (key: string, value: number | bigint | string): void => {
    out.println(`zk_${key}\t${typeof value === 'number' && !Number.isInteger(value) ? javaDouble(value) : String(value)}`);
  };
  const state = view.state();
  const s = view.stats();
  const t = view.tree();
  line('version', view.version);
  line('server_state', state);
  const zab = view.zabState?.();
  if (zab !== undefined && state !== 'standalone') {
    const peer = state === 'leader' ? 'leading' : state === 'follower' ? 'following' : 'observing';
    let peerState = zab.phase === 'election' ? peer : `${peer} - ${zab.phase}`;
    if (zab.syncMode !== 'none') peerState += ` - ${zab.syncMode}`;
    line('peer_state', peerState);
  }
  const observerMasterId = state === 'observer' ? view.observerMasterId?.() : undefined;
  if (observerMasterId !== undefined) line('observer_master_id', observerMasterId);
  line('avg_latency', javaDouble(s.avgLatencyMs));
  line('max_latency', s.maxLatencyMs);
  line('min_latency', s.minLatencyMs);
  line('packets_received', s.packetsReceived);
  line('packets_sent', s.packetsSent);
  line('num_alive_connections', s.numAliveConnections);
  line('outstanding_requests', s.outstandingRequests);
  line('znode_count', t.nodeCount);
  line('watch_count', t.watchCount);
  line('ephemerals_count', t.ephemeralsCount);
  line('approximate_data_size', t.approximateDataSize);
  const openFds = view.openFileDescriptorCount?.();
  const maxFds = view.maxFileDescriptorCount?.();
  if (openFds !== undefined) line('open_file_descriptor_count', openFds);
  if (maxFds !== undefined) line('max_file_descriptor_count', maxFds);
  line('uptime', s.uptimeMs);
  line('global_sessions', view.sessionCount());
  line('local_sessions', view.localSessionCount?.() ?? 0);
  line('last_client_response_size', s.lastClientResponseSize);
  line('max_client_response_size', s.maxClientResponseSize);
  line('min_client_response_size', s.minClientResponseSize);
  const quorumSize = state === 'standalone' ? undefined : view.quorumSize?.();
  if (quorumSize !== undefined) line('quorum_size', quorumSize);
  const leader = state === 'leader' ? view.leaderStats?.() : undefined;
  if (leader !== undefined) {
    line('learners', leader.learners);
    line('synced_followers', leader.syncedFollowers);
    line('synced_non_voting_followers', leader.syncedNonVotingFollowers);
    line('synced_observers', leader.syncedObservers);
    line('pending_syncs', leader.pendingSyncs);
    line('leader_uptime', leader.leaderUptimeMs);
    line('last_proposal_size', leader.lastProposalSize);
    line('max_proposal_size', leader.maxProposalSize);
    line('min_proposal_size', leader.minProposalSize);
  }
  for (const [key, value] of view.monitorValues?.() ?? []) line(key, value);
}

function envi(view: ServerView, out: Out): void {
  out.println('Environment:');
  for (const [k, v] of view.environment()) out.println(`${k}=${v}`);
}

/**
 * `envi` lines for a Node.js server, in the order and spelling of ZooKeeper's
 * Environment.list() where a Node.js equivalent exists (memory is the V8 heap, in MB).
 */
export function nodeEnvironment(version: string): [string, string][] {
  const heap = v8.getHeapStatistics();
  const mb = (bytes: number): string => `${Math.floor(bytes / (1024 * 1024))}MB`;
  let userName = '<NA>';
  try {
    userName = os.userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return [
    ['zookeeper.version', version],
    ['host.name', os.hostname()],
    ['node.version', process.version],
    ['node.v8', process.versions.v8],
    ['node.execPath', process.execPath],
    ['os.tmpdir', os.tmpdir()],
    ['os.name', os.type()],
    ['os.arch', os.arch()],
    ['os.version', os.release()],
    ['user.name', userName],
    ['user.home', os.homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(heap.total_heap_size - heap.used_heap_size)],
    ['os.memory.max', mb(heap.heap_size_limit)],
    ['os.memory.total', mb(heap.total_heap_size)],
  ];
}

// ---- Java-compatible formatting ---------------------------------------------------------

/** Long.toHexString: two's complement for negative values. */
export function longHex(v: bigint): string {
  return (v < 0n ? v + (1n << 64n) : v).toString(16);
}

function compareLong(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A latency average as ZooKeeper prints it: rounded half-up to 4 decimals, Java's Double.toString. */
export function javaDouble(x: number): string {
  const r = Math.round(x * 10_000) / 10_000;
  if (!Number.isFinite(r)) return r > 0 ? 'Infinity' : r < 0 ? '-Infinity' : 'NaN';
  const abs = Math.abs(r);
  if (abs !== 0 && (abs >= 1e7 || abs < 1e-3)) {
    const [mantissa = '0', exp = '0'] = r.toExponential().split('e');
    return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exp)}`;
  }
  return Number.isInteger(r) ? `${r}.0` : String(r);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** java.util.Date.toString in UTC: "Mon Nov 23 15:44:41 UTC 2026". */
export function javaDate(epochMs: number): string {
  const d = new Date(epochMs);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

function displayAddress(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice('::ffff:'.length) : addr;
}


class OutputFull extends Error {}

/** A PrintWriter that refuses to grow past a limit. */
class Out {
  readonly parts: string[] = [];
  private size = 0;
  constructor(private readonly maxChars: number) {}

  print(s: string): void {
    if (this.size + s.length > this.maxChars) throw new OutputFull();
    this.size += s.length;
    this.parts.push(s);
  }

  println(s = ''): void {
    this.print(`${s}\n`);
  }
}
