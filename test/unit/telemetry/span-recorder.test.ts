/**
 * zablab's own span recording: the spans file written by the writer thread holds exactly
 * what spanLine() would write for the same spans as OpenTelemetry spans; it is bounded
 * (size limit, chunk budget) and reports what it drops; it flushes within 2 s without being
 * asked; and the samplers decide as OpenTelemetry's do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { Code, OpCode } from '../../../src/jute/index.js';
import {
  BrokenRecordError,
  SpanEncoder,
  SpanLineWriter,
  SpanRecorder,
  SpanSampler,
  readSpansFile,
  setupTelemetry,
  spanRecord,
  spansFileName,
  traceIdUnderRatio,
  type SpanRecord,
} from '../../../src/telemetry/index.js';
import { makeZxid } from '../../../src/zab/index.js';
import { lead, learn, request, setDataTxn } from './helpers.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-recorder-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A request whose path is `p` (raw UTF-8 bytes allowed). */
function requestWithPath(type: number, p: Buffer, sessionId: bigint, cxid: number) {
  const body = Buffer.alloc(4 + p.length + 4);
  body.writeInt32BE(p.length, 0);
  p.copy(body, 4);
  return { sessionId, cxid, type, body, receivedAtMs: performance.now() };
}

async function poll<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the spans file', () => {
  it('holds, line for line, what spanLine() writes for the same spans as OpenTelemetry spans', async () => {
    const dir = tempDir();
    const memory = new InMemorySpanExporter();
    const tel = setupTelemetry({ serverId: 4, env: { ZABLAB_SPANS_DIR: dir, OTEL_RESOURCE_ATTRIBUTES: 'team=zab%20lab' }, spanProcessors: [new SimpleSpanProcessor(memory)] });
    lead(tel, 4);
    // Reads and writes with awkward paths and replies: quotes, control characters, non-ASCII,
    // invalid UTF-8, a negative (signed) session id, API and system errors.
    const paths = [Buffer.from('/plain'), Buffer.from('/q"uote\\back\nnl\ttab'), Buffer.from('/zählerstand/日本/😀'), Buffer.from([0x2f, 0xff, 0xfe, 0x41])];
    paths.forEach((p, i) => {
      const r = requestWithPath(OpCode.getData, p, -0x1234n, i);
      tel.requestStarted(r);
      tel.requestFinished(r, [Code.OK, Code.NONODE, Code.CONNECTIONLOSS, Code.OK][i]!, false);
    });
    const ping = request(OpCode.ping, null);
    tel.requestStarted(ping);
    tel.requestFinished(ping, Code.OK, false);
    const noPath = request(OpCode.multi, null, 0xfedcba9876543210n, 9);
    tel.requestStarted(noPath);
    tel.requestAbandoned(noPath);
    // A write: request → proposal (events with attributes) → ack → commit, plus an fsync with a link.
    const w = request(OpCode.setData, '/w');
    tel.requestStarted(w);
    const zxid = makeZxid(1n, 1n);
    const tp = tel.proposalStarting(w);
    tel.proposalCreated(zxid, OpCode.setData);
    tel.requestLogged(zxid, w);
    tel.messageReceived(2, { kind: 'ack', zxid });
    tel.logSynced(performance.now() - 0.25);
    tel.messageSent(2, { kind: 'commit', zxid });
    tel.committedApplied(zxid);
    tel.requestFinished(w, Code.OK, true);
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // (Shutting down clears the in-memory exporter: read it first.)
    const expected = new Map(memory.getFinishedSpans().map((s) => [s.spanContext().spanId, JSON.parse(JSON.stringify(spanRecord(s))) as SpanRecord]));
    await tel.shutdown();

    const lines = readSpansFile(spansFileName(dir, 4));
    // election, discovery, sync, 4 reads, an abandoned request, the write's request, proposal, ack, commit, fsync
    expect(lines.map((l) => l.name).sort()).toEqual([...expected.values()].map((s) => s.name).sort());
    expect(lines).toHaveLength(expected.size);
    for (const line of lines) expect(line).toEqual(expected.get(line.spanId));

    const byPath = (p: string) => lines.find((l) => l.attributes['zk.path'] === p)!;
    expect(byPath('/q"uote\\back\nnl\ttab').attributes).toMatchObject({ 'zk.error.code': Code.NONODE, 'zk.error.name': 'NONODE', 'zk.session.id': '0xffffffffffffedcc' });
    expect(byPath('/zählerstand/日本/😀')).toBeDefined();
    expect(lines.find((l) => l.attributes['zk.error.name'] === 'CONNECTIONLOSS')!.status).toEqual({ code: 2, message: 'CONNECTIONLOSS' });
    expect(lines.find((l) => l.attributes['zk.op'] === 'multi')).toMatchObject({
      status: { code: 2, message: 'connection closed before the reply' },
      attributes: { 'zk.session.id': '0xfedcba9876543210', 'zab.reason': 'connection closed before the reply' },
    });
    expect(lines[0]!.resource).toEqual({ team: 'zab lab', 'service.name': 'zablab', 'service.version': '0.1.0', 'service.instance.id': '4', 'zab.server.id': 4 });
  });

  it('draws the ids of spans nobody referred to in the writer; a learner’s spans join the leader’s trace', async () => {
    const dir = tempDir();
    const tel = setupTelemetry({ serverId: 2, env: { ZABLAB_SPANS_DIR: dir } });
    learn(tel, 1, 'FOLLOWING');
    const reads = Array.from({ length: 50 }, (_, i) => request(OpCode.exists, `/r${i}`, 7n, i));
    for (const r of reads) tel.requestStarted(r);
    for (const r of reads) tel.requestFinished(r, Code.OK, false);
    const leaderTrace = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) };
    const zxid = makeZxid(1n, 5n);
    tel.messageReceived(1, { kind: 'proposal', txn: setDataTxn(zxid, `00-${leaderTrace.traceId}-${leaderTrace.spanId}-01`) });
    tel.logAppended(zxid, `00-${leaderTrace.traceId}-${leaderTrace.spanId}-01`);
    tel.logSynced(performance.now());
    tel.messageSent(1, { kind: 'ack', zxid });
    await tel.shutdown();
    const lines = readSpansFile(spansFileName(dir, 2));
    const readLines = lines.filter((l) => l.name === 'zk.request');
    expect(readLines).toHaveLength(50);
    expect(new Set(readLines.map((l) => l.traceId)).size).toBe(50);
    for (const l of readLines) {
      expect(l.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(l.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(l.parentSpanId).toBeNull();
    }
    const ack = lines.find((l) => l.name === 'zab.ack')!;
    expect(ack).toMatchObject({ traceId: leaderTrace.traceId, parentSpanId: leaderTrace.spanId, attributes: { 'zab.zxid': '0x100000005', 'zab.role': 'follower' } });
    expect(ack.events.map((e) => e.name)).toEqual(['appended', 'fsynced', 'ack sent']);
    const fsync = lines.find((l) => l.name === 'zab.fsync')!;
    expect(fsync.links).toEqual([leaderTrace]);
  });

  it('reaches the disk within 2 s without a flush, and on shutdown', async () => {
    const dir = tempDir();
    const tel = setupTelemetry({ serverId: 1, env: { ZABLAB_SPANS_DIR: dir } });
    tel.startedStandalone();
    await tel.flushSpans(); // the writer thread is up (starting it is not what is timed)
    const r = request(OpCode.getData, '/soon');
    tel.requestStarted(r);
    tel.requestFinished(r, Code.OK, false);
    const startedAt = Date.now();
    await poll('the span in the file', () => (readSpansFile(spansFileName(dir, 1)).length === 1 ? true : undefined), 5_000);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    await tel.shutdown();
  });

  it.skipIf(process.platform !== 'linux')('the writer thread runs below the server’s priority, the server’s own threads do not', async () => {
    const niceOf = (tid: string): number => {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const before = new Map(fs.readdirSync('/proc/self/task').map((t) => [t, niceOf(t)]));
    const own = niceOf(String(process.pid));
    const tel = setupTelemetry({ serverId: 1, env: { ZABLAB_SPANS_DIR: tempDir() } });
    await tel.flushSpans(); // the writer is up
    const lowered = fs.readdirSync('/proc/self/task').filter((t) => !before.has(t) && niceOf(t) === Math.min(19, own + 10));
    expect(lowered).toHaveLength(1);
    expect(niceOf(String(process.pid))).toBe(own);
    await tel.shutdown();
  });

  it('stops at ZABLAB_SPANS_MAX_BYTES and counts what it dropped (zab_spans_dropped, one warning)', async () => {
    const dir = tempDir();
    const warnings: string[] = [];
    const tel = setupTelemetry({ serverId: 1, env: { ZABLAB_SPANS_DIR: dir, ZABLAB_SPANS_MAX_BYTES: '5000' }, warn: (m) => warnings.push(m) });
    tel.startedStandalone();
    for (let i = 0; i < 40; i++) {
      const r = request(OpCode.getData, `/limit/${i}`);
      tel.requestStarted(r);
      tel.requestFinished(r, Code.OK, false);
    }
    await tel.flushSpans();
    await tel.shutdown();
    const kept = readSpansFile(spansFileName(dir, 1));
    expect(kept.length).toBeGreaterThan(0);
    expect(fs.statSync(spansFileName(dir, 1)).size).toBeLessThanOrEqual(5000);
    const dropped = new Map(tel.monitorValues()).get('zab_spans_dropped');
    expect(kept.length + dropped!).toBe(40);
    expect(warnings).toEqual([expect.stringContaining('reached its limit of 5000 bytes')]);
  });

  it('a file that cannot be opened: every span is counted as dropped, the server goes on', async () => {
    const dir = tempDir();
    fs.mkdirSync(spansFileName(dir, 3)); // a directory where the file should be
    const warnings: string[] = [];
    const tel = setupTelemetry({ serverId: 3, env: { ZABLAB_SPANS_DIR: dir }, warn: (m) => warnings.push(m) });
    tel.startedStandalone();
    for (let i = 0; i < 5; i++) {
      const r = request(OpCode.getData, '/x');
      tel.requestStarted(r);
      tel.requestFinished(r, Code.OK, false);
    }
    await tel.shutdown();
    expect(new Map(tel.monitorValues()).get('zab_spans_dropped')).toBe(5);
    expect(warnings).toEqual([expect.stringContaining(`cannot open ${spansFileName(dir, 3)}`)]);
  });
});

