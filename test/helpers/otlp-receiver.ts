/**
 * A real OTLP receiver for tests, on 127.0.0.1: OTLP/HTTP (POST /v1/traces, /v1/metrics and
 * /v1/logs, protobuf or JSON bodies, gzip or not) and OTLP/gRPC (the trace, metrics and logs
 * services' Export, bodies taken as raw bytes). Payloads are decoded by the OTLP field numbers
 * (protobuf-wire.ts), so a test sees what a collector would: span names and ids, parent
 * links, resource attributes, metric names, log records, and how each request came (content type,
 * headers or gRPC metadata).
 */
import http from 'node:http';
import zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { bytesOf, decodeMessage, messagesOf, stringOf, varintOf, type WireMessage } from './protobuf-wire.js';

export type Signal = 'traces' | 'metrics' | 'logs';

export interface ReceivedSpan {
  resource: Map<string, unknown>;
  traceId: string;
  spanId: string;
  /** '' for a root. */
  parentSpanId: string;
  name: string;
  attributes: Map<string, unknown>;
}

export interface ReceivedMetric {
  resource: Map<string, unknown>;
  name: string;
}

export interface ReceivedLog {
  resource: Map<string, unknown>;
  severityText: string;
  body: unknown;
  attributes: Map<string, unknown>;
}

/** One export request as it arrived. */
export interface ReceivedRequest {
  transport: 'http' | 'grpc';
  signal: Signal;
  /** The HTTP content type ('application/grpc' for gRPC). */
  contentType: string;
  /** The request's headers (HTTP) or metadata (gRPC), lower-case keys. */
  headers: Map<string, string>;
}

export class OtlpStore {
  readonly spans: ReceivedSpan[] = [];
  readonly metrics: ReceivedMetric[] = [];
  readonly logs: ReceivedLog[] = [];
  readonly requests: ReceivedRequest[] = [];
  readonly errors: string[] = [];
}

// ---------- OTLP protobuf (opentelemetry/proto, by field number) ----------

function anyValue(m: WireMessage): unknown {
  if (m.has(1)) return stringOf(m, 1);
  if (m.has(2)) return varintOf(m, 2) !== 0n;
  if (m.has(3)) return Number(BigInt.asIntN(64, varintOf(m, 3)));
  const d = m.get(4)?.[0];
  if (d?.wire === 'fixed64') return d.value.readDoubleLE(0);
  return undefined;
}

/** KeyValue { key = 1; AnyValue value = 2 } list. */
function keyValues(list: WireMessage[]): Map<string, unknown> {
  return new Map(list.map((kv) => [stringOf(kv, 1), anyValue(messagesOf(kv, 2)[0] ?? new Map())]));
}

/** Resource { attributes = 1 }. */
function resourceOf(m: WireMessage | undefined): Map<string, unknown> {
  return m === undefined ? new Map() : keyValues(messagesOf(m, 1));
}

/** ExportTraceServiceRequest { ResourceSpans = 1 { Resource = 1; ScopeSpans = 2 { Span spans = 2 } } }. */
function tracesFromProtobuf(body: Buffer, store: OtlpStore): void {
  for (const rs of messagesOf(decodeMessage(body), 1)) {
    const resource = resourceOf(messagesOf(rs, 1)[0]);
    for (const ss of messagesOf(rs, 2)) {
      for (const s of messagesOf(ss, 2)) {
        store.spans.push({
          resource,
          traceId: bytesOf(s, 1)[0]?.toString('hex') ?? '',
          spanId: bytesOf(s, 2)[0]?.toString('hex') ?? '',
          parentSpanId: bytesOf(s, 4)[0]?.toString('hex') ?? '',
          name: stringOf(s, 5),
          attributes: keyValues(messagesOf(s, 9)),
        });
      }
    }
  }
}

/** ExportMetricsServiceRequest { ResourceMetrics = 1 { Resource = 1; ScopeMetrics = 2 { Metric metrics = 2 { name = 1 } } } }. */
function metricsFromProtobuf(body: Buffer, store: OtlpStore): void {
  for (const rm of messagesOf(decodeMessage(body), 1)) {
    const resource = resourceOf(messagesOf(rm, 1)[0]);
    for (const sm of messagesOf(rm, 2)) for (const m of messagesOf(sm, 2)) store.metrics.push({ resource, name: stringOf(m, 1) });
  }
}

/** ExportLogsServiceRequest { ResourceLogs = 1 { Resource = 1; ScopeLogs = 2 { LogRecord log_records = 2 } } }. */
function logsFromProtobuf(body: Buffer, store: OtlpStore): void {
  for (const rl of messagesOf(decodeMessage(body), 1)) {
    const resource = resourceOf(messagesOf(rl, 1)[0]);
    for (const sl of messagesOf(rl, 2)) {
      for (const r of messagesOf(sl, 2)) {
        // LogRecord { severity_text = 3; AnyValue body = 5; KeyValue attributes = 6 }
        store.logs.push({ resource, severityText: stringOf(r, 3), body: anyValue(messagesOf(r, 5)[0] ?? new Map()), attributes: keyValues(messagesOf(r, 6)) });
      }
    }
  }
}

