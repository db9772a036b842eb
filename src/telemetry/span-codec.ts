/**
 * The spans file's hand-off between the server's thread and the writer thread. The server
 * thread only copies each finished span's fields into a binary chunk (no JSON, no id
 * formatting, no strings built); the writer thread turns chunks into JSON lines. At full
 * sampling that keeps the cost of a span on the thread that serves clients to a fraction of
 * a microsecond.
 *
 * A chunk is a run of records, little-endian:
 *
 *   u8  RECORD_MAGIC                      (a broken chunk stops decoding, not the writer)
 *   u8  flags                             HAS_IDS, HAS_PARENT, HAS_STATUS_MESSAGE, HAS_REQUEST
 *   u16 name (symbol)   u8 kind   u8 status code   u32 record length (bytes, header included)
 *   f64 start ms   f64 end ms
 *   [HAS_IDS]           6 × u32: trace id, span id, as words (ids.ts; absent: the writer draws them)
 *   [HAS_PARENT]        2 × u32: parent span id
 *   [HAS_STATUS_MESSAGE] text
 *   u16 role (symbol)
 *   [HAS_REQUEST]       u16 op (symbol), u64 session id, f64 xid, text path (length 0xffff: none)
 *   u8  attribute count, then per attribute: u16 key (symbol), u8 type, value
 *         (a number: f64; a symbol: u16; text; a zxid: u64, written as hex text)
 *   u8  event count, then per event: u16 name (symbol), f64 time ms, u8 attribute count, attributes
 *   u8  link count, then per link: 6 × u32 (trace id, span id)
 *
 * Symbols are strings of few distinct values (span, event and attribute names, roles, ops),
 * numbered in first-use order; each chunk carries the symbols it introduced. Text is a u16
 * byte length and UTF-8 bytes. Times are performance.now() of the server's thread.
 */
import { Code, codeName, opName } from '../jute/index.js';
import { Attr } from './names.js';
import { PATH_START, requestPathEnd, type AttrValue, type Attrs, type RecordedSpan } from './span.js';

export const RECORD_MAGIC = 0x5a;
/** Bytes of the fixed header (magic .. end ms). */
export const HEADER_BYTES = 26;
export const HAS_IDS = 1;
export const HAS_PARENT = 2;
export const HAS_STATUS_MESSAGE = 4;
export const HAS_REQUEST = 8;

export const T_NUMBER = 0;
export const T_FALSE = 1;
export const T_TRUE = 2;
export const T_SYMBOL = 3;
export const T_TEXT = 4;
export const T_ZXID = 5;
/** Bytes of a span's ids (trace id and span id words), of a span id, of a link. */
export const IDS_BYTES = 24;
export const SPAN_ID_BYTES = 8;

export const NO_TEXT = 0xffff;
/** Longest text kept (bytes); longer values are cut at a character boundary. */
export const TEXT_BYTES_MAX = 4_096;
/** Distinct symbols a server may introduce; past it, spans that need a new one are dropped. */
export const SYMBOLS_MAX = 4_096;
/** Room a record's fixed parts need (header, ids, request, one attribute / event / link). */
const FIXED_BYTES_MAX = 256;
/** Opcodes run from -11 (closeSession) to a few hundred; op symbols are cached for that range. */
const OPCODE_BIAS = 16;
const OPCODES_CACHED = 512;
/** Attribute values spelled as symbols: few distinct values each. */
const SYMBOL_VALUED_KEYS = new Set<string>([Attr.role, Attr.op, Attr.errorName, Attr.syncMode]);

/** Where the encoder gets empty chunks and sends full ones. */
export interface ChunkPort {
  /** An empty chunk, or null when none may be used now (the writer is behind): spans are dropped. */
  take(): ArrayBuffer | null;
  /** `len` bytes of `buf` are `spans` records; `symbols` are those first used in them, in number order. */
  post(buf: ArrayBuffer, len: number, symbols: string[], spans: number): void;
}

/** Thrown inside encode() when a record cannot be completed; the span is dropped. */
class NoRoom extends Error {}
/** One instance, thrown again and again: dropping must stay cheap when the writer is behind. */
const NO_ROOM = new NoRoom('no room for the span record');

