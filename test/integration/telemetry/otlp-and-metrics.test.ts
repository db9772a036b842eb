/**
 * A real zablab process exporting through the standard OTEL_* variables to a real OTLP/HTTP
 * receiver started here (node:http, JSON payloads as the OTLP/HTTP spec defines them), and
 * serving GET /metrics that a real Prometheus text parser reads with ZooKeeper's names.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { startZablab, zablabBuilt, type ServerHandle } from '../../helpers/zablab.js';
import { poll } from '../ensemble/support.js';
import { LEADER_NAMES, ZOOKEEPER_NAMES, parsePrometheus } from '../../unit/telemetry/prom-parse.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

interface OtlpRequest {
  resourceSpans: { resource?: { attributes?: { key: string; value: Record<string, unknown> }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

/** A minimal OTLP/HTTP trace receiver: stores every span it is sent, answers 200 {}. */
class OtlpReceiver {
  readonly spans: { resource: Map<string, unknown>; span: OtlpSpan }[] = [];
  readonly errors: string[] = [];
  posts = 0;
  private readonly server = http.createServer((req, res) => this.onRequest(req, res));

  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as { port: number }).port));
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        if (req.method !== 'POST' || req.url !== '/v1/traces') throw new Error(`unexpected ${req.method} ${req.url}`);
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
        if (!String(req.headers['content-type']).startsWith('application/json')) throw new Error(`content-type ${req.headers['content-type']}`);
        const payload = JSON.parse(body.toString('utf8')) as OtlpRequest;
        this.posts++;
        for (const rs of payload.resourceSpans) {
          const resource = new Map((rs.resource?.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
          for (const ss of rs.scopeSpans) for (const span of ss.spans) this.spans.push({ resource, span });
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        this.errors.push(String(err));
        res.writeHead(400).end();
      }
    });
  }
}

function attribute(span: OtlpSpan, key: string): unknown {
  const a = span.attributes?.find((x) => x.key === key);
  return a === undefined ? undefined : Object.values(a.value)[0];
}

describe.skipIf(!zablabBuilt())('OTLP export and /metrics of a real server', () => {
  const receiver = new OtlpReceiver();
  let server: ServerHandle;

  beforeAll(async () => {
    const port = await receiver.listen();
    server = await startZablab({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_SERVICE_NAME: 'zablab-under-test' },
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
    await poll('the spans at the receiver', () => {
      const paths = receiver.spans.filter((s) => s.span.name === 'zk.request' && attribute(s.span, 'zk.path') === '/otlp');
      return Promise.resolve(paths.length >= 6 ? paths : undefined);
    });
    expect(receiver.errors).toEqual([]);
    const requests = receiver.spans.filter((s) => s.span.name === 'zk.request');
    expect(requests.map((s) => attribute(s.span, 'zk.op'))).toEqual(expect.arrayContaining(['createSession', 'create2', 'getData', 'closeSession']));
    for (const { resource, span } of receiver.spans) {
      expect(resource.get('service.name')).toBe('zablab-under-test');
      expect(resource.get('zab.server.id')).toBeDefined();
      expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(receiver.spans.some((s) => s.span.name === 'zab.fsync')).toBe(true);
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
