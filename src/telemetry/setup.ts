/**
 * Telemetry of one server. The recorder (recorder.ts) makes the spans; this wires where they
 * go and where the metrics are read. Nothing here registers anything globally: several
 * servers can share one process (tests), each with its own telemetry.
 *
 * Export to collectors is OpenTelemetry's NodeSDK, started once per process at its edge
 * (`zablab server`, node-sdk.ts) from the standard OTEL_* environment: exporters and
 * protocols (OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER, OTEL_EXPORTER_OTLP_PROTOCOL,
 * _ENDPOINT, _HEADERS, ...), resource detectors, propagators, batching and export intervals.
 * It hands this its span processors and resource, and its meter provider (`otel`): finished
 * spans go to those processors (otel-sink.ts), metrics are exported through that provider
 * as well.
 *
 * What is read here, from `env` (process.env by default):
 *   OTEL_TRACES_SAMPLER(_ARG)       the recorder's sampler, with the OpenTelemetry meanings
 *                                   (sampler.ts); spans it drops never reach the SDK
 *   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES   the spans file's resource
 *   OTEL_SDK_DISABLED               true: no spans file either
 *   ZABLAB_SPANS_DIR                write $ZABLAB_SPANS_DIR/server-<id>.jsonl
 *   ZABLAB_SPANS_MAX_BYTES          size limit of that file (default 1 GiB)
 *
 * With no span pipeline and no spans dir, tracing is off: the server gets no span recorder.
 * Metrics are always collected; GET /metrics renders them with a pull reader of this
 * server's own (renderPrometheus), under ZooKeeper's names.
 */
import type { MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { ServerTelemetry } from './instrument.js';
import { Attr, INSTRUMENTATION_SCOPE, SERVICE_NAME, SERVICE_VERSION } from './names.js';
import { ProcessorSink, type SpanPipeline } from './otel-sink.js';
import { PullMetricReader } from './prometheus.js';
import { SpanRecorder, type SpanSink } from './recorder.js';
import { SAMPLERS, SpanSampler, type SamplerConfig, type SamplerName } from './sampler.js';
import { SpansFileSink } from './spans-file-sink.js';
import { SPANS_DIR_ENV, SPANS_FILE_MAX_BYTES_DEFAULT, spansFileName } from './spans-file.js';

export { SAMPLERS };
export type { SamplerName };

export type TelemetryEnv = Readonly<Record<string, string | undefined>>;

export const SPANS_MAX_BYTES_ENV = 'ZABLAB_SPANS_MAX_BYTES';

/** What the environment asks for, with a warning for each value that was not understood. */
export interface TelemetryConfig {
  serviceName: string;
  resourceAttributes: Record<string, string>;
  spansDir: string | null;
  spansFileMaxBytes: number;
  sampler: SamplerConfig;
  warnings: string[];
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t === undefined || t === '' ? undefined : t;
}

function parseResourceAttributes(raw: string | undefined, warnings: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      warnings.push(`OTEL_RESOURCE_ATTRIBUTES: "${pair}" is not key=value; ignored`);
      continue;
    }
    try {
      out[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      warnings.push(`OTEL_RESOURCE_ATTRIBUTES: "${pair}" is badly percent-encoded; ignored`);
    }
  }
  return out;
}

function parseSampler(env: TelemetryEnv, warnings: string[]): TelemetryConfig['sampler'] {
  const rawName = nonEmpty(env['OTEL_TRACES_SAMPLER'])?.toLowerCase() ?? 'parentbased_always_on';
  let name: SamplerName = 'parentbased_always_on';
  if ((SAMPLERS as readonly string[]).includes(rawName)) name = rawName as SamplerName;
  else warnings.push(`OTEL_TRACES_SAMPLER="${rawName}" is not one of ${SAMPLERS.join(', ')}; using parentbased_always_on`);
  let ratio = 1;
  const rawArg = nonEmpty(env['OTEL_TRACES_SAMPLER_ARG']);
  if (name.endsWith('traceidratio') && rawArg !== undefined) {
    const r = Number(rawArg);
    if (Number.isFinite(r) && r >= 0 && r <= 1) ratio = r;
    else warnings.push(`OTEL_TRACES_SAMPLER_ARG="${rawArg}" is not a ratio in [0, 1]; using 1`);
  }
  return { name, ratio };
}

