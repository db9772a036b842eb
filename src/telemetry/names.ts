/**
 * Every span, attribute and metric name zablab emits, in one place: the server, the
 * harness (span-derived breakdowns) and the dashboards all read them from here.
 *
 * Metric names are ZooKeeper's own (ServerMetrics, ZooKeeperServer.registerMetrics,
 * LeaderZooKeeperServer) wherever ZooKeeper has one, so that dashboards and alerts written
 * for ZooKeeper keep working; zablab's own carry a `zab_` prefix. Times are in ms, as
 * ZooKeeper's summaries are.
 */

export const SpanName = {
  /** Every client request, on the server the client talks to (pings excepted). */
  request: 'zk.request',
  /** Leader: a txn from creation to quorum to COMMIT sent. */
  proposal: 'zab.proposal',
  /** Every voter (the leader's own log too): proposal received → appended → fsynced → ACK sent. */
  ack: 'zab.ack',
  /** Every server, observers too: COMMIT/INFORM received (or decided, on the leader) → applied. */
  commit: 'zab.commit',
  /** One group fsync of the txn log; links to the traces of the txns it made durable. */
  fsync: 'zab.fsync',
  election: 'zab.election',
  discovery: 'zab.discovery',
  /** On a learner: its own synchronization; on the leader: one per learner it syncs. */
  sync: 'zab.sync',
  snapshot: 'zab.snapshot',
  sessionExpire: 'zab.session.expire',
} as const;
export type SpanName = (typeof SpanName)[keyof typeof SpanName];

export const Attr = {
  serverId: 'zab.server.id',
  role: 'zab.role',
  zxid: 'zab.zxid',
  epoch: 'zab.epoch',
  /** The server a message came from (an ACK's sender, a learner being synced). */
  peer: 'zab.peer.id',
  leader: 'zab.leader.id',
  acks: 'zab.acks',
  syncMode: 'zab.sync.mode',
  syncTxns: 'zab.sync.txns',
  /** A DIFF that reached past the txns in memory into the leader's txn log. */
  syncFromLog: 'zab.sync.from_log',
  electionEpoch: 'zab.election.epoch',
  electionVotes: 'zab.election.votes',
  reason: 'zab.reason',
  fsyncTxns: 'zab.fsync.txns',
  snapshotBytes: 'zab.snapshot.bytes',
  op: 'zk.op',
  path: 'zk.path',
  sessionId: 'zk.session.id',
  sessionTimeoutMs: 'zk.session.timeout_ms',
  xid: 'zk.xid',
  errorCode: 'zk.error.code',
  errorName: 'zk.error.name',
} as const;

/** Span events (points inside a span). */
export const SpanEvent = {
  quorum: 'quorum',
  commitSent: 'commit sent',
  ackReceived: 'ack received',
  appended: 'appended',
  fsynced: 'fsynced',
  ackSent: 'ack sent',
  applied: 'applied',
} as const;

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  readonly name: string;
  readonly kind: MetricKind;
  /** 'ms', 'bytes', or '1' for counts. */
  readonly unit: string;
  readonly help: string;
  /** Where ZooKeeper reports it: every server, the leader, learners. */
  readonly on: 'all' | 'leader' | 'learner' | 'follower' | 'observer';
}

function m(name: string, kind: MetricKind, unit: string, on: MetricSpec['on'], help: string): MetricSpec {
  return { name, kind, unit, on, help };
}

