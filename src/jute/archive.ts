/**
 * Jute binary archive: the big-endian encoding of Java's DataOutput that ZooKeeper uses
 * on the wire and on disk. int = 4 bytes, long = 8 bytes, boolean = 1 byte,
 * buffer/ustring = int length (-1 for null) + bytes, vector = int count (-1 for null).
 */

/** Raised when bytes cannot be decoded; carries no stack-worthy bug, just bad input. */
export class JuteDecodeError extends Error {
  readonly code = 'ZABLAB_JUTE_DECODE';
  constructor(message: string) {
    super(message);
    this.name = 'JuteDecodeError';
  }
}

/** The bytes ran out before the record did: malformed, unless more are still to come (a snapshot arriving in pieces). */
export class JuteTruncatedError extends JuteDecodeError {}

const INITIAL_CAPACITY = 256;

/** Longs go through a DataView: its bigint accessors are builtins, Buffer's are slow JavaScript (and wrap the same way). */
function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

export class JuteWriter {
  private buf: Buffer;
  private dv: DataView;
  private pos = 0;

  constructor(capacity = INITIAL_CAPACITY) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.dv = viewOf(this.buf);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.dv = viewOf(next);
  }

  writeInt(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.pos);
    this.pos += 4;
  }

  /** Two's complement of the low 64 bits, as Java's long cast. */
  writeLong(v: bigint): void {
    this.ensure(8);
    this.dv.setBigInt64(this.pos, v);
    this.pos += 8;
  }

  writeBool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  writeByte(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  writeBuffer(v: Uint8Array | null): void {
    if (v === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(v.length);
    this.writeRaw(v);
  }

  writeString(v: string | null): void {
    if (v === null) {
      this.writeInt(-1);
      return;
    }
    const byteLen = Buffer.byteLength(v, 'utf8');
    this.writeInt(byteLen);
    this.ensure(byteLen);
    this.buf.write(v, this.pos, byteLen, 'utf8');
    this.pos += byteLen;
  }

  writeRaw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Reserve 4 bytes for a length prefix; returns the offset to pass to patchLength. */
  reserveLength(): number {
    const at = this.pos;
    this.writeInt(0);
    return at;
  }

  /** Fill a reserved length prefix with the number of bytes written after it. */
  patchLength(at: number): void {
    this.buf.writeInt32BE(this.pos - at - 4, at);
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** A view of the bytes written so far (valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** Start over, keeping the buffer (what view() returned is overwritten by the next writes). */
  reset(): void {
    this.pos = 0;
  }
}

export class JuteReader {
  private pos: number;
  private readonly end: number;
  private readonly dv: DataView;

  constructor(
    private readonly buf: Buffer,
    offset = 0,
    end = buf.length,
  ) {
    this.pos = offset;
    this.end = end;
    this.dv = viewOf(buf);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new JuteTruncatedError(
        `truncated record: need ${n} bytes for ${what} at offset ${this.pos}, have ${this.end - this.pos}`,
      );
    }
  }

  readInt(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  readLong(): bigint {
    this.need(8, 'long');
    const v = this.dv.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }

  /** The 32-bit word `at` bytes past the cursor, without moving it (a long's high word at 0, low at 4). */
  peekInt(at: number): number {
    this.need(at + 4, 'int');
    return this.buf.readInt32BE(this.pos + at);
  }

  /**
   * A long that is often equal to one read before: `same` when the next 8 bytes are its words
   * (hi, lo), so no bigint is allocated for it, else the long itself.
   */
  readLongOr(same: bigint, hi: number, lo: number): bigint {
    this.need(8, 'long');
    const p = this.pos;
    this.pos += 8;
    if (this.buf.readInt32BE(p) === hi && this.buf.readInt32BE(p + 4) === lo) return same;
    return this.dv.getBigInt64(p);
  }

  readBool(): boolean {
    this.need(1, 'boolean');
    return this.buf[this.pos++] !== 0;
  }

  readByte(): number {
    this.need(1, 'byte');
    return this.buf[this.pos++]!;
  }

  private readLength(what: string): number {
    const len = this.readInt();
    if (len < -1) throw new JuteDecodeError(`negative length ${len} for ${what}`);
    if (len > this.remaining) {
      throw new JuteTruncatedError(`length ${len} for ${what} exceeds the ${this.remaining} bytes left`);
    }
    return len;
  }

  readBuffer(): Buffer | null {
    const len = this.readLength('buffer');
    if (len === -1) return null;
    // A copy of its own (not a view that would pin the whole frame); copy() is one memcpy, where
    // Buffer.from(view) copied byte by byte in JS (a fifth of decoding a million-node snapshot).
    const v = Buffer.allocUnsafe(len);
    this.buf.copy(v, 0, this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  /** readBuffer() as a view of the bytes being read: only for what does not outlive them. */
  readBufferView(): Buffer | null {
    const len = this.readLength('buffer');
    if (len === -1) return null;
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  readString(): string | null {
    const len = this.readLength('ustring');
    if (len === -1) return null;
    const v = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  /** Element count of a vector; -1 means null. Bounded by the bytes left (each element >= 1 byte). */
  readCount(): number {
    const n = this.readInt();
    if (n < -1) throw new JuteDecodeError(`negative vector count ${n}`);
    if (n > this.remaining) throw new JuteTruncatedError(`vector count ${n} exceeds the ${this.remaining} bytes left`);
    return n;
  }

  readRaw(n: number): Buffer {
    this.need(n, 'raw bytes');
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}
