/**
 * `zablab server` exports through OpenTelemetry's NodeSDK as the standard OTEL_* variables
 * configure it, to real OTLP receivers started here that decode what they are sent:
 *  - http/protobuf, from a 3-voter ensemble: one write is one trace across the servers
 *    (zk.request → zab.proposal → zab.ack / zab.commit, linked by parent span ids), every
 *    request carries the OTEL_EXPORTER_OTLP_HEADERS header, the resource has the service
 *    name and the SDK's detected attributes, metrics arrive under ZooKeeper's names, and the
 *    servers' log lines as log records;
 *  - grpc, from a standalone server: the same for traces, metrics and logs over gRPC, the
 *    header as metadata.
 * (http/json is otlp-and-metrics.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { LocalEnsemble } from '../../../src/harness/ensemble/index.js';
import { OtlpGrpcReceiver, OtlpHttpReceiver, type OtlpStore, type ReceivedSpan } from '../../helpers/otlp-receiver.js';
import { startZablab, type ServerHandle } from '../../helpers/zablab.js';
import { poll, teardown, tempDir, zablabBuilt } from '../ensemble/support.js';

/** OTEL_* for a test run: short batches and export intervals, the probe header, all three signals. */
function otelEnv(endpoint: string, protocol: string, serviceName: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_HEADERS: 'x-probe=42',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_METRIC_EXPORT_INTERVAL: '500',
    OTEL_METRIC_EXPORT_TIMEOUT: '400',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_BLRP_SCHEDULE_DELAY: '200',
    OTEL_SERVICE_NAME: serviceName,
  };
}

/** What every export must look like, whatever the transport. */
function expectResource(span: ReceivedSpan | { resource: Map<string, unknown> }, serviceName: string): void {
  expect(span.resource.get('service.name')).toBe(serviceName);
  // The SDK's host and process detectors ran.
  expect(span.resource.get('host.name')).toEqual(expect.any(String));
  expect(span.resource.get('process.pid')).toEqual(expect.any(Number));
  expect(span.resource.get('zab.server.id')).toEqual(expect.any(Number));
}

function expectRequestsCarryProbe(store: OtlpStore): void {
  expect(store.requests.length).toBeGreaterThan(0);
  for (const r of store.requests) expect(r.headers.get('x-probe'), `${r.transport} ${r.signal}`).toBe('42');
}

/** The servers' log lines arrive as log records, with their level and the server's id. */
async function expectLogRecords(store: OtlpStore, serviceName: string): Promise<void> {
  const info = await poll('an INFO log record at the receiver', () => Promise.resolve(store.logs.find((l) => l.severityText === 'INFO')));
  expect(info.body).toEqual(expect.any(String));
  expect(info.attributes.get('zab.server.id')).toEqual(expect.any(Number));
  expectResource(info, serviceName);
}

async function metricNamesArrived(store: OtlpStore, names: string[]): Promise<void> {
  await poll(`metrics ${names.join(', ')} at the receiver`, () => {
    const seen = new Set(store.metrics.map((m) => m.name));
    return Promise.resolve(names.every((n) => seen.has(n)) ? true : undefined);
  });
}

