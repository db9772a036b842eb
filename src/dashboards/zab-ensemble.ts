/**
 * "ZAB ensemble": is the ensemble up, who leads, how much it serves and how fast, and what an
 * election cost. One series per server (Prometheus' `instance`).
 */
import { Metric } from '../telemetry/names.js';
import type { DashboardSpec } from './panels.js';
import { increase, mean, quantile, rate, sel } from './promql.js';

const byServer = '{{instance}}';

export const zabEnsemble: DashboardSpec = {
  uid: 'zablab-zab-ensemble',
  title: 'ZAB ensemble',
  file: 'zab-ensemble.json',
  description: 'zablab ensemble: roles, epochs, zxids, requests, latency, elections and the data tree, per server.',
  items: [
    { kind: 'row', title: 'Roles' },
    {
      kind: 'stat',
      title: 'Role',
      description: 'The role each server has now (zab_role == 1). A server that is down shows nothing; one in LOOKING is electing.',
      unit: 'none',
      show: 'name',
      width: 12,
      queries: [{ expr: `${sel(Metric.zabRole)} == 1`, legend: `${byServer} {{role}}` }],
      colors: [
        { match: '.* leader$', color: 'green' },
        { match: '.* follower$', color: 'blue' },
        { match: '.* observer$', color: 'purple' },
        { match: '.* looking$', color: 'red' },
      ],
    },
    {
      kind: 'stat',
      title: 'Epoch',
      description: 'currentEpoch per server: it rises by one with every established leader.',
      unit: 'none',
      show: 'value',
      width: 6,
      queries: [{ expr: sel(Metric.zabEpoch), legend: byServer }],
    },
    {
      kind: 'stat',
      title: 'Voters',
      description: 'Voting members as each server sees them (quorum_size); a quorum is a majority of these.',
      unit: 'none',
      show: 'value',
      width: 6,
      queries: [{ expr: sel(Metric.quorumSize), legend: byServer }],
    },
    { kind: 'row', title: 'Requests' },
    {
      kind: 'timeseries',
      title: 'Requests/s by op and server',
      description: 'Client requests answered per second by ZooKeeper op name (getData, setData, create2, multi...), by the server the client talks to: the wire protocol and the REST face alike (zab_requests). Pings are not counted.',
      unit: 'reqps',
      queries: [{ expr: rate(Metric.zabRequests), legend: `${byServer} {{op}}` }],
    },
    {
      kind: 'timeseries',
      title: 'Request latency p50 / p99',
      description: 'Request received until answered, on the server the client talks to. Writes include the round trip through the leader and a quorum fsync.',
      unit: 'ms',
      queries: [
        { expr: quantile(0.5, Metric.readLatency), legend: `${byServer} read p50` },
        { expr: quantile(0.99, Metric.readLatency), legend: `${byServer} read p99` },
        { expr: quantile(0.5, Metric.updateLatency), legend: `${byServer} write p50` },
        { expr: quantile(0.99, Metric.updateLatency), legend: `${byServer} write p99` },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Outstanding requests and throttling',
      description: 'Requests in process (outstanding_requests), and connections paused per second because globalOutstandingLimit was reached (throttled_ops, right axis).',
      unit: 'short',
      queries: [
        { expr: sel(Metric.outstandingRequests), legend: `${byServer} outstanding` },
        { expr: rate(Metric.throttledOps), legend: `${byServer} throttled`, unit: 'ops' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Connections and sessions',
      description: 'Open client connections (num_alive_connections) and sessions the server tracks (global_sessions).',
      unit: 'short',
      queries: [
        { expr: sel(Metric.numAliveConnections), legend: `${byServer} connections` },
        { expr: sel(Metric.globalSessions), legend: `${byServer} sessions` },
      ],
    },
    { kind: 'row', title: 'ZAB' },
    {
      kind: 'timeseries',
      title: 'Last zxid',
      description: 'Last logged zxid per server (epoch in the high 32 bits, counter in the low 32).',
      unit: 'hex0x',
      queries: [{ expr: sel(Metric.zabLastZxid), legend: byServer }],
    },
    {
      kind: 'timeseries',
      title: 'Txns behind the most advanced server',
      description: 'How far each server has applied behind the one that applied most (zab_last_processed_zxid; meaningful within one epoch).',
      unit: 'short',
      queries: [{ expr: `scalar(max(${sel(Metric.zabLastProcessedZxid)})) - ${sel(Metric.zabLastProcessedZxid)}`, legend: byServer }],
    },
    {
      kind: 'timeseries',
      title: 'Learners and synced followers / observers',
      description: 'On the leader: learners connected, and followers and observers in broadcast. Synced followers + 1 below a majority of voters means no writes.',
      unit: 'short',
      queries: [
        { expr: sel(Metric.learners), legend: `${byServer} learners` },
        { expr: sel(Metric.syncedFollowers), legend: `${byServer} synced followers` },
        { expr: sel(Metric.syncedObservers), legend: `${byServer} synced observers` },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Elections',
      description: 'Times each server entered LOOKING in the interval (looking_count; a restarted server starts from 0, so its own first election is not counted).',
      unit: 'short',
      points: true,
      queries: [{ expr: increase(Metric.lookingCount), legend: `${byServer} LOOKING` }],
    },
    {
      kind: 'timeseries',
      title: 'Election and unavailable time',
      description: 'Mean time from LOOKING until a leader was elected (election_time) and until the server served clients again (unavailable_time), for the elections in the interval.',
      unit: 'ms',
      points: true,
      width: 24,
      queries: [
        { expr: mean(Metric.electionTime), legend: `${byServer} election` },
        { expr: mean(Metric.unavailableTime), legend: `${byServer} unavailable` },
      ],
    },
    { kind: 'row', title: 'Data tree' },
    {
      kind: 'timeseries',
      title: 'Znodes',
      description: 'Znodes in the data tree (znode_count) and ephemeral znodes (ephemerals_count).',
      unit: 'short',
      width: 8,
      queries: [
        { expr: sel(Metric.znodeCount), legend: `${byServer} znodes` },
        { expr: sel(Metric.ephemeralsCount), legend: `${byServer} ephemerals` },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Watches',
      description: 'Watches set on each server (watch_count).',
      unit: 'short',
      width: 8,
      queries: [{ expr: sel(Metric.watchCount), legend: byServer }],
    },
    {
      kind: 'timeseries',
      title: 'Data size',
      description: 'Bytes of paths and data in the tree (approximate_data_size).',
      unit: 'bytes',
      width: 8,
      queries: [{ expr: sel(Metric.approximateDataSize), legend: byServer }],
    },
  ],
};
