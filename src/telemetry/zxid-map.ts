/**
 * A table of what is in flight per zxid (proposals, open ack and commit spans), bounded.
 *
 * The zxids in flight are consecutive (a leader numbers its proposals one by one within an
 * epoch), so a ring indexed by the zxid's counter holds them in neighbouring slots: a lookup
 * is one array read and two small-integer compares. A Map keyed by zxid hashed a bigint (or
 * a boxed number) and chased pointers to compare keys, several times per write, and under
 * tracing's memory traffic that cost a few µs per write on every server.
 *
 * A slot holds one zxid at a time: setting a zxid whose slot another zxid holds (one
 * `capacity` zxids older, or of another epoch) evicts that one first.
 */
const COUNTER_SPAN = 4_294_967_296;

export class ZxidMap<V> {
  private readonly mask: number;
  /** Allocated on first use: a server that never traces never pays for the span tables. */
  private epochs: Int32Array | null = null;
  private counters: Int32Array | null = null;
  private slots: (V | undefined)[] = [];
  private count = 0;
  // The zxid last split into its slot, epoch and counter.
  private lastSlot = 0;
  private lastEpoch = 0;
  private lastCounter = 0;

  constructor(
    /** Slots: a power of two. */
    readonly capacity: number,
    private readonly onEvict: (v: V) => void,
  ) {
    if (!Number.isInteger(Math.log2(capacity))) throw new RangeError(`ZxidMap capacity must be a power of two, not ${capacity}`);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Split zxid into lastSlot, lastEpoch (high 32 bits) and lastCounter (low 32 bits), as int32s. */
  private split(zxid: bigint): void {
    const n = Number(zxid);
    if (Number.isSafeInteger(n)) {
      this.lastEpoch = Math.floor(n / COUNTER_SPAN) | 0;
      this.lastCounter = n | 0;
    } else {
      // Epochs of 2^21 and above: exact, if slower.
      this.lastEpoch = Number(BigInt.asIntN(32, zxid >> 32n));
      this.lastCounter = Number(BigInt.asIntN(32, zxid));
    }
    this.lastSlot = this.lastCounter & this.mask;
  }

  /** The slot zxid is in, or -1. */
  private find(zxid: bigint): number {
    if (this.epochs === null) return -1;
    this.split(zxid);
    const i = this.lastSlot;
    return this.slots[i] !== undefined && this.counters![i] === this.lastCounter && this.epochs[i] === this.lastEpoch ? i : -1;
  }

  get(zxid: bigint): V | undefined {
    const i = this.find(zxid);
    return i < 0 ? undefined : this.slots[i];
  }

  has(zxid: bigint): boolean {
    return this.find(zxid) >= 0;
  }

  /** The entry for zxid, removed (undefined: there was none). */
  take(zxid: bigint): V | undefined {
    const i = this.find(zxid);
    if (i < 0) return undefined;
    const v = this.slots[i];
    this.slots[i] = undefined;
    this.count--;
    return v;
  }

  delete(zxid: bigint): void {
    this.take(zxid);
  }

  set(zxid: bigint, value: V): void {
    if (this.epochs === null) {
      this.epochs = new Int32Array(this.capacity);
      this.counters = new Int32Array(this.capacity);
      this.slots = new Array<V | undefined>(this.capacity).fill(undefined);
    }
    this.split(zxid);
    const i = this.lastSlot;
    const held = this.slots[i];
    if (held === undefined) this.count++;
    else if (this.counters![i] !== this.lastCounter || this.epochs[i] !== this.lastEpoch) this.onEvict(held);
    this.epochs[i] = this.lastEpoch;
    this.counters![i] = this.lastCounter;
    this.slots[i] = value;
  }

  /** Every entry, in slot order. */
  *values(): IterableIterator<V> {
    for (const v of this.slots) if (v !== undefined) yield v;
  }

  clear(): void {
    if (this.count === 0) return;
    this.slots.fill(undefined);
    this.count = 0;
  }
}
