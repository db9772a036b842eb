/**
 * zablab's metrics: OpenTelemetry instruments under ZooKeeper's names (see names.ts), and
 * gauges that read the running server through a view callback once per collection.
 *
 * Each histogram also keeps count/sum/min/max here, which is what ZooKeeper's `mntr`
 * prints for its summaries (zk_avg_fsynctime, zk_min_..., zk_max_..., zk_cnt_..., zk_sum_...).
 */
import { ValueType, createNoopMeter, type Attributes, type Counter, type Histogram, type Meter, type Observable, type ObservableGauge } from '@opentelemetry/api';
import { opName } from '../jute/index.js';
import { COUNT_BUCKETS, LATENCY_BUCKETS_MS, Metric, ROLES, type MetricSpec, type Role } from './names.js';

/** What the gauges read from the running server (built by src/server/server-view.ts). */
export interface GaugeValues {
  role: Role;
  outstandingRequests: number;
  avgLatencyMs: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  packetsReceived: number;
  packetsSent: number;
  numAliveConnections: number;
  znodeCount: number;
  watchCount: number;
  ephemeralsCount: number;
  approximateDataSize: number;
  globalSessions: number;
  uptimeMs: number;
  throttledOps: number;
  lastProcessedZxid: bigint;
  /** Present in quorum mode. */
  quorum?: {
    quorumSize: number;
    epoch: bigint;
    acceptedEpoch: bigint;
    lastLoggedZxid: bigint;
  };
  /** Present while leading. */
  leader?: {
    learners: number;
    syncedFollowers: number;
    syncedObservers: number;
    outstandingProposals: number;
  };
}

export type GaugeView = () => GaugeValues;

/** Values the telemetry itself tracks and the gauges report. */
export interface OwnGauges {
  pendingSyncs: number;
  /** ms since this server started leading; null when not leading. */
  leaderUptimeMs: number | null;
}

/** count/sum/min/max, as ZooKeeper's AvgMinMaxCounter. */
class Summary {
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;
  add(v: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
}

/** Summary sets (ack_latency per server) keep at most this many keys. */
const SUMMARY_KEYS_MAX = 256;

export class HistogramMetric {
  private readonly otel: Histogram;
  private readonly total = new Summary();
  private readonly byKey = new Map<string, Summary>();
  private readonly attrsByKey = new Map<string, Attributes>();

  constructor(
    meter: Meter,
    readonly spec: MetricSpec,
  ) {
    this.otel = meter.createHistogram(spec.name, {
      description: spec.help,
      unit: spec.unit,
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: [...bucketsOf(spec)] },
    });
  }

  record(v: number): void {
    this.otel.record(v);
    this.total.add(v);
  }

  /** ZooKeeper's SummarySet: one series per key (label `key`). */
  recordKeyed(key: string, v: number): void {
    let attrs = this.attrsByKey.get(key);
    let s = this.byKey.get(key);
    if (attrs === undefined || s === undefined) {
      if (this.byKey.size >= SUMMARY_KEYS_MAX) return;
      attrs = { key };
      s = new Summary();
      this.attrsByKey.set(key, attrs);
      this.byKey.set(key, s);
    }
    this.otel.record(v, attrs);
    s.add(v);
  }

  /** mntr lines: avg_/min_/max_/cnt_/sum_<name> (and per key: avg_<key>_<name>...). */
  monitorValues(out: [string, number][]): void {
    const put = (name: string, s: Summary): void => {
      out.push([`avg_${name}`, s.count === 0 ? 0 : Math.round((s.sum / s.count) * 10_000) / 10_000]);
      out.push([`min_${name}`, s.count === 0 ? 0 : round3(s.min)]);
      out.push([`max_${name}`, round3(s.max)]);
      out.push([`cnt_${name}`, s.count]);
      out.push([`sum_${name}`, round3(s.sum)]);
    };
    if (this.byKey.size === 0) {
      put(this.spec.name, this.total);
      return;
    }
    for (const [k, s] of this.byKey) put(`${k}_${this.spec.name}`, s);
  }
}

function round3(v: number): number {
  return Math.round(v * 1_000) / 1_000;
}

export class CounterMetric {
  private readonly otel: Counter;
  value = 0;

  constructor(
    meter: Meter,
    readonly spec: MetricSpec,
  ) {
    this.otel = meter.createCounter(spec.name, { description: spec.help, unit: spec.unit, valueType: ValueType.INT });
  }

  add(n = 1): void {
    this.otel.add(n);
    this.value += n;
  }
}

/**
 * Requests answered per op type. A plain count per op on the hot path; the counter is
 * observed at collection time, so no attribute set is hashed per request.
 */
