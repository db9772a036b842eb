/**
 * What one traced request costs, stage by stage, without a server or a load generator in
 * the way: the server thread's part (start a zk.request span, end it, copy it into a
 * binary chunk) and the writer thread's part (turn the chunk into JSON lines and write
 * them to a file). Prints CPU ns per span for each (this process's CPU time, so other load
 * on the machine matters less than for wall time), and bytes per line.
 *
 *   npx tsx bench/spans-path.ts [--spans 2000000] [--out FILE]   (FILE default: a temp file, removed)
 *
 * The spans are getData requests with a 20-byte path, as the tracing-overhead scenario (bench/tracing-overhead.yaml) sends.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OpCode } from '../src/jute/index.js';
import { SpanRecorder } from '../src/telemetry/recorder.js';
import { SpanSampler } from '../src/telemetry/sampler.js';
import { SpanEncoder } from '../src/telemetry/span-codec.js';
import { SpanLineWriter } from '../src/telemetry/span-lines.js';
import type { RecordedSpan } from '../src/telemetry/span.js';
import { SpanName } from '../src/telemetry/names.js';

const CHUNK_BYTES = 256 * 1024;
const RESOURCE = JSON.stringify({ 'service.name': 'zablab', 'service.version': '0.1.0', 'service.instance.id': '1', 'zab.server.id': 1 });

const { values } = parseArgs({ options: { spans: { type: 'string', default: '2000000' }, out: { type: 'string' } } });
const total = Number(values.spans);
if (!Number.isSafeInteger(total) || total <= 0) throw new Error(`--spans must be a positive integer, got ${values.spans}`);

const chunks: { buf: ArrayBuffer; len: number; symbols: string[] }[] = [];
const encoder = new SpanEncoder({
  take: () => new ArrayBuffer(CHUNK_BYTES),
  post: (buf, len, symbols) => chunks.push({ buf, len, symbols }),
});
const recorder = new SpanRecorder(1, new SpanSampler({ name: 'parentbased_always_on', ratio: 1 }), [
  { onEnd: (s: RecordedSpan) => void encoder.encode(s), forceFlush: async () => undefined, shutdown: async () => undefined },
]);

const pathText = '/bench/key-000000123';
const body = Buffer.alloc(4 + pathText.length + 1);
body.writeInt32BE(pathText.length, 0);
body.write(pathText, 4, 'latin1');

/** CPU time of this thread (user + system) in ns: what the work cost, whoever else runs on the machine. */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1_000;
}

function record(n: number): number {
  const t0 = cpuNs();
  for (let i = 0; i < n; i++) {
    const req = { sessionId: 0x1000000000001n + BigInt(i & 7), cxid: i, type: OpCode.getData, body, receivedAtMs: performance.now() };
    const span = recorder.request(req, SpanName.request, 'leader');
    span.setReplyCode(0);
    span.end();
  }
  encoder.post();
  return (cpuNs() - t0) / n;
}

record(Math.min(total, 100_000)); // warm-up; the symbols it introduced stay known
const warmSymbols = chunks.flatMap((c) => c.symbols);
chunks.length = 0;
const recordNs = record(total);

const out = values.out ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-spans-path-')), 'server-1.jsonl');
const fd = fs.openSync(out, 'w');
let bytes = 0;
const writer = new SpanLineWriter({
  serverId: 1,
  resourceJson: RESOURCE,
  timeOriginMs: performance.timeOrigin,
  startBytes: 0,
  maxBytes: Number.MAX_SAFE_INTEGER,
  write: (buf, len) => {
    fs.writeSync(fd, buf, 0, len);
    bytes += len;
  },
});
writer.addSymbols(warmSymbols);
const t0 = cpuNs();
for (const c of chunks) {
  writer.addSymbols(c.symbols);
  writer.decode(c.buf, c.len);
}
writer.flush();
const writeNs = (cpuNs() - t0) / total;
fs.closeSync(fd);
if (values.out === undefined) fs.rmSync(path.dirname(out), { recursive: true, force: true });

console.log(`${total} getData request spans`);
console.log(`server thread (start, end, encode): ${recordNs.toFixed(0)} ns/span`);
console.log(`writer thread (lines + write):      ${writeNs.toFixed(0)} ns/span, ${(bytes / total).toFixed(0)} bytes/line`);