export class SpanEncoder {
  private buf: ArrayBuffer | null = null;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private u8: Uint8Array = new Uint8Array(0);
  private bytes: Buffer = Buffer.alloc(0);
  private cap = 0;
  private off = 0;
  /** Where the record being written starts; offsets kept across ensure() are relative to it. */
  private rec = 0;
  private readonly symbols = new Map<string, number>();
  private newSymbols: string[] = [];
  /** Spans dropped since the last takeDropped(). */
  private dropped = 0;
  /** Records in the current chunk. */
  private spans = 0;

  constructor(private readonly port: ChunkPort) {}

  /** Spans dropped since the last call (no chunk free, or a record too large). */
  takeDropped(): number {
    const n = this.dropped;
    this.dropped = 0;
    return n;
  }

  /** Send the current chunk if it holds anything. */
  post(): void {
    if (this.buf === null || this.off === 0) return;
    const buf = this.buf;
    const len = this.off;
    const symbols = this.newSymbols;
    const spans = this.spans;
    this.newSymbols = [];
    this.buf = null;
    this.spans = 0;
    this.port.post(buf, len, symbols, spans);
  }

  private attach(buf: ArrayBuffer): void {
    this.buf = buf;
    this.view = new DataView(buf);
    this.u8 = new Uint8Array(buf);
    this.bytes = Buffer.from(buf);
    this.cap = buf.byteLength;
    this.off = 0;
    this.rec = 0;
    this.spans = 0;
  }

  /** Make room for `n` more bytes of the current record, moving it to a fresh chunk if needed. */
  private ensure(n: number): void {
    if (this.off + n <= this.cap) return;
    const partialLen = this.off - this.rec;
    // Every chunk has the same size: a record that does not fit an empty one never will.
    if (partialLen + n > this.cap) throw NO_ROOM;
    const next = this.port.take();
    if (next === null) throw NO_ROOM;
    new Uint8Array(next).set(this.u8.subarray(this.rec, this.off));
    const old = this.buf!;
    const oldLen = this.rec;
    // Symbols the partial record introduced go with the chunk before it: the writer reads
    // chunks in order, so it knows them when it reaches the record.
    const symbols = this.newSymbols;
    this.newSymbols = [];
    const spans = this.spans;
    this.attach(next);
    this.off = partialLen;
    this.port.post(old, oldLen, symbols, spans);
  }

  /** Copy a finished span into the current chunk; false: it was dropped. */
  encode(span: RecordedSpan): boolean {
    if (this.buf === null) {
      const next = this.port.take();
      if (next === null) {
        this.dropped++;
        return false;
      }
      this.attach(next);
    }
    this.rec = this.off;
    try {
      this.record(span);
      // The record may have moved to a fresh chunk while it was written: `rec` moved with it.
      this.view.setUint32(this.rec + 6, this.off - this.rec, true);
      this.spans++;
      return true;
    } catch (err) {
      if (err !== NO_ROOM) throw err;
      // Forget the partial record; symbols it introduced stay known (numbers are never reused).
      this.off = this.rec;
      this.dropped++;
      return false;
    }
  }

