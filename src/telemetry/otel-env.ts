/**
 * Whether the environment asks for an OpenTelemetry export, decided without loading the SDK
 * (the CLI imports node-sdk.ts, and the SDK with it, only when it does).
 */
import type { TelemetryEnv } from './setup.js';

/** Variables that ask for an export; with none of them set, the SDK is not started. */
export const EXPORT_ENV = [
  'OTEL_TRACES_EXPORTER',
  'OTEL_METRICS_EXPORTER',
  'OTEL_LOGS_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
] as const;

/** Does `env` ask for an OpenTelemetry export (and not disable the SDK)? */
export function exportRequested(env: TelemetryEnv): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  return EXPORT_ENV.some((k) => (env[k]?.trim() ?? '') !== '');
}