export class OpCounts {
  private readonly byType = new Map<number, number>();

  add(type: number): void {
    this.byType.set(type, (this.byType.get(type) ?? 0) + 1);
  }

  /** [op name, count] for every op seen. */
  entries(): [string, number][] {
    return [...this.byType].map(([t, n]) => [opName(t), n]);
  }
}

export function bucketsOf(spec: MetricSpec): readonly number[] {
  return spec.unit === 'ms' ? LATENCY_BUCKETS_MS : COUNT_BUCKETS;
}

/** bigint → number for a gauge; zxids above 2^53 lose their low bits (epochs in the millions). */
function num(v: bigint): number {
  return Number(v);
}

export class ZabMetrics {
  readonly proposalCount: CounterMetric;
  readonly commitCount: CounterMetric;
  readonly learnerProposalReceivedCount: CounterMetric;
  readonly learnerCommitReceivedCount: CounterMetric;
  readonly lookingCount: CounterMetric;
  readonly diffCount: CounterMetric;
  readonly snapCount: CounterMetric;
  readonly spansDropped: CounterMetric;
  /** zab_requests{op}. */
  readonly requests = new OpCounts();
  readonly quorumAckLatency: HistogramMetric;
  readonly ackLatency: HistogramMetric;
  readonly proposalLatency: HistogramMetric;
  readonly commitPropagationLatency: HistogramMetric;
  readonly fsyncTime: HistogramMetric;
  readonly syncProcessorBatchSize: HistogramMetric;
  readonly snapshotTime: HistogramMetric;
  readonly electionTime: HistogramMetric;
  readonly unavailableTime: HistogramMetric;
  readonly followerSyncTime: HistogramMetric;
  readonly observerSyncTime: HistogramMetric;
  readonly readLatency: HistogramMetric;
  readonly updateLatency: HistogramMetric;
  private readonly counters: CounterMetric[];
  private readonly histograms: HistogramMetric[];
  private view: GaugeView | null = null;

  constructor(
    meter: Meter = createNoopMeter(),
    private readonly own: () => OwnGauges = () => ({ pendingSyncs: 0, leaderUptimeMs: null }),
  ) {
    const c = (spec: MetricSpec) => new CounterMetric(meter, spec);
    const h = (spec: MetricSpec) => new HistogramMetric(meter, spec);
    this.proposalCount = c(Metric.proposalCount);
    this.commitCount = c(Metric.commitCount);
    this.learnerProposalReceivedCount = c(Metric.learnerProposalReceivedCount);
    this.learnerCommitReceivedCount = c(Metric.learnerCommitReceivedCount);
    this.lookingCount = c(Metric.lookingCount);
    this.diffCount = c(Metric.diffCount);
    this.snapCount = c(Metric.snapCount);
    this.spansDropped = c(Metric.zabSpansDropped);
    this.quorumAckLatency = h(Metric.quorumAckLatency);
    this.ackLatency = h(Metric.ackLatency);
    this.proposalLatency = h(Metric.proposalLatency);
    this.commitPropagationLatency = h(Metric.commitPropagationLatency);
    this.fsyncTime = h(Metric.fsyncTime);
    this.syncProcessorBatchSize = h(Metric.syncProcessorBatchSize);
    this.snapshotTime = h(Metric.snapshotTime);
    this.electionTime = h(Metric.electionTime);
    this.unavailableTime = h(Metric.unavailableTime);
    this.followerSyncTime = h(Metric.followerSyncTime);
    this.observerSyncTime = h(Metric.observerSyncTime);
    this.readLatency = h(Metric.readLatency);
    this.updateLatency = h(Metric.updateLatency);
    this.counters = [
      this.proposalCount,
      this.commitCount,
      this.learnerProposalReceivedCount,
      this.learnerCommitReceivedCount,
      this.lookingCount,
      this.diffCount,
      this.snapCount,
      this.spansDropped,
    ];
    this.histograms = [
      this.quorumAckLatency,
      this.ackLatency,
      this.proposalLatency,
      this.commitPropagationLatency,
      this.fsyncTime,
      this.syncProcessorBatchSize,
      this.snapshotTime,
      this.electionTime,
      this.unavailableTime,
      this.followerSyncTime,
      this.observerSyncTime,
      this.readLatency,
      this.updateLatency,
    ];
    this.registerGauges(meter);
  }

  /** Where the gauges read the server from (set once the server is wired). */
  setView(view: GaugeView): void {
    this.view = view;
  }