/** Read the telemetry settings from an environment (process.env by default). */
export function readTelemetryConfig(env: TelemetryEnv = process.env): TelemetryConfig {
  const warnings: string[] = [];
  const disabled = nonEmpty(env['OTEL_SDK_DISABLED'])?.toLowerCase() === 'true';
  let spansFileMaxBytes = SPANS_FILE_MAX_BYTES_DEFAULT;
  const rawMax = nonEmpty(env[SPANS_MAX_BYTES_ENV]);
  if (rawMax !== undefined) {
    const n = Number(rawMax);
    if (Number.isSafeInteger(n) && n > 0) spansFileMaxBytes = n;
    else warnings.push(`${SPANS_MAX_BYTES_ENV}="${rawMax}" is not a positive integer; using ${SPANS_FILE_MAX_BYTES_DEFAULT}`);
  }
  const resourceAttributes = parseResourceAttributes(env['OTEL_RESOURCE_ATTRIBUTES'], warnings);
  return {
    serviceName: nonEmpty(env['OTEL_SERVICE_NAME']) ?? resourceAttributes[ATTR_SERVICE_NAME] ?? SERVICE_NAME,
    resourceAttributes,
    spansDir: disabled ? null : (nonEmpty(env[SPANS_DIR_ENV]) ?? null),
    spansFileMaxBytes,
    sampler: parseSampler(env, warnings),
    warnings,
  };
}

export interface SetupOptions {
  serverId: number;
  env?: TelemetryEnv;
  /** Where configuration warnings and dropped spans are reported. */
  warn?: (message: string) => void;
  /**
   * Span processors of this server's own (tests use an InMemorySpanExporter); they turn
   * tracing on.
   */
  spanProcessors?: SpanProcessor[];
  /** The process's OpenTelemetry SDK (node-sdk.ts), where spans and metrics are exported. */
  otel?: OtelExport;
}

/** Where a process's OpenTelemetry SDK takes spans and metrics (null: that signal is off). */
export interface OtelExport {
  spans: SpanPipeline | null;
  meterProvider: ApiMeterProvider | null;
}

function resourceFor(cfg: TelemetryConfig, serverId: number): Resource {
  return resourceFromAttributes({
    ...cfg.resourceAttributes,
    [ATTR_SERVICE_NAME]: cfg.serviceName,
    [ATTR_SERVICE_VERSION]: SERVICE_VERSION,
    'service.instance.id': String(serverId),
    [Attr.serverId]: serverId,
  });
}

/** A resource's attributes as the spans file's `resource` object (undefined values left out). */
function resourceJson(resource: Resource): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource.attributes)) if (v !== undefined) out[k] = v;
  return JSON.stringify(out);
}

/** The telemetry of one server, as the environment configures it. */
export function setupTelemetry(opts: SetupOptions): ServerTelemetry {
  const cfg = readTelemetryConfig(opts.env);
  const warn = opts.warn ?? (() => undefined);
  for (const w of cfg.warnings) warn(w);
  const resource = resourceFor(cfg, opts.serverId);

  const reader = new PullMetricReader();
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  const telemetryRef: { t: ServerTelemetry | null } = { t: null };
  const scope = { name: INSTRUMENTATION_SCOPE, version: SERVICE_VERSION };
  const sinks: SpanSink[] = [];
  const edgeSpans = opts.otel?.spans ?? null;
  // The process's pipeline belongs to the SDK's owner, which flushes it when it shuts the SDK
  // down (with a time limit); a closing server does not wait on a collector here.
  if (edgeSpans !== null) sinks.push(new ProcessorSink(edgeSpans, scope, false));
  if (opts.spanProcessors !== undefined && opts.spanProcessors.length > 0) sinks.push(new ProcessorSink({ processors: opts.spanProcessors, resource }, scope, true));
  if (cfg.spansDir !== null) {
    let warned = false;
    sinks.push(
      new SpansFileSink({
        file: spansFileName(cfg.spansDir, opts.serverId),
        maxBytes: cfg.spansFileMaxBytes,
        serverId: opts.serverId,
        resourceJson: resourceJson(resource),
        onDrop: (n, reason) => {
          telemetryRef.t?.metrics.spansDropped.add(n);
          if (!warned) warn(`spans dropped: ${reason}`);
          warned = true;
        },
      }),
    );
  }
  const spans = sinks.length > 0 ? new SpanRecorder(opts.serverId, new SpanSampler(cfg.sampler), sinks) : null;
  const telemetry = new ServerTelemetry({
    serverId: opts.serverId,
    spans,
    meter: meterProvider.getMeter(INSTRUMENTATION_SCOPE, SERVICE_VERSION),
    reader,
    shutdown: async () => {
      await spans?.shutdown();
      await meterProvider.shutdown();
    },
  });
  const exportMeter = opts.otel?.meterProvider ?? null;
  if (exportMeter !== null) telemetry.metrics.exportTo(exportMeter.getMeter(INSTRUMENTATION_SCOPE, SERVICE_VERSION));
  telemetryRef.t = telemetry;
  return telemetry;
}
