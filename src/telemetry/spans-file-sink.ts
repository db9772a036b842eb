/**
 * The spans file, written off the server's thread: finished spans are copied into binary
 * chunks (span-codec.ts), a chunk goes to the writer thread when it is full or at the latest
 * every SPANS_FILE_FLUSH_MS, and the writer turns it into JSON lines. Memory is bounded: at
 * most CHUNKS_MAX chunks exist; when the writer falls that far behind, spans are dropped and
 * counted (reported through onDrop, like the file's size limit).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SpanSink } from './recorder.js';
import { SpanEncoder } from './span-codec.js';
import type { RecordedSpan } from './span.js';
import type { FromWriter, SpansWorkerData, ToWriter } from './spans-writer-protocol.js';
import { SPANS_FILE_FLUSH_MS } from './spans-file.js';

/** One chunk holds about 2,000 request spans. */
export const CHUNK_BYTES = 256 * 1024;
/** Chunks in use at most (being filled, on their way, being written): 16 MiB. */
export const CHUNKS_MAX = 64;
/** How long shutdown waits for the writer to write what is left. */
const CLOSE_WAIT_MS = 10_000;

export interface SpansFileSinkOptions {
  file: string;
  maxBytes: number;
  serverId: number;
  /** The `resource` object of every line, as JSON. */
  resourceJson: string;
  /** Told about spans that were not written, with how many and why (at most once per flush period per reason). */
  onDrop?: (spans: number, reason: string) => void;
  flushMs?: number;
}

/** The writer thread: worker.js next to this module in dist/, or worker.ts through tsx under tests. */
function startWriter(data: SpansWorkerData): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const target = new URL('./spans-worker.ts', here).href;
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); })`;
    return new Worker(boot, { eval: true, workerData: data });
  }
  return new Worker(new URL('./spans-worker.js', here), { workerData: data });
}

export class SpansFileSink implements SpanSink {
  private readonly worker: Worker;
  private readonly encoder: SpanEncoder;
  private readonly free: ArrayBuffer[] = [];
  private chunks = 0;
  private readonly waits = new Map<number, () => void>();
  private nextWait = 1;
  private readonly timer: NodeJS.Timeout;
  /** Why nothing can be written any more (the writer failed). */
  private broken: string | null = null;
  private brokenDrops = 0;
  private closed: Promise<void> | null = null;
  private exited = false;

  constructor(private readonly opts: SpansFileSinkOptions) {
    fs.mkdirSync(path.dirname(opts.file), { recursive: true });
    this.encoder = new SpanEncoder({ take: () => this.take(), post: (buf, len, symbols, spans) => this.post(buf, len, symbols, spans) });
    this.worker = startWriter({ file: opts.file, maxBytes: opts.maxBytes, serverId: opts.serverId, resourceJson: opts.resourceJson, timeOriginMs: performance.timeOrigin });
    // The writer must not keep the server's process alive; flushes hold it while they wait.
    this.worker.unref();
    this.worker.on('message', (m: FromWriter) => this.onMessage(m));
    this.worker.on('error', (err) => this.fail(`the spans file writer failed: ${String(err)}`));
    this.worker.on('exit', (code) => {
      this.exited = true;
      if (this.closed === null) this.fail(`the spans file writer exited (code ${code})`);
      for (const resolve of this.waits.values()) resolve();
      this.waits.clear();
    });
    this.timer = setInterval(() => this.tick(), opts.flushMs ?? SPANS_FILE_FLUSH_MS);
    this.timer.unref();
  }

  get file(): string {
    return this.opts.file;
  }

  onEnd(span: RecordedSpan): void {
    if (this.broken !== null) {
      this.brokenDrops++;
      return;
    }
    this.encoder.encode(span);
  }

  private take(): ArrayBuffer | null {
    const buf = this.free.pop();
    if (buf !== undefined) return buf;
    if (this.chunks >= CHUNKS_MAX) return null;
    this.chunks++;
    return new ArrayBuffer(CHUNK_BYTES);
  }

  private post(buf: ArrayBuffer, len: number, symbols: string[], spans: number): void {
    if (this.exited) {
      this.brokenDrops += spans;
      this.free.push(buf);
      return;
    }
    const m: ToWriter = { kind: 'chunk', buf, len, symbols, spans };
    this.worker.postMessage(m, [buf]);
  }

  private onMessage(m: FromWriter): void {
    switch (m.kind) {
      case 'chunk':
        this.free.push(m.buf);
        return;
      case 'done': {
        const resolve = this.waits.get(m.id);
        this.waits.delete(m.id);
        if (this.waits.size === 0) this.worker.unref();
        resolve?.();
        return;
      }
      case 'dropped':
        this.opts.onDrop?.(m.spans, m.reason);
        return;
      case 'failed':
        this.fail(m.reason);
        return;
    }
  }

  private fail(reason: string): void {
    this.broken ??= reason;
  }

  /** Send what is waiting; report drops. */
  private tick(): void {
    this.encoder.post();
    const behind = this.encoder.takeDropped();
    if (behind > 0) this.opts.onDrop?.(behind, `the spans file writer fell behind (${CHUNKS_MAX} chunks of ${CHUNK_BYTES} bytes waiting)`);
    if (this.brokenDrops > 0) this.opts.onDrop?.(this.brokenDrops, this.broken ?? 'the spans file writer has stopped');
    this.brokenDrops = 0;
  }

  /** Ask the writer something and wait for its answer (resolves at once if it is gone). */
  private roundTrip(kind: 'flush' | 'close'): Promise<void> {
    if (this.exited) return Promise.resolve();
    const id = this.nextWait++;
    const done = new Promise<void>((resolve) => this.waits.set(id, resolve));
    this.worker.ref();
    const m: ToWriter = { kind, id };
    this.worker.postMessage(m);
    return done;
  }

  forceFlush(): Promise<void> {
    this.tick();
    return this.roundTrip('flush');
  }

  shutdown(): Promise<void> {
    this.closed ??= this.close();
    return this.closed;
  }

  private async close(): Promise<void> {
    clearInterval(this.timer);
    this.tick();
    // A writer stuck on a dead disk must not keep the server from exiting.
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.fail(`the spans file writer did not finish within ${CLOSE_WAIT_MS} ms`);
        resolve();
      }, CLOSE_WAIT_MS);
    });
    await Promise.race([this.roundTrip('close'), stuck]);
    clearTimeout(timer);
    await this.worker.terminate();
  }
}
