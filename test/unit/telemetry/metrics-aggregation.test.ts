/**
 * Counters and histograms are aggregated by zablab itself (the SDK's record() costs too much
 * per write); /metrics must read exactly as if the OpenTelemetry SDK had aggregated them.
 * The same values go to real SDK instruments and to ZabMetrics, and both are rendered.
 */
import { ValueType } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { ALL_METRICS, Metric, PullMetricReader, ZabMetrics, bucketsOf, renderPrometheusText } from '../../../src/telemetry/index.js';
import { parsePrometheus } from './prom-parse.js';

describe('ZabMetrics’ own aggregation', () => {
  it('renders as the SDK’s does: buckets, sums to the last digit (collection after collection), per-key series, dropped values', async () => {
    const reader = new PullMetricReader();
    const meter = new MeterProvider({ readers: [reader] }).getMeter('reference');
    const sdk = (spec: (typeof Metric)[keyof typeof Metric]) =>
      meter.createHistogram(spec.name, { description: spec.help, unit: spec.unit, valueType: ValueType.DOUBLE, advice: { explicitBucketBoundaries: [...bucketsOf(spec)] } });
    // Made in the order ZabMetrics makes them (the SDK lists metrics in that order).
    const ref = {
      commits: meter.createCounter(Metric.commitCount.name, { description: Metric.commitCount.help, unit: Metric.commitCount.unit, valueType: ValueType.INT }),
      dropped: meter.createCounter(Metric.zabSpansDropped.name, { description: Metric.zabSpansDropped.help, unit: Metric.zabSpansDropped.unit, valueType: ValueType.INT }),
      ack: sdk(Metric.ackLatency),
      fsync: sdk(Metric.fsyncTime),
      batch: sdk(Metric.syncProcessorBatchSize),
    };
    const ours = new ZabMetrics();
    const opts = { specs: ALL_METRICS, bucketsOf };
    const render = async (): Promise<[string, string]> => {
      const { resourceMetrics } = await reader.collect();
      const theirs = renderPrometheusText(resourceMetrics.scopeMetrics, opts);
      const mine = renderPrometheusText([{ scope: { name: 'zablab' }, metrics: ours.collect() }], opts);
      return [mine, theirs];
    };

    let seed = 7;
    const random = (): number => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647;
    const seen: string[] = [];
    let key2 = 0;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 700; i++) {
        const ms = random() * (round + 1) * 7;
        ours.fsyncTime.record(ms);
        ref.fsync.record(ms);
        const key = 1 + ((i * 7) % 3);
        if (key === 2) key2++;
        ours.ackLatency.recordKeyed(key, ms / 3);
        ref.ack.record(ms / 3, { key: String(key) });
        const n = Math.floor(random() * 2_000);
        ours.syncProcessorBatchSize.record(n);
        ref.batch.record(n);
        ours.commitCount.add();
        ref.commits.add(1);
      }
      // Values on bucket bounds, far above them, negative (dropped, as the SDK drops them), a zero add.
      for (const v of [0, 0.05, 1, 60_000, 1e9, -1]) {
        ours.fsyncTime.record(v);
        ref.fsync.record(v);
      }
      ours.ackLatency.recordKeyed(9, -2);
      ref.ack.record(-2, { key: '9' });
      ours.spansDropped.add(0);
      ref.dropped.add(0);
      const [mine, theirs] = await render();
      seen.push(mine);
      expect(mine).toBe(theirs);
    }
    expect(seen.at(-1)).toContain(`\nack_latency_count{key="2"} ${key2}\n`);
    expect(seen.at(-1)).toMatch(/^zab_spans_dropped 0$/m);
    expect(seen.at(-1)).not.toMatch(/key="9"/);
    // mntr keeps ZooKeeper's summary of every value, the dropped ones included.
    expect(new Map(ours.monitorValues()).get('cnt_9_ack_latency')).toBe(6);
  });

  it('lists nothing it was not given: an unused metric renders as zero, from its spec', () => {
    const ours = new ZabMetrics();
    expect(ours.collect()).toEqual([]);
    const text = renderPrometheusText([{ scope: { name: 'zablab' }, metrics: ours.collect() }], { specs: ALL_METRICS, bucketsOf });
    expect(text).toMatch(/^fsynctime_count 0$/m);
    expect(text).toMatch(/^proposal_count 0$/m);
  });

  it('exportTo: an SDK MeterProvider (OTLP export) gets every counter and histogram with the values /metrics shows', async () => {
    const reader = new PullMetricReader();
    const provider = new MeterProvider({ readers: [reader] });
    const ours = new ZabMetrics();
    ours.fsyncTime.record(0.3); // before exportTo: in /metrics, not in the SDK
    ours.exportTo(provider.getMeter('zablab'));
    for (const v of [0.2, 4, 70_000, -1]) ours.fsyncTime.record(v);
    ours.ackLatency.recordKeyed(2, 1.5);
    ours.ackLatency.recordKeyed(3, 0.7);
    ours.proposalCount.add(5);
    ours.commitCount.add(3);
    const { resourceMetrics } = await reader.collect();
    const opts = { specs: ALL_METRICS, bucketsOf };
    const exported = parsePrometheus(renderPrometheusText(resourceMetrics.scopeMetrics, opts));
    const own = parsePrometheus(renderPrometheusText([{ scope: { name: 'zablab' }, metrics: ours.collect() }], opts));
    for (const spec of ALL_METRICS.filter((m) => m.kind !== 'gauge' && m.name !== Metric.throttledOps.name && m.name !== Metric.zabRequests.name)) {
      expect(exported.has(spec.name), spec.name).toBe(true);
    }
    expect(exported.get('proposal_count')!.metrics[0]!.value).toBe('5');
    expect(exported.get('commit_count')!.metrics[0]!.value).toBe('3');
    expect(exported.get('ack_latency')).toEqual(own.get('ack_latency'));
    const fsync = exported.get('fsynctime')!.metrics[0]!;
    expect(fsync.count).toBe('3');
    expect(Number(own.get('fsynctime')!.metrics[0]!.count)).toBe(4);
    await provider.shutdown();
  });
});