describe('chunks between the threads', () => {
  /** Spans through a SpanEncoder with small chunks, straight into a SpanLineWriter. */
  function pipeline(chunkBytes: number, chunksMax: number, timeOriginMs = performance.timeOrigin) {
    const chunks: { buf: ArrayBuffer; len: number }[] = [];
    const symbols: string[] = [];
    let made = 0;
    const encoder = new SpanEncoder({
      take: () => (made++ < chunksMax ? new ArrayBuffer(chunkBytes) : null),
      post: (buf, len, s) => {
        chunks.push({ buf, len });
        symbols.push(...s);
      },
    });
    const recorder = new SpanRecorder(1, new SpanSampler({ name: 'always_on', ratio: 1 }), [
      { onEnd: (s) => void encoder.encode(s), forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() },
    ]);
    const read = (): SpanRecord[] => {
      encoder.post();
      let text = '';
      const writer = new SpanLineWriter({ serverId: 1, resourceJson: '{}', timeOriginMs, startBytes: 0, maxBytes: 1e9, write: (b, n) => (text += b.toString('utf8', 0, n)) });
      writer.addSymbols(symbols);
      for (const c of chunks) writer.decode(c.buf, c.len);
      writer.flush();
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as SpanRecord);
    };
    return { encoder, recorder, read, chunks, symbols };
  }

  it('times stay exact nanoseconds whatever the clock (19 digits from 2001 to 2286, fewer before)', () => {
    for (const origin of [0, 1_000, performance.timeOrigin, 9_999_999_999_000]) {
      const { recorder, read } = pipeline(64 * 1024, 4, origin);
      const s = recorder.root('t', 'leader', 0, 1234.567891);
      s.addEvent('e');
      s.end(1234.567892);
      const [line] = read();
      const expected = (ms: number): string => (BigInt(Math.floor(origin)) * 1_000_000n + BigInt(Math.round((origin - Math.floor(origin)) * 1e6)) + BigInt(Math.round(ms * 1e6))).toString();
      expect(line!.startTimeUnixNano).toBe(expected(1234.567891));
      expect(line!.endTimeUnixNano).toBe(expected(1234.567892));
      expect(line!.durationMs).toBe(0.000001);
      expect(BigInt(line!.events[0]!.timeUnixNano) >= BigInt(line!.startTimeUnixNano)).toBe(true);
    }
  });

  it('a record that does not decode loses the rest of its chunk, not the lines before it', () => {
    const { encoder, recorder, chunks, symbols } = pipeline(64 * 1024, 4);
    for (let i = 0; i < 3; i++) recorder.root(`s${i}`, 'leader').end();
    encoder.post();
    const [chunk] = chunks;
    const view = new DataView(chunk!.buf);
    new Uint8Array(chunk!.buf)[view.getUint32(6, true)] = 0; // the second record's magic byte
    let text = '';
    const writer = new SpanLineWriter({ serverId: 1, resourceJson: '{}', timeOriginMs: performance.timeOrigin, startBytes: 0, maxBytes: 1e9, write: (b, n) => (text += b.toString('utf8', 0, n)) });
    writer.addSymbols(symbols);
    expect(() => writer.decode(chunk!.buf, chunk!.len)).toThrow(BrokenRecordError);
    writer.flush();
    expect(text.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as SpanRecord).name)).toEqual(['s0']);
  });

  it('a span that does not fit the rest of a chunk moves whole to the next one', () => {
    const { recorder, read } = pipeline(4096, 100);
    const values: string[] = [];
    for (let i = 0; i < 20; i++) {
      const s = recorder.root(`span-${i % 3}`, 'leader');
      const v = `${i}:${'v'.repeat(300 + 37 * i)}`;
      values.push(v);
      s.setAttribute('zab.reason', v);
      s.addEvent('e', { 'zab.peer.id': i });
      s.end();
    }
    const lines = read();
    expect(lines.map((l) => l.attributes['zab.reason'])).toEqual(values);
    expect(lines.map((l) => l.events[0]!.attributes)).toEqual(values.map((_, i) => ({ 'zab.peer.id': i })));
  });

  it('a span larger than a chunk, or past the chunk budget, is dropped and counted', () => {
    const { encoder, recorder, read } = pipeline(4096, 2);
    const big = recorder.root('big', 'leader');
    big.setAttribute('zab.reason', 'x'.repeat(4000));
    big.setAttribute('zab.peer.id', 1);
    big.setAttribute('zk.path', 'y'.repeat(3000));
    big.end();
    expect(encoder.takeDropped()).toBe(1);
    for (let i = 0; i < 100; i++) {
      const s = recorder.root('small', 'leader');
      s.setAttribute('zab.reason', 'z'.repeat(200));
      s.end();
    }
    const dropped = encoder.takeDropped();
    const lines = read();
    expect(dropped).toBeGreaterThan(0);
    expect(lines.length + dropped).toBe(100);
    expect(lines.every((l) => l.name === 'small')).toBe(true);
  });
});

