/** The running server as the four-letter words (and later the AdminServer) see it. */
import fs from 'node:fs';
import path from 'node:path';
import type { Watcher } from '../tree/index.js';
import type { ClientPortListener } from './cnxn-factory.js';
import type { ServerCnxn } from './cnxn.js';
import { formatFullVersion, nodeEnvironment, type ConnectionView, type ServerView } from './four-letter.js';
import type { ZooKeeperServer } from './zk-server.js';
import type { Peer } from '../zab/index.js';
import type { GaugeView, Role } from '../telemetry/index.js';

const ZABLAB_VERSION = '0.1.0';
const BUILT_ON = new Date();

function dirBytes(dir: string): number {
  let total = 0;
  try {
    for (const f of fs.readdirSync(dir)) {
      try {
        total += fs.statSync(path.join(dir, f)).size;
      } catch {
        // Purged between readdir and stat.
      }
    }
  } catch {
    return 0;
  }
  return total;
}

/** How old the open-descriptor count may be before a new listing is started. */
const FD_COUNT_MAX_AGE_MS = 1000;
let fdCount: number | null = null;
let fdCountAt = 0;
let fdListing = false;

/**
 * Open descriptors, from a listing of /proc/self/fd at most about a second old, taken off the
 * event loop: a server holding 2,500 client sockets spent tens of ms in a synchronous listing,
 * and the bench reads mntr four times a second. Only the first call lists synchronously.
 */
function openFileDescriptorCount(): number {
  if (fdCount === null) {
    try {
      fdCount = fs.readdirSync('/proc/self/fd').length;
    } catch {
      fdCount = -1;
    }
    fdCountAt = performance.now();
  } else if (!fdListing && performance.now() - fdCountAt > FD_COUNT_MAX_AGE_MS) {
    fdListing = true;
    fs.promises
      .readdir('/proc/self/fd')
      .then(
        (names) => (fdCount = names.length),
        () => (fdCount = -1),
      )
      .finally(() => {
        fdListing = false;
        fdCountAt = performance.now();
      });
  }
  return fdCount;
}

function maxFileDescriptorCount(): number {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? -1 : Number(soft);
  } catch {
    return -1;
  }
}

function connectionView(c: ServerCnxn, server: ZooKeeperServer): ConnectionView {
  const s = c.sessionId === 0n ? undefined : server.sessions.get(c.sessionId);
  return {
    remoteAddress: c.remoteAddress,
    remotePort: c.remotePort,
    interestOps: 1,
    outstandingRequests: c.outstanding,
    packetsReceived: c.packetsReceived,
    packetsSent: c.packetsSent,
    sessionId: c.sessionId,
    lastOperation: c.lastOp,
    establishedMs: c.establishedAtMs,
    sessionTimeoutMs: c.sessionTimeoutMs,
    lastCxid: c.lastCxid,
    lastZxid: c.lastZxid,
    lastResponseMs: c.lastResponseAtMs,
    lastLatencyMs: Math.round(c.lastLatencyMs),
    minLatencyMs: c.minLatencyMs === Number.MAX_SAFE_INTEGER ? 0 : Math.round(c.minLatencyMs),
    avgLatencyMs: Math.round(c.avgLatencyMs),
    maxLatencyMs: Math.round(c.maxLatencyMs),
    // A connection without a session yet is closed at nio.sessionlessCnxnTimeout after it was accepted.
    expiresAtMs: s ? Date.now() + Math.max(0, s.expireAtMs - performance.now()) : c.establishedAtMs + server.cfg.sessionlessCnxnTimeoutMs,
  };
}

function sessionOf(w: Watcher): bigint {
  return (w as Partial<ServerCnxn>).sessionId ?? 0n;
}

