/**
 * The search's memo: configurations (set of linearized ops, register value) met so far.
 *
 * The set is a bitset with an incrementally kept Zobrist hash (each op a fixed pseudo-random
 * word pair, XORed in and out), stored compactly: ok ops linearize roughly in invocation
 * order, so their bits are all ones up to a frontier, a few mixed words after it (as many
 * as ops are concurrent), then zeros; only that window is kept. Open (indeterminate) ops may
 * stay unlinearized forever, which would pin the frontier, so their bits live in a region of
 * their own, kept as (word, bits) pairs for its non-zero words. An entry costs tens of
 * bytes instead of n/8, so a budget holds far more configurations.
 *
 * Arena layout of an entry: [value, hashHigh, chain, length, ...encoding], where encoding is
 * [frontier word, window length, ...window words, pair count, (word, bits)...].
 */
import type { RegisterOp } from './register.js';

/** What add() did: added the configuration, found it met before, or found the memo full. */
export const MemoAdd = { Added: 0, Seen: 1, Full: 2 } as const;
export type MemoAdd = (typeof MemoAdd)[keyof typeof MemoAdd];

const NIL = -1;
const HEADER_WORDS = 4;
/** What an entry costs beyond its arena words: its Map slot, with the table's spare room. */
const MAP_SLOT_BYTES = 64;
const ALL_ONES = 0xffffffff | 0;

export class Memo {
  /** Bitset words of the ok ops; the open ops' words follow. */
  private readonly okWords: number;
  private readonly lastOkMask: number;
  private readonly bitOf: Int32Array;
  private readonly bits: Int32Array;
  private readonly zLow: Int32Array;
  private readonly zHigh: Int32Array;
  private hashLow = 0;
  private hashHigh = 0;
  /** First ok word that is not all ones. */
  private frontier = 0;
  /** Last ok word that is not zero (-1: none). */
  private lastSet = NIL;
  private readonly buckets = new Map<number, number>();
  private arena: Int32Array;
  private used = 0;
  private readonly bytesMax: number;
  private scratch: Int32Array;
  private scratchLength = 0;
  size = 0;

  constructor(ops: readonly RegisterOp[], bytesMax: number) {
    let okCount = 0;
    for (const r of ops) if (!r.open) okCount++;
    this.okWords = Math.ceil(okCount / 32);
    const rest = okCount % 32;
    this.lastOkMask = rest === 0 ? ALL_ONES : (1 << rest) - 1;
    this.bitOf = new Int32Array(ops.length);
    let ok = 0;
    let open = this.okWords * 32;
    ops.forEach((r, i) => (this.bitOf[i] = r.open ? open++ : ok++));
    this.bits = new Int32Array(Math.ceil(open / 32));
    this.zLow = new Int32Array(ops.length);
    this.zHigh = new Int32Array(ops.length);
    let seed = 0x2545f491;
    for (let i = 0; i < ops.length; i++) {
      seed = splitmix32(seed);
      this.zLow[i] = seed;
      seed = splitmix32(seed);
      this.zHigh[i] = seed;
    }
    this.bytesMax = bytesMax;
    this.arena = new Int32Array(1 << 16);
    this.scratch = new Int32Array(this.bits.length * 2 + 4);
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.used * 4 + this.size * MAP_SLOT_BYTES;
  }

  /** Marks op linearized with the register at `value`; if that configuration was met before (Seen) or there is no room (Full), unmarks it. */
  add(op: number, value: number): MemoAdd {
    this.flip(op);
    this.encode();
    const key = (this.hashLow ^ Math.imul(value + 1, 0x9e3779b1)) | 0;
    const head = this.buckets.get(key) ?? NIL;
    for (let at = head; at !== NIL; at = this.arena[at + 2]!) {
      if (this.sameAs(at, value)) {
        this.flip(op);
        return MemoAdd.Seen;
      }
    }
    const words = HEADER_WORDS + this.scratchLength;
    if (this.bytes + words * 4 + MAP_SLOT_BYTES > this.bytesMax) {
      this.flip(op);
      return MemoAdd.Full;
    }
    const at = this.reserve(words);
    this.arena[at] = value;
    this.arena[at + 1] = this.hashHigh;
    this.arena[at + 2] = head;
    this.arena[at + 3] = this.scratchLength;
    this.arena.set(this.scratch.subarray(0, this.scratchLength), at + HEADER_WORDS);
    this.buckets.set(key, at);
    this.size++;
    return MemoAdd.Added;
  }

  /** Takes op out of the linearized set (on backtracking). */
  unset(op: number): void {
    this.flip(op);
  }

  private flip(op: number): void {
    const bit = this.bitOf[op]!;
    const w = bit >>> 5;
    const mask = 1 << (bit & 31);
    this.bits[w]! ^= mask;
    this.hashLow ^= this.zLow[op]!;
    this.hashHigh ^= this.zHigh[op]!;
    if (w >= this.okWords) return;
    if ((this.bits[w]! & mask) !== 0) {
      if (w === this.frontier) while (this.frontier < this.okWords && this.bits[this.frontier] === this.fullWord(this.frontier)) this.frontier++;
      if (w > this.lastSet) this.lastSet = w;
    } else {
      if (w < this.frontier) this.frontier = w;
      if (w === this.lastSet) while (this.lastSet >= 0 && this.bits[this.lastSet] === 0) this.lastSet--;
    }
  }

  private fullWord(w: number): number {
    return w === this.okWords - 1 ? this.lastOkMask : ALL_ONES;
  }

  /** The current set in the compact form, into scratch. */
  private encode(): void {
    const s = this.scratch;
    let n = 0;
    const windowLength = Math.max(0, this.lastSet - this.frontier + 1);
    s[n++] = this.frontier;
    s[n++] = windowLength;
    for (let w = this.frontier; w < this.frontier + windowLength; w++) s[n++] = this.bits[w]!;
    const pairsAt = n++;
    let pairs = 0;
    for (let w = this.okWords; w < this.bits.length; w++) {
      if (this.bits[w] !== 0) {
        s[n++] = w;
        s[n++] = this.bits[w]!;
        pairs++;
      }
    }
    s[pairsAt] = pairs;
    this.scratchLength = n;
  }

  private sameAs(at: number, value: number): boolean {
    const a = this.arena;
    if (a[at] !== value || a[at + 1] !== this.hashHigh || a[at + 3] !== this.scratchLength) return false;
    const from = at + HEADER_WORDS;
    for (let k = 0; k < this.scratchLength; k++) if (a[from + k] !== this.scratch[k]) return false;
    return true;
  }

  private reserve(words: number): number {
    if (this.used + words > this.arena.length) {
      // Doubling, but not past the budget: add() refuses entries beyond it anyway.
      const capWords = Math.ceil(this.bytesMax / 4);
      const bigger = new Int32Array(Math.max(Math.min(this.arena.length * 2, capWords), this.used + words));
      bigger.set(this.arena.subarray(0, this.used));
      this.arena = bigger;
    }
    const at = this.used;
    this.used += words;
    return at;
  }
}

/** A 32-bit mixer (splitmix32's finalizer): a deterministic stream of well-spread words. */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}
