/**
 * A protocol buffers wire-format reader, schema-less: a message is read into its fields by
 * number, each a list of raw values (varints as bigint, length-delimited as bytes, fixed
 * widths as bytes). Enough to check what an exporter sent without the .proto files.
 */

export type WireValue = { wire: 'varint'; value: bigint } | { wire: 'bytes'; value: Buffer } | { wire: 'fixed64'; value: Buffer } | { wire: 'fixed32'; value: Buffer };

export type WireMessage = Map<number, WireValue[]>;

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  varint(): bigint {
    let out = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.at >= this.buf.length) throw new Error('protobuf: varint runs past the end');
      const b = this.buf[this.at++]!;
      out |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return out;
    }
    throw new Error('protobuf: varint longer than 10 bytes');
  }

  take(n: number): Buffer {
    if (n < 0 || this.at + n > this.buf.length) throw new Error(`protobuf: ${n} bytes run past the end`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

/** Every field of one message; throws on a malformed buffer. */
export function decodeMessage(buf: Buffer): WireMessage {
  const r = new Reader(buf);
  const out: WireMessage = new Map();
  while (!r.done) {
    const key = r.varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    let v: WireValue;
    switch (wireType) {
      case 0:
        v = { wire: 'varint', value: r.varint() };
        break;
      case 1:
        v = { wire: 'fixed64', value: r.take(8) };
        break;
      case 2:
        v = { wire: 'bytes', value: r.take(Number(r.varint())) };
        break;
      case 5:
        v = { wire: 'fixed32', value: r.take(4) };
        break;
      default:
        throw new Error(`protobuf: wire type ${wireType} (field ${field}) is not supported`);
    }
    if (field === 0) throw new Error('protobuf: field number 0');
    const list = out.get(field);
    if (list === undefined) out.set(field, [v]);
    else list.push(v);
  }
  return out;
}

/** The length-delimited values of a field (submessages, strings, bytes). */
export function bytesOf(m: WireMessage, field: number): Buffer[] {
  return (m.get(field) ?? []).flatMap((v) => (v.wire === 'bytes' ? [v.value] : []));
}

/** Submessages of a field, decoded. */
export function messagesOf(m: WireMessage, field: number): WireMessage[] {
  return bytesOf(m, field).map(decodeMessage);
}

/** A string field ('' when absent, as proto3 reads it). */
export function stringOf(m: WireMessage, field: number): string {
  return bytesOf(m, field)[0]?.toString('utf8') ?? '';
}

/** A varint field (0n when absent). */
export function varintOf(m: WireMessage, field: number): bigint {
  const v = m.get(field)?.find((x) => x.wire === 'varint');
  return v?.wire === 'varint' ? v.value : 0n;
}