export function buildServerView(server: ZooKeeperServer, listener: ClientPortListener): ServerView {
  const tree = () => server.db.tree;
  const version = formatFullVersion(ZABLAB_VERSION, BUILT_ON);
  return {
    version,
    isServing: () => server.serving,
    state: () => server.state,
    stats: () => ({
      minLatencyMs: Math.round(server.stats.minLatencyMs),
      avgLatencyMs: server.stats.avgLatencyMs,
      maxLatencyMs: Math.round(server.stats.maxLatencyMs),
      packetsReceived: server.stats.packetsReceived,
      packetsSent: server.stats.packetsSent,
      numAliveConnections: listener.cnxns.size,
      outstandingRequests: server.outstandingRequests,
      lastProcessedZxid: server.reportedZxid,
      uptimeMs: Date.now() - server.startedAtMs,
      lastClientResponseSize: -1,
      authFailedCount: server.stats.authFailed,
      minClientResponseSize: -1,
      maxClientResponseSize: -1,
    }),
    resetStats: () => server.stats.reset(),
    tree: () => {
      return {
        nodeCount: tree().nodeCount,
        watchCount: tree().watchCount(),
        ephemeralsCount: tree().ephemeralCount(),
        approximateDataSize: tree().approximateDataSize(),
      };
    },
    connections: () => [...listener.cnxns].map((c) => connectionView(c, server)),
    resetConnectionStats: () => {
      for (const c of listener.cnxns) c.resetStats();
    },
    sessionCount: () => server.sessions.size,
    sessions: () =>
      [...server.sessions.all()].map((s) => ({
        sessionId: s.id,
        timeoutMs: s.timeoutMs,
        expiresAtMs: Date.now() + Math.max(0, s.expireAtMs - performance.now()),
      })),
    ephemerals: () => [...tree().ephemeralSessions()].map(([id, paths]) => [id, [...paths]] as const),
    watchSummary: () => tree().watchSummary(),
    watchesBySession: () => [...tree().watchesByWatcher()].map(([w, paths]) => [sessionOf(w), paths] as const),
    watchesByPath: () => [...tree().watchesByPath()].map(([p, ws]) => [p, ws.map(sessionOf)] as const),
    dataDirSizeBytes: () => dirBytes(path.join(server.cfg.dataDir, 'version-2')),
    logDirSizeBytes: () => dirBytes(path.join(server.cfg.dataLogDir, 'version-2')),
    environment: () => nodeEnvironment(version),
    openFileDescriptorCount,
    maxFileDescriptorCount,
    // zablab's own: the data tree's digest (ZooKeeper's v2 digest) and the zxid it covers, so
    // that replicas can be compared for divergence. Left out while a loaded tree's digests are
    // still being counted in idle steps (seconds at a million znodes), rather than stall for them.
    monitorValues: () => {
      const digest = tree().countedDigest();
      return [
        ...(digest === null ? [] : [['tree_digest', BigInt.asUintN(64, digest)] as const]),
        ['last_processed_zxid', server.lastProcessedZxid],
        ...server.telemetry.monitorValues(),
      ];
    },
  };
}

function roleOf(server: ZooKeeperServer, peer: Peer | undefined): Role {
  if (peer === undefined) return 'standalone';
  switch (peer.state) {
    case 'LOOKING':
      return 'looking';
    case 'LEADING':
      return 'leader';
    case 'FOLLOWING':
      return server.serving ? 'follower' : 'looking';
    case 'OBSERVING':
      return server.serving ? 'observer' : 'looking';
  }
}

/** What the telemetry's gauges read at each collection (a quorum server passes its peer). */
export function metricsView(server: ZooKeeperServer, listener: ClientPortListener, peer?: Peer): GaugeView {
  return () => {
    const tree = server.db.tree;
    const stats = server.stats;
    const learners = peer?.state === 'LEADING' ? peer.learnerStages() : null;
    return {
      role: roleOf(server, peer),
      outstandingRequests: server.outstandingRequests,
      avgLatencyMs: stats.avgLatencyMs,
      minLatencyMs: stats.minLatencyMs,
      maxLatencyMs: stats.maxLatencyMs,
      packetsReceived: stats.packetsReceived,
      packetsSent: stats.packetsSent,
      numAliveConnections: listener.cnxns.size,
      znodeCount: tree.nodeCount,
      watchCount: tree.watchCount(),
      ephemeralsCount: tree.ephemeralCount(),
      approximateDataSize: tree.approximateDataSize(),
      globalSessions: server.db.sessionsWithTimeouts.size,
      uptimeMs: Date.now() - server.startedAtMs,
      throttledOps: stats.throttledOps,
      connectionDropProbability: listener.throttle.dropChance,
      lastProcessedZxid: server.lastProcessedZxid,
      quorum:
        peer === undefined
          ? undefined
          : { quorumSize: peer.quorum.voters.size, epoch: peer.epochs.current, acceptedEpoch: peer.epochs.accepted, lastLoggedZxid: peer.lastLoggedZxid },
      leader:
        learners === null
          ? undefined
          : {
              learners: learners.length,
              syncedFollowers: learners.filter((l) => l.synced && !l.observer).length,
              syncedObservers: learners.filter((l) => l.synced && l.observer).length,
              outstandingProposals: peer!.outstandingProposals,
            },
    };
  };
}
