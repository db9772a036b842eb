/**
 * Trace and span ids as numbers. A trace id is four 32-bit words and a span id two, each
 * held as a signed int32 (a small integer to V8: no allocation, one store each), in the
 * order of their hex digits. They are drawn from crypto randomness taken a few KB at a time,
 * copied into span records as words, and spelled out as hex only where text is wanted: by the
 * spans writer thread, in a traceparent, or for OpenTelemetry's exporters.
 */
import crypto from 'node:crypto';
import { TRACEPARENT_CHARS } from './traceparent.js';

/** A span's ids: trace id t0..t3, span id s0, s1. */
export interface IdWords {
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly s0: number;
  readonly s1: number;
}

/** Random words per refill (32 KB: refilling costs ~5 µs a call, then ~1 ns a word). */
const POOL_WORDS = 8_192;

export class IdSource {
  private readonly pool = new Int32Array(POOL_WORDS);
  private at = POOL_WORDS;

  /** A random 32-bit word (callers redraw an id that came out all zero). */
  word(): number {
    if (this.at === POOL_WORDS) {
      crypto.randomFillSync(this.pool);
      this.at = 0;
    }
    return this.pool[this.at++]!;
  }

  /** A fresh trace id and span id into w (never all zero: invalid in W3C trace context). */
  draw(w: MutableIdWords): void {
    do {
      w.t0 = this.word();
      w.t1 = this.word();
      w.t2 = this.word();
      w.t3 = this.word();
    } while ((w.t0 | w.t1 | w.t2 | w.t3) === 0);
    this.drawSpan(w);
  }

  /** A fresh span id into w.s0, w.s1 (never all zero). */
  drawSpan(w: MutableIdWords): void {
    do {
      w.s0 = this.word();
      w.s1 = this.word();
    } while ((w.s0 | w.s1) === 0);
  }
}

export type MutableIdWords = { -readonly [K in keyof IdWords]: IdWords[K] };

// ---------- hex ----------

const HEX_DIGITS = '0123456789abcdef';
/** Each byte as two lowercase hex characters. */
const HEX_PAIRS: string[] = Array.from({ length: 256 }, (_, i) => HEX_DIGITS[i >> 4]! + HEX_DIGITS[i & 15]!);
/** A character's hex value; -1: not a lowercase hex digit (W3C trace context allows no others). */
const HEX_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUES[HEX_DIGITS.charCodeAt(i)] = i;

/** A word as 8 hex digits. */
export function wordHex(w: number): string {
  return HEX_PAIRS[(w >>> 24) & 255]! + HEX_PAIRS[(w >>> 16) & 255]! + HEX_PAIRS[(w >>> 8) & 255]! + HEX_PAIRS[w & 255]!;
}

export function traceIdHex(w: IdWords): string {
  return wordHex(w.t0) + wordHex(w.t1) + wordHex(w.t2) + wordHex(w.t3);
}

export function spanIdHex(w: IdWords): string {
  return wordHex(w.s0) + wordHex(w.s1);
}

/** Set negative by hexWord when a character was not a lowercase hex digit (reset before use). */
let hexBad = 0;

/** 8 hex digits of s at `at` as a word (check hexBad after). */
function hexWord(s: string, at: number): number {
  let w = 0;
  for (let i = at; i < at + 8; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? HEX_VALUES[c]! : -1;
    hexBad |= v;
    w = (w << 4) | (v & 15);
  }
  return w;
}

/** A trace id (32 hex digits) and a span id (16) into `out`; false: not that, or an id is all zero. */
export function parseIdsHex(traceId: string, spanId: string, out: MutableIdWords): boolean {
  if (traceId.length !== 32 || spanId.length !== 16) return false;
  return parseInto(traceId, 0, spanId, 0, out);
}

function parseInto(trace: string, traceAt: number, span: string, spanAt: number, out: MutableIdWords): boolean {
  hexBad = 0;
  const t0 = hexWord(trace, traceAt);
  const t1 = hexWord(trace, traceAt + 8);
  const t2 = hexWord(trace, traceAt + 16);
  const t3 = hexWord(trace, traceAt + 24);
  const s0 = hexWord(span, spanAt);
  const s1 = hexWord(span, spanAt + 8);
  if (hexBad < 0 || (t0 | t1 | t2 | t3) === 0 || (s0 | s1) === 0) return false;
  out.t0 = t0;
  out.t1 = t1;
  out.t2 = t2;
  out.t3 = t3;
  out.s0 = s0;
  out.s1 = s1;
  return true;
}

// ---------- traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags> ----------

/**
 * The ids a traceparent names, into `out`; false when it is malformed: not version 00 of that
 * shape, not lowercase hex, or an all-zero id.
 */
export function parseTraceparentWords(tp: string, out: MutableIdWords): boolean {
  if (tp.length !== TRACEPARENT_CHARS || tp.charCodeAt(0) !== 48 || tp.charCodeAt(1) !== 48) return false;
  if (tp.charCodeAt(2) !== 45 || tp.charCodeAt(35) !== 45 || tp.charCodeAt(52) !== 45) return false;
  const f0 = tp.charCodeAt(53);
  const f1 = tp.charCodeAt(54);
  if ((f0 < 128 ? HEX_VALUES[f0]! : -1) < 0 || (f1 < 128 ? HEX_VALUES[f1]! : -1) < 0) return false;
  return parseInto(tp, 3, tp, 36, out);
}

const HEX_CODES = Buffer.from(HEX_DIGITS, 'latin1');
/** Where traceparents are spelled out (one thread, copied into a string right away). */
const TRACEPARENT_SCRATCH = Buffer.from(`00-${'0'.repeat(32)}-${'0'.repeat(16)}-00`, 'latin1');

function putWordHex(b: Buffer, at: number, w: number): void {
  for (let k = 0; k < 8; k++) b[at + k] = HEX_CODES[(w >>> (28 - 4 * k)) & 15]!;
}

/**
 * `00-<trace id>-<span id>-<flags>`, as one flat string: it is sent to other servers and
 * parsed there, and a string glued from pieces costs more to read char by char.
 */
export function formatTraceparentWords(w: IdWords, sampled: boolean): string {
  const b = TRACEPARENT_SCRATCH;
  putWordHex(b, 3, w.t0);
  putWordHex(b, 11, w.t1);
  putWordHex(b, 19, w.t2);
  putWordHex(b, 27, w.t3);
  putWordHex(b, 36, w.s0);
  putWordHex(b, 44, w.s1);
  b[54] = sampled ? 49 : 48;
  return b.toString('latin1', 0, TRACEPARENT_CHARS);
}
