/**
 * SpanRecorder: starts spans under the configured sampler and hands the finished ones to
 * its sinks (the spans file, OpenTelemetry span processors). The sampling decision is taken
 * once, where a trace starts; everything after follows the flag it travels with. A span that
 * is not sampled costs one small object (or none) and no ids unless its context is asked for.
 */
import { IdSource, type IdWords } from './ids.js';
import type { SpanSampler } from './sampler.js';
import {
  NonRecordingSpan,
  RecordedSpan,
  SpanKindCode,
  traceparentSampled,
  traceparentWords,
  type RequestFields,
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

/** A span of `parent`'s trace whose parent it is, with a span id of its own. */
function adopt(span: RecordedSpan, parent: IdWords, ids: IdSource): RecordedSpan {
  span.t0 = parent.t0;
  span.t1 = parent.t1;
  span.t2 = parent.t2;
  span.t3 = parent.t3;
  span.p0 = parent.s0;
  span.p1 = parent.s1;
  span.hasParent = true;
  ids.drawSpan(span);
  span.hasIds = true;
  return span;
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
        return new RecordedSpan(this, name, kind, role, startMs, req);
      case 'off':
        return new NonRecordingSpan(this.ids, null);
      case 'coin':
        return s.flip() ? new RecordedSpan(this, name, kind, role, startMs, req) : new NonRecordingSpan(this.ids, null);
      case 'traceId': {
        const span = new RecordedSpan(this, name, kind, role, startMs, req);
        span.idWords();
        if (s.onTraceWords(span)) return span;
        return new NonRecordingSpan(this.ids, span);
      }
    }
  }

  /** A client request's zk.request span: a root that starts when the server read the request. */
  request(req: RequestFields & { readonly receivedAtMs: number }, name: string, role: string): TraceSpan {
    return this.root(name, role, SpanKindCode.server, req.receivedAtMs, req);
  }

  /** A child of a span of this server (null: a root), starting now or at `startMs`. */
  child(name: string, parent: TraceSpan | null, role: string, kind: number = SpanKindCode.internal, startMs?: number): TraceSpan {
    if (parent === null) return this.root(name, role, kind, startMs);
    const s = this.sampler;
    let sampled: boolean;
    if (s.parentBased) {
      // A parent-based sampler records exactly the spans whose parent is sampled.
      if (!parent.recording) return parent;
      sampled = true;
    } else {
      sampled = s.root === 'on' || (s.root !== 'off' && s.onTraceWords(parent.idWords()));
    }
    const p = parent.idWords();
    if (!sampled) return new NonRecordingSpan(this.ids, p);
    return adopt(new RecordedSpan(this, name, kind, role, startMs ?? performance.now(), null), p, this.ids);
  }

  /** A child of the traceparent another server sent (absent or malformed: a root). */
  remoteChild(name: string, traceparent: string | undefined, role: string, kind: number = SpanKindCode.internal): TraceSpan {
    const flag = traceparentSampled(traceparent);
    if (flag === null) return this.root(name, role, kind);
    const s = this.sampler;
    // Not sampled where the trace started: carry its traceparent on as it came, parse nothing.
    if (s.parentBased && !flag) return new NonRecordingSpan(this.ids, null, traceparent);
    const parent = traceparentWords(traceparent);
    if (parent === null) return this.root(name, role, kind);
    const sampled = s.parentBased || s.root === 'on' || (s.root !== 'off' && s.onTraceWords(parent));
    if (!sampled) return new NonRecordingSpan(this.ids, parent);
    return adopt(new RecordedSpan(this, name, kind, role, performance.now(), null), parent, this.ids);
  }

  /**
   * The ids of a traceparent, for a link (null: absent, malformed or not sampled). They are
   * valid until the next traceparent is parsed: copy them out at once.
   */
  sampledIds(traceparent: string | undefined): IdWords | null {
    if (traceparentSampled(traceparent) !== true) return null;
    return traceparentWords(traceparent);
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
