/**
 * OpenTelemetry's span pipeline behind the recorder: when spans go to a collector, the
 * console, or a test's in-memory exporter, each finished span becomes an SDK ReadableSpan and
 * goes straight to the span processors (the NodeSDK's, built from OTEL_TRACES_EXPORTER and
 * friends, or a test's). Only then are attributes spelled out and times converted; with just
 * the spans file, none of this runs. (Replaying spans through an SDK Tracer instead costs
 * about six times as much per span.)
 */
import { TraceFlags, type Attributes, type HrTime, type Link, type SpanContext, type SpanKind, type SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { EpochClock, hrDuration } from './epoch-clock.js';
import type { SpanSink } from './recorder.js';
import type { RecordedSpan } from './span.js';

export function toReadableSpan(s: RecordedSpan, resource: Resource, scope: InstrumentationScope, clock: EpochClock): ReadableSpan {
  const ctx = s.context();
  const spanContext: SpanContext = { traceId: ctx.traceId, spanId: ctx.spanId, traceFlags: TraceFlags.SAMPLED };
  const parentSpanId = s.parentSpanId;
  const parentSpanContext: SpanContext | undefined =
    parentSpanId === null ? undefined : { traceId: ctx.traceId, spanId: parentSpanId, traceFlags: TraceFlags.SAMPLED };
  const status: SpanStatus = s.statusMessage === null ? { code: s.statusCode } : { code: s.statusCode, message: s.statusMessage };
  const events: TimedEvent[] = (s.events ?? []).map((e) => ({ name: e.name, time: clock.hrTime(e.atMs), attributes: { ...e.attributes } }));
  const links: Link[] = s.linkRecords().map((l) => ({ context: { traceId: l.traceId, spanId: l.spanId, traceFlags: TraceFlags.SAMPLED }, attributes: {} }));
  const startTime: HrTime = clock.hrTime(s.startMs);
  const endTime: HrTime = clock.hrTime(s.endMs);
  const attributes: Attributes = s.allAttributes();
  return {
    name: s.name,
    kind: s.kind as SpanKind,
    spanContext: () => spanContext,
    parentSpanContext,
    startTime,
    endTime,
    duration: hrDuration(s.startMs, s.endMs),
    status,
    attributes,
    links,
    events,
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** Span processors and the resource of the spans they are handed. */
export interface SpanPipeline {
  processors: readonly SpanProcessor[];
  resource: Resource;
}

/** Finished spans to OpenTelemetry span processors (OTLP, console, tests). */
export class ProcessorSink implements SpanSink {
  private readonly clock = new EpochClock();
  private readonly processors: readonly SpanProcessor[];
  private readonly resource: Resource;

  /** `owned`: shutdown() shuts the processors down too (false: their owner, the SDK, does). */
  constructor(
    pipeline: SpanPipeline,
    private readonly scope: InstrumentationScope,
    private readonly owned: boolean,
  ) {
    this.processors = pipeline.processors;
    this.resource = pipeline.resource;
  }

  onEnd(span: RecordedSpan): void {
    const readable = toReadableSpan(span, this.resource, this.scope, this.clock);
    for (const p of this.processors) p.onEnd(readable);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    if (this.owned) await Promise.all(this.processors.map((p) => p.shutdown()));
  }
}
