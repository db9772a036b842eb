/**
 * zablab's metrics under ZooKeeper's names (see names.ts): counters and histograms aggregated
 * here, gauges that read the running server through a view callback once per collection.
 *
 * Counters and histograms do not go through the OpenTelemetry SDK on the hot path: its
 * record() hashes the attribute set and reads the clock each time (about 1 µs per write, for
 * a dozen records). They are aggregated here as the SDK would aggregate them (explicit
 * buckets, cumulative, each collection's sum added to the last) and handed to the Prometheus
 * renderer as the same MetricData, so /metrics reads exactly as before. Gauges and the
 * per-op request counter are SDK observables: they cost nothing between collections.
 *
 * An exporting meter (the SDK's MeterProvider that OTEL_METRICS_EXPORTER configures, see
 * exportTo) gets the same metrics as its own instruments: gauges and counters observed at
 * its collections, histograms recorded into it as well (that second record costs only
 * when metrics are exported).
 *
 * Each histogram also keeps count/sum/min/max here, which is what ZooKeeper's `mntr`
 * prints for its summaries (zk_avg_fsynctime, zk_min_..., zk_max_..., zk_cnt_..., zk_sum_...).
 */
import {
  ValueType,
  createNoopMeter,
  type Attributes,
  type Histogram as ApiHistogram,
  type HrTime,
  type Meter,
  type Observable,
  type ObservableGauge,
} from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { opName } from '../jute/index.js';
import { COUNT_BUCKETS, LATENCY_BUCKETS_MS, Metric, ROLES, type MetricSpec, type Role } from './names.js';
import { memoryGauges, type EventLoopWindow } from './process-metrics.js';

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
  connectionDropProbability: number;
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
  /** The event loop's last second (null: not monitored, e.g. before the server is wired). */
  eventLoop: EventLoopWindow | null;
}

/** count/sum/min/max, as ZooKeeper's AvgMinMaxCounter. */
class Summary {
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;
  add(v: number, n = 1): void {
    this.count += n;
    this.sum += v * n;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
}

/**
 * One histogram series as the SDK's explicit-bucket aggregation keeps it: a value v counts in
 * the first bucket whose bound is >= v (the last one: above every bound). The sum is kept as
 * the SDK's cumulative collection adds it up (the last collection's sum plus a sum since),
 * so the text is the same to the last digit.
 */
class BucketSeries {
  readonly counts: number[];
  count = 0;
  private sum = 0;
  private sumSince = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly attributes: Attributes,
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  /** The caller dropped negative values (the SDK's Histogram does); NaN is not counted. */
  record(v: number, n = 1): void {
    if (Number.isNaN(v)) return;
    const b = this.bounds;
    let i = 0;
    // Few bounds, most values in the first ones: a scan beats a binary search here.
    while (i < b.length && b[i]! < v) i++;
    this.counts[i]! += n;
    this.count += n;
    this.sumSince += v * n;
  }

  dataPoint(time: HrTime): DataPoint<Histogram> {
    this.sum += this.sumSince;
    this.sumSince = 0;
    return {
      startTime: time,
      endTime: time,
      attributes: this.attributes,
      value: { buckets: { boundaries: [...this.bounds], counts: [...this.counts] }, sum: this.sum, count: this.count },
    };
  }
}

/** Summary sets (ack_latency per server) keep at most this many keys. */
const SUMMARY_KEYS_MAX = 256;
const NO_ATTRIBUTES: Attributes = {};

function descriptor(spec: MetricSpec, valueType: ValueType): MetricData['descriptor'] {
  return { name: spec.name, description: spec.help, unit: spec.unit, valueType };
}

export class HistogramMetric {
  private readonly bounds: readonly number[];
  private readonly total = new Summary();
  /** The series without attributes (created on first record: the SDK shows none before). */
  private plain: BucketSeries | null = null;
  private readonly byKey = new Map<string | number, { summary: Summary; series: BucketSeries | null }>();
  /** Series in the order the SDK would list them (first recorded first). */
  private readonly series: BucketSeries[] = [];
  /** The exporting meter's instrument (null: metrics are not exported). */
  private mirror: ApiHistogram | null = null;

  constructor(readonly spec: MetricSpec) {
    this.bounds = bucketsOf(spec);
  }