  private record(span: RecordedSpan): void {
    this.ensure(FIXED_BYTES_MAX);
    const v = this.view;
    const u8 = this.u8;
    const hasIds = span.hasIds;
    const req = span.req;
    let flags = 0;
    if (hasIds) flags |= HAS_IDS;
    if (span.hasParent) flags |= HAS_PARENT;
    if (span.statusMessage !== null) flags |= HAS_STATUS_MESSAGE;
    if (req !== null) flags |= HAS_REQUEST;
    let o = this.off;
    u8[o] = RECORD_MAGIC;
    u8[o + 1] = flags;
    v.setUint16(o + 2, this.nameSymbol(span.name), true);
    u8[o + 4] = span.kind;
    u8[o + 5] = span.statusCode;
    v.setFloat64(o + 10, span.startMs, true);
    v.setFloat64(o + 18, span.endMs, true);
    o += HEADER_BYTES;
    if (hasIds) {
      v.setInt32(o, span.t0, true);
      v.setInt32(o + 4, span.t1, true);
      v.setInt32(o + 8, span.t2, true);
      v.setInt32(o + 12, span.t3, true);
      v.setInt32(o + 16, span.s0, true);
      v.setInt32(o + 20, span.s1, true);
      o += IDS_BYTES;
    }
    if (span.hasParent) {
      v.setInt32(o, span.p0, true);
      v.setInt32(o + 4, span.p1, true);
      o += SPAN_ID_BYTES;
    }
    this.off = o;
    if (span.statusMessage !== null) this.text(span.statusMessage);
    this.ensure(FIXED_BYTES_MAX);
    this.u16(this.roleSymbol(span.role));
    if (req !== null) {
      this.u16(this.opSymbol(req.type));
      // setBigUint64 takes the id modulo 2^64: a negative (signed) session id comes out as ZooKeeper prints it.
      this.view.setBigUint64(this.off, req.sessionId, true);
      this.view.setFloat64(this.off + 8, req.cxid, true);
      this.off += 16;
      const pathEnd = requestPathEnd(req.type, req.body);
      if (pathEnd < 0) this.u16(NO_TEXT);
      else this.rawText(req.body, PATH_START, pathEnd);
    }
    this.attrs(span.attributes, span.replyCode, span.zxid, span.txnType);
    const events = span.events;
    this.ensure(FIXED_BYTES_MAX);
    this.byte(events === null ? 0 : events.length);
    if (events !== null) {
      for (const e of events) {
        this.ensure(FIXED_BYTES_MAX);
        this.u16(this.symbol(e.name));
        this.view.setFloat64(this.off, e.atMs, true);
        this.off += 8;
        this.attrs(e.attributes);
      }
    }
    const links = span.links;
    const linkCount = links === null ? 0 : Math.floor(links.length / 6);
    this.ensure(FIXED_BYTES_MAX);
    this.byte(linkCount);
    for (let i = 0; i < linkCount; i++) {
      this.ensure(FIXED_BYTES_MAX);
      const lv = this.view;
      const lo = this.off;
      for (let k = 0; k < 6; k++) lv.setInt32(lo + 4 * k, links![6 * i + k]!, true);
      this.off += IDS_BYTES;
    }
  }

  /** An attribute list: a request's reply code first (if any), then a txn's zxid (epoch, op), then `attrs`. */
  private attrs(attrs: Attrs | null, replyCode: number | null = null, zxid: bigint | null = null, txnType = -1): void {
    this.ensure(FIXED_BYTES_MAX);
    if (attrs === null && replyCode === null && zxid === null) {
      this.byte(0);
      return;
    }
    // Relative to the record: ensure() may move the record to another chunk.
    const countAt = this.off - this.rec;
    this.off++;
    let count = 0;
    if (replyCode !== null) {
      if (this.errorCodeN < 0) this.errorCodeN = this.symbol(Attr.errorCode);
      this.u16(this.errorCodeN);
      this.u8[this.off] = T_NUMBER;
      this.view.setFloat64(this.off + 1, replyCode, true);
      this.off += 9;
      count++;
      if (replyCode !== Code.OK) {
        this.attr(Attr.errorName, codeName(replyCode));
        count++;
      }
    }
    if (zxid !== null) count += this.txn(zxid, txnType);
    if (attrs !== null) {
      for (const key in attrs) {
        if (count === 255) break;
        this.ensure(FIXED_BYTES_MAX);
        this.attr(key, attrs[key]!);
        count++;
      }
    }
    this.u8[this.rec + countAt] = count;
  }

  // Symbol numbers of the txn attributes (-1: not yet known).
  private zxidN = -1;
  private epochN = -1;
  private opN = -1;

  /** zab.zxid, and for a proposal zab.epoch and zk.op (room made by the caller); how many attributes. */
  private txn(zxid: bigint, txnType: number): number {
    if (this.zxidN < 0) this.zxidN = this.symbol(Attr.zxid);
    const v = this.view;
    this.u16(this.zxidN);
    this.u8[this.off] = T_ZXID;
    // As hex of the zxid modulo 2^64, what '0x' + BigInt.asUintN(64, zxid).toString(16) gives.
    v.setBigUint64(this.off + 1, zxid, true);
    const epoch = zxid < 0n ? Number(zxid >> 32n) : v.getUint32(this.off + 5, true);
    this.off += 9;
    if (txnType === -1) return 1;
    if (this.epochN < 0) this.epochN = this.symbol(Attr.epoch);
    if (this.opN < 0) this.opN = this.symbol(Attr.op);
    this.u16(this.epochN);
    this.u8[this.off] = T_NUMBER;
    v.setFloat64(this.off + 1, epoch, true);
    this.off += 9;
    this.u16(this.opN);
    this.byte(T_SYMBOL);
    this.u16(this.opSymbol(txnType));
    return 3;
  }

