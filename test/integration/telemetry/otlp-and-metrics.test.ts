/**
 * A real zablab process exporting through the standard OTEL_* variables (OTLP http/json,
 * the SDK's JSON exporters) to a real OTLP/HTTP receiver started here, and serving GET
 * /metrics that a real Prometheus text parser reads with ZooKeeper's names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { startZablab, zablabBuilt, type ServerHandle } from '../../helpers/zablab.js';
import { poll } from '../ensemble/support.js';
import { OtlpHttpReceiver, type ReceivedSpan } from '../../helpers/otlp-receiver.js';
import { LEADER_NAMES, ZOOKEEPER_NAMES, parsePrometheus } from '../../unit/telemetry/prom-parse.js';

function attribute(span: ReceivedSpan, key: string): unknown {
  return span.attributes.get(key);
}

describe.skipIf(!zablabBuilt())('OTLP export and /metrics of a real server', () => {
  const receiver = new OtlpHttpReceiver();
  let server: ServerHandle;

  beforeAll(async () => {
    const port = await receiver.listen();
    server = await startZablab({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-probe=42',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_SERVICE_NAME: 'zablab-under-test',
      },
    });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await receiver.close();
  });

  it('client requests arrive at the collector as zk.request and zab.fsync spans, with the resource set', async () => {
    const client = await ZkClient.connect({ connectString: server.connectString, connectTimeoutMs: 10_000 });
    try {
      await client.create('/otlp', Buffer.from('x'));
      for (let i = 0; i < 5; i++) await client.getData('/otlp');
    } finally {
      await client.close();
    }
    const store = receiver.store;
    await poll('the spans at the receiver', () => {
      const paths = store.spans.filter((s) => s.name === 'zk.request' && attribute(s, 'zk.path') === '/otlp');
      return Promise.resolve(paths.length >= 6 ? paths : undefined);
    });
    expect(store.errors).toEqual([]);
    const requests = store.spans.filter((s) => s.name === 'zk.request');
    expect(requests.map((s) => attribute(s, 'zk.op'))).toEqual(expect.arrayContaining(['createSession', 'create2', 'getData', 'closeSession']));
    for (const span of store.spans) {
      expect(span.resource.get('service.name')).toBe('zablab-under-test');
      expect(span.resource.get('zab.server.id')).toBeDefined();
      expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(store.spans.some((s) => s.name === 'zab.fsync')).toBe(true);
  });

  it('OTLP metrics as http/json too, with ZooKeeper names; every request carries the header', async () => {
    const store = receiver.store;
    // A histogram is exported once something was recorded in it: wait for an export after the requests.
    const names = ['updatelatency', 'readlatency', 'znode_count', 'zab_role'];
    await poll('metrics at the receiver', () => {
      const seen = new Set(store.metrics.map((m) => m.name));
      return Promise.resolve(names.every((n) => seen.has(n)) ? true : undefined);
    });
    expect(store.errors).toEqual([]);
    for (const r of store.requests) {
      expect(r.contentType).toMatch(/^application\/json/);
      expect(r.headers.get('x-probe')).toBe('42');
    }
    expect(new Set(store.requests.map((r) => r.signal))).toEqual(new Set(['traces', 'metrics']));
  });

  it('GET /metrics: Prometheus text with ZooKeeper names and the requests just made', async () => {
    const res = await fetch(`http://127.0.0.1:${server.adminPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(await res.text());
    for (const name of ZOOKEEPER_NAMES) expect(families.has(name), name).toBe(true);
    for (const name of LEADER_NAMES) expect(families.has(name), name).toBe(false);
    expect(Number(families.get('updatelatency')!.metrics[0]!.count)).toBeGreaterThanOrEqual(3);
    expect(Number(families.get('readlatency')!.metrics[0]!.count)).toBeGreaterThanOrEqual(5);
    expect(Number(families.get('fsynctime')!.metrics[0]!.count)).toBeGreaterThanOrEqual(1);
    expect(Number(families.get('znode_count')!.metrics[0]!.value)).toBeGreaterThanOrEqual(2);
    const role = families.get('zab_role')!.metrics.find((m) => m.labels?.['role'] === 'standalone');
    expect(role?.value).toBe('1');
  });
});
