/** A real Prometheus text parser (parse-prometheus-text-format, prom2json's output shape), typed. */
import { createRequire } from 'node:module';

export interface PromSample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface PromFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: PromSample[];
}

// The package ships no type declarations; it is CommonJS exporting one function.
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => PromFamily[];

export function parsePrometheus(text: string): Map<string, PromFamily> {
  return new Map(parse(text).map((f) => [f.name, f]));
}

/** The ZooKeeper metric names the telemetry task requires in /metrics. */
export const ZOOKEEPER_NAMES = [
  'proposal_count',
  'commit_count',
  'quorum_ack_latency',
  'ack_latency',
  'commit_propagation_latency',
  'proposal_latency',
  'fsynctime',
  'snapshottime',
  'election_time',
  'looking_count',
  'unavailable_time',
  'follower_sync_time',
  'observer_sync_time',
  'diff_count',
  'snap_count',
  'outstanding_requests',
  'throttled_ops',
  'sync_processor_batch_size',
  'readlatency',
  'updatelatency',
  'avg_latency',
  'min_latency',
  'max_latency',
  'packets_received',
  'packets_sent',
  'num_alive_connections',
  'znode_count',
  'watch_count',
  'ephemerals_count',
  'approximate_data_size',
  'global_sessions',
  'uptime',
  'sessionless_connections_expired',
  'connection_rejected',
  'connection_request_count',
  'connection_token_deficit',
  'connection_drop_probability',
  'connection_drop_count',
];

/** Only a leader reports these (as ZooKeeper's LeaderZooKeeperServer). */
export const LEADER_NAMES = ['learners', 'synced_followers', 'synced_non_voting_followers', 'synced_observers', 'pending_syncs', 'leader_uptime'];
