/**
 * Prometheus text exposition (format 0.0.4) of the OpenTelemetry metrics SDK's collection,
 * rendered here rather than by the Prometheus exporter so that names stay exactly
 * ZooKeeper's: `proposal_count`, not `proposal_count_total`; no unit suffixes.
 *
 * Metrics that nothing has recorded yet are still listed (counters and histograms at 0), as
 * ZooKeeper's provider lists every metric it registered: a dashboard sees 0, not "no data".
 */
import {
  AggregationTemporality,
  DataPointType,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Attributes } from '@opentelemetry/api';
import type { MetricSpec } from './names.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A reader that collects only when asked (GET /metrics). */
export class PullMetricReader extends MetricReader {
  constructor() {
    // Prometheus wants running totals.
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function sanitizeMetricName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labels(attrs: Attributes, extra?: [string, string]): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    parts.push(`${sanitizeMetricName(k)}="${escapeLabel(String(v))}"`);
  }
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function renderHistogram(name: string, dp: DataPoint<Histogram>, out: string[]): void {
  const { boundaries, counts } = dp.value.buckets;
  let cumulative = 0;
  for (let i = 0; i < boundaries.length; i++) {
    cumulative += counts[i] ?? 0;
    out.push(`${name}_bucket${labels(dp.attributes, ['le', formatValue(boundaries[i]!)])} ${cumulative}`);
  }
  out.push(`${name}_bucket${labels(dp.attributes, ['le', '+Inf'])} ${dp.value.count}`);
  out.push(`${name}_sum${labels(dp.attributes)} ${formatValue(dp.value.sum ?? 0)}`);
  out.push(`${name}_count${labels(dp.attributes)} ${dp.value.count}`);
}

function typeOf(m: MetricData): 'counter' | 'gauge' | 'histogram' | null {
  switch (m.dataPointType) {
    case DataPointType.SUM:
      return m.isMonotonic ? 'counter' : 'gauge';
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.HISTOGRAM:
      return 'histogram';
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      // zablab configures explicit buckets only; Prometheus 0.0.4 text has no exponential form.
      return null;
  }
}

function renderMetric(m: MetricData, help: string, out: string[]): void {
  const type = typeOf(m);
  if (type === null) return;
  const name = sanitizeMetricName(m.descriptor.name);
  out.push(`# HELP ${name} ${escapeHelp(help)}`);
  out.push(`# TYPE ${name} ${type}`);
  switch (m.dataPointType) {
    case DataPointType.SUM:
    case DataPointType.GAUGE:
      for (const dp of m.dataPoints) out.push(`${name}${labels(dp.attributes)} ${formatValue(dp.value)}`);
      return;
    case DataPointType.HISTOGRAM:
      for (const dp of m.dataPoints) renderHistogram(name, dp, out);
      return;
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return;
  }
}

/** A metric nobody recorded yet, as ZooKeeper shows it: 0. Gauges without a value are left out. */
function renderUnrecorded(spec: MetricSpec, buckets: readonly number[], out: string[]): void {
  if (spec.kind === 'gauge') return;
  const name = sanitizeMetricName(spec.name);
  out.push(`# HELP ${name} ${escapeHelp(spec.help)}`);
  out.push(`# TYPE ${name} ${spec.kind}`);
  if (spec.kind === 'counter') {
    out.push(`${name} 0`);
    return;
  }
  for (const b of buckets) out.push(`${name}_bucket{le="${formatValue(b)}"} 0`);
  out.push(`${name}_bucket{le="+Inf"} 0`);
  out.push(`${name}_sum 0`);
  out.push(`${name}_count 0`);
}

export interface RenderOptions {
  /** Every metric zablab defines, for HELP texts and zero series. */
  specs: readonly MetricSpec[];
  /** The buckets a never-recorded histogram shows. */
  bucketsOf: (spec: MetricSpec) => readonly number[];
}

export function renderPrometheusText(scopes: readonly ScopeMetrics[], opts: RenderOptions): string {
  const out: string[] = [];
  const specs = new Map(opts.specs.map((s) => [s.name, s]));
  const seen = new Set<string>();
  for (const scope of scopes) {
    for (const m of scope.metrics) {
      if (seen.has(m.descriptor.name)) continue;
      seen.add(m.descriptor.name);
      renderMetric(m, specs.get(m.descriptor.name)?.help ?? m.descriptor.description, out);
    }
  }
  for (const spec of opts.specs) {
    if (!seen.has(spec.name)) renderUnrecorded(spec, opts.bucketsOf(spec), out);
  }
  return out.join('\n') + '\n';
}
