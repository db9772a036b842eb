/**
 * The spans-file writer thread: turns the chunks a server's thread sends (span-codec.ts)
 * into JSON lines (span-lines.ts) and appends them to `server-<id>.jsonl`. Writes are
 * synchronous here, so this thread waits for the disk, never the server's thread.
 *
 * Writing spans is background work: on Linux this thread runs WRITER_NICE_DELTA below the
 * server's priority, so that waking up with a chunk does not preempt the thread that serves
 * clients (measured: at full load that preemption cost more throughput than the writing).
 * It gets the CPU the server leaves over; if that is not enough for long, chunks pile up to
 * their limit and spans are dropped and counted (zab_spans_dropped), never the server slowed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { BrokenRecordError, SpanLineWriter, type ChunkOutcome } from './span-lines.js';
import type { FromWriter, SpansWorkerData, ToWriter } from './spans-writer-protocol.js';

const port = parentPort;
if (port === null) throw new Error('spans-worker runs as a worker thread of a zablab server');
const data = workerData as SpansWorkerData;

/** Nice levels this thread runs below the server's. */
const WRITER_NICE_DELTA = 10;

/** Best effort: a thread's own priority needs no privilege to lower, and only Linux can aim at one thread. */
function lowerPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(path.basename(fs.readlinkSync('/proc/thread-self')));
    // Never the process's id: that would lower the whole server.
    if (!Number.isSafeInteger(tid) || tid === process.pid) return;
    os.setPriority(tid, Math.min(19, os.getPriority(tid) + WRITER_NICE_DELTA));
  } catch {
    // Without /proc or the permission, the writer runs at the server's priority.
  }
}
lowerPriority();

function send(m: FromWriter, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(m, transfer);
}

let fd: number | null = null;
let startBytes = 0;
/** Why the file cannot be written (null: it can). */
let unwritable: string | null = null;
try {
  fd = fs.openSync(data.file, 'a');
  startBytes = fs.fstatSync(fd).size;
} catch (err) {
  unwritable = `cannot open ${data.file}: ${String(err)}`;
  send({ kind: 'failed', reason: unwritable });
}

const lines = new SpanLineWriter({
  ...data,
  startBytes,
  write: (buf, len) => {
    let done = 0;
    while (done < len) done += fs.writeSync(fd!, buf, done, len - done);
  },
});

function report(o: ChunkOutcome): void {
  if (o.dropped > 0) send({ kind: 'dropped', spans: o.dropped, reason: o.reason });
}

function onChunk(buf: ArrayBuffer, len: number, symbols: string[], spans: number): void {
  lines.addSymbols(symbols);
  if (fd === null) report({ lines: 0, dropped: spans, reason: unwritable ?? `${data.file} is closed` });
  else {
    try {
      report(lines.decode(buf, len));
    } catch (err) {
      if (!(err instanceof BrokenRecordError)) throw err;
      // An encoder bug, not an operating error: say so and keep writing later chunks.
      send({ kind: 'dropped', spans: 1, reason: `a span record did not decode (${err.message}); the rest of its chunk is lost` });
    }
    report(lines.flush());
  }
  send({ kind: 'chunk', buf }, [buf]);
}

port.on('message', (m: ToWriter) => {
  switch (m.kind) {
    case 'chunk':
      onChunk(m.buf, m.len, m.symbols, m.spans);
      return;
    case 'flush':
      send({ kind: 'done', id: m.id });
      return;
    case 'close':
      if (fd !== null) {
        report(lines.flush());
        fs.closeSync(fd);
        fd = null;
      }
      send({ kind: 'done', id: m.id });
      port.close();
      return;
  }
});
