/**
 * zablab's own spans: small objects with performance.now() times, hex ids and a flat
 * attribute record, ended into the recorder's sinks (the spans file, OpenTelemetry span
 * processors). A span that is not sampled is a NonRecordingSpan: it only carries the trace
 * context onward (in a traceparent) and records nothing.
 *
 * Every span starts with `zab.server.id` and `zab.role`; a `zk.request` span keeps its
 * request's raw fields and spells op, session, xid and path out only when it is written.
 */
import { Code, OpCode, codeName, opName } from '../jute/index.js';
import type { IdSource } from './ids.js';
import { Attr } from './names.js';

export type AttrValue = string | number | boolean;
export type Attrs = Record<string, AttrValue>;

/** OpenTelemetry's SpanKind values (what the spans file's `kind` holds). */
export const SpanKindCode = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 } as const;
/** OpenTelemetry's SpanStatusCode values. */
export const StatusCode = { unset: 0, ok: 1, error: 2 } as const;

/** Attributes, events and links a span keeps at most (OpenTelemetry's default limits). */
export const SPAN_ATTRIBUTES_MAX = 128;
export const SPAN_EVENTS_MAX = 128;
export const SPAN_LINKS_MAX = 128;
/** Longest path put on a span (bytes of its UTF-8); longer ones are cut. */
export const PATH_BYTES_MAX = 1_024;

/** The trace context a span propagates. */
export interface SpanContextLite {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

export interface SpanEventRecord {
  name: string;
  atMs: number;
  attributes: Attrs | null;
}

export interface SpanLinkRecord {
  traceId: string;
  spanId: string;
}

/** What a request span needs of its request (the server's Request has it). */
export interface RequestFields {
  readonly sessionId: bigint;
  readonly cxid: number;
  readonly type: number;
  readonly body: Buffer;
}

/** Where a recording span goes when it ends. */
export interface SpanOwner {
  readonly serverId: number;
  readonly ids: IdSource;
  finished(span: RecordedSpan): void;
}

/** The span operations the server's telemetry uses; both kinds of span have them. */
export interface TraceSpan {
  readonly recording: boolean;
  /** The context children and other servers see (ids are drawn now if not yet). */
  context(): SpanContextLite;
  /** `00-<trace id>-<span id>-<flags>`. */
  traceparent(): string;
  setAttribute(key: string, value: AttrValue): void;
  /** `zab.role` (every span starts with the role the server had). */
  setRole(role: string): void;
  addEvent(name: string, attributes?: Attrs): void;
  addLink(link: SpanLinkRecord): void;
  /** A request's reply code: `zk.error.code`, and `zk.error.name` unless it is OK. */
  setReplyCode(code: number): void;
  /** Status ERROR with this message. */
  fail(message: string): void;
  end(atMs?: number): void;
}

export function formatTraceparentOf(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** A traceparent's sampled flag from its shape alone: true, false, or null (not a traceparent). */
export function traceparentSampled(tp: string | undefined): boolean | null {
  // 00-<32>-<16>-<2>: dashes at 2, 35, 52; only the last flag bit matters.
  if (tp === undefined || tp.length !== 55 || tp.charCodeAt(2) !== 45 || tp.charCodeAt(35) !== 45 || tp.charCodeAt(52) !== 45) return null;
  const flags = tp.charCodeAt(54);
  // '1','3',...,'f' have the low bit set: digits by parity, a-f by 'b','d','f'.
  return flags >= 48 && flags <= 57 ? (flags & 1) === 1 : flags === 98 || flags === 100 || flags === 102;
}

/** The context a traceparent names, or null when it is absent or malformed. */
export function parseTraceparentLite(tp: string | undefined): SpanContextLite | null {
  if (tp === undefined) return null;
  const m = TRACEPARENT_RE.exec(tp);
  if (m === null || m[1] === ZERO_TRACE_ID || m[2] === ZERO_SPAN_ID) return null;
  return { traceId: m[1]!, spanId: m[2]!, sampled: (parseInt(m[3]!, 16) & 1) === 1 };
}

/** Where a request's path starts in its body: right after the path's length (the record's first field). */
export const PATH_START = 4;

/**
 * Where the path a request record starts with ends (its UTF-8 bytes are body[PATH_START, end)),
 * or -1 when the op has no path or the record is too short.
 */
export function requestPathEnd(type: number, body: Buffer): number {
  if (!hasPath(type) || body.length < PATH_START) return -1;
  const len = body.readInt32BE(0);
  if (len < 0 || PATH_START + len > body.length) return -1;
  return PATH_START + Math.min(len, PATH_BYTES_MAX);
}

function hasPath(type: number): boolean {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
    case OpCode.delete:
    case OpCode.deleteContainer:
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.setData:
    case OpCode.getACL:
    case OpCode.setACL:
    case OpCode.getChildren:
    case OpCode.getChildren2:
    case OpCode.sync:
    case OpCode.check:
    case OpCode.checkWatches:
    case OpCode.removeWatches:
    case OpCode.getEphemerals:
    case OpCode.getAllChildrenNumber:
    case OpCode.addWatch:
      return true;
    default:
      return false;
  }
}

export function sessionHex(sessionId: bigint): string {
  return '0x' + BigInt.asUintN(64, sessionId).toString(16);
}

/** A span that records: ended into its owner's sinks. */
export class RecordedSpan implements TraceSpan {
  /** '' until someone needs the ids (a root nobody refers to gets them when written). */
  traceId: string;
  spanId: string;
  readonly parentSpanId: string | null;
  readonly name: string;
  readonly kind: number;
  readonly startMs: number;
  endMs = -1;
  role: string;
  /** A zk.request span's request: op, session, xid and path come from it. */
  readonly req: RequestFields | null;
  attributes: Attrs | null = null;
  attributeCount = 0;
  /** The reply code of a zk.request span (null: none yet). */
  replyCode: number | null = null;
  events: SpanEventRecord[] | null = null;
  links: SpanLinkRecord[] | null = null;
  statusCode: number = StatusCode.unset;
  statusMessage: string | null = null;

