/**
 * "ZAB write path": where a write's time goes — proposal, each voter's ack (log + fsync),
 * quorum, commit on every server — plus the disk (fsync, snapshots) and learner syncs.
 */
import { Metric } from '../telemetry/names.js';
import type { DashboardSpec } from './panels.js';
import { increase, mean, quantile, rate, sel } from './promql.js';

const byServer = '{{instance}}';

export const zabWritePath: DashboardSpec = {
  uid: 'zablab-zab-write-path',
  title: 'ZAB write path',
  file: 'zab-write-path.json',
  description: 'A write through ZAB: proposals, quorum and per-voter ack latency, commit propagation, fsync and group commit, snapshots, and DIFF/SNAP syncs of learners.',
  items: [
    { kind: 'row', title: 'Broadcast' },
    {
      kind: 'timeseries',
      title: 'Proposals/s',
      description: 'Proposals created and committed per second on the leader (proposal_count, commit_count), and PROPOSALs received per second by each learner.',
      unit: 'ops',
      queries: [
        { expr: rate(Metric.proposalCount), legend: `${byServer} proposed` },
        { expr: rate(Metric.commitCount), legend: `${byServer} committed` },
        { expr: rate(Metric.learnerProposalReceivedCount), legend: `${byServer} received` },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Quorum ack latency',
      description: 'Leader: proposal created until a quorum of voters acked it (quorum_ack_latency).',
      unit: 'ms',
      queries: [
        { expr: quantile(0.5, Metric.quorumAckLatency), legend: `${byServer} p50` },
        { expr: quantile(0.99, Metric.quorumAckLatency), legend: `${byServer} p99` },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Ack latency per voter',
      description: "Leader: proposal created until voter `key` acked it (ack_latency; the leader's own log append and fsync included). A slow disk or link shows up as one voter apart.",
      unit: 'ms',
      queries: [
        { expr: quantile(0.5, Metric.ackLatency, ['key']), legend: 'server {{key}} p50' },
        { expr: quantile(0.99, Metric.ackLatency, ['key']), legend: 'server {{key}} p99' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Proposal and commit propagation',
      description: 'Learners: proposal created on the leader until the PROPOSAL arrived (proposal_latency) and until it was committed here (commit_propagation_latency). Wall clocks of two hosts: skew shows up here.',
      unit: 'ms',
      queries: [
        { expr: quantile(0.99, Metric.proposalLatency), legend: `${byServer} received p99` },
        { expr: quantile(0.5, Metric.commitPropagationLatency), legend: `${byServer} committed p50` },
        { expr: quantile(0.99, Metric.commitPropagationLatency), legend: `${byServer} committed p99` },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Outstanding proposals',
      description: 'Leader: proposals waiting for a quorum (zab_outstanding_proposals) and learner syncs waiting for them to commit (pending_syncs).',
      unit: 'short',
      width: 24,
      height: 6,
      queries: [
        { expr: sel(Metric.zabOutstandingProposals), legend: `${byServer} proposals` },
        { expr: sel(Metric.pendingSyncs), legend: `${byServer} pending syncs` },
      ],
    },
    { kind: 'row', title: 'Disk' },
    {
      kind: 'timeseries',
      title: 'fsync time',
      description: 'One group fsync of the txn log (fsynctime). Every voter fsyncs before it acks, so this is the floor of the quorum ack latency.',
      unit: 'ms',
      width: 8,
      queries: [
        { expr: quantile(0.5, Metric.fsyncTime), legend: `${byServer} p50` },
        { expr: quantile(0.99, Metric.fsyncTime), legend: `${byServer} p99` },
      ],
    },
    {
      kind: 'timeseries',
      title: 'fsyncs/s',
      description: 'Group fsyncs of the txn log per second (fsynctime observations).',
      unit: 'ops',
      width: 8,
      queries: [{ expr: rate(Metric.fsyncTime), legend: byServer }],
    },
    {
      kind: 'timeseries',
      title: 'Txns per fsync',
      description: 'Txns made durable by one fsync (sync_processor_batch_size): group commit at work when it is above 1.',
      unit: 'short',
      width: 8,
      queries: [
        { expr: mean(Metric.syncProcessorBatchSize), legend: `${byServer} mean` },
        { expr: quantile(0.99, Metric.syncProcessorBatchSize), legend: `${byServer} p99` },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Snapshot time',
      description: 'Mean time to write one snapshot (snapshottime), for the snapshots in the interval. Snapshots follow every [snapCount/2+1, snapCount] txns.',
      unit: 'ms',
      points: true,
      queries: [{ expr: mean(Metric.snapshotTime), legend: byServer }],
    },
    {
      kind: 'timeseries',
      title: 'Snapshots',
      description: 'Snapshots written in the interval (snapshottime observations).',
      unit: 'short',
      points: true,
      queries: [{ expr: increase(Metric.snapshotTime), legend: byServer }],
    },
    { kind: 'row', title: 'Learner sync' },
    {
      kind: 'timeseries',
      title: 'Sync time',
      description: 'Learners: elected until in broadcast with the leader (follower_sync_time, observer_sync_time), mean of the syncs in the interval.',
      unit: 'ms',
      points: true,
      queries: [
        { expr: mean(Metric.followerSyncTime), legend: `${byServer} follower` },
        { expr: mean(Metric.observerSyncTime), legend: `${byServer} observer` },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Syncs by mode (DIFF / SNAP)',
      description: 'Leader: learners synced with a DIFF or TRUNC (diff_count) and with a full SNAP (snap_count) in the interval. SNAPs mean learners fell behind what the leader keeps in memory.',
      unit: 'short',
      points: true,
      queries: [
        { expr: increase(Metric.diffCount), legend: `${byServer} DIFF` },
        { expr: increase(Metric.snapCount), legend: `${byServer} SNAP` },
      ],
    },
  ],
};
