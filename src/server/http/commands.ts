/**
 * ZooKeeper's AdminServer commands (server/admin/Commands.java, 3.8): names, aliases and
 * JSON shapes. Every answer carries `command` (the primary name) and `error` (null, or what
 * went wrong), after the command's own fields, as ZooKeeper orders them. 64-bit ids and
 * zxids are JSON integers, exact (see json.ts).
 *
 * `authRequired` marks the commands that need the HTTP face's token (access.ts). ZooKeeper
 * 3.9 asks credentials only of snapshot, restore and shed_connections, which zablab does not
 * have; zablab also asks them of every command that resets state (crst, srst) or shows
 * sessions, connections, watched paths or the config file's text (cons, stat, dump, wchc,
 * wchp, icfg). Counts and server state (mntr, srvr, wchs, conf, ...) stay open.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeSnapshotName, VERSION_DIR } from '../../storage/index.js';
import { counterOf, epochOf } from '../../zab/index.js';
import type { ServerSpec, ZabConfig } from '../config.js';
import { ZK_NOT_SERVING, type ConnectionView, type ServerView } from '../four-letter.js';
import type { ZooKeeperServer } from '../zk-server.js';
import type { JsonValue } from './json.js';
import { zabPhase, type QuorumDeps } from './quorum-view.js';

type JsonObject = Record<string, JsonValue>;

export interface CommandContext {
  server: ZooKeeperServer;
  view: ServerView;
  cfg: ZabConfig;
  quorum?: QuorumDeps;
}

export interface AdminCommand {
  /** The primary name first, then aliases (ZooKeeper's order). */
  readonly names: readonly string[];
  /** Answer only while serving; otherwise the error is ZooKeeper's "not currently serving". */
  readonly serverRequired: boolean;
  /** Needs the HTTP face's credentials (ZooKeeper's AuthRequest): it resets state or reveals sessions, connections, watches or data. */
  readonly authRequired: boolean;
  run(ctx: CommandContext): JsonObject | Promise<JsonObject>;
}

function cmd(names: string[], run: AdminCommand['run'], serverRequired = true): AdminCommand {
  return { names, serverRequired, authRequired: false, run };
}

/** A command behind the HTTP face's credentials. */
function guarded(command: AdminCommand): AdminCommand {
  return { ...command, authRequired: true };
}

/** Every command, in ZooKeeper's registration order. */
export const ADMIN_COMMANDS: readonly AdminCommand[] = [
  guarded(
    cmd(['connection_stat_reset', 'crst'], ({ view }) => {
      view.resetConnectionStats();
      return {};
    }),
  ),
  cmd(['configuration', 'conf', 'config'], ({ cfg }) => configuration(cfg)),
  guarded(
    cmd(['connections', 'cons'], ({ view }) => ({
      connections: [...view.connections()].map((c) => connectionInfo(c, false)),
      secure_connections: [],
    })),
  ),
  cmd(['dirs'], ({ view }) => ({ datadir_size: view.dataDirSizeBytes(), logdir_size: view.logDirSizeBytes() })),
  guarded(cmd(['dump'], ({ view }) => dump(view))),
  cmd(['environment', 'env', 'envi'], ({ view }) => Object.fromEntries(view.environment()), false),
  // The config file's text may hold ssl.quorum.keyStore.password.
  guarded(cmd(['initial_configuration', 'icfg'], ({ cfg }) => ({ initial_configuration: initialConfiguration(cfg) }))),
  cmd(['is_read_only', 'isro'], () => ({ read_only: false })),
  cmd(['last_snapshot', 'lsnp'], ({ server, cfg }) => lastSnapshot(server, cfg)),
  cmd(['leader', 'lead'], (ctx) => leader(ctx)),
  cmd(['monitor', 'mntr'], ({ view }) => monitor(view), false),
  cmd(['ruok'], () => ({})),
  cmd(['server_stats', 'srvr'], ({ view }) => serverStats(view)),
  guarded(
    cmd(['stats', 'stat'], ({ view }) => ({
      ...serverStats(view),
      connections: [...view.connections()].map((c) => connectionInfo(c, true)),
      secure_connections: [],
    })),
  ),
  guarded(
    cmd(['stat_reset', 'srst'], ({ view }) => {
      view.resetStats();
      return {};
    }),
  ),
  cmd(['voting_view'], ({ cfg }) => votingView(cfg)),
  guarded(
    cmd(['watches', 'wchc'], ({ view }) => ({
      session_id_to_watched_paths: Object.fromEntries([...view.watchesBySession()].map(([id, paths]) => [id.toString(), [...paths]])),
    })),
  ),
  guarded(
    cmd(['watches_by_path', 'wchp'], ({ view }) => ({
      path_to_session_ids: Object.fromEntries([...view.watchesByPath()].map(([p, ids]) => [p, [...ids]])),
    })),
  ),
  cmd(['watch_summary', 'wchs'], ({ view }) => {
    const s = view.watchSummary();
    return { num_connections: s.connections, num_paths: s.paths, num_total_watches: s.watches };
  }),
  cmd(['zabstate'], (ctx) => zabstate(ctx), false),
];

