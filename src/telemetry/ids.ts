/**
 * Trace and span ids, cheaply: crypto randomness drawn a few KB at a time and hex-encoded
 * once, ids sliced from that text. A slice costs a few ns; formatting each id from fresh
 * random bytes (what the OpenTelemetry SDK does) costs more than the rest of a span.
 */
import crypto from 'node:crypto';

/** Random bytes per refill: 256 span ids or 128 trace ids. */
const POOL_BYTES = 2_048;
const ZERO_SPAN_ID = '0'.repeat(16);
const ZERO_TRACE_ID = '0'.repeat(32);

export class IdSource {
  private pool = '';
  private at = 0;

  /** 32 lowercase hex characters, never all zero (invalid in W3C trace context). */
  traceId(): string {
    return this.take(32, ZERO_TRACE_ID);
  }

  /** 16 lowercase hex characters, never all zero. */
  spanId(): string {
    return this.take(16, ZERO_SPAN_ID);
  }

  private take(chars: number, zero: string): string {
    for (;;) {
      if (this.at + chars > this.pool.length) {
        this.pool = crypto.randomBytes(POOL_BYTES).toString('hex');
        this.at = 0;
      }
      const id = this.pool.slice(this.at, this.at + chars);
      this.at += chars;
      if (id !== zero) return id;
    }
  }
}