  private attr(key: string, value: AttrValue): void {
    this.u16(this.symbol(key));
    if (typeof value === 'number') {
      this.u8[this.off] = T_NUMBER;
      this.view.setFloat64(this.off + 1, value, true);
      this.off += 9;
    } else if (typeof value === 'boolean') {
      this.byte(value ? T_TRUE : T_FALSE);
    } else if (SYMBOL_VALUED_KEYS.has(key)) {
      this.byte(T_SYMBOL);
      this.u16(this.symbol(value));
    } else {
      this.byte(T_TEXT);
      // String(): whatever a caller slipped past the types still makes a valid record.
      this.text(String(value));
    }
  }

  private byte(n: number): void {
    this.u8[this.off++] = n;
  }

  private u16(n: number): void {
    this.view.setUint16(this.off, n, true);
    this.off += 2;
  }

  // The name, role and reply-code key of the last span: consecutive spans mostly share them.
  private lastName = '';
  private lastNameN = 0;
  private lastRole = '';
  private lastRoleN = 0;
  private errorCodeN = -1;

  private nameSymbol(name: string): number {
    if (name !== this.lastName) {
      this.lastNameN = this.symbol(name);
      this.lastName = name;
    }
    return this.lastNameN;
  }

  private roleSymbol(role: string): number {
    if (role !== this.lastRole) {
      this.lastRoleN = this.symbol(role);
      this.lastRole = role;
    }
    return this.lastRoleN;
  }

  /** Symbol numbers of ops by opcode (+ OPCODE_BIAS: some are negative). */
  private readonly opSymbols: number[] = [];

  private opSymbol(type: number): number {
    const i = type + OPCODE_BIAS;
    let n = this.opSymbols[i];
    if (n === undefined) {
      n = this.symbol(opName(type));
      if (i >= 0 && i < OPCODES_CACHED) this.opSymbols[i] = n;
    }
    return n;
  }

  /** A symbol's number (a new one is numbered and goes with the current chunk). */
  private symbol(s: string): number {
    let n = this.symbols.get(s);
    if (n === undefined) {
      if (this.symbols.size >= SYMBOLS_MAX) throw NO_ROOM;
      n = this.symbols.size;
      this.symbols.set(s, n);
      this.newSymbols.push(s);
    }
    return n;
  }

  /** A string as u16 length + UTF-8, cut to TEXT_BYTES_MAX. */
  private text(s: string): void {
    this.ensure(2 + Math.min(s.length * 3, TEXT_BYTES_MAX));
    const u8 = this.u8;
    const at = this.off + 2;
    // ASCII, the usual case, is copied here; anything else goes through the UTF-8 encoder.
    const len = s.length;
    let n = 0;
    if (len <= TEXT_BYTES_MAX) {
      for (; n < len; n++) {
        const c = s.charCodeAt(n);
        if (c >= 0x80) break;
        u8[at + n] = c;
      }
    }
    if (n < len) n = this.bytes.write(s, at, TEXT_BYTES_MAX, 'utf8');
    this.view.setUint16(this.off, n, true);
    this.off = at + n;
  }

  /** Bytes [start, end) of `src` as text. */
  private rawText(src: Uint8Array, start: number, end: number): void {
    const n = Math.min(end - start, TEXT_BYTES_MAX);
    this.ensure(2 + n);
    const u8 = this.u8;
    const at = this.off + 2;
    if (n <= 64) for (let i = 0; i < n; i++) u8[at + i] = src[start + i]!;
    else u8.set(src.subarray(start, start + n), at);
    this.view.setUint16(this.off, n, true);
    this.off = at + n;
  }
}

/** What the writer thread needs to turn records into the spans file's lines. */
export interface DecoderOptions {
  serverId: number;
  /** The `resource` object of every line, as JSON. */
  resourceJson: string;
  /** performance.timeOrigin of the thread that recorded the spans. */
  timeOriginMs: number;
}