const byName = new Map<string, AdminCommand>(ADMIN_COMMANDS.flatMap((c) => c.names.map((n) => [n, c] as const)));

export function findCommand(name: string): AdminCommand | undefined {
  return byName.get(name);
}

/** Primary names, sorted (ZooKeeper's command list). */
export function primaryNames(): string[] {
  return ADMIN_COMMANDS.map((c) => c.names[0]!).sort();
}

/**
 * Run `name` as ZooKeeper's Commands.runCommand does: an unknown name or a server that is
 * not serving is reported in `error`, never as an exception.
 */
export async function runCommand(name: string, ctx: CommandContext): Promise<JsonObject> {
  const command = findCommand(name);
  if (command === undefined) return { command: name, error: `Unknown command: ${name}` };
  const primary = command.names[0]!;
  if (command.serverRequired && !ctx.view.isServing()) return { command: primary, error: ZK_NOT_SERVING };
  const data = await command.run(ctx);
  // ZooKeeper's CommandResponse.toMap: the command's fields, then command and error (a field named error keeps its place).
  const out: JsonObject = { ...data, command: primary };
  if (!('error' in data)) out['error'] = null;
  return out;
}

// ---- the commands ----------------------------------------------------------------------

/** ZooKeeperServerConf.toMap. */
function configuration(cfg: ZabConfig): JsonObject {
  return {
    client_port: cfg.clientPort,
    data_dir: path.join(cfg.dataDir, VERSION_DIR),
    data_log_dir: path.join(cfg.dataLogDir, VERSION_DIR),
    tick_time: cfg.tickTime,
    max_client_cnxns: cfg.maxClientCnxns,
    min_session_timeout: cfg.minSessionTimeout,
    max_session_timeout: cfg.maxSessionTimeout,
    server_id: cfg.serverId,
    client_port_listen_backlog: cfg.clientPortListenBacklog,
  };
}

/** The config file as read at startup (ZooKeeper keeps its text), else the keys as parsed. */
function initialConfiguration(cfg: ZabConfig): string {
  if (cfg.configPath !== undefined) {
    try {
      return fs.readFileSync(cfg.configPath, 'utf8');
    } catch {
      // Moved or removed since startup: fall back to what was parsed.
    }
  }
  return [...cfg.raw].map(([k, v]) => `${k}=${v}\n`).join('');
}

function socketAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** ServerCnxn.getConnectionInfo. */
export function connectionInfo(c: ConnectionView, brief: boolean): JsonObject {
  const info: JsonObject = {
    remote_socket_address: socketAddress(c.remoteAddress, c.remotePort),
    interest_ops: c.interestOps,
    outstanding_requests: c.outstandingRequests,
    packets_received: c.packetsReceived,
    packets_sent: c.packetsSent,
  };
  if (brief) return info;
  return {
    ...info,
    session_id: c.sessionId,
    last_operation: c.lastOperation,
    established: c.establishedMs,
    session_timeout: c.sessionTimeoutMs,
    last_cxid: c.lastCxid,
    last_zxid: c.lastZxid,
    last_response_time: c.lastResponseMs,
    last_latency: c.lastLatencyMs,
    min_latency: c.minLatencyMs,
    avg_latency: Math.trunc(c.avgLatencyMs),
    max_latency: c.maxLatencyMs,
  };
}

