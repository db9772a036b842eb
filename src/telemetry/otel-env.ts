/**
 * Whether the environment asks for an OpenTelemetry export, decided without loading the SDK
 * (the CLI imports node-sdk.ts, and the SDK with it, only when it does).
 */
import type { TelemetryEnv } from './setup.js';

/** Exporter lists: one naming an exporter other than `none` asks for an export. */
export const EXPORTER_ENV = ['OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_LOGS_EXPORTER'] as const;

/** OTLP endpoints: any one set asks for an export. */
export const ENDPOINT_ENV = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
] as const;

/**
 * Does `env` ask for an OpenTelemetry export (and not disable the SDK)? `OTEL_TRACES_EXPORTER=none`
 * alone does not: it is how scripts (the tracing benchmark) say "no export".
 */
export function exportRequested(env: TelemetryEnv): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  if (ENDPOINT_ENV.some((k) => (env[k]?.trim() ?? '') !== '')) return true;
  return EXPORTER_ENV.some((k) => (env[k] ?? '').split(',').some((e) => e.trim() !== '' && e.trim().toLowerCase() !== 'none'));
}
