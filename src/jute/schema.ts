/**
 * Record schemas: a record is declared once as an ordered list of typed fields, and its
 * TypeScript type, encoder and decoder all follow from that declaration.
 */
import { JuteReader, JuteWriter } from './archive.js';

export interface Codec<T> {
  write(w: JuteWriter, v: T): void;
  read(r: JuteReader): T;
}

export type Infer<C> = C extends Codec<infer T> ? T : never;

export const int: Codec<number> = {
  write: (w, v) => w.writeInt(v),
  read: (r) => r.readInt(),
};

export const long: Codec<bigint> = {
  write: (w, v) => w.writeLong(v),
  read: (r) => r.readLong(),
};

export const bool: Codec<boolean> = {
  write: (w, v) => w.writeBool(v),
  read: (r) => r.readBool(),
};

/** A jute `buffer`; null (length -1) is kept, since ZooKeeper distinguishes null data. */
export const buffer: Codec<Buffer | null> = {
  write: (w, v) => w.writeBuffer(v),
  read: (r) => r.readBuffer(),
};

/** A jute `ustring`; a null string decodes as '' (no request field is meaningfully null). */
export const ustring: Codec<string> = {
  write: (w, v) => w.writeString(v),
  read: (r) => r.readString() ?? '',
};

/** A jute `vector<T>`; a null vector decodes as []. */
export function vector<T>(item: Codec<T>): Codec<T[]> {
  return {
    write(w, v) {
      w.writeInt(v.length);
      for (const x of v) item.write(w, x);
    },
    read(r) {
      const n = r.readCount();
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(item.read(r));
      return out;
    },
  };
}

type Fields = Record<string, Codec<never>>;
export type RecordOf<F> = { [K in keyof F]: F[K] extends Codec<infer T> ? T : never };

/**
 * Declare a record: fields are encoded in declaration order. Its reader and writer are written
 * out field by field once, here, from the declaration (names are our own identifiers): every
 * decoded record is then an object of one shape built by one literal, with a direct call per
 * field. The generic loop's keyed stores and megamorphic calls cost a fifth of a txn's decode,
 * on every request and every txn of a log replay.
 */
export function record<F extends { [k: string]: Codec<any> }>(fields: F): Codec<RecordOf<F>> {
  const entries = Object.entries(fields) as [string, Codec<unknown>][];
  const key = (name: string): string => JSON.stringify(name);
  const codecs = entries.map(([, c]) => c);
  const compile = (fn: string): unknown => new Function(...codecs.map((_, i) => `c${i}`), `return ${fn};`)(...codecs);
  return {
    write: compile(`function write(w, v) { ${entries.map(([name], i) => `c${i}.write(w, v[${key(name)}]);`).join(' ')} }`) as Codec<RecordOf<F>>['write'],
    read: compile(`function read(r) { return { ${entries.map(([name], i) => `${key(name)}: c${i}.read(r)`).join(', ')} }; }`) as Codec<RecordOf<F>>['read'],
  };
}

/** Encode one value to a fresh buffer. */
export function encode<T>(codec: Codec<T>, v: T): Buffer {
  const w = new JuteWriter();
  codec.write(w, v);
  return w.toBuffer();
}

/** Decode one value from a whole buffer. */
export function decode<T>(codec: Codec<T>, buf: Buffer): T {
  return codec.read(new JuteReader(buf));
}

export type { Fields };