/** Learners know session timeouts, not expiry times: ZooKeeper's learners answer an empty map. */
function dump(view: ServerView): JsonObject {
  const expiry: Record<string, bigint[]> = {};
  const state = view.state();
  if (state !== 'follower' && state !== 'observer') {
    const sessions = [...view.sessions()].sort((a, b) => a.expiresAtMs - b.expiresAtMs);
    for (const s of sessions) (expiry[String(Math.round(s.expiresAtMs))] ??= []).push(s.sessionId);
  }
  const ephemerals: Record<string, string[]> = {};
  for (const [id, paths] of view.ephemerals()) ephemerals[id.toString()] = [...paths];
  return { expiry_time_to_session_ids: expiry, session_id_to_ephemeral_paths: ephemerals };
}

/** The newest snapshot file: zxid as Long.toHexString, its mtime in seconds; "ffffffffffffffff"/-1 when none. */
async function lastSnapshot(server: ZooKeeperServer, cfg: ZabConfig): Promise<JsonObject> {
  const newest = (await server.db.snaps.list())[0];
  if (newest === undefined) return { zxid: 'ffffffffffffffff', timestamp: -1 };
  let timestamp = -1;
  try {
    const st = await fs.promises.stat(path.join(cfg.dataDir, VERSION_DIR, makeSnapshotName(newest)));
    timestamp = Math.floor(st.mtimeMs / 1000);
  } catch {
    // Purged since listed.
  }
  return { zxid: BigInt.asUintN(64, newest).toString(16), timestamp };
}

function leader({ cfg, quorum }: CommandContext): JsonObject {
  if (quorum === undefined) return { error: 'server is not initialized' };
  const id = quorum.peer.leaderId;
  const spec = id === null ? undefined : cfg.servers.find((s) => s.id === id);
  return { is_leader: quorum.peer.state === 'LEADING', leader_id: id ?? -1, leader_ip: spec?.host ?? '' };
}