// ---------- OTLP/JSON ----------

interface JsonKeyValue {
  key: string;
  value?: Record<string, unknown>;
}

function jsonValue(v: Record<string, unknown> | undefined): unknown {
  if (v === undefined) return undefined;
  if ('intValue' in v) return Number(v['intValue']);
  return Object.values(v)[0];
}

function jsonKeyValues(list: JsonKeyValue[] | undefined): Map<string, unknown> {
  return new Map((list ?? []).map((a) => [a.key, jsonValue(a.value)]));
}

interface JsonTraces {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: JsonKeyValue[] }[] }[];
  }[];
}

interface JsonMetrics {
  resourceMetrics?: { resource?: { attributes?: JsonKeyValue[] }; scopeMetrics?: { metrics?: { name: string }[] }[] }[];
}

interface JsonLogs {
  resourceLogs?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeLogs?: { logRecords?: { severityText?: string; body?: Record<string, unknown>; attributes?: JsonKeyValue[] }[] }[];
  }[];
}

function logsFromJson(body: Buffer, store: OtlpStore): void {
  const payload = JSON.parse(body.toString('utf8')) as JsonLogs;
  for (const rl of payload.resourceLogs ?? []) {
    const resource = jsonKeyValues(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? []) {
      for (const r of sl.logRecords ?? []) {
        store.logs.push({ resource, severityText: r.severityText ?? '', body: jsonValue(r.body), attributes: jsonKeyValues(r.attributes) });
      }
    }
  }
}

function tracesFromJson(body: Buffer, store: OtlpStore): void {
  const payload = JSON.parse(body.toString('utf8')) as JsonTraces;
  for (const rs of payload.resourceSpans ?? []) {
    const resource = jsonKeyValues(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        store.spans.push({ resource, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, attributes: jsonKeyValues(s.attributes) });
      }
    }
  }
}

function metricsFromJson(body: Buffer, store: OtlpStore): void {
  const payload = JSON.parse(body.toString('utf8')) as JsonMetrics;
  for (const rm of payload.resourceMetrics ?? []) {
    const resource = jsonKeyValues(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) store.metrics.push({ resource, name: m.name });
  }
}

const DECODERS: Record<Signal, Record<'protobuf' | 'json', (body: Buffer, store: OtlpStore) => void>> = {
  traces: { protobuf: tracesFromProtobuf, json: tracesFromJson },
  metrics: { protobuf: metricsFromProtobuf, json: metricsFromJson },
  logs: { protobuf: logsFromProtobuf, json: logsFromJson },
};

function decodeInto(signal: Signal, format: 'protobuf' | 'json', body: Buffer, store: OtlpStore): void {
  DECODERS[signal][format](body, store);
}

// ---------- transports ----------

const HTTP_PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

/** OTLP/HTTP on 127.0.0.1: protobuf or JSON by content type; answers an empty success. */
export class OtlpHttpReceiver {
  readonly store = new OtlpStore();
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
      const contentType = String(req.headers['content-type'] ?? '');
      try {
        const signal = HTTP_PATHS[req.url ?? ''];
        if (req.method !== 'POST' || signal === undefined) throw new Error(`unexpected ${req.method} ${req.url}`);
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
        const format = contentType.startsWith('application/x-protobuf') ? 'protobuf' : contentType.startsWith('application/json') ? 'json' : null;
        if (format === null) throw new Error(`content-type ${contentType}`);
        decodeInto(signal, format, body, this.store);
        const headers = new Map(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]));
        this.store.requests.push({ transport: 'http', signal, contentType, headers });
        // An empty Export*ServiceResponse: no bytes in protobuf, {} in JSON.
        if (format === 'protobuf') res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        this.store.errors.push(String(err));
        res.writeHead(400).end();
      }
    });
  }
}

const GRPC_SERVICES: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

const raw = (b: Buffer): Buffer => b;

/** OTLP/gRPC on 127.0.0.1 (insecure): the trace, metrics and logs services, bodies as raw bytes. */
export class OtlpGrpcReceiver {
  readonly store = new OtlpStore();
  private readonly server = new grpc.Server();

  constructor() {
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const definition: grpc.ServiceDefinition = {
        Export: {
          path: GRPC_SERVICES[signal],
          requestStream: false,
          responseStream: false,
          requestSerialize: raw,
          requestDeserialize: raw,
          responseSerialize: raw,
          responseDeserialize: raw,
        },
      };
      const Export: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
        try {
          decodeInto(signal, 'protobuf', call.request, this.store);
          const headers = new Map(Object.entries(call.metadata.getMap()).map(([k, v]) => [k, String(v)]));
          this.store.requests.push({ transport: 'grpc', signal, contentType: 'application/grpc', headers });
          callback(null, Buffer.alloc(0));
        } catch (err) {
          this.store.errors.push(String(err));
          callback({ code: grpc.status.INVALID_ARGUMENT, details: String(err) });
        }
      };
      this.server.addService(definition, { Export });
    }
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.tryShutdown(() => resolve());
      // A client that keeps its channel open would hold tryShutdown; stop it after a moment.
      setTimeout(() => this.server.forceShutdown(), 2_000).unref();
    });
  }
}
