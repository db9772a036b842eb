/**
 * The writer thread's half of span-codec.ts: records become the spans file's JSON lines,
 * written byte by byte into one output buffer (no strings and no objects per span), in
 * exactly the shape spanLine() gives an OpenTelemetry span:
 *
 *   {"traceId","spanId","parentSpanId","name","kind","startTimeUnixNano","endTimeUnixNano",
 *    "durationMs","status","attributes","events","links","resource"}
 *
 * Each record says how long it is, so room for its whole line is made once; the line is then
 * written straight, from cached templates (the start of a line per span name, the status and
 * first attributes per role and op) patched with ids, times and values. Full lines go to
 * `write` when the buffer fills and at the end of each chunk. A line that would take the file
 * past `maxBytes` is dropped and counted.
 */
import { EpochClock } from './epoch-clock.js';
import { Attr } from './names.js';
import {
  HAS_IDS,
  HAS_PARENT,
  HAS_REQUEST,
  HAS_STATUS_MESSAGE,
  HEADER_BYTES,
  IDS_BYTES,
  NO_TEXT,
  RECORD_MAGIC,
  SPAN_ID_BYTES,
  SYMBOLS_MAX,
  T_FALSE,
  T_NUMBER,
  T_SYMBOL,
  T_TEXT,
  T_TRUE,
  T_ZXID,
  type DecoderOptions,
} from './span-codec.js';

/** The output buffer's first size; a line longer than it makes it grow. */
const OUT_BYTES = 1024 * 1024;
const NS_PER_MS = 1_000_000;
/** Pieces of at least this many bytes are copied with TypedArray#set (a memcpy), shorter ones byte by byte. */
const SET_BYTES_MIN = 12;

const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Two ASCII characters as one little-endian u16: digit pairs '00'..'99' and hex pairs '00'..'ff'. */
function pairTable(count: number, radix: number): Uint16Array {
  const t = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    const s = i.toString(radix).padStart(2, '0');
    t[i] = s.charCodeAt(0) | (s.charCodeAt(1) << 8);
  }
  return t;
}
const DIGIT_PAIRS = pairTable(100, 10);
const HEX_PAIRS = pairTable(256, 16);

const bytesOf = (s: string): Buffer => Buffer.from(s, 'utf8');
const C_NULL = bytesOf('null');
const C_TRUE = bytesOf('true');
const C_FALSE = bytesOf('false');
const C_END = bytesOf('","endTimeUnixNano":"');
const C_DURATION = bytesOf('","durationMs":');
const C_STATUS = bytesOf(',"status":{"code":');
const C_MESSAGE = bytesOf(',"message":');
const C_OP = bytesOf(`,"${Attr.op}":`);
const C_SESSION = bytesOf(`,"${Attr.sessionId}":"0x`);
const C_XID = bytesOf(`","${Attr.xid}":`);
const C_PATH = bytesOf(`,"${Attr.path}":`);
const C_EVENTS = bytesOf('},"events":[');
const C_EVENT_NAME = bytesOf('{"name":');
const C_EVENT_TIME = bytesOf(',"timeUnixNano":"');
const C_EVENT_ATTRS = bytesOf('","attributes":{');
const C_LINKS = bytesOf('],"links":[');
const C_LINK_TRACE = bytesOf('{"traceId":"');
const C_LINK_SPAN = bytesOf('","spanId":"');
const C_RESOURCE = bytesOf('],"resource":');
const C_HEX_START = bytesOf('"0x');

/** Output bytes a record byte can become at most, besides symbols (escaped text: \u00XX). */
const BYTES_PER_RECORD_BYTE = 8;
/** Output bytes of a line besides what its record's bytes become. */
const LINE_BYTES_FIXED = 4_096;

interface Head {
  bytes: Buffer;
  traceAt: number;
  spanAt: number;
  parentAt: number;
  startAt: number;
  endAt: number;
}

/** A record the writer cannot read: the rest of its chunk is skipped. */
export class BrokenRecordError extends Error {
  constructor(at: number, why: string) {
    super(`span record at byte ${at}: ${why}`);
    this.name = 'BrokenRecordError';
  }
}

export interface LineWriterOptions extends DecoderOptions {
  /** Bytes the file already has. */
  startBytes: number;
  maxBytes: number;
  /** Append bytes [0, len) of buf (whole lines) to the file; throws if the write fails. */
  write: (buf: Buffer, len: number) => void;
}