/** Round as ZooKeeper's 4lw prints averages (4 decimals). */
function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** ZooKeeperServer.dumpMonitorValues (+ the telemetry's values), keys without the 4lw's zk_ prefix. */
function monitor(view: ServerView): JsonObject {
  const state = view.state();
  const s = view.stats();
  const t = view.tree();
  const out: JsonObject = { version: view.version, server_state: state };
  const zab = state === 'standalone' ? undefined : view.zabState?.();
  if (zab !== undefined) {
    const peer = state === 'leader' ? 'leading' : state === 'follower' ? 'following' : 'observing';
    let peerState = zab.phase === 'election' ? peer : `${peer} - ${zab.phase}`;
    if (zab.syncMode !== 'none') peerState += ` - ${zab.syncMode}`;
    out['peer_state'] = peerState;
  }
  const observerMasterId = state === 'observer' ? view.observerMasterId?.() : undefined;
  if (observerMasterId !== undefined) out['observer_master_id'] = observerMasterId;
  Object.assign(out, {
    avg_latency: round4(s.avgLatencyMs),
    max_latency: s.maxLatencyMs,
    min_latency: s.minLatencyMs,
    packets_received: s.packetsReceived,
    packets_sent: s.packetsSent,
    num_alive_connections: s.numAliveConnections,
    outstanding_requests: s.outstandingRequests,
    znode_count: t.nodeCount,
    watch_count: t.watchCount,
    ephemerals_count: t.ephemeralsCount,
    approximate_data_size: t.approximateDataSize,
  });
  const openFds = view.openFileDescriptorCount?.();
  const maxFds = view.maxFileDescriptorCount?.();
  if (openFds !== undefined) out['open_file_descriptor_count'] = openFds;
  if (maxFds !== undefined) out['max_file_descriptor_count'] = maxFds;
  Object.assign(out, {
    uptime: s.uptimeMs,
    global_sessions: view.sessionCount(),
    local_sessions: view.localSessionCount?.() ?? 0,
    last_client_response_size: s.lastClientResponseSize,
    max_client_response_size: s.maxClientResponseSize,
    min_client_response_size: s.minClientResponseSize,
  });
  const quorumSize = state === 'standalone' ? undefined : view.quorumSize?.();
  if (quorumSize !== undefined) out['quorum_size'] = quorumSize;
  const leader = state === 'leader' ? view.leaderStats?.() : undefined;
  if (leader !== undefined) {
    Object.assign(out, {
      learners: leader.learners,
      synced_followers: leader.syncedFollowers,
      synced_non_voting_followers: leader.syncedNonVotingFollowers,
      synced_observers: leader.syncedObservers,
      pending_syncs: leader.pendingSyncs,
      leader_uptime: leader.leaderUptimeMs,
      last_proposal_size: leader.lastProposalSize,
      max_proposal_size: leader.maxProposalSize,
      min_proposal_size: leader.minProposalSize,
    });
  }
  for (const [key, value] of view.monitorValues?.() ?? []) out[key] = value;
  return out;
}

function bufferStats(last: number, min: number, max: number): JsonObject {
  return { last_buffer_size: last, min_buffer_size: min, max_buffer_size: max };
}

/** SrvrCommand: ServerStats as Jackson writes it. Counters zablab does not keep are 0. */
function serverStats(view: ServerView): JsonObject {
  const s = view.stats();
  const clientResponse = bufferStats(s.lastClientResponseSize, s.minClientResponseSize, s.maxClientResponseSize);
  const state = view.state();
  const out: JsonObject = {
    version: view.version,
    read_only: false,
    server_stats: {
      packets_sent: s.packetsSent,
      packets_received: s.packetsReceived,
      fsync_threshold_exceed_count: 0,
      client_response_stats: clientResponse,
      data_dir_size: view.dataDirSizeBytes(),
      log_dir_size: view.logDirSizeBytes(),
      provider_null: false,
      server_state: state,
      last_processed_zxid: s.lastProcessedZxid,
      outstanding_requests: s.outstandingRequests,
      avg_latency: round4(s.avgLatencyMs),
      max_latency: s.maxLatencyMs,
      min_latency: s.minLatencyMs,
      num_alive_client_connections: s.numAliveConnections,
      uptime: s.uptimeMs,
      auth_failed_count: s.authFailedCount,
      non_mtlsremote_conn_count: 0,
      non_mtlslocal_conn_count: 0,
    },
    client_response: clientResponse,
  };
  const leader = state === 'leader' ? view.leaderStats?.() : undefined;
  if (leader !== undefined) out['proposal_stats'] = bufferStats(leader.lastProposalSize, leader.minProposalSize, leader.maxProposalSize);
  out['node_count'] = view.tree().nodeCount;
  return out;
}

function clientAddress(s: ServerSpec): string {
  if (s.clientPort === undefined) return '';
  return socketAddress(s.clientHost ?? '0.0.0.0', s.clientPort);
}

/** The voting members of the configuration (observers are not in ZooKeeper's voting view). */
function votingView(cfg: ZabConfig): JsonObject {
  if (cfg.standalone) return { current_config: {} };
  const current: Record<string, JsonValue> = {};
  for (const s of cfg.servers) {
    if (s.role !== 'participant') continue;
    current[String(s.id)] = {
      server_addresses: [socketAddress(s.host, s.quorumPort)],
      election_addresses: [socketAddress(s.host, s.electionPort)],
      client_address: clientAddress(s),
      learner_type: 'participant',
    };
  }
  return { current_config: current };
}

/** A MultipleAddresses as Jackson writes it (one address per server here). */
function multipleAddresses(host: string, port: number): JsonObject {
  const a = socketAddress(host, port);
  return {
    empty: false,
    all_addresses: [a],
    all_reachable_addresses: [a],
    one: a,
    reachable_address: a,
    wildcard_addresses: [socketAddress('0.0.0.0', port)],
    all_ports: [port],
    all_host_strings: [host],
    all_reachable_addresses_or_all: [a],
    reachable_or_one: a,
  };
}

function zabstate({ cfg, quorum, server }: CommandContext): JsonObject {
  if (quorum === undefined) return { voting: false, zabstate: '' };
  const self = cfg.servers.find((s) => s.id === cfg.serverId);
  const zxid = server.lastProcessedZxid;
  return {
    myid: cfg.serverId,
    is_leader: quorum.peer.state === 'LEADING',
    quorum_address: self === undefined ? null : multipleAddresses(self.host, self.quorumPort),
    election_address: self === undefined ? null : multipleAddresses(self.host, self.electionPort),
    client_address: socketAddress(cfg.clientPortAddress, cfg.clientPort),
    voting: quorum.peer.quorum.isVoter(cfg.serverId),
    last_zxid: `0x${BigInt.asUintN(64, zxid).toString(16)}`,
    zab_epoch: Number(epochOf(zxid)),
    zab_counter: Number(counterOf(zxid)),
    zabstate: zabPhase(quorum.peer),
  };
}
