/**
 * What one load worker records of the history workload: its register events as JSON lines
 * (the history format of harness/history) in a file of its own, written in chunks, and the
 * outcomes of its set adds and counter increments, which the parent gets at the end.
 *
 * Times are nanoseconds since the run's origin on process.hrtime.bigint(), the monotonic
 * clock (CLOCK_MONOTONIC on Linux, mach_absolute_time on macOS): one counter for the whole
 * machine, read the same by every process and never stepped by NTP. The parent reads it once
 * at the origin and gives every worker that reading, so the workers' times are comparable to
 * the nanosecond's resolution; wall-clock times (performance.timeOrigin is sampled once per
 * process) could disagree by more than an op's latency, and a checker would then see
 * anomalies that never happened.
 */
import fs from 'node:fs';
import type { HistoryValue, SetAdd } from '../../history/index.js';
import type { CounterTally } from './history-ops.js';
import type { HistoryOp, OpResult } from './register.js';

/** Buffered text written at once past this many characters ... */
const CHUNK_CHARS = 64 * 1024;
/** ... or after this long, so a stalled run still leaves most of its history on disk. */
const FLUSH_EVERY_MS = 1_000;

/** Nanoseconds on the machine's monotonic clock (see the module comment). */
export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

/** What a worker hands the parent at the end. */
export interface HistoryPart {
  file: string;
  /** Lines written. */
  events: number;
  setAdds: SetAdd[];
  counter: CounterTally;
  /** Why the file may be incomplete (a write failed); null when it is whole. */
  error: string | null;
}

export class HistoryLog {
  private chunk: string[] = [];
  private chunkChars = 0;
  private events = 0;
  private error: string | null = null;
  private closed = false;
  private closing: Promise<HistoryPart> | null = null;
  private readonly stream: fs.WriteStream;
  private readonly timer: NodeJS.Timeout;
  private readonly setAdds: SetAdd[] = [];
  /** Tallied by history-ops.ts, attempt by attempt. */
  readonly counter: CounterTally = { ok: 0, info: 0, fail: 0 };
  /** Set adds and increments in flight: at close they count as info (they may still land). */
  private readonly addsInFlight = new Set<string>();
  private incrementsInFlight = 0;

  /** `originNs`: the run's origin on monotonicNs(); the file must not exist yet. */
  constructor(
    private readonly file: string,
    private readonly originNs: bigint,
  ) {
    this.stream = fs.createWriteStream(file, { flags: 'wx', encoding: 'utf8' });
    this.stream.on('error', (err) => (this.error ??= `cannot write ${file}: ${err.message}`));
    this.timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Now, in ns since the run's origin. */
  nowNs(): number {
    return Number(monotonicNs() - this.originNs);
  }

  /** A register op's invocation (set adds and counter increments are not register events). */
  invoke(process: number, op: HistoryOp): void {
    switch (op.f) {
      case 'read':
        return this.line(process, 'invoke', 'read', op.key, null);
      case 'write':
        return this.line(process, 'invoke', 'write', op.key, op.value);
      case 'cas':
        return this.line(process, 'invoke', 'cas', op.key, [op.expected, op.value]);
      case 'add':
        this.addsInFlight.add(op.element);
        return;
      case 'increment':
        this.incrementsInFlight++;
        return;
    }
  }

  /** The op's completion: a register event, or the set add's or increment's outcome. */
  complete(process: number, op: HistoryOp, r: OpResult): void {
    switch (op.f) {
      case 'read':
        return this.line(process, r.outcome, 'read', op.key, r.outcome === 'ok' ? (r.value ?? null) : null);
      case 'write':
        return this.line(process, r.outcome, 'write', op.key, op.value);
      case 'cas':
        return this.line(process, r.outcome, 'cas', op.key, [op.expected, op.value]);
      case 'add':
        if (this.closed) return;
        this.addsInFlight.delete(op.element);
        this.setAdds.push({ element: op.element, outcome: r.outcome });
        return;
      case 'increment':
        // Its setData attempts are tallied in history-ops.ts.
        if (!this.closed) this.incrementsInFlight--;
        return;
    }
  }

  private line(process: number, type: string, f: string, key: number, value: HistoryValue): void {
    // Written in the order the events happen, so each worker's file is in time order.
    if (this.closed) return;
    const text = `{"process":${process},"type":"${type}","f":"${f}","key":${key},"value":${JSON.stringify(value)},"time":${this.nowNs()}}\n`;
    this.chunk.push(text);
    this.chunkChars += text.length;
    this.events++;
    if (this.chunkChars >= CHUNK_CHARS) this.flush();
  }

  private flush(): void {
    if (this.chunk.length === 0) return;
    this.stream.write(this.chunk.join(''));
    this.chunk = [];
    this.chunkChars = 0;
  }

  /**
   * Writes what is buffered and closes the file. Ops still in flight stay open: a register op
   * without a completion line is info to the checker, and set adds and increments in flight
   * count as info here. Later completions are dropped.
   */
  close(): Promise<HistoryPart> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<HistoryPart> {
    this.closed = true;
    clearInterval(this.timer);
    for (const element of this.addsInFlight) this.setAdds.push({ element, outcome: 'info' });
    // A copy: an increment in flight goes on tallying its attempts, which no longer count.
    const counter = { ...this.counter, info: this.counter.info + this.incrementsInFlight };
    this.flush();
    await new Promise<void>((resolve) => {
      if (this.stream.destroyed) return resolve();
      this.stream.once('error', () => resolve());
      this.stream.end(() => resolve());
    });
    return { file: this.file, events: this.events, setAdds: this.setAdds, counter, error: this.error };
  }
}
