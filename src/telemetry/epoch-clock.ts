/**
 * Span times are performance.now() values (ms since the process's time origin, monotonic);
 * the spans file and OpenTelemetry want Unix epoch nanoseconds. Those exceed 2^53, so they
 * are built from whole seconds and a nanosecond remainder, never as one double.
 */
import type { HrTime } from '@opentelemetry/api';

const NS_PER_MS = 1_000_000;
const NS_PER_S = 1_000_000_000;

export class EpochClock {
  private readonly originWholeMs: number;
  private readonly originFracNs: number;
  /** The last split(): whole seconds since the Unix epoch, and nanoseconds past them. */
  sec = 0;
  subNs = 0;

  /** `timeOriginMs`: performance.timeOrigin of the thread whose performance.now() values these are. */
  constructor(timeOriginMs: number = performance.timeOrigin) {
    this.originWholeMs = Math.floor(timeOriginMs);
    this.originFracNs = Math.round((timeOriginMs - this.originWholeMs) * NS_PER_MS);
  }

  /** Set `sec` and `subNs` to the epoch time of a performance.now() value. */
  split(perfMs: number): void {
    const t = perfMs > 0 ? perfMs : 0;
    const wholeMs = Math.floor(t);
    const totalMs = this.originWholeMs + wholeMs;
    let sec = Math.floor(totalMs / 1_000);
    let subNs = (totalMs - sec * 1_000) * NS_PER_MS + this.originFracNs + Math.round((t - wholeMs) * NS_PER_MS);
    if (subNs >= NS_PER_S) {
      sec += 1;
      subNs -= NS_PER_S;
    }
    this.sec = sec;
    this.subNs = subNs;
  }

  /** Unix epoch nanoseconds as decimal text (what the spans file holds). */
  nanosText(perfMs: number): string {
    this.split(perfMs);
    // subNs + 1e9 has exactly 10 digits: dropping the first zero-pads the remainder to 9.
    return String(this.sec) + String(this.subNs + NS_PER_S).slice(1);
  }

  /** [seconds, nanoseconds] since the Unix epoch (OpenTelemetry's HrTime). */
  hrTime(perfMs: number): HrTime {
    this.split(perfMs);
    return [this.sec, this.subNs];
  }
}

/** The HrTime duration between two performance.now() values. */
export function hrDuration(startMs: number, endMs: number): HrTime {
  const ns = Math.max(0, Math.round((endMs - startMs) * NS_PER_MS));
  return [Math.floor(ns / NS_PER_S), ns % NS_PER_S];
}