  constructor(
    private readonly owner: SpanOwner,
    name: string,
    kind: number,
    traceId: string,
    spanId: string,
    parentSpanId: string | null,
    role: string,
    startMs: number,
    req: RequestFields | null,
  ) {
    this.name = name;
    this.kind = kind;
    this.traceId = traceId;
    this.spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.role = role;
    this.startMs = startMs;
    this.req = req;
  }

  get recording(): boolean {
    return true;
  }

  get serverId(): number {
    return this.owner.serverId;
  }

  get ended(): boolean {
    return this.endMs >= 0;
  }

  context(): SpanContextLite {
    if (this.traceId === '') {
      this.traceId = this.owner.ids.traceId();
      this.spanId = this.owner.ids.spanId();
    }
    return { traceId: this.traceId, spanId: this.spanId, sampled: true };
  }

  traceparent(): string {
    if (this.traceId === '') this.context();
    return formatTraceparentOf(this.traceId, this.spanId, true);
  }

  setAttribute(key: string, value: AttrValue): void {
    if (this.endMs >= 0) return;
    if (this.attributes === null) this.attributes = {};
    else if (!(key in this.attributes) && this.attributeCount >= SPAN_ATTRIBUTES_MAX) return;
    if (!(key in this.attributes)) this.attributeCount++;
    this.attributes[key] = value;
  }

  setRole(role: string): void {
    if (this.endMs < 0) this.role = role;
  }

  addEvent(name: string, attributes?: Attrs): void {
    if (this.endMs >= 0) return;
    const e: SpanEventRecord = { name, atMs: performance.now(), attributes: attributes ?? null };
    if (this.events === null) this.events = [e];
    else if (this.events.length < SPAN_EVENTS_MAX) this.events.push(e);
  }

  setReplyCode(code: number): void {
    if (this.endMs < 0) this.replyCode = code;
  }

  addLink(link: SpanLinkRecord): void {
    if (this.endMs >= 0) return;
    if (this.links === null) this.links = [link];
    else if (this.links.length < SPAN_LINKS_MAX) this.links.push(link);
  }

  fail(message: string): void {
    if (this.endMs >= 0) return;
    this.statusCode = StatusCode.error;
    this.statusMessage = message;
  }

  end(atMs?: number): void {
    if (this.endMs >= 0) return;
    this.endMs = Math.max(this.startMs, atMs ?? performance.now());
    this.owner.finished(this);
  }

  /** Every attribute in the order they are written: server id, role, the request's, then the rest. */
  allAttributes(): Attrs {
    const out: Attrs = { [Attr.serverId]: this.owner.serverId, [Attr.role]: this.role };
    const req = this.req;
    if (req !== null) {
      out[Attr.op] = opName(req.type);
      out[Attr.sessionId] = sessionHex(req.sessionId);
      out[Attr.xid] = req.cxid;
      const pathEnd = requestPathEnd(req.type, req.body);
      if (pathEnd >= 0) out[Attr.path] = req.body.toString('utf8', PATH_START, pathEnd);
    }
    if (this.replyCode !== null) {
      out[Attr.errorCode] = this.replyCode;
      if (this.replyCode !== Code.OK) out[Attr.errorName] = codeName(this.replyCode);
    }
    if (this.attributes !== null) Object.assign(out, this.attributes);
    return out;
  }
}

/**
 * A span that is not sampled. It records nothing and draws no ids of its own: it carries its
 * parent's context on (a remote traceparent as it came, or a local parent's), or, as a root,
 * draws ids only if something asks for its context.
 */
export class NonRecordingSpan implements TraceSpan {
  private ctx: SpanContextLite | null;

  constructor(
    private readonly ids: IdSource,
    ctx: SpanContextLite | null,
    private tp: string | null = null,
  ) {
    this.ctx = ctx;
  }

  get recording(): boolean {
    return false;
  }

  context(): SpanContextLite {
    if (this.ctx === null) {
      const parsed = this.tp === null ? null : parseTraceparentLite(this.tp);
      this.ctx = parsed === null ? { traceId: this.ids.traceId(), spanId: this.ids.spanId(), sampled: false } : { ...parsed, sampled: false };
    }
    return this.ctx;
  }

  traceparent(): string {
    if (this.tp !== null) return this.tp;
    const c = this.context();
    this.tp = formatTraceparentOf(c.traceId, c.spanId, false);
    return this.tp;
  }

  setAttribute(): void {}
  setRole(): void {}
  setReplyCode(): void {}
  addEvent(): void {}
  addLink(): void {}
  fail(): void {}
  end(): void {}
}