/** Every metric, ZooKeeper's names first. Histograms are ZooKeeper's summaries. */
export const Metric = {
  // ZAB broadcast (ServerMetrics)
  proposalCount: m('proposal_count', 'counter', '1', 'leader', 'Proposals the leader created'),
  commitCount: m('commit_count', 'counter', '1', 'leader', 'Proposals the leader committed'),
  quorumAckLatency: m('quorum_ack_latency', 'histogram', 'ms', 'leader', 'Proposal created until a quorum acked it'),
  ackLatency: m('ack_latency', 'histogram', 'ms', 'leader', 'Proposal created until server `key` acked it (the leader included)'),
  proposalLatency: m('proposal_latency', 'histogram', 'ms', 'learner', 'Proposal created on the leader until received here'),
  commitPropagationLatency: m('commit_propagation_latency', 'histogram', 'ms', 'learner', 'Proposal created on the leader until committed here'),
  learnerProposalReceivedCount: m('learner_proposal_received_count', 'counter', '1', 'learner', 'PROPOSALs received from the leader'),
  learnerCommitReceivedCount: m('learner_commit_received_count', 'counter', '1', 'learner', 'COMMITs and INFORMs received from the leader'),
  // Storage
  fsyncTime: m('fsynctime', 'histogram', 'ms', 'all', 'Time of one (group) fsync of the txn log'),
  syncProcessorBatchSize: m('sync_processor_batch_size', 'histogram', '1', 'all', 'Txns made durable by one fsync'),
  snapshotTime: m('snapshottime', 'histogram', 'ms', 'all', 'Time to write one snapshot'),
  // Election, discovery, sync
  electionTime: m('election_time', 'histogram', 'ms', 'all', 'LOOKING until a leader is elected'),
  lookingCount: m('looking_count', 'counter', '1', 'all', 'Times this server entered LOOKING'),
  unavailableTime: m('unavailable_time', 'histogram', 'ms', 'all', 'LOOKING until serving clients again'),
  followerSyncTime: m('follower_sync_time', 'histogram', 'ms', 'follower', 'Elected until synced with the leader (follower)'),
  observerSyncTime: m('observer_sync_time', 'histogram', 'ms', 'observer', 'Elected until synced with the leader (observer)'),
  diffCount: m('diff_count', 'counter', '1', 'leader', 'Learners synced with a DIFF'),
  snapCount: m('snap_count', 'counter', '1', 'leader', 'Learners synced with a SNAP'),
  // Requests (ServerMetrics, ZooKeeperServer gauges)
  readLatency: m('readlatency', 'histogram', 'ms', 'all', 'Read request received until answered'),
  updateLatency: m('updatelatency', 'histogram', 'ms', 'all', 'Write request received until answered'),
  throttledOps: m('throttled_ops', 'counter', '1', 'all', 'Times a connection was paused by globalOutstandingLimit'),
  outstandingRequests: m('outstanding_requests', 'gauge', '1', 'all', 'Requests in process'),
  avgLatency: m('avg_latency', 'gauge', 'ms', 'all', 'Average request latency since the last reset'),
  minLatency: m('min_latency', 'gauge', 'ms', 'all', 'Minimum request latency since the last reset'),
  maxLatency: m('max_latency', 'gauge', 'ms', 'all', 'Maximum request latency since the last reset'),
  packetsReceived: m('packets_received', 'gauge', '1', 'all', 'Client packets received since the last reset'),
  packetsSent: m('packets_sent', 'gauge', '1', 'all', 'Client packets sent since the last reset'),
  numAliveConnections: m('num_alive_connections', 'gauge', '1', 'all', 'Open client connections'),
  // Client connections (ServerMetrics)
  sessionlessConnectionsExpired: m('sessionless_connections_expired', 'counter', '1', 'all', 'Connections closed for sending no whole ConnectRequest within nio.sessionlessCnxnTimeout'),
  connectionRejected: m('connection_rejected', 'counter', '1', 'all', 'Connections refused: maxClientCnxns, maxCnxns or the connection throttle'),
  connectionRequestCount: m('connection_request_count', 'counter', '1', 'all', 'ConnectRequests the connection throttle let through'),
  connectionTokenDeficit: m('connection_token_deficit', 'histogram', '1', 'all', 'Tokens missing from the connection throttle\'s bucket, at each ConnectRequest let through'),
  connectionDropProbability: m('connection_drop_probability', 'gauge', '1', 'all', 'Probability that the connection throttle drops a ConnectRequest at random (BLUE)'),
  connectionDropCount: m('connection_drop_count', 'counter', '1', 'all', 'Connections the client closed (ZooKeeper: a failed read)'),
  znodeCount: m('znode_count', 'gauge', '1', 'all', 'Znodes in the data tree'),
  watchCount: m('watch_count', 'gauge', '1', 'all', 'Watches set'),
  ephemeralsCount: m('ephemerals_count', 'gauge', '1', 'all', 'Ephemeral znodes'),
  approximateDataSize: m('approximate_data_size', 'gauge', 'bytes', 'all', 'Bytes of paths and data in the tree'),
  globalSessions: m('global_sessions', 'gauge', '1', 'all', 'Sessions this server tracks'),
  quorumSize: m('quorum_size', 'gauge', '1', 'all', 'Voting members of the ensemble'),
  uptime: m('uptime', 'gauge', 'ms', 'all', 'Time since the server started'),
  // Leader gauges (LeaderZooKeeperServer)
  learners: m('learners', 'gauge', '1', 'leader', 'Learners connected to the leader'),
  syncedFollowers: m('synced_followers', 'gauge', '1', 'leader', 'Followers in broadcast'),
  syncedNonVotingFollowers: m('synced_non_voting_followers', 'gauge', '1', 'leader', 'Non-voting followers in broadcast (always 0)'),
  syncedObservers: m('synced_observers', 'gauge', '1', 'leader', 'Observers in broadcast'),
  pendingSyncs: m('pending_syncs', 'gauge', '1', 'leader', 'Learner `sync` requests waiting for earlier proposals to commit'),
  leaderUptime: m('leader_uptime', 'gauge', 'ms', 'leader', 'Time since this server started leading'),
  // zablab's own
  zabRole: m('zab_role', 'gauge', '1', 'all', '1 for the role this server has now (label `role`), 0 for the others'),
  zabEpoch: m('zab_epoch', 'gauge', '1', 'all', 'Current epoch (currentEpoch)'),
  zabAcceptedEpoch: m('zab_accepted_epoch', 'gauge', '1', 'all', 'Accepted epoch (acceptedEpoch)'),
  zabLastZxid: m('zab_last_zxid', 'gauge', '1', 'all', 'Last logged zxid (epoch << 32 | counter)'),
  zabLastProcessedZxid: m('zab_last_processed_zxid', 'gauge', '1', 'all', 'Last applied zxid'),
  zabOutstandingProposals: m('zab_outstanding_proposals', 'gauge', '1', 'leader', 'Proposals waiting for a quorum'),
  zabRequests: m('zab_requests', 'counter', '1', 'all', 'Client requests answered, by op (label `op`, ZooKeeper\'s op name); pings excepted'),
  zabSnapBytesSent: m('zab_snap_bytes_sent', 'counter', 'bytes', 'leader', 'Bytes of snapshots sent to learners in SNAP syncs'),
  zabEventLoopDelay: m('zab_event_loop_delay', 'histogram', 'ms', 'all', 'How late a 10 ms timer fired (perf_hooks monitorEventLoopDelay): time every request waited for the event loop'),
  zabEventLoopDelayRecentP99: m('zab_event_loop_delay_recent_p99', 'gauge', 'ms', 'all', 'p99 of the event-loop delay over the last second'),
  zabEventLoopDelayRecentMax: m('zab_event_loop_delay_recent_max', 'gauge', 'ms', 'all', 'Longest event-loop delay in the last second'),
  zabGcPause: m('zab_gc_pause', 'histogram', 'ms', 'all', 'How long each garbage collection held the main thread (perf_hooks gc entries)'),
  zabGcPauseRecentMax: m('zab_gc_pause_recent_max', 'gauge', 'ms', 'all', 'Longest garbage-collection pause in the last second'),
  zabGcTimeRecent: m('zab_gc_time_recent', 'gauge', 'ms', 'all', 'Garbage-collection pauses in the last second, added up'),
  processResidentMemory: m('process_resident_memory_bytes', 'gauge', 'bytes', 'all', 'Resident set size of the server process'),
  nodejsHeapSizeUsed: m('nodejs_heap_size_used_bytes', 'gauge', 'bytes', 'all', 'V8 heap in use'),
  zabSpansDropped: m('zab_spans_dropped', 'counter', '1', 'all', 'Spans not written to ZABLAB_SPANS_DIR (over its size limit, or a write failed)'),
} as const satisfies Record<string, MetricSpec>;