  /** Record into `meter` too from now on, with the same buckets. */
  exportTo(meter: Meter): void {
    const { name, help, unit } = this.spec;
    this.mirror = meter.createHistogram(name, { description: help, unit, advice: { explicitBucketBoundaries: [...this.bounds] } });
  }

  /** `n` observations of `v` (a window of samples taken elsewhere, as the event-loop delay's). */
  record(v: number, n = 1): void {
    this.total.add(v, n);
    if (v < 0) return;
    if (this.mirror !== null) for (let i = 0; i < n; i++) this.mirror.record(v);
    if (this.plain === null) {
      this.plain = new BucketSeries(this.bounds, NO_ATTRIBUTES);
      this.series.push(this.plain);
    }
    this.plain.record(v, n);
  }

  /** ZooKeeper's SummarySet: one series per key (label `key`). */
  recordKeyed(key: string | number, v: number): void {
    let k = this.byKey.get(key);
    if (k === undefined) {
      if (this.byKey.size >= SUMMARY_KEYS_MAX) return;
      k = { summary: new Summary(), series: null };
      this.byKey.set(key, k);
    }
    k.summary.add(v);
    if (v < 0) return;
    this.mirror?.record(v, { key: String(key) });
    if (k.series === null) {
      k.series = new BucketSeries(this.bounds, { key: String(key) });
      this.series.push(k.series);
    }
    k.series.record(v);
  }

  /** What the SDK's collection would give: null when nothing was recorded. */
  collect(time: HrTime): MetricData | null {
    if (this.series.length === 0) return null;
    return {
      descriptor: descriptor(this.spec, ValueType.DOUBLE),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: this.series.map((s) => s.dataPoint(time)),
    };
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
    for (const [k, s] of this.byKey) put(`${k}_${this.spec.name}`, s.summary);
  }
}

/** The gauges processGauges() reports. */
const PROCESS_GAUGES: readonly MetricSpec[] = [
  Metric.processResidentMemory,
  Metric.nodejsHeapSizeUsed,
  Metric.zabEventLoopDelayRecentP99,
  Metric.zabEventLoopDelayRecentMax,
  Metric.zabGcPauseRecentMax,
  Metric.zabGcTimeRecent,
];

function round3(v: number): number {
  return Math.round(v * 1_000) / 1_000;
}

export class CounterMetric {
  value = 0;
  /** The SDK lists a counter once something was added, 0 included. */
  private added = false;

  constructor(readonly spec: MetricSpec) {}

  /** A non-negative whole number (what an INT counter of the SDK keeps). */
  add(n = 1): void {
    if (!(n >= 0)) return;
    this.value += Math.trunc(n);
    this.added = true;
  }