describe('sampling', () => {
  it('traceidratio decides a trace id exactly as OpenTelemetry’s TraceIdRatioBasedSampler', () => {
    for (const ratio of [0, 0.01, 0.25, 0.5, 0.99, 1]) {
      const otel = new TraceIdRatioBasedSampler(ratio);
      for (let i = 0; i < 300; i++) {
        const traceId = Array.from({ length: 32 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
        const theirs = otel.shouldSample({} as never, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
        expect(traceIdUnderRatio(traceId, ratio), `${ratio} ${traceId}`).toBe(ratio >= 1 ? true : theirs);
      }
    }
  });

  it('a root is decided once; children follow their parent (parent-based) or decide for themselves', () => {
    const sampled = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    const unsampled = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-00`;
    const none = { onEnd: () => undefined, forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
    const rec = (name: string, ratio = 1) => new SpanRecorder(1, new SpanSampler({ name: name as never, ratio }), [none]);

    const pb = rec('parentbased_always_off');
    expect(pb.root('r', 'leader').recording).toBe(false);
    expect(pb.remoteChild('c', sampled, 'leader').recording).toBe(true);
    // An unsampled trace's context goes on exactly as it came, without being parsed or redrawn.
    const carried = pb.remoteChild('c', unsampled, 'leader');
    expect(carried.recording).toBe(false);
    expect(carried.traceparent()).toBe(unsampled);
    expect(pb.child('d', carried, 'leader')).toBe(carried);

    const on = rec('always_on');
    const child = on.remoteChild('c', unsampled, 'leader');
    expect(child.recording).toBe(true);
    expect(child.context().traceId).toBe('1'.repeat(32));
    expect(rec('always_off').remoteChild('c', sampled, 'leader').recording).toBe(false);
    // traceidratio: every server decides the same trace alike.
    const tr = rec('traceidratio', 0.5);
    const id = 'f'.repeat(32);
    expect(tr.remoteChild('c', `00-${id}-${'2'.repeat(16)}-01`, 'leader').recording).toBe(traceIdUnderRatio(id, 0.5));
    // A malformed traceparent starts a trace of its own.
    const fresh = on.remoteChild('c', '00-nothex-xx-01', 'leader');
    expect(fresh.recording).toBe(true);
    expect(fresh.context().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.context().traceId).not.toBe('1'.repeat(32));
  });

  it('an unsampled root draws ids only when its context is asked for, once', () => {
    const r = new SpanRecorder(1, new SpanSampler({ name: 'always_off', ratio: 1 }), []);
    const root = r.root('r', 'leader');
    const tp = root.traceparent();
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(root.traceparent()).toBe(tp);
    expect(root.context()).toMatchObject({ sampled: false });
    expect(TraceFlags.NONE).toBe(0);
  });
});
