/**
 * OpenTelemetry's span pipeline behind the recorder: each finished span that a tracer
 * provider should see is replayed through that provider's Tracer (start at its start time,
 * end at its end time), so that the SDK's span limits, resource, span processors and
 * exporters apply to it as to any other span. Only @opentelemetry/api is used here.
 *
 * The recorder has already chosen the span's ids (they travel in traceparents to the other
 * servers), so the provider must draw its ids from a RecordedSpanIds: the sink primes it with
 * the span's ids just before startSpan, which reads them synchronously. The recorder has also
 * already sampled: the provider's sampler must be always_on. Only then does a span cost its
 * conversion; with just the spans file, none of this runs.
 */
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type Attributes, type HrTime, type Link, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { EpochClock } from './epoch-clock.js';
import type { SpanSink } from './recorder.js';
import type { RecordedSpan } from './span.js';

/**
 * An IdGenerator (structurally, as the SDK's TracerProvider takes it) that hands out the ids
 * the recorder drew. Outside a sink's replay it draws random ones, so spans that other code
 * starts on the same provider still get valid ids.
 */
export class RecordedSpanIds {
  private traceId: string | null = null;
  private spanId: string | null = null;

  prime(traceId: string, spanId: string): void {
    this.traceId = traceId;
    this.spanId = spanId;
  }

  generateTraceId(): string {
    const id = this.traceId ?? randomHex(16);
    this.traceId = null;
    return id;
  }

  generateSpanId(): string {
    const id = this.spanId ?? randomHex(8);
    this.spanId = null;
    return id;
  }
}

function randomHex(bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) out += ((Math.random() * 256) | 0).toString(16).padStart(2, '0');
  // An all-zero id is invalid; this one is astronomically rare, but never send it.
  return /^0+$/.test(out) ? '1'.padStart(bytes * 2, '0') : out;
}

/** A tracer provider that draws its ids from `ids` and samples every span it is given. */
export interface SpanPipeline {
  tracerProvider: TracerProvider;
  ids: RecordedSpanIds;
}

/** Finished spans to a tracer provider's span processors (OTLP, console, tests). */
export class TracerSink implements SpanSink {
  private readonly clock = new EpochClock();
  private readonly tracer: Tracer;

  constructor(
    private readonly pipeline: SpanPipeline & { forceFlush?: () => Promise<void>; shutdown?: () => Promise<void> },
    scope: { name: string; version: string },
  ) {
    this.tracer = pipeline.tracerProvider.getTracer(scope.name, scope.version);
  }

  onEnd(s: RecordedSpan): void {
    const ctx = s.context();
    const parentSpanId = s.parentSpanId;
    const parent =
      parentSpanId === null ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, { traceId: ctx.traceId, spanId: parentSpanId, traceFlags: TraceFlags.SAMPLED });
    const links: Link[] = s.linkRecords().map((l) => ({ context: { traceId: l.traceId, spanId: l.spanId, traceFlags: TraceFlags.SAMPLED } }));
    const startTime: HrTime = this.clock.hrTime(s.startMs);
    this.pipeline.ids.prime(ctx.traceId, ctx.spanId);
    const span = this.tracer.startSpan(
      s.name,
      { kind: s.kind as SpanKind, startTime, attributes: s.allAttributes() as Attributes, links, root: parentSpanId === null },
      parent,
    );
    for (const e of s.events ?? []) span.addEvent(e.name, { ...e.attributes }, this.clock.hrTime(e.atMs));
    if (s.statusMessage === null) span.setStatus({ code: s.statusCode });
    else span.setStatus({ code: s.statusCode, message: s.statusMessage });
    span.end(this.clock.hrTime(s.endMs));
  }

  async forceFlush(): Promise<void> {
    await this.pipeline.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    await this.pipeline.shutdown?.();
  }
}
