/** What the OTEL_* variables (and ZABLAB_SPANS_*) turn on, and what they warn about. */
import { describe, expect, it } from 'vitest';
import { readTelemetryConfig, setupTelemetry } from '../../../src/telemetry/index.js';

describe('readTelemetryConfig', () => {
  it('nothing set: no exporter, no spans file, parent-based always-on sampling, service zablab', () => {
    const c = readTelemetryConfig({});
    expect(c).toMatchObject({ otlpTracesUrl: null, console: false, spansDir: null, serviceName: 'zablab', warnings: [] });
    expect(c.sampler).toEqual({ name: 'parentbased_always_on', ratio: 1 });
    expect(setupTelemetry({ serverId: 1, env: {} }).tracing).toBe(false);
  });

  it('an OTLP endpoint turns OTLP on; the traces endpoint wins over the base one', async () => {
    expect(readTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).otlpTracesUrl).toBe('http://127.0.0.1:4318/v1/traces');
    expect(readTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).otlpTracesUrl).toBe('http://c:4318/v1/traces');
    expect(
      readTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/traces' }).otlpTracesUrl,
    ).toBe('http://b:9999/traces');
    expect(readTelemetryConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).otlpTracesUrl).toBe('http://localhost:4318/v1/traces');
    const t = setupTelemetry({ serverId: 1, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' } });
    expect(t.tracing).toBe(true);
    await t.shutdown();
  });

  it('OTEL_TRACES_EXPORTER=none and OTEL_SDK_DISABLED=true turn exporting off; the spans dir stays unless the SDK is disabled', () => {
    expect(readTelemetryConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1' }).otlpTracesUrl).toBeNull();
    expect(readTelemetryConfig({ OTEL_TRACES_EXPORTER: 'none', ZABLAB_SPANS_DIR: '/tmp/s' }).spansDir).toBe('/tmp/s');
    const off = readTelemetryConfig({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1', ZABLAB_SPANS_DIR: '/tmp/s' });
    expect([off.otlpTracesUrl, off.spansDir]).toEqual([null, null]);
  });

  it('samplers by name and ratio; a bad name or ratio is a warning and falls back', () => {
    expect(readTelemetryConfig({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' }).sampler).toEqual({
      name: 'parentbased_traceidratio',
      ratio: 0.01,
    });
    const bad = readTelemetryConfig({ OTEL_TRACES_SAMPLER: 'sometimes', OTEL_TRACES_EXPORTER: 'zipkin' });
    expect(bad.sampler.name).toBe('parentbased_always_on');
    expect(bad.warnings).toEqual([
      'OTEL_TRACES_EXPORTER: "zipkin" is not supported (otlp, console, none); ignored',
      expect.stringContaining('OTEL_TRACES_SAMPLER="sometimes"'),
    ]);
    const badRatio = readTelemetryConfig({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' });
    expect(badRatio.sampler).toEqual({ name: 'traceidratio', ratio: 1 });
    expect(badRatio.warnings[0]).toContain('OTEL_TRACES_SAMPLER_ARG="2"');
  });

  it('service name and resource attributes; protocols other than http/json are reported', () => {
    const c = readTelemetryConfig({
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=bench,team=zab%20lab,broken',
      OTEL_SERVICE_NAME: 'zab-east',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    });
    expect(c.serviceName).toBe('zab-east');
    expect(c.resourceAttributes).toEqual({ 'deployment.environment': 'bench', team: 'zab lab' });
    expect(c.warnings).toEqual(['OTEL_EXPORTER_OTLP_PROTOCOL="grpc": zablab sends OTLP traces as http/json', expect.stringContaining('"broken" is not key=value')]);
  });

  it('setupTelemetry reports each warning through warn()', () => {
    const warnings: string[] = [];
    setupTelemetry({ serverId: 1, env: { OTEL_TRACES_SAMPLER: 'nope', ZABLAB_SPANS_MAX_BYTES: '-5' }, warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(2);
  });
});
