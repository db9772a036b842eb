/**
 * SpanRecorder: starts spans under the configured sampler and hands the finished ones to
 * its sinks (the spans file, OpenTelemetry span processors). The sampling decision is taken
 * once, where a trace starts; everything after follows the flag it travels with. A span that
 * is not sampled costs one small object (or none) and no ids unless its context is asked for.
 */
import { IdSource } from './ids.js';
import type { SpanSampler } from './sampler.js';
import {
  NonRecordingSpan,
  RecordedSpan,
  SpanKindCode,
  parseTraceparentLite,
  traceparentSampled,
  type RequestFields,
  type SpanContextLite,
  type SpanOwner,
  type TraceSpan,
} from './span.js';

/** Where finished spans go. onEnd runs on the hot path: it must be cheap and must not throw. */
export interface SpanSink {
  onEnd(span: RecordedSpan): void;
  /** Everything ended so far is written (or handed to its exporter). */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export class SpanRecorder implements SpanOwner {
  readonly ids = new IdSource();
  private readonly sinks: SpanSink[];
  private shut = false;

  constructor(
    readonly serverId: number,
    private readonly sampler: SpanSampler,
    sinks: readonly SpanSink[],
  ) {
    this.sinks = [...sinks];
  }

  /** A span with no parent: the sampler's root decision. */
  root(name: string, role: string, kind: number = SpanKindCode.internal, startMs: number = performance.now(), req: RequestFields | null = null): TraceSpan {
    const s = this.sampler;
    switch (s.root) {
      case 'on':
        return new RecordedSpan(this, name, kind, '', '', null, role, startMs, req);
      case 'off':
        return new NonRecordingSpan(this.ids, null);
      case 'coin':
        return s.flip() ? new RecordedSpan(this, name, kind, '', '', null, role, startMs, req) : new NonRecordingSpan(this.ids, null);
      case 'traceId': {
        const traceId = this.ids.traceId();
        const spanId = this.ids.spanId();
        if (s.onTraceId(traceId)) return new RecordedSpan(this, name, kind, traceId, spanId, null, role, startMs, req);
        return new NonRecordingSpan(this.ids, { traceId, spanId, sampled: false });
      }
    }
  }

  /** A client request's zk.request span: a root that starts when the server read the request. */
  request(req: RequestFields & { readonly receivedAtMs: number }, name: string, role: string): TraceSpan {
    return this.root(name, role, SpanKindCode.server, req.receivedAtMs, req);
  }

  /** A child of a span of this server; null: a root. */
  child(name: string, parent: TraceSpan | null, role: string, kind: number = SpanKindCode.internal): TraceSpan {
    if (parent === null) return this.root(name, role, kind);
    const s = this.sampler;
    let sampled: boolean;
    if (s.parentBased) {
      // A parent-based sampler records exactly the spans whose parent is sampled.
      if (!parent.recording) return parent;
      sampled = true;
    } else {
      sampled = s.root === 'on' || (s.root !== 'off' && s.onTraceId(parent.context().traceId));
    }
    const ctx = parent.context();
    if (!sampled) return new NonRecordingSpan(this.ids, { traceId: ctx.traceId, spanId: ctx.spanId, sampled: false });
    return new RecordedSpan(this, name, kind, ctx.traceId, this.ids.spanId(), ctx.spanId, role, performance.now(), null);
  }

  /** A child of the traceparent another server sent (absent or malformed: a root). */
  remoteChild(name: string, traceparent: string | undefined, role: string, kind: number = SpanKindCode.internal): TraceSpan {
    const flag = traceparentSampled(traceparent);
    if (flag === null) return this.root(name, role, kind);
    const s = this.sampler;
    // Not sampled where the trace started: carry its traceparent on as it came, parse nothing.
    if (s.parentBased && !flag) return new NonRecordingSpan(this.ids, null, traceparent);
    const ctx = parseTraceparentLite(traceparent);
    if (ctx === null) return this.root(name, role, kind);
    const sampled = s.parentBased || s.root === 'on' || (s.root !== 'off' && s.onTraceId(ctx.traceId));
    if (!sampled) return new NonRecordingSpan(this.ids, { traceId: ctx.traceId, spanId: ctx.spanId, sampled: false });
    return new RecordedSpan(this, name, kind, ctx.traceId, this.ids.spanId(), ctx.spanId, role, performance.now(), null);
  }

  /** The context of a traceparent, for a link (null: absent, malformed or not sampled). */
  sampledContext(traceparent: string | undefined): SpanContextLite | null {
    if (traceparentSampled(traceparent) !== true) return null;
    return parseTraceparentLite(traceparent);
  }

  finished(span: RecordedSpan): void {
    if (this.shut) return;
    for (const sink of this.sinks) sink.onEnd(span);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.forceFlush()));
  }

  /** Write what is buffered and stop; spans that end later are ignored. */
  async shutdown(): Promise<void> {
    if (this.shut) return;
    this.shut = true;
    await Promise.all(this.sinks.map((s) => s.shutdown()));
  }
}