  private registerGauges(meter: Meter): void {
    const g = (spec: MetricSpec): ObservableGauge => meter.createObservableGauge(spec.name, { description: spec.help, unit: spec.unit });
    const gauges = {
      outstandingRequests: g(Metric.outstandingRequests),
      avgLatency: g(Metric.avgLatency),
      minLatency: g(Metric.minLatency),
      maxLatency: g(Metric.maxLatency),
      packetsReceived: g(Metric.packetsReceived),
      packetsSent: g(Metric.packetsSent),
      numAliveConnections: g(Metric.numAliveConnections),
      znodeCount: g(Metric.znodeCount),
      watchCount: g(Metric.watchCount),
      ephemeralsCount: g(Metric.ephemeralsCount),
      approximateDataSize: g(Metric.approximateDataSize),
      globalSessions: g(Metric.globalSessions),
      uptime: g(Metric.uptime),
      quorumSize: g(Metric.quorumSize),
      learners: g(Metric.learners),
      syncedFollowers: g(Metric.syncedFollowers),
      syncedNonVotingFollowers: g(Metric.syncedNonVotingFollowers),
      syncedObservers: g(Metric.syncedObservers),
      pendingSyncs: g(Metric.pendingSyncs),
      leaderUptime: g(Metric.leaderUptime),
      zabRole: g(Metric.zabRole),
      zabEpoch: g(Metric.zabEpoch),
      zabAcceptedEpoch: g(Metric.zabAcceptedEpoch),
      zabLastZxid: g(Metric.zabLastZxid),
      zabLastProcessedZxid: g(Metric.zabLastProcessedZxid),
      zabOutstandingProposals: g(Metric.zabOutstandingProposals),
    };
    const throttled = meter.createObservableCounter(Metric.throttledOps.name, { description: Metric.throttledOps.help, unit: '1' });
    const requests = meter.createObservableCounter(Metric.zabRequests.name, { description: Metric.zabRequests.help, unit: '1' });
    const roleAttrs = new Map(ROLES.map((r) => [r, { role: r }]));
    meter.addBatchObservableCallback(
      (r) => {
        const view = this.view;
        if (view === null) return;
        const v = view();
        const o = (gauge: ObservableGauge, value: number): void => r.observe(gauge, value);
        o(gauges.outstandingRequests, v.outstandingRequests);
        o(gauges.avgLatency, v.avgLatencyMs);
        o(gauges.minLatency, v.minLatencyMs);
        o(gauges.maxLatency, v.maxLatencyMs);
        o(gauges.packetsReceived, v.packetsReceived);
        o(gauges.packetsSent, v.packetsSent);
        o(gauges.numAliveConnections, v.numAliveConnections);
        o(gauges.znodeCount, v.znodeCount);
        o(gauges.watchCount, v.watchCount);
        o(gauges.ephemeralsCount, v.ephemeralsCount);
        o(gauges.approximateDataSize, v.approximateDataSize);
        o(gauges.globalSessions, v.globalSessions);
        o(gauges.uptime, v.uptimeMs);
        r.observe(throttled, v.throttledOps);
        for (const [op, n] of this.requests.entries()) r.observe(requests, n, { op });
        for (const role of ROLES) r.observe(gauges.zabRole, role === v.role ? 1 : 0, roleAttrs.get(role));
        o(gauges.zabLastProcessedZxid, num(v.lastProcessedZxid));
        if (v.quorum) {
          o(gauges.quorumSize, v.quorum.quorumSize);
          o(gauges.zabEpoch, num(v.quorum.epoch));
          o(gauges.zabAcceptedEpoch, num(v.quorum.acceptedEpoch));
          o(gauges.zabLastZxid, num(v.quorum.lastLoggedZxid));
        } else {
          o(gauges.zabLastZxid, num(v.lastProcessedZxid));
        }
        if (v.leader) {
          const own = this.own();
          o(gauges.learners, v.leader.learners);
          o(gauges.syncedFollowers, v.leader.syncedFollowers);
          o(gauges.syncedNonVotingFollowers, 0);
          o(gauges.syncedObservers, v.leader.syncedObservers);
          o(gauges.pendingSyncs, own.pendingSyncs);
          o(gauges.leaderUptime, own.leaderUptimeMs ?? 0);
          o(gauges.zabOutstandingProposals, v.leader.outstandingProposals);
        }
      },
      [...Object.values(gauges), throttled, requests] as Observable[],
    );
  }

  /** ZooKeeper's mntr lines for counters and summaries (keys without the zk_ prefix). */
  monitorValues(): [string, number][] {
    const out: [string, number][] = [];
    for (const c of this.counters) out.push([c.spec.name, c.value]);
    for (const h of this.histograms) h.monitorValues(out);
    return out;
  }
}

/** Every metric spec, for renderers and docs. */
export const ALL_METRICS: readonly MetricSpec[] = Object.values(Metric);
