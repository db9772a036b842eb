/** telemetry: OpenTelemetry setup, the server's span/metric hooks, and every span and metric name. */
export { ServerTelemetry, OPEN_SPANS_MAX, FSYNC_LINKS_MAX } from './instrument.js';
export type { PrometheusSource, RootSampler, ServerTelemetryOptions, SnapshotOutcome, TracedRequest } from './instrument.js';
export { setupTelemetry, readTelemetryConfig, buildSampler, GatedSampler, PooledIdGenerator, SAMPLERS, SPANS_MAX_BYTES_ENV } from './setup.js';
export type { SamplerName, SetupOptions, TelemetryConfig, TelemetryEnv } from './setup.js';
export { ZabMetrics, ALL_METRICS, bucketsOf } from './metrics.js';
export type { GaugeValues, GaugeView } from './metrics.js';
export { PROMETHEUS_CONTENT_TYPE, PullMetricReader, renderPrometheusText, sanitizeMetricName } from './prometheus.js';
export { SpansFileExporter, readSpansFile, spanLine, spanRecord, spansFileName, SPANS_DIR_ENV, SPANS_FILE_FLUSH_MS, SPANS_FILE_MAX_BYTES_DEFAULT } from './spans-file.js';
export type { SpanRecord, SpanAttributeValue } from './spans-file.js';
export { formatTraceparent, parseTraceparent, contextFromTraceparent, TRACEPARENT_CHARS } from './traceparent.js';
export { Attr, COUNT_BUCKETS, LATENCY_BUCKETS_MS, Metric, ROLES, SERVICE_NAME, SpanEvent, SpanName } from './names.js';
export type { MetricKind, MetricSpec, Role } from './names.js';
