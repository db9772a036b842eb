/**
 * zablab's own spans: small objects with performance.now() times, ids as 32-bit words
 * (ids.ts) and a flat attribute record, ended into the recorder's sinks (the spans file, OpenTelemetry span
 * processors). A span that is not sampled is a NonRecordingSpan: it only carries the trace
 * context onward (in a traceparent) and records nothing.
 *
 * Every span starts with `zab.server.id` and `zab.role`; a `zk.request` span keeps its
 * request's raw fields and spells op, session, xid and path out only when it is written;
 * a span about a txn keeps its zxid as a bigint until then (setTxn).
 */
import { Code, OpCode, codeName, opName } from '../jute/index.js';
import { formatTraceparentWords, parseIdsHex, parseTraceparentWords, spanIdHex, traceIdHex, wordHex, type IdSource, type IdWords, type MutableIdWords } from './ids.js';
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

/** The trace context a span propagates, as text (the ids are words inside; see ids.ts). */
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
  /** The same ids as words (drawn now if not yet). */
  idWords(): IdWords;
  /** `00-<trace id>-<span id>-<flags>`. */
  traceparent(): string;
  setAttribute(key: string, value: AttrValue): void;
  /**
   * The txn the span is about: `zab.zxid` (hex) and, given a proposal's txn type, `zab.epoch`
   * and `zk.op`. They come before the attributes set with setAttribute and are spelled out
   * only when the span is written.
   */
  setTxn(zxid: bigint, proposalType?: number): void;
  /** `zab.role` (every span starts with the role the server had). */
  setRole(role: string): void;
  /** An event now, or at `atMs` (a performance.now() value the caller already took). */
  addEvent(name: string, attributes?: Attrs, atMs?: number): void;
  /** A link to the span these hex ids name (ids that are not hex are ignored). */
  addLink(link: SpanLinkRecord): void;
  /** A link to the span these ids are of. */
  addLinkTo(target: IdWords): void;
  /** A request's reply code: `zk.error.code`, and `zk.error.name` unless it is OK. */
  setReplyCode(code: number): void;
  /** Status ERROR with this message. */
  fail(message: string): void;
  end(atMs?: number): void;
}

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);
/** Where traceparents are parsed into (one thread, used right away: nothing allocated per parse). */
const PARSED: MutableIdWords = { t0: 0, t1: 0, t2: 0, t3: 0, s0: 0, s1: 0 };

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

/**
 * The ids a traceparent names, in a scratch object that the next call overwrites (copy them
 * out at once); null when it is absent or malformed.
 */