describe.skipIf(!zablabBuilt())('OTLP http/protobuf from a 3-voter ensemble', () => {
  const receiver = new OtlpHttpReceiver();
  const serviceName = 'zablab-otlp-protobuf';
  let dir: string | undefined;
  let ensemble: LocalEnsemble;

  beforeAll(async () => {
    const port = await receiver.listen();
    dir = tempDir('zablab-otlp-');
    ensemble = await LocalEnsemble.up({ voters: 3, observers: 0, dir, env: otelEnv(`http://127.0.0.1:${port}`, 'http/protobuf', serviceName), timeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await teardown(dir);
    await receiver.close();
  }, 60_000);

  it('one write: zk.request → zab.proposal → zab.ack and zab.commit on every voter, by parent span id', async () => {
    const statuses = await ensemble.status();
    const leader = ensemble.server(statuses.find((s) => s.mode === 'leader')!.id);
    const client = await ZkClient.connect({ connectString: `${leader.host}:${leader.clientPort}`, connectTimeoutMs: 10_000 });
    try {
      await client.create('/otlp-protobuf', Buffer.from('one write'));
    } finally {
      await client.close();
    }
    const voters = ensemble.servers.map((s) => s.id).sort();
    const trace = await poll('the write’s trace at the receiver', () => {
      const spans = receiver.store.spans;
      const request = spans.find((s) => s.name === 'zk.request' && s.attributes.get('zk.path') === '/otlp-protobuf');
      if (request === undefined) return Promise.resolve(undefined);
      const inTrace = spans.filter((s) => s.traceId === request.traceId);
      const commits = new Set(inTrace.filter((s) => s.name === 'zab.commit').map((s) => s.resource.get('zab.server.id')));
      const acks = new Set(inTrace.filter((s) => s.name === 'zab.ack').map((s) => s.resource.get('zab.server.id')));
      return Promise.resolve(voters.every((v) => commits.has(v) && acks.has(v)) ? { request, inTrace } : undefined);
    });
    expect(receiver.store.errors).toEqual([]);
    const { request, inTrace } = trace;
    expect(request.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(request.parentSpanId).toBe('');
    const proposals = inTrace.filter((s) => s.name === 'zab.proposal');
    expect(proposals).toHaveLength(1);
    const proposal = proposals[0]!;
    expect(proposal.parentSpanId).toBe(request.spanId);
    expect(proposal.resource.get('zab.server.id')).toBe(leader.id);
    for (const child of inTrace.filter((s) => s.name === 'zab.ack' || s.name === 'zab.commit')) {
      expect(child.parentSpanId, `${child.name} of server ${String(child.resource.get('zab.server.id'))}`).toBe(proposal.spanId);
    }
    for (const span of inTrace) expectResource(span, serviceName);
  });

  it('every request is application/x-protobuf with the x-probe header; metrics under ZooKeeper names; log records', async () => {
    await metricNamesArrived(receiver.store, ['proposal_count', 'quorum_size', 'fsynctime', 'znode_count']);
    expect(receiver.store.errors).toEqual([]);
    expectRequestsCarryProbe(receiver.store);
    for (const r of receiver.store.requests) expect(r.contentType).toBe('application/x-protobuf');
    await expectLogRecords(receiver.store, serviceName);
    expect(new Set(receiver.store.requests.map((r) => r.signal))).toEqual(new Set(['traces', 'metrics', 'logs']));
    for (const m of receiver.store.metrics) expectResource(m, serviceName);
    // ZooKeeper's names as they are: no unit or _total suffixes.
    expect(receiver.store.metrics.some((m) => m.name.endsWith('_total'))).toBe(false);
  });
});

describe.skipIf(!zablabBuilt())('OTLP grpc from a standalone server', () => {
  const receiver = new OtlpGrpcReceiver();
  const serviceName = 'zablab-otlp-grpc';
  let server: ServerHandle;

  beforeAll(async () => {
    const port = await receiver.listen();
    server = await startZablab({ env: otelEnv(`http://127.0.0.1:${port}`, 'grpc', serviceName) });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await receiver.close();
  });

  it('traces, metrics and logs over gRPC, with the header as metadata and the SDK’s resource', async () => {
    const client = await ZkClient.connect({ connectString: server.connectString, connectTimeoutMs: 10_000 });
    try {
      await client.create('/otlp-grpc', Buffer.from('x'));
      await client.getData('/otlp-grpc');
    } finally {
      await client.close();
    }
    const requests = await poll('the requests’ spans at the receiver', () => {
      const paths = receiver.store.spans.filter((s) => s.name === 'zk.request' && s.attributes.get('zk.path') === '/otlp-grpc');
      return Promise.resolve(paths.length >= 2 ? paths : undefined);
    });
    expect(requests.map((s) => s.attributes.get('zk.op'))).toEqual(expect.arrayContaining(['getData']));
    await metricNamesArrived(receiver.store, ['updatelatency', 'readlatency', 'znode_count']);
    expect(receiver.store.errors).toEqual([]);
    await expectLogRecords(receiver.store, serviceName);
    expectRequestsCarryProbe(receiver.store);
    expect(new Set(receiver.store.requests.map((r) => r.signal))).toEqual(new Set(['traces', 'metrics', 'logs']));
    for (const s of receiver.store.spans) expectResource(s, serviceName);
    expect(receiver.store.spans.some((s) => s.name === 'zab.fsync')).toBe(true);
  });
});