export interface ChunkOutcome {
  /** Lines written or buffered. */
  lines: number;
  /** Spans not written, and why (the last reason). */
  dropped: number;
  reason: string;
}

// ---------- unchecked output: the caller made room; each returns the offset after what it wrote ----------

function putBytes(b: Buffer, p: number, c: Uint8Array): number {
  const n = c.length;
  if (n < SET_BYTES_MIN) for (let i = 0; i < n; i++) b[p + i] = c[i]!;
  else b.set(c, p);
  return p + n;
}

/** `width` (<= 9) decimal digits of n (< 10^width), zero-padded. */
function putDigits(b: Buffer, ov: DataView, p: number, n: number, width: number): number {
  let x = n | 0;
  let i = p + width;
  let left = width;
  while (left >= 2) {
    const q = (x / 100) | 0;
    i -= 2;
    ov.setUint16(i, DIGIT_PAIRS[x - q * 100]!, true);
    x = q;
    left -= 2;
  }
  if (left === 1) b[i - 1] = 48 + x;
  return p + width;
}

/** A non-negative safe integer in decimal. */
function putUint(b: Buffer, ov: DataView, p: number, n: number): number {
  if (n >= 1_000_000_000) {
    const high = Math.floor(n / 1_000_000_000);
    return putDigits(b, ov, putUint(b, ov, p, high), n - high * 1_000_000_000, 9);
  }
  let digits = 1;
  for (let x = 10; x <= n && digits < 9; x *= 10) digits++;
  return putDigits(b, ov, p, n, digits);
}

/** A number as JSON.stringify writes it. */
function putNumber(b: Buffer, ov: DataView, p: number, x: number): number {
  if (Number.isSafeInteger(x)) {
    if (x >= 0) return putUint(b, ov, p, x);
    b[p] = 45;
    return putUint(b, ov, p + 1, -x);
  }
  const s = Number.isFinite(x) ? String(x) : 'null';
  for (let i = 0; i < s.length; i++) b[p + i] = s.charCodeAt(i);
  return p + s.length;
}

/** A duration in ms with up to 6 decimals (what an exact ns count divided by 10^6 prints as). */
function putDurationMs(b: Buffer, ov: DataView, p: number, startMs: number, endMs: number): number {
  const ns = Math.max(0, Math.round((endMs - startMs) * NS_PER_MS));
  const whole = Math.floor(ns / NS_PER_MS);
  let frac = ns - whole * NS_PER_MS;
  p = putUint(b, ov, p, whole);
  if (frac === 0) return p;
  let width = 6;
  while (frac % 10 === 0) {
    frac /= 10;
    width--;
  }
  b[p] = 46;
  return putDigits(b, ov, p + 1, frac, width);
}

/** A u32 in hex: 8 digits, or (`strip`) without leading zeros. */
function putHex32(b: Buffer, ov: DataView, p: number, v: number, strip: boolean): number {
  const digits = strip ? Math.max(1, 8 - (Math.clz32(v) >> 2)) : 8;
  let i = p + digits;
  let x = v;
  let left = digits;
  while (left >= 2) {
    i -= 2;
    ov.setUint16(i, HEX_PAIRS[x & 255]!, true);
    x >>>= 8;
    left -= 2;
  }
  if (left === 1) b[i - 1] = HEX[x & 15]!;
  return p + digits;
}

/** Epoch seconds with 10 digits (2001 to 2286): the line templates leave 19 digits for a time. */
function isFixedWidth(sec: number): boolean {
  return sec >= 1_000_000_000 && sec < 10_000_000_000;
}

/** Epoch nanoseconds, 19 digits, from whole seconds (10 digits) and the nanoseconds past them. */
function putNanosFixed(b: Buffer, ov: DataView, p: number, sec: number, subNs: number): void {
  const high = Math.floor(sec / 100_000);
  putDigits(b, ov, p, high, 5);
  putDigits(b, ov, p + 5, sec - high * 100_000, 5);
  putDigits(b, ov, p + 10, subNs, 9);
}

/**
 * `words` random 32-bit words as hex, never all zero. These are the ids of spans nobody
 * referred to: Math.random, as OpenTelemetry's own id generator uses.
 */