export function traceparentWords(tp: string | undefined): IdWords | null {
  return tp !== undefined && parseTraceparentWords(tp, PARSED) ? PARSED : null;
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

/** A zxid as ZooKeeper prints it in hex (`0x` and no leading zeros). */
export function zxidHex(zxid: bigint): string {
  return '0x' + BigInt.asUintN(64, zxid).toString(16);
}

/** A zxid's epoch: its high 32 bits. */
export function epochOf(zxid: bigint): number {
  return Number(zxid >> 32n);
}

/** Whether a span records (only RecordedSpans do). */
export function isRecorded(span: TraceSpan): span is RecordedSpan {
  return span.recording;
}

/** A span that records: ended into its owner's sinks. */
export class RecordedSpan implements TraceSpan, MutableIdWords {
  // Trace id (t0..t3) and span id (s0, s1) as words; hasIds false: not drawn yet (a root
  // nobody referred to gets them from the spans writer).
  t0 = 0;
  t1 = 0;
  t2 = 0;
  t3 = 0;
  s0 = 0;
  s1 = 0;
  hasIds = false;
  /** The parent's span id (hasParent). */
  p0 = 0;
  p1 = 0;
  hasParent = false;
  readonly name: string;
  readonly kind: number;
  readonly startMs: number;
  endMs = -1;
  role: string;
  /** A zk.request span's request: op, session, xid and path come from it. */
  readonly req: RequestFields | null;
  /** See setTxn (null: none). */
  zxid: bigint | null = null;
  /** A proposal's txn type (-1: the span is not a proposal's). */
  txnType = -1;
  attributes: Attrs | null = null;
  attributeCount = 0;
  /** The reply code of a zk.request span (null: none yet). */
  replyCode: number | null = null;
  events: SpanEventRecord[] | null = null;
  /** Linked spans' ids, six words each (trace id, span id). */
  links: number[] | null = null;
  statusCode: number = StatusCode.unset;
  statusMessage: string | null = null;

  constructor(
    private readonly owner: SpanOwner,
    name: string,
    kind: number,
    role: string,
    startMs: number,
    req: RequestFields | null,
  ) {
    this.name = name;
    this.kind = kind;
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

  /** The parent's ids (trace id, parent span id) into `out`; false: a root. */
  parentIdsInto(out: MutableIdWords): boolean {
    if (!this.hasParent) return false;
    out.t0 = this.t0;
    out.t1 = this.t1;
    out.t2 = this.t2;
    out.t3 = this.t3;
    out.s0 = this.p0;
    out.s1 = this.p1;
    return true;
  }

  /** The parent's span id in hex (null: a root). */
  get parentSpanId(): string | null {
    return this.hasParent ? wordHex(this.p0) + wordHex(this.p1) : null;
  }

  idWords(): IdWords {
    if (!this.hasIds) {
      this.owner.ids.draw(this);
      this.hasIds = true;
    }
    return this;
  }

  context(): SpanContextLite {
    this.idWords();
    return { traceId: traceIdHex(this), spanId: spanIdHex(this), sampled: true };
  }

  traceparent(): string {
    return formatTraceparentWords(this.idWords(), true);
  }

  setAttribute(key: string, value: AttrValue): void {
    if (this.endMs >= 0) return;
    if (this.attributes === null) this.attributes = {};
    else if (!(key in this.attributes) && this.attributeCount >= SPAN_ATTRIBUTES_MAX) return;
    if (!(key in this.attributes)) this.attributeCount++;
    this.attributes[key] = value;
  }

  setTxn(zxid: bigint, proposalType = -1): void {
    if (this.endMs >= 0) return;
    this.zxid = zxid;
    this.txnType = proposalType;
  }

  setRole(role: string): void {
    if (this.endMs < 0) this.role = role;
  }

  addEvent(name: string, attributes?: Attrs, atMs?: number): void {
    if (this.endMs >= 0) return;
    const e: SpanEventRecord = { name, atMs: atMs ?? performance.now(), attributes: attributes ?? null };
    if (this.events === null) this.events = [e];
    else if (this.events.length < SPAN_EVENTS_MAX) this.events.push(e);
  }

  setReplyCode(code: number): void {
    if (this.endMs < 0) this.replyCode = code;
  }

  addLink(link: SpanLinkRecord): void {
    const w: MutableIdWords = { t0: 0, t1: 0, t2: 0, t3: 0, s0: 0, s1: 0 };
    if (parseIdsHex(link.traceId, link.spanId, w)) this.addLinkTo(w);
  }

  addLinkTo(target: IdWords): void {
    if (this.endMs >= 0) return;
    if (this.links === null) this.links = [];
    else if (this.links.length >= SPAN_LINKS_MAX * 6) return;
    this.links.push(target.t0, target.t1, target.t2, target.t3, target.s0, target.s1);
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

  /** Every attribute in the order they are written: server id, role, the request's, the txn's, then the rest. */
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
    if (this.zxid !== null) {
      out[Attr.zxid] = zxidHex(this.zxid);
      if (this.txnType !== -1) {
        out[Attr.epoch] = epochOf(this.zxid);
        out[Attr.op] = opName(this.txnType);
      }
    }
    if (this.attributes !== null) Object.assign(out, this.attributes);
    return out;
  }

  /** The linked spans' ids in hex. */
  linkRecords(): SpanLinkRecord[] {
    const out: SpanLinkRecord[] = [];
    const l = this.links;
    if (l === null) return out;
    for (let i = 0; i + 6 <= l.length; i += 6) {
      out.push({ traceId: wordHex(l[i]!) + wordHex(l[i + 1]!) + wordHex(l[i + 2]!) + wordHex(l[i + 3]!), spanId: wordHex(l[i + 4]!) + wordHex(l[i + 5]!) });
    }
    return out;
  }
}

/**
 * A span that is not sampled. It records nothing and draws no ids of its own: it carries its
 * parent's context on (a remote traceparent as it came, or a local parent's), or, as a root,
 * draws ids only if something asks for its context.
 */
export class NonRecordingSpan implements TraceSpan, MutableIdWords {
  t0 = 0;
  t1 = 0;
  t2 = 0;
  t3 = 0;
  s0 = 0;
  s1 = 0;
  private known = false;

  constructor(
    private readonly ids: IdSource,
    parent: IdWords | null,
    private tp: string | null = null,
  ) {
    if (parent !== null) {
      this.t0 = parent.t0;
      this.t1 = parent.t1;
      this.t2 = parent.t2;
      this.t3 = parent.t3;
      this.s0 = parent.s0;
      this.s1 = parent.s1;
      this.known = true;
    }
  }

  get recording(): boolean {
    return false;
  }

  idWords(): IdWords {
    if (!this.known) {
      if (this.tp === null || !parseTraceparentWords(this.tp, this)) this.ids.draw(this);
      this.known = true;
    }
    return this;
  }

  context(): SpanContextLite {
    this.idWords();
    return { traceId: traceIdHex(this), spanId: spanIdHex(this), sampled: false };
  }

  traceparent(): string {
    this.tp ??= formatTraceparentWords(this.idWords(), false);
    return this.tp;
  }

  setAttribute(): void {}
  setTxn(): void {}
  setRole(): void {}
  setReplyCode(): void {}
  addEvent(): void {}
  addLink(): void {}
  addLinkTo(): void {}
  fail(): void {}
  end(): void {}
}
