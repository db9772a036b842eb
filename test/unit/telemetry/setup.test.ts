/** What the OTEL_* variables (and ZABLAB_SPANS_*) turn on, and what they warn about. */
import { describe, expect, it } from 'vitest';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ENDPOINT_ENV, EXPORTER_ENV, exportRequested, readTelemetryConfig, setupTelemetry } from '../../../src/telemetry/index.js';

describe('readTelemetryConfig', () => {
  it('nothing set: no span pipeline, no spans file, parent-based always-on sampling, service zablab', () => {
    const c = readTelemetryConfig({});
    expect(c).toMatchObject({ spansDir: null, serviceName: 'zablab', warnings: [] });
    expect(c.sampler).toEqual({ name: 'parentbased_always_on', ratio: 1 });
    expect(setupTelemetry({ serverId: 1, env: {} }).tracing).toBe(false);
  });

  it('OTLP variables alone do not turn tracing on in a library server: only a span pipeline handed in does', async () => {
    expect(setupTelemetry({ serverId: 1, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' } }).tracing).toBe(false);
    const t = setupTelemetry({ serverId: 1, env: {}, spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
    expect(t.tracing).toBe(true);
    await t.shutdown();
  });

  it('an export is asked for by an exporter other than none or an OTLP endpoint, unless the SDK is disabled', () => {
    expect(exportRequested({})).toBe(false);
    expect(exportRequested({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_SERVICE_NAME: 'x', ZABLAB_SPANS_DIR: '/tmp/s' })).toBe(false);
    for (const k of EXPORTER_ENV) expect(exportRequested({ [k]: 'otlp' }), k).toBe(true);
    for (const k of ENDPOINT_ENV) expect(exportRequested({ [k]: 'http://127.0.0.1:4318' }), k).toBe(true);
    expect(exportRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: ' none ', OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBe(false);
    expect(exportRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'prometheus' })).toBe(true);
    expect(exportRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
    expect(exportRequested({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1' })).toBe(false);
  });

  it('OTEL_SDK_DISABLED=true turns the spans file off too', () => {
    expect(readTelemetryConfig({ OTEL_TRACES_EXPORTER: 'none', ZABLAB_SPANS_DIR: '/tmp/s' }).spansDir).toBe('/tmp/s');
    expect(readTelemetryConfig({ OTEL_SDK_DISABLED: 'true', ZABLAB_SPANS_DIR: '/tmp/s' }).spansDir).toBeNull();
  });

  it('samplers by name and ratio; a bad name or ratio is a warning and falls back', () => {
    expect(readTelemetryConfig({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' }).sampler).toEqual({
      name: 'parentbased_traceidratio',
      ratio: 0.01,
    });
    const bad = readTelemetryConfig({ OTEL_TRACES_SAMPLER: 'sometimes' });
    expect(bad.sampler.name).toBe('parentbased_always_on');
    expect(bad.warnings).toEqual([expect.stringContaining('OTEL_TRACES_SAMPLER="sometimes"')]);
    const badRatio = readTelemetryConfig({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' });
    expect(badRatio.sampler).toEqual({ name: 'traceidratio', ratio: 1 });
    expect(badRatio.warnings[0]).toContain('OTEL_TRACES_SAMPLER_ARG="2"');
  });

  it('service name and resource attributes of the spans file', () => {
    const c = readTelemetryConfig({
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=bench,team=zab%20lab,broken',
      OTEL_SERVICE_NAME: 'zab-east',
    });
    expect(c.serviceName).toBe('zab-east');
    expect(c.resourceAttributes).toEqual({ 'deployment.environment': 'bench', team: 'zab lab' });
    expect(c.warnings).toEqual([expect.stringContaining('"broken" is not key=value')]);
  });

  it('setupTelemetry reports each warning through warn()', () => {
    const warnings: string[] = [];
    setupTelemetry({ serverId: 1, env: { OTEL_TRACES_SAMPLER: 'nope', ZABLAB_SPANS_MAX_BYTES: '-5' }, warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(2);
  });
});