function putRandomHex(ov: DataView, p: number, words: number): void {
  let any = 0;
  do {
    for (let w = 0; w < words; w++) {
      const r = (Math.random() * 4_294_967_296) >>> 0;
      any |= r;
      const o = p + 8 * w;
      ov.setUint16(o, HEX_PAIRS[r >>> 24]!, true);
      ov.setUint16(o + 2, HEX_PAIRS[(r >>> 16) & 255]!, true);
      ov.setUint16(o + 4, HEX_PAIRS[(r >>> 8) & 255]!, true);
      ov.setUint16(o + 6, HEX_PAIRS[r & 255]!, true);
    }
  } while (any === 0);
}

/** `words` id words from the chunk as 8 hex digits each. */
function putIdWords(b: Buffer, ov: DataView, p: number, dv: DataView, o: number, words: number): void {
  for (let k = 0; k < words; k++) putHex32(b, ov, p + 8 * k, dv.getUint32(o + 4 * k, true), false);
}

/** A u64 (two u32, little-endian) as ZooKeeper prints ids: hex without leading zeros. */
function putHex64(b: Buffer, ov: DataView, p: number, lo: number, hi: number): number {
  return hi !== 0 ? putHex32(b, ov, putHex32(b, ov, p, hi, true), lo, false) : putHex32(b, ov, p, lo, true);
}

