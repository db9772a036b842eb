/**
 * W3C traceparent strings: how a write's trace context travels inside ZAB messages (a
 * learner's forwarded request, the leader's PROPOSAL), so that spans on every server join
 * one trace and every server honours the sampling decision made where the write arrived.
 */
import { ROOT_CONTEXT, TraceFlags, isSpanContextValid, trace, type Context, type SpanContext } from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';

/** `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
export const TRACEPARENT_CHARS = 55;

export function formatTraceparent(sc: SpanContext): string {
  const flags = sc.traceFlags & TraceFlags.SAMPLED ? '01' : '00';
  return `00-${sc.traceId}-${sc.spanId}-${flags}`;
}

/** The span context a traceparent names, or null when it is absent or malformed. */
export function parseTraceparent(traceparent: string | undefined): SpanContext | null {
  if (traceparent === undefined || traceparent.length !== TRACEPARENT_CHARS) return null;
  const sc = parseTraceParent(traceparent);
  if (sc === null || !isSpanContextValid(sc)) return null;
  return { ...sc, isRemote: true };
}

/** A parent context for a span whose parent lives on another server (or nowhere: the root). */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  const sc = parseTraceparent(traceparent);
  return sc === null ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, sc);
}