/**
 * Metrics the harness (not a server) exposes for Prometheus to scrape: they are kept out of
 * `Metric` because every server lists each entry of `Metric` on its own /metrics.
 */
export const HarnessMetric = {
  /** Faults the bench injected; labels: action (kill, pause, ...), target (leader, follower, observer, last, id), server_id. */
  benchFaults: { name: 'zablab_bench_faults_total', kind: 'counter', labels: ['action', 'target', 'server_id'], help: 'Faults the zablab bench injected, by action, target and server' },
} as const;

/** Tags of the fault annotations the harness posts to Grafana (the action is added as a third tag). */
export const FAULT_ANNOTATION_TAGS = ['zablab', 'fault'] as const;

/** Roles as `zab.role` and `zab_role{role=...}` spell them (ZooKeeper's server_state). */
export const ROLES = ['looking', 'leader', 'follower', 'observer', 'standalone'] as const;
export type Role = (typeof ROLES)[number];

/** Histogram buckets for ms latencies: 50 µs to 60 s. */
export const LATENCY_BUCKETS_MS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000];
/** Histogram buckets for counts (txns per fsync). */
export const COUNT_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1_024, 4_096];

export const SERVICE_NAME = 'zablab';
export const INSTRUMENTATION_SCOPE = 'zablab';
/** service.version and the instrumentation scope's version. */
export const SERVICE_VERSION = '0.1.0';