  collect(time: HrTime): MetricData | null {
    if (!this.added) return null;
    return {
      descriptor: descriptor(this.spec, ValueType.INT),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [{ startTime: time, endTime: time, attributes: NO_ATTRIBUTES, value: this.value }],
    };
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
  readonly snapBytesSent: CounterMetric;
  readonly spansDropped: CounterMetric;
  readonly sessionlessConnectionsExpired: CounterMetric;
  readonly connectionRejected: CounterMetric;
  readonly connectionRequestCount: CounterMetric;
  readonly connectionDropCount: CounterMetric;
  readonly connectionTokenDeficit: HistogramMetric;
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
  readonly eventLoopDelay: HistogramMetric;
  readonly gcPause: HistogramMetric;
  private readonly counters: CounterMetric[];
  private readonly histograms: HistogramMetric[];
  private view: GaugeView | null = null;

  constructor(
    meter: Meter = createNoopMeter(),
    private readonly own: () => OwnGauges = () => ({ pendingSyncs: 0, leaderUptimeMs: null, eventLoop: null }),
  ) {
    const c = (spec: MetricSpec) => new CounterMetric(spec);
    const h = (spec: MetricSpec) => new HistogramMetric(spec);
    this.proposalCount = c(Metric.proposalCount);
    this.commitCount = c(Metric.commitCount);
    this.learnerProposalReceivedCount = c(Metric.learnerProposalReceivedCount);
    this.learnerCommitReceivedCount = c(Metric.learnerCommitReceivedCount);
    this.lookingCount = c(Metric.lookingCount);
    this.diffCount = c(Metric.diffCount);
    this.snapCount = c(Metric.snapCount);
    this.snapBytesSent = c(Metric.zabSnapBytesSent);
    this.spansDropped = c(Metric.zabSpansDropped);
    this.sessionlessConnectionsExpired = c(Metric.sessionlessConnectionsExpired);
    this.connectionRejected = c(Metric.connectionRejected);
    this.connectionRequestCount = c(Metric.connectionRequestCount);
    this.connectionDropCount = c(Metric.connectionDropCount);
    this.connectionTokenDeficit = h(Metric.connectionTokenDeficit);
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
    this.eventLoopDelay = h(Metric.zabEventLoopDelay);
    this.gcPause = h(Metric.zabGcPause);
    this.counters = [
      this.proposalCount,
      this.commitCount,
      this.learnerProposalReceivedCount,
      this.learnerCommitReceivedCount,
      this.lookingCount,
      this.diffCount,
      this.snapCount,
      this.snapBytesSent,
      this.spansDropped,
      this.sessionlessConnectionsExpired,
      this.connectionRejected,
      this.connectionRequestCount,
      this.connectionDropCount,
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
      this.connectionTokenDeficit,
      this.eventLoopDelay,
      this.gcPause,
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
      connectionDropProbability: g(Metric.connectionDropProbability),
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
    const processGauges = new Map(PROCESS_GAUGES.map((spec) => [spec, g(spec)]));
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
        o(gauges.connectionDropProbability, v.connectionDropProbability);
        o(gauges.znodeCount, v.znodeCount);
        o(gauges.watchCount, v.watchCount);
        o(gauges.ephemeralsCount, v.ephemeralsCount);
        o(gauges.approximateDataSize, v.approximateDataSize);
        o(gauges.globalSessions, v.globalSessions);
        o(gauges.uptime, v.uptimeMs);
        for (const [spec, value] of this.processGauges()) o(processGauges.get(spec)!, value);
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
      [...Object.values(gauges), ...processGauges.values(), throttled, requests] as Observable[],
    );
  }

  /**
   * Export every metric through `meter` as well (the process's SDK MeterProvider): gauges and
   * counters are observed at its collections, histograms recorded into it from now on.
   */
  exportTo(meter: Meter): void {
    this.registerGauges(meter);
    const counters = this.counters.map((c) => ({ c, o: meter.createObservableCounter(c.spec.name, { description: c.spec.help, unit: c.spec.unit }) }));
    meter.addBatchObservableCallback(
      (r) => {
        for (const { c, o } of counters) r.observe(o, c.value);
      },
      counters.map((x) => x.o),
    );
    for (const h of this.histograms) h.exportTo(meter);
  }

  /** The counters and histograms as the SDK's collection would list them (in the order they were made). */
  collect(): MetricData[] {
    const ms = Date.now();
    const time: HrTime = [Math.floor(ms / 1_000), (ms % 1_000) * 1_000_000];
    const out: MetricData[] = [];
    for (const m of [...this.counters, ...this.histograms]) {
      const d = m.collect(time);
      if (d !== null) out.push(d);
    }
    return out;
  }

  /** The process's gauges (memory, event loop) by metric name. */
  private processGauges(): [MetricSpec, number][] {
    const mem = memoryGauges();
    const out: [MetricSpec, number][] = [
      [Metric.processResidentMemory, mem.residentBytes],
      [Metric.nodejsHeapSizeUsed, mem.heapUsedBytes],
    ];
    const loop = this.own().eventLoop;
    // Nothing until the first window has rolled: a 0 would read as a measured second without delay.
    if (loop !== null && loop.count > 0) {
      out.push(
        [Metric.zabEventLoopDelayRecentP99, round3(loop.p99Ms)],
        [Metric.zabEventLoopDelayRecentMax, round3(loop.maxMs)],
        [Metric.zabGcPauseRecentMax, round3(loop.gcPauseMaxMs)],
        [Metric.zabGcTimeRecent, round3(loop.gcPauseMs)],
      );
    }
    return out;
  }

  /** ZooKeeper's mntr lines for counters and summaries, and the process's gauges (keys without the zk_ prefix). */
  monitorValues(): [string, number][] {
    const out: [string, number][] = this.processGauges().map(([spec, v]) => [spec.name, v]);
    for (const c of this.counters) out.push([c.spec.name, c.value]);
    for (const h of this.histograms) h.monitorValues(out);
    return out;
  }
}

/** Every metric spec, for renderers and docs. */
export const ALL_METRICS: readonly MetricSpec[] = Object.values(Metric);
