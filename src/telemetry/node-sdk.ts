/**
 * OpenTelemetry's NodeSDK at the process edge: `zablab server` starts it once, before its
 * server, and stops it after. Everything the SDK reads from the standard environment works
 * as in any OpenTelemetry-instrumented Node service: OTEL_TRACES_EXPORTER,
 * OTEL_METRICS_EXPORTER, OTEL_LOGS_EXPORTER, OTEL_EXPORTER_OTLP_(TRACES_|METRICS_)PROTOCOL
 * (http/protobuf, http/json, grpc), _ENDPOINT, _HEADERS, _TIMEOUT, OTEL_METRIC_EXPORT_INTERVAL,
 * OTEL_BSP_*, OTEL_SPAN_*_LIMIT, OTEL_PROPAGATORS, OTEL_NODE_RESOURCE_DETECTORS,
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED, OTEL_LOG_LEVEL.
 *
 * Three choices are zablab's:
 * - The SDK starts only when the environment asks for an export (an exporter other than
 *   none, or an OTLP endpoint; otel-env.ts). The SDK's default, OTLP to localhost:4318 for
 *   every signal, would make every server of a benchmark trace every request for a
 *   collector that is not there.
 * - The span processors are the ones NodeSDK builds from the environment when it is given
 *   none (its getSpanProcessorsFromEnv), made here and handed both to NodeSDK and to the
 *   recorder's sink: the recorder's finished spans go to them directly, already sampled
 *   (OTEL_TRACES_SAMPLER, sampler.ts) and with the ids their traceparents carried.
 * - The resource is detected here as NodeSDK would (OTEL_NODE_RESOURCE_DETECTORS, default
 *   env, process and host) and given to NodeSDK, so spans and metrics share it.
 * getSpanProcessorsFromEnv and getResourceDetectorsFromEnv are sdk-node's own, from a module
 * its index does not export: package.json pins sdk-node exactly, and the SDK tests in
 * test/integration/telemetry fail if they move.
 */
import { DiagLogLevel, diag, metrics } from '@opentelemetry/api';
import { logs, type Logger as OtelLogger } from '@opentelemetry/api-logs';
import { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes, type ResourceDetector } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { getResourceDetectorsFromEnv, getSpanProcessorsFromEnv } from '@opentelemetry/sdk-node/build/src/utils.js';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { Attr, SERVICE_NAME, SERVICE_VERSION } from './names.js';
import { exportRequested } from './otel-env.js';
import type { OtelExport } from './setup.js';

export interface NodeSdkEdge extends OtelExport {
  /** Where log records go (OTEL_LOGS_EXPORTER; a no-op logger when that is none). */
  logger: OtelLogger;
  /** Export what is buffered and stop (after the server closed). */
  shutdown(): Promise<void>;
}

export interface NodeSdkOptions {
  serverId: number;
  /** The SDK's own warnings (an export that failed, a value it did not understand). */
  warn: (message: string) => void;
}

/** NodeSDK's detectors: OTEL_NODE_RESOURCE_DETECTORS when set, else env, process and host. */
function resourceDetectors(): ResourceDetector[] {
  if ((process.env['OTEL_NODE_RESOURCE_DETECTORS']?.trim() ?? '') !== '') return getResourceDetectorsFromEnv();
  return [envDetector, processDetector, hostDetector];
}

/**
 * Start NodeSDK for this process from process.env (null: no export asked for). The SDK
 * registers its providers globally, so call this once per process, never from library code.
 */
export function startNodeSdk(opts: NodeSdkOptions): NodeSdkEdge | null {
  if (!exportRequested(process.env)) return null;
  // The SDK reports through diag; without a logger its failures would be silent. OTEL_LOG_LEVEL,
  // when set, makes the SDK install its own console logger instead.
  diag.setLogger(
    {
      error: (m) => opts.warn(`opentelemetry: ${m}`),
      warn: (m) => opts.warn(`opentelemetry: ${m}`),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  // Detected attributes (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, host, process) win over zablab's.
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: SERVICE_NAME,
        [ATTR_SERVICE_VERSION]: SERVICE_VERSION,
        'service.instance.id': String(opts.serverId),
        [Attr.serverId]: opts.serverId,
      }),
    )
    .merge(detectResources({ detectors: resourceDetectors() }));
  const spanProcessors = getSpanProcessorsFromEnv(undefined);
  // The SDK's tracer provider (for anything else that traces in this process, with the
  // sampler OTEL_TRACES_SAMPLER names) shares the processors.
  const sdk = new NodeSDK({ resource, autoDetectResources: false, spanProcessors });
  sdk.start();
  const meterProvider = metrics.getMeterProvider();
  return {
    spans: spanProcessors.length === 0 ? null : { processors: spanProcessors, resource },
    meterProvider: meterProvider instanceof MeterProvider ? meterProvider : null,
    logger: logs.getLogger(SERVICE_NAME, SERVICE_VERSION),
    shutdown: () => sdk.shutdown(),
  };
}
