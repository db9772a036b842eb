/**
 * Telemetry setup from the standard OTEL_* environment variables, once per server, at the
 * edge (the server's start). Spans are zablab's own (recorder.ts), written to the spans file
 * off the server's thread and handed to OpenTelemetry span processors only when an exporter
 * wants them. Nothing is registered globally: several servers can share one process (tests).
 *
 *   OTEL_TRACES_EXPORTER            otlp | console | none (comma-separated); default: otlp when an
 *                                   OTLP endpoint is set, else none
 *   OTEL_EXPORTER_OTLP_ENDPOINT     base URL; traces go to <base>/v1/traces (OTLP/HTTP, JSON)
 *   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  full URL for traces (wins over the above)
 *   OTEL_TRACES_SAMPLER(_ARG)       always_on, always_off, traceidratio, parentbased_always_on
 *                                   (default), parentbased_always_off, parentbased_traceidratio
 *   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED, OTEL_BSP_* (batching)
 *   ZABLAB_SPANS_DIR                also write $ZABLAB_SPANS_DIR/server-<id>.jsonl
 *   ZABLAB_SPANS_MAX_BYTES          size limit of that file (default 1 GiB)
 *
 * With no exporter and no spans dir, tracing is off: the server gets no span recorder at all.
 * Metrics are always collected; they leave only through renderPrometheus() (GET /metrics).
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { ServerTelemetry } from './instrument.js';
import { Attr, INSTRUMENTATION_SCOPE, SERVICE_NAME } from './names.js';
import { ProcessorSink } from './otel-sink.js';
import { PullMetricReader } from './prometheus.js';
import { SpanRecorder, type SpanSink } from './recorder.js';
import { SAMPLERS, SpanSampler, type SamplerConfig, type SamplerName } from './sampler.js';
import { SpansFileSink } from './spans-file-sink.js';
import { SPANS_DIR_ENV, SPANS_FILE_MAX_BYTES_DEFAULT, spansFileName } from './spans-file.js';

export { SAMPLERS };
export type { SamplerName };

export type TelemetryEnv = Readonly<Record<string, string | undefined>>;

export const SPANS_MAX_BYTES_ENV = 'ZABLAB_SPANS_MAX_BYTES';
const SERVICE_VERSION = '0.1.0';
const DEFAULT_OTLP_TRACES_URL = 'http://localhost:4318/v1/traces';

/** What the environment asks for, with a warning for each value that was not understood. */
export interface TelemetryConfig {
  serviceName: string;
  resourceAttributes: Record<string, string>;
  /** OTLP/HTTP traces URL; null when spans do not go to a collector. */
  otlpTracesUrl: string | null;
  console: boolean;
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

function tracesUrl(env: TelemetryEnv): string {
  const full = nonEmpty(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
  if (full !== undefined) return full;
  const base = nonEmpty(env['OTEL_EXPORTER_OTLP_ENDPOINT']);
  if (base === undefined) return DEFAULT_OTLP_TRACES_URL;
  return base.endsWith('/') ? `${base}v1/traces` : `${base}/v1/traces`;
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
  const endpointSet = nonEmpty(env['OTEL_EXPORTER_OTLP_ENDPOINT']) !== undefined || nonEmpty(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) !== undefined;
  const exporters = new Set<string>();
  const rawExporters = nonEmpty(env['OTEL_TRACES_EXPORTER']);
  if (rawExporters === undefined) {
    if (endpointSet) exporters.add('otlp');
  } else {
    for (const e of rawExporters.split(',').map((x) => x.trim().toLowerCase())) {
      if (e === 'otlp' || e === 'console' || e === 'none') exporters.add(e);
      else if (e !== '') warnings.push(`OTEL_TRACES_EXPORTER: "${e}" is not supported (otlp, console, none); ignored`);
    }
    if (exporters.has('none')) exporters.clear();
  }
  for (const key of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) {
    const p = nonEmpty(env[key]);
    if (p !== undefined && p !== 'http/json' && exporters.has('otlp')) {
      warnings.push(`${key}="${p}": zablab sends OTLP traces as http/json`);
    }
  }
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
    otlpTracesUrl: !disabled && exporters.has('otlp') ? tracesUrl(env) : null,
    console: !disabled && exporters.has('console'),
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
  /** Extra span processors (tests use an InMemorySpanExporter); they turn tracing on. */
  spanProcessors?: SpanProcessor[];
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

  const processors: SpanProcessor[] = [...(opts.spanProcessors ?? [])];
  const reader = new PullMetricReader();
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  const telemetryRef: { t: ServerTelemetry | null } = { t: null };
  if (cfg.otlpTracesUrl !== null) processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: cfg.otlpTracesUrl })));
  if (cfg.console) processors.push(new BatchSpanProcessor(new ConsoleSpanExporter()));
  const sinks: SpanSink[] = [];
  if (processors.length > 0) sinks.push(new ProcessorSink(processors, resource, { name: INSTRUMENTATION_SCOPE, version: SERVICE_VERSION }));
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
  telemetryRef.t = telemetry;
  return telemetry;
}
