/** The spans file: one JSON span per line on disk, a size limit, and a reader that survives a torn tail. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { OpCode } from '../../../src/jute/index.js';
import { SpansFileExporter, readSpansFile, setupTelemetry, spanLine, spanRecord, spansFileName } from '../../../src/telemetry/index.js';
import { request } from './helpers.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-spans-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('spans file', () => {
  it('ZABLAB_SPANS_DIR: server-<id>.jsonl gets each finished span as one JSON line, flushed by the SDK', async () => {
    const dir = tempDir();
    const tel = setupTelemetry({ serverId: 7, env: { ZABLAB_SPANS_DIR: dir } });
    expect(tel.tracing).toBe(true);
    const req = request(OpCode.getData, '/file');
    tel.requestStarted(req);
    tel.requestFinished(req, 0, false);
    await tel.shutdown();
    const [rec, ...rest] = readSpansFile(spansFileName(dir, 7));
    expect(rest).toEqual([]);
    expect(rec).toMatchObject({
      name: 'zk.request',
      parentSpanId: null,
      kind: SpanKind.SERVER,
      attributes: { 'zk.op': 'getData', 'zk.path': '/file', 'zab.server.id': 7 },
      resource: { 'service.name': 'zablab', 'zab.server.id': 7 },
    });
    expect(rec!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(rec!.spanId).toMatch(/^[0-9a-f]{16}$/);
    const start = BigInt(rec!.startTimeUnixNano);
    const end = BigInt(rec!.endTimeUnixNano);
    expect(end >= start).toBe(true);
    // Wall-clock nanoseconds: within a minute of now.
    expect(Number(start / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('stops at its size limit and reports the spans it dropped', async () => {
    const file = path.join(tempDir(), 'spans.jsonl');
    const dropped: number[] = [];
    const exporter = new SpansFileExporter({ file, maxBytes: 600, onDrop: (n) => dropped.push(n) });
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('t');
    for (let i = 0; i < 10; i++) tracer.startSpan(`span-${i}`).end();
    await provider.forceFlush();
    await exporter.forceFlush();
    const kept = readSpansFile(file);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length + dropped.reduce((a, b) => a + b, 0)).toBe(10);
    expect(fs.statSync(file).size).toBeLessThanOrEqual(600);
    await provider.shutdown();
  });

  it('readSpansFile skips a torn last line and a missing file reads as empty', () => {
    const file = path.join(tempDir(), 'torn.jsonl');
    fs.writeFileSync(file, JSON.stringify({ name: 'whole', traceId: 'a' }) + '\n{"name":"tor');
    expect(readSpansFile(file).map((s) => s.name)).toEqual(['whole']);
    expect(readSpansFile(path.join(path.dirname(file), 'absent.jsonl'))).toEqual([]);
  });
});

describe('spanLine', () => {
  it('writes exactly what JSON.stringify(spanRecord(span)) writes', async () => {
    const mem = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(mem)] });
    const tracer = provider.getTracer('t');
    const parent = tracer.startSpan('parent "quoted"\n');
    const child = tracer.startSpan('child', { attributes: { a: 1, b: 'x"y', c: [1, 2], d: undefined } }, trace.setSpan(ROOT_CONTEXT, parent));
    child.addEvent('ev', { k: 'v' });
    child.addEvent('bare');
    child.addLink({ context: parent.spanContext() });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'bad "thing"' });
    child.end();
    parent.end();
    for (const s of mem.getFinishedSpans()) {
      const resourceJson = JSON.stringify(spanRecord(s).resource);
      expect(JSON.parse(spanLine(s, resourceJson))).toEqual(JSON.parse(JSON.stringify(spanRecord(s))));
      expect(spanLine(s, resourceJson).endsWith('}\n')).toBe(true);
    }
    await provider.shutdown();
  });
});
