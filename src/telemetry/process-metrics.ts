/**
 * How the server's process is doing, beside ZooKeeper's metrics: the event-loop delay (what a
 * JVM server would show as GC or safepoint pauses: every request waits it out) and memory.
 *
 * The delay comes from perf_hooks' monitorEventLoopDelay: libuv samples how late a timer of
 * SAMPLE_MS fires, without JavaScript running per sample. Once a second the window's samples
 * move into the `zab_event_loop_delay` histogram (spread over its buckets by the window's
 * percentiles, so /metrics answers quantile queries) and the window's p99 and max become the
 * `recent` gauges that a once-a-second sampler (the harness, mntr) reads.
 *
 * Beside it, the garbage collector's pauses (perf_hooks 'gc' entries: the time V8 held the
 * main thread, not its concurrent marking): a delay next to a long pause in the same second
 * was the collector's, one without was the server's own work or a CPU it did not get.
 */
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

/** libuv's timer period for the samples (ms); a sample's delay is how much later it fired. */
export const EVENT_LOOP_SAMPLE_MS = 10;
/** The window the recent gauges cover and the histogram is fed at. */
export const EVENT_LOOP_WINDOW_MS = 1_000;

const NS_PER_MS = 1e6;

export interface EventLoopWindow {
  /** Samples in the window. */
  count: number;
  p99Ms: number;
  maxMs: number;
  /** The longest GC pause that ended in the window (0: none). */
  gcPauseMaxMs: number;
  /** All GC pauses that ended in the window, added up. */
  gcPauseMs: number;
}

/** Observations as (value, count) pairs, which together hold the window's distribution. */
export type DelayObservations = [valueMs: number, count: number][];

/**
 * Turn a window's percentile points (percentile → ns, as IntervalHistogram.percentiles gives
 * them, ascending) into whole-number observation counts summing to `count`.
 */
export function observationsOf(percentiles: ReadonlyMap<number, number>, count: number): DelayObservations {
  const out: DelayObservations = [];
  let given = 0;
  for (const [pct, ns] of [...percentiles].sort((a, b) => a[0] - b[0])) {
    const upTo = Math.round((pct / 100) * count);
    const n = upTo - given;
    if (n > 0) {
      out.push([ns / NS_PER_MS, n]);
      given = upTo;
    }
  }
  if (given < count && out.length > 0) out[out.length - 1]![1] += count - given;
  return out;
}

export class EventLoopMonitor {
  private readonly h: IntervalHistogram;
  private readonly gc: PerformanceObserver;
  private readonly timer: NodeJS.Timeout;
  private last: EventLoopWindow = { count: 0, p99Ms: 0, maxMs: 0, gcPauseMaxMs: 0, gcPauseMs: 0 };
  private gcPauseMaxMs = 0;
  private gcPauseMs = 0;

  constructor(
    private readonly onWindow: (obs: DelayObservations) => void,
    onGcPause: (ms: number) => void = () => undefined,
    windowMs = EVENT_LOOP_WINDOW_MS,
  ) {
    this.h = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS });
    this.h.enable();
    this.gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.duration > this.gcPauseMaxMs) this.gcPauseMaxMs = e.duration;
        this.gcPauseMs += e.duration;
        onGcPause(e.duration);
      }
    });
    this.gc.observe({ entryTypes: ['gc'] });
    this.timer = setInterval(() => this.roll(), windowMs);
    this.timer.unref();
  }

  /** The last full window (zeros before the first). */
  get recent(): EventLoopWindow {
    return this.last;
  }

  private roll(): void {
    const h = this.h;
    const count = h.count;
    if (count === 0) return;
    this.last = { count, p99Ms: h.percentile(99) / NS_PER_MS, maxMs: h.max / NS_PER_MS, gcPauseMaxMs: this.gcPauseMaxMs, gcPauseMs: this.gcPauseMs };
    this.gcPauseMaxMs = 0;
    this.gcPauseMs = 0;
    this.onWindow(observationsOf(h.percentiles, count));
    h.reset();
  }

  stop(): void {
    clearInterval(this.timer);
    this.h.disable();
    this.gc.disconnect();
  }
}

/** Process memory as Prometheus' conventional gauges name it. */
export function memoryGauges(): { residentBytes: number; heapUsedBytes: number } {
  const m = process.memoryUsage();
  return { residentBytes: m.rss, heapUsedBytes: m.heapUsed };
}