export class SpanLineWriter {
  private readonly clock: EpochClock;
  /** Each symbol as JSON (a quoted string), as an object key (`"key":`) and as a later key (`,"key":`). */
  private readonly symbolJson: Buffer[] = [];
  private readonly symbolKey: Buffer[] = [];
  private readonly symbolNextKey: Buffer[] = [];
  private symbolBytesMax = 0;
  private readonly base: Buffer;
  private readonly tail: Buffer;
  /** `},"events":[],"links":[],"resource":…}\n`. */
  private readonly plainTail: Buffer;
  private readonly heads = new Map<number, Head>();
  private readonly middles = new Map<number, Buffer>();
  private b = Buffer.allocUnsafe(OUT_BYTES);
  /** `b` for multi-byte stores (two digits or two hex characters at a time). */
  private ov = new DataView(this.b.buffer, this.b.byteOffset, this.b.length);
  private p = 0;
  /** Start of the line being written: [0, lineStart) are whole lines. */
  private lineStart = 0;
  private linesBuffered = 0;
  private fileBytes: number;
  // The chunk being read.
  private u8: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));
  private o = 0;
  private end = 0;
  private dropped = 0;
  private reason = '';

  constructor(private readonly opts: LineWriterOptions) {
    this.clock = new EpochClock(opts.timeOriginMs);
    this.base = bytesOf(`},"attributes":{"${Attr.serverId}":${opts.serverId},"${Attr.role}":`);
    this.tail = bytesOf(`${opts.resourceJson}}\n`);
    this.plainTail = bytesOf(`},"events":[],"links":[],"resource":${opts.resourceJson}}\n`);
    this.fileBytes = opts.startBytes;
  }

  addSymbols(symbols: readonly string[]): void {
    for (const s of symbols) {
      const json = JSON.stringify(s);
      const key = bytesOf(`,${json}:`);
      this.symbolJson.push(bytesOf(json));
      this.symbolKey.push(key.subarray(1));
      this.symbolNextKey.push(key);
      this.symbolBytesMax = Math.max(this.symbolBytesMax, key.length);
    }
  }

  /** Turn `len` bytes of records into lines. Throws BrokenRecordError (lines before it are kept). */
  decode(chunk: ArrayBuffer, len: number): ChunkOutcome {
    this.u8 = new Uint8Array(chunk, 0, len);
    this.dv = new DataView(chunk, 0, len);
    this.o = 0;
    this.end = len;
    this.dropped = 0;
    let lines = 0;
    try {
      while (this.o < this.end) {
        const at = this.o;
        this.need(HEADER_BYTES);
        if (this.u8[at] !== RECORD_MAGIC) throw new BrokenRecordError(at, 'no record starts here');
        const recordBytes = this.dv.getUint32(at + 6, true);
        if (recordBytes < HEADER_BYTES || at + recordBytes > this.end) throw new BrokenRecordError(at, `a record of ${recordBytes} bytes does not fit the chunk`);
        this.room(LINE_BYTES_FIXED + this.tail.length + recordBytes * (BYTES_PER_RECORD_BYTE + this.symbolBytesMax));
        this.end = at + recordBytes;
        this.line();
        if (this.o !== this.end) throw new BrokenRecordError(at, `${this.end - this.o} bytes left over`);
        this.end = len;
        const n = this.p - this.lineStart;
        if (this.fileBytes + n > this.opts.maxBytes) {
          this.p = this.lineStart;
          this.drop(1, `the spans file reached its limit of ${this.opts.maxBytes} bytes`);
        } else {
          this.fileBytes += n;
          this.lineStart = this.p;
          this.linesBuffered++;
          lines++;
        }
      }
    } catch (err) {
      this.p = this.lineStart;
      if (err instanceof RangeError) throw new BrokenRecordError(this.o, err.message);
      throw err;
    }
    return { lines, dropped: this.dropped, reason: this.reason };
  }

  /** Write the buffered lines. */
  flush(): ChunkOutcome {
    this.dropped = 0;
    this.flushLines();
    return { lines: 0, dropped: this.dropped, reason: this.reason };
  }

  private drop(n: number, reason: string): void {
    this.dropped += n;
    this.reason = reason;
  }

  private flushLines(): void {
    if (this.lineStart === 0) return;
    try {
      this.opts.write(this.b, this.lineStart);
    } catch (err) {
      // Those lines are lost; the size they were counted with is given back.
      this.fileBytes -= this.lineStart;
      this.drop(this.linesBuffered, `writing the spans file failed: ${String(err)}`);
    }
    this.b.copy(this.b, 0, this.lineStart, this.p);
    this.p -= this.lineStart;
    this.lineStart = 0;
    this.linesBuffered = 0;
  }

  /** Room for `n` more bytes: write out whole lines, or grow for one very long line. */
  private room(n: number): void {
    if (this.p + n <= this.b.length) return;
    this.flushLines();
    if (this.p + n <= this.b.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.b.length, this.p + n));
    this.b.copy(bigger, 0, 0, this.p);
    this.b = bigger;
    this.ov = new DataView(bigger.buffer, bigger.byteOffset, bigger.length);
  }

  // ---------- templates ----------

  /**
   * The start of a line up to `"durationMs":`, for one (name, kind, has parent): ids, parent,
   * start and end time are filled in at fixed offsets (times have 19 digits from 2001 to 2286).
   */
  private head(nameIndex: number, kind: number, hasParent: boolean): Head {
    const key = (nameIndex * 256 + kind) * 2 + (hasParent ? 1 : 0);
    let h = this.heads.get(key);
    if (h === undefined) {
      const zeros = (n: number): string => '0'.repeat(n);
      const pre = `{"traceId":"${zeros(32)}","spanId":"${zeros(16)}","parentSpanId":`;
      const parent = hasParent ? `"${zeros(16)}"` : 'null';
      const toStart = `${pre}${parent},"name":${this.symbolJson[nameIndex]!.toString('utf8')},"kind":${kind},"startTimeUnixNano":"`;
      const toEnd = `${toStart}${zeros(19)}","endTimeUnixNano":"`;
      const text = `${toEnd}${zeros(19)}","durationMs":`;
      h = { bytes: bytesOf(text), traceAt: 12, spanAt: 12 + 32 + 12, parentAt: pre.length + 1, startAt: toStart.length, endAt: toEnd.length };
      this.heads.set(key, h);
    }
    return h;
  }

  /** Status and the attributes every span starts with (server id, role, and a request's op). */
  private middle(status: number, roleIndex: number, opIndex: number): Buffer {
    const key = ((opIndex + 1) * (SYMBOLS_MAX + 1) + roleIndex) * 256 + status;
    let m = this.middles.get(key);
    if (m === undefined) {
      let text = `,"status":{"code":${status}${this.base.toString('utf8')}${this.symbolJson[roleIndex]!.toString('utf8')}`;
      if (opIndex >= 0) text += `${C_OP.toString('utf8')}${this.symbolJson[opIndex]!.toString('utf8')}${C_SESSION.toString('utf8')}`;
      m = bytesOf(text);
      this.middles.set(key, m);
    }
    return m;
  }

  // ---------- input ----------

  private need(n: number): void {
    if (this.o + n > this.end) throw new BrokenRecordError(this.o, `needs ${n} bytes, the record ends`);
  }

  private symbolIndex(): number {
    this.need(2);
    const i = this.dv.getUint16(this.o, true);
    this.o += 2;
    if (i >= this.symbolJson.length) throw new BrokenRecordError(this.o - 2, `unknown symbol ${i}`);
    return i;
  }

  private f64(): number {
    this.need(8);
    const x = this.dv.getFloat64(this.o, true);
    this.o += 8;
    return x;
  }

  private byteIn(): number {
    this.need(1);
    return this.u8[this.o++]!;
  }

  /** A time as epoch nanoseconds, as many digits as it has. */
  private nanos(p: number, perfMs: number): number {
    this.clock.split(perfMs);
    return putDigits(this.b, this.ov, putUint(this.b, this.ov, p, this.clock.sec), this.clock.subNs, 9);
  }

  /** A text field as a JSON string at p; the offset after it, or -1 for the "none" marker (nothing written). */
  private text(p: number): number {
    this.need(2);
    const n = this.dv.getUint16(this.o, true);
    this.o += 2;
    if (n === NO_TEXT) return -1;
    this.need(n);
    const at = this.o;
    this.o += n;
    const u8 = this.u8;
    const b = this.b;
    // Plain ASCII without quotes, backslashes or control characters is copied as it is.
    let plain = true;
    for (let i = at; i < at + n; i++) {
      const c = u8[i]!;
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
        plain = false;
        break;
      }
    }
    if (plain) {
      b[p] = 34;
      if (n < SET_BYTES_MIN) for (let i = 0; i < n; i++) b[p + 1 + i] = u8[at + i]!;
      else b.set(u8.subarray(at, at + n), p + 1);
      b[p + 1 + n] = 34;
      return p + n + 2;
    }
    // Anything else as JSON.stringify has it (invalid UTF-8 becomes U+FFFD, as Buffer decodes it).
    const s = JSON.stringify(Buffer.from(u8.buffer, u8.byteOffset + at, n).toString('utf8'));
    return p + b.write(s, p, 'utf8');
  }

  /** `count, (key, type, value)*` as JSON members; `comma`: the first is not the first member. */
  private attrs(p: number, comma: boolean): number {
    const count = this.byteIn();
    const b = this.b;
    const ov = this.ov;
    for (let i = 0; i < count; i++) {
      const key = this.symbolIndex();
      p = putBytes(b, p, comma || i > 0 ? this.symbolNextKey[key]! : this.symbolKey[key]!);
      const type = this.byteIn();
      switch (type) {
        case T_NUMBER:
          p = putNumber(b, ov, p, this.f64());
          break;
        case T_FALSE:
          p = putBytes(b, p, C_FALSE);
          break;
        case T_TRUE:
          p = putBytes(b, p, C_TRUE);
          break;
        case T_SYMBOL:
          p = putBytes(b, p, this.symbolJson[this.symbolIndex()]!);
          break;
        case T_TEXT: {
          const q = this.text(p);
          p = q < 0 ? putBytes(b, p, C_NULL) : q;
          break;
        }
        case T_ZXID: {
          this.need(8);
          p = putBytes(b, p, C_HEX_START);
          p = putHex64(b, ov, p, this.dv.getUint32(this.o, true), this.dv.getUint32(this.o + 4, true));
          b[p++] = 34;
          this.o += 8;
          break;
        }
        default:
          throw new BrokenRecordError(this.o - 1, `unknown attribute type ${type}`);
      }
    }
    return p;
  }

  /** One record [o, end) as one line at p (room made for all of it). */
  private line(): void {
    const u8 = this.u8;
    const dv = this.dv;
    const b = this.b;
    const ov = this.ov;
    const at = this.o;
    const flags = u8[at + 1]!;
    const nameIndex = dv.getUint16(at + 2, true);
    const kind = u8[at + 4]!;
    const status = u8[at + 5]!;
    const startMs = dv.getFloat64(at + 10, true);
    const endMs = dv.getFloat64(at + 18, true);
    this.o = at + HEADER_BYTES;
    if (nameIndex >= this.symbolJson.length) throw new BrokenRecordError(at, `unknown symbol ${nameIndex}`);
    const hasParent = (flags & HAS_PARENT) !== 0;

    // {"traceId":"…","spanId":"…","parentSpanId":…,"name":…,"kind":…,"startTimeUnixNano":"…","endTimeUnixNano":"…","durationMs":
    const head = this.head(nameIndex, kind, hasParent);
    const start = this.p;
    let p = putBytes(b, start, head.bytes);
    if ((flags & HAS_IDS) !== 0) {
      this.need(IDS_BYTES);
      putIdWords(b, ov, start + head.traceAt, dv, this.o, 4);
      putIdWords(b, ov, start + head.spanAt, dv, this.o + 16, 2);
      this.o += IDS_BYTES;
    } else {
      putRandomHex(ov, start + head.traceAt, 4);
      putRandomHex(ov, start + head.spanAt, 2);
    }
    if (hasParent) {
      this.need(SPAN_ID_BYTES);
      putIdWords(b, ov, start + head.parentAt, dv, this.o, 2);
      this.o += SPAN_ID_BYTES;
    }
    const clock = this.clock;
    clock.split(startMs);
    const startSec = clock.sec;
    const startNs = clock.subNs;
    clock.split(endMs);
    if (isFixedWidth(startSec) && isFixedWidth(clock.sec)) {
      putNanosFixed(b, ov, start + head.startAt, startSec, startNs);
      putNanosFixed(b, ov, start + head.endAt, clock.sec, clock.subNs);
    } else {
      // A clock outside 2001..2286: the times as they come, after the fixed part.
      p = this.nanos(start + head.startAt, startMs);
      p = putBytes(b, p, C_END);
      p = this.nanos(p, endMs);
      p = putBytes(b, p, C_DURATION);
    }
    p = putDurationMs(b, ov, p, startMs, endMs);

    // ,"status":{…},"attributes":{"zab.server.id":…,"zab.role":…[,"zk.op":…,"zk.session.id":"0x]
    let message = -1;
    if ((flags & HAS_STATUS_MESSAGE) !== 0) {
      message = this.o;
      this.need(2);
      const n = dv.getUint16(this.o, true);
      this.o += 2 + (n === NO_TEXT ? 0 : n);
    }
    const roleIndex = this.symbolIndex();
    const isRequest = (flags & HAS_REQUEST) !== 0;
    const opIndex = isRequest ? this.symbolIndex() : -1;
    if (message < 0) p = putBytes(b, p, this.middle(status, roleIndex, opIndex));
    else {
      p = putBytes(b, p, C_STATUS);
      p = putUint(b, ov, p, status);
      p = putBytes(b, p, C_MESSAGE);
      const resume = this.o;
      this.o = message;
      const q = this.text(p);
      p = q < 0 ? putBytes(b, p, C_NULL) : q;
      this.o = resume;
      p = putBytes(b, p, this.base);
      p = putBytes(b, p, this.symbolJson[roleIndex]!);
      if (isRequest) {
        p = putBytes(b, p, C_OP);
        p = putBytes(b, p, this.symbolJson[opIndex]!);
        p = putBytes(b, p, C_SESSION);
      }
    }
    if (isRequest) {
      this.need(18);
      const lo = dv.getUint32(this.o, true);
      const hi = dv.getUint32(this.o + 4, true);
      const xid = dv.getFloat64(this.o + 8, true);
      this.o += 16;
      p = putHex64(b, ov, p, lo, hi);
      p = putBytes(b, p, C_XID);
      p = putNumber(b, ov, p, xid);
      if (dv.getUint16(this.o, true) !== NO_TEXT) {
        p = putBytes(b, p, C_PATH);
        p = this.text(p);
      } else this.o += 2;
    }
    p = this.attrs(p, true);

    this.need(2);
    const events = u8[this.o]!;
    if (events === 0 && u8[this.o + 1] === 0) {
      // No events, no links: the common ending in one piece.
      this.o += 2;
      this.p = putBytes(b, p, this.plainTail);
      return;
    }
    this.o++;
    p = putBytes(b, p, C_EVENTS);
    for (let i = 0; i < events; i++) {
      if (i > 0) b[p++] = 44;
      p = putBytes(b, p, C_EVENT_NAME);
      p = putBytes(b, p, this.symbolJson[this.symbolIndex()]!);
      p = putBytes(b, p, C_EVENT_TIME);
      p = this.nanos(p, this.f64());
      p = putBytes(b, p, C_EVENT_ATTRS);
      p = this.attrs(p, false);
      b[p++] = 125;
      b[p++] = 125;
    }
    p = putBytes(b, p, C_LINKS);
    const links = this.byteIn();
    for (let i = 0; i < links; i++) {
      if (i > 0) b[p++] = 44;
      p = putBytes(b, p, C_LINK_TRACE);
      this.need(IDS_BYTES);
      putIdWords(b, ov, p, dv, this.o, 4);
      p = putBytes(b, p + 32, C_LINK_SPAN);
      putIdWords(b, ov, p, dv, this.o + 16, 2);
      p += 16;
      this.o += IDS_BYTES;
      b[p++] = 34;
      b[p++] = 125;
    }
    p = putBytes(b, p, C_RESOURCE);
    this.p = putBytes(b, p, this.tail);
  }
}
