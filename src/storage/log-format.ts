/**
 * The txn log file format, as ZooKeeper writes it (FileTxnLog):
 *
 *   FileHeader { int magic 'ZKLG'; int version 2; long dbid }
 *   then per txn: long checksum (Adler-32 of the entry) | int length | entry bytes | byte 0x42 ('B')
 *
 * Files are pre-allocated with zeros, so a record header of zeros marks the end of the data.
 * zablab ends every batch it writes with an end marker: a record header whose length is 0
 * (ZooKeeper reads any zero-length record as the end of the file, so it still reads our logs)
 * and whose checksum field holds a magic and the low 32 bits of the batch's last zxid. The
 * next batch overwrites it. A marker after a record that fails its checksum proves that the
 * write of that batch ran to its end: the record was damaged later, it is not a torn tail.
 *
 * ZooKeeper writes dbid 0 and never reads it. zablab writes there the zxid the file's first
 * record follows (the history's end when the file was created: the last txn logged, or the
 * snapshot a SNAP installed): a link from each file to what came before it, so that a missing
 * file, or txns a SNAP brought that no log holds, show as a gap (0: no link, as ZooKeeper's).
 *
 * The scanner reads records with a bounded buffer, reports precisely where and why it
 * stopped, and can look past a stop for the next valid record, so that recovery can tell a
 * torn tail (nothing valid after it: never acknowledged) from damage (valid data after it).
 */
import { FileHeader, encode, zxidHex } from '../jute/index.js';
import { adler32 } from './adler32.js';
import { ioError } from './errors.js';
import type { StorageFile, StorageFs } from './fs.js';

/** 'ZKLG' as a big-endian int. */
export const TXNLOG_MAGIC = 0x5a4b4c47;
export const TXNLOG_VERSION = 2;
export const TXNLOG_DBID = 0n;
export const FILE_HEADER_SIZE = 16;
/** checksum (8) + length (4) before the entry; the end-of-record byte after it. */
export const RECORD_HEADER_SIZE = 12;
export const RECORD_OVERHEAD = RECORD_HEADER_SIZE + 1;
export const END_OF_RECORD = 0x42;
/** 'zEND': the high half of an end marker's checksum field. */
export const END_MARKER_MAGIC = 0x7a454e44;
export const END_MARKER_SIZE = RECORD_HEADER_SIZE;
/** TxnHeader {long clientId; int cxid; long zxid; long time; int type}: the zxid sits at byte 12. */
export const TXN_HEADER_SIZE = 32;
const TXN_HEADER_ZXID_OFFSET = 12;

/** ZooKeeper's jute.maxbuffer default (0xfffff) plus its 1024-byte extra for txn reads. */
export const DEFAULT_MAX_TXN_SIZE = 0xfffff + 1024;
/** Upper bound on the entry limit itself, whatever the configuration says. */
export const MAX_TXN_SIZE_LIMIT = 512 * 1024 * 1024;
/** 1 MiB: a recovery reads hundreds of MiB, and each read is a round trip to libuv's thread pool. */
const READ_CHUNK_SIZE = 1024 * 1024;
/** Checking a pre-allocated tail for zeros goes in larger steps (a 64 MiB tail is 64 reads). */
const ZERO_SCAN_CHUNK_SIZE = 1024 * 1024;
const ZEROS = Buffer.alloc(ZERO_SCAN_CHUNK_SIZE);

/** A file header whose first record follows `follows` (see above; ZooKeeper's dbid field). */
export function encodeLogFileHeader(follows: bigint = TXNLOG_DBID): Buffer {
  return encode(FileHeader, { magic: TXNLOG_MAGIC, version: TXNLOG_VERSION, dbid: follows });
}

/** One framed record: checksum, length, entry, 'B'. */
export function encodeLogRecord(entry: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_OVERHEAD + entry.length);
  out.writeBigInt64BE(BigInt(adler32(entry)), 0);
  out.writeInt32BE(entry.length, 8);
  entry.copy(out, RECORD_HEADER_SIZE);
  out[RECORD_HEADER_SIZE + entry.length] = END_OF_RECORD;
  return out;
}

/** The end marker after a batch whose last txn is `lastZxid`. */
export function encodeEndMarker(lastZxid: bigint): Buffer {
  const out = Buffer.alloc(END_MARKER_SIZE);
  out.writeUInt32BE(END_MARKER_MAGIC, 0);
  out.writeUInt32BE(Number(BigInt.asUintN(32, lastZxid)), 4);
  return out;
}

export function zxidOfEntry(entry: Buffer): bigint {
  return entry.readBigInt64BE(TXN_HEADER_ZXID_OFFSET);
}

/** Why a scan ended. `end` and `marker` are clean endings; the others mean the bytes from `offset` on are not a record. */
export type ScanStop =
  | { kind: 'end'; offset: number }
  | { kind: 'marker'; offset: number }
  | { kind: 'torn'; offset: number; detail: string }
  | { kind: 'corrupt'; offset: number; detail: string };

export interface ScannedRecord {
  /** Offset of the record's checksum in the file. */
  offset: number;
  /** Offset just past the record's 'B'. */
  end: number;
  zxid: bigint;
  /** The entry bytes; a view that is valid only until the next call to next(). */
  entry: Buffer;
}

/** What lies past a stop: the next valid record, or an end marker (the batch was written whole), or nothing. */
export type Resume = { kind: 'record'; offset: number; zxid: bigint } | { kind: 'marker'; offset: number } | null;

export type HeaderCheck =
  /** `follows`: the zxid the file's first record follows, 0n when the file does not say. */
  | { kind: 'ok'; follows: bigint }
  /** Shorter than a header, or a header of zeros: the file was created but its header never reached the disk. */
  | { kind: 'torn'; detail: string }
  | { kind: 'foreign'; detail: string };

/**
 * Sequential reader of one log file. Reads at most `limit` bytes of the file (the durable
 * end of a file being written), in chunks of 64 KiB or one record, whichever is larger.
 */
export class LogFileScanner {
  private buf = Buffer.allocUnsafe(READ_CHUNK_SIZE);
  /** File offset of buf[0], and how many bytes of buf are filled. */
  private bufStart = 0;
  private bufLen = 0;
  private pos = FILE_HEADER_SIZE;
  private lastZxid: bigint;
  stop: ScanStop | null = null;

  private constructor(
    readonly path: string,
    private readonly handle: StorageFile,
    readonly size: number,
    /** zxid in the file name: the first record's zxid must not be below it. */
    nameZxid: bigint,
    private readonly maxTxnSize: number,
  ) {
    this.lastZxid = nameZxid - 1n;
  }

  static async open(fs: StorageFs, path: string, nameZxid: bigint, maxTxnSize: number, limit?: number): Promise<LogFileScanner> {
    let handle: StorageFile;
    let size: number;
    try {
      handle = await fs.open(path, 'r');
    } catch (err) {
      throw ioError('open txn log', path, err);
    }
    try {
      size = (await handle.stat()).size;
    } catch (err) {
      await handle.close();
      throw ioError('stat txn log', path, err);
    }
    return new LogFileScanner(path, handle, Math.min(size, limit ?? size), nameZxid, maxTxnSize);
  }

  get offset(): number {
    return this.pos;
  }

  /** zxid of the last record returned (the file name's zxid - 1 before the first). */
  get lastRecordZxid(): bigint {
    return this.lastZxid;
  }

  async checkHeader(): Promise<HeaderCheck> {
    const n = await this.fill(0, FILE_HEADER_SIZE);
    const head = this.view(0, n);
    if (n < FILE_HEADER_SIZE) return { kind: 'torn', detail: `file has ${n} bytes, a header needs ${FILE_HEADER_SIZE}` };
    if (isZero(head)) return { kind: 'torn', detail: 'header is all zeros' };
    const magic = head.readInt32BE(0);
    const version = head.readInt32BE(4);
    if (magic !== TXNLOG_MAGIC) {
      return { kind: 'foreign', detail: `magic 0x${(magic >>> 0).toString(16)} is not ZKLG (0x${TXNLOG_MAGIC.toString(16)})` };
    }
    if (version !== TXNLOG_VERSION) return { kind: 'foreign', detail: `version ${version} is not ${TXNLOG_VERSION}` };
    return { kind: 'ok', follows: head.readBigInt64BE(8) };
  }

  /** The next valid record, or null once the scan stopped (see `stop`). */
  async next(): Promise<ScannedRecord | null> {
    if (this.stop !== null) return null;
    const at = this.pos;
    const headLen = await this.fill(at, RECORD_HEADER_SIZE);
    if (headLen < RECORD_HEADER_SIZE) {
      if (isZero(this.view(at, headLen))) return this.halt({ kind: 'end', offset: at });
      return this.halt({ kind: 'torn', offset: at, detail: `record header cut short: ${headLen} of ${RECORD_HEADER_SIZE} bytes` });
    }
    // Fields are read in place: this runs once per txn of a recovery, hundreds of thousands of times.
    const b = this.buf;
    const h = at - this.bufStart;
    const length = b.readInt32BE(h + 8);
    if (length === 0) {
      const head = this.view(at, RECORD_HEADER_SIZE);
      if (isZero(head)) return this.halt({ kind: 'end', offset: at });
      if (this.isMarkerFor(head, this.lastZxid)) return this.halt({ kind: 'marker', offset: at });
      return this.halt({ kind: 'corrupt', offset: at, detail: 'a zero-length record that is not the end marker of the batch before it' });
    }
    if (length < TXN_HEADER_SIZE || length > this.maxTxnSize) {
      return this.halt({
        kind: 'corrupt',
        offset: at,
        detail: `entry length ${length} outside [${TXN_HEADER_SIZE}, ${this.maxTxnSize}]`,
      });
    }
    const total = RECORD_OVERHEAD + length;
    const got = await this.fill(at, total);
    if (got < total) {
      return this.halt({ kind: 'torn', offset: at, detail: `record cut short: ${got} of ${total} bytes` });
    }
    // fill() may have moved the buffer.
    const entry = this.view(at + RECORD_HEADER_SIZE, length);
    const r = at - this.bufStart;
    const actual = adler32(entry);
    // The stored checksum is a long holding an unsigned 32-bit Adler-32: high word 0, low word equal.
    if (this.buf.readUInt32BE(r) !== 0 || this.buf.readUInt32BE(r + 4) !== actual) {
      const checksum = this.buf.readBigInt64BE(r);
      return this.halt({
        kind: 'corrupt',
        offset: at,
        detail: `checksum mismatch: stored 0x${BigInt.asUintN(64, checksum).toString(16)}, computed 0x${actual.toString(16)}`,
      });
    }
    const eor = this.buf[r + RECORD_HEADER_SIZE + length]!;
    if (eor !== END_OF_RECORD) {
      return this.halt({ kind: 'corrupt', offset: at, detail: `end-of-record byte is 0x${eor.toString(16)}, not 0x42` });
    }
    const zxid = zxidOfEntry(entry);
    if (zxid <= this.lastZxid) {
      return this.halt({
        kind: 'corrupt',
        offset: at,
        detail: `zxid ${zxidHex(zxid)} does not follow ${zxidHex(this.lastZxid)}`,
      });
    }
    this.lastZxid = zxid;
    this.pos = at + total;
    return { offset: at, end: this.pos, zxid, entry };
  }

  /**
   * Past a stop: the first offset at or after `from` where a valid record with a zxid above
   * the last one returned starts, or an end marker (the batch holding the stop was written to
   * its end: markers are overwritten by the next batch, so none is left over from before).
   * Zero runs are skipped in large steps.
   */
  async findResume(from: number): Promise<Resume> {
    for (let at = from; at + RECORD_HEADER_SIZE <= this.size; at++) {
      const n = await this.fill(at, RECORD_HEADER_SIZE);
      if (n < RECORD_HEADER_SIZE) return null;
      const head = this.view(at, RECORD_HEADER_SIZE);
      if (isZero(head)) {
        const nonZero = await this.firstNonZero(at + RECORD_HEADER_SIZE);
        if (nonZero === null) return null;
        // A record's checksum field starts with four zero bytes: back up to where one could start.
        at = Math.max(at, nonZero - RECORD_HEADER_SIZE);
        continue;
      }
      const length = head.readInt32BE(8);
      if (length === 0) {
        if (head.readUInt32BE(0) === END_MARKER_MAGIC) return { kind: 'marker', offset: at };
        continue;
      }
      if (length < TXN_HEADER_SIZE || length > this.maxTxnSize || at + RECORD_OVERHEAD + length > this.size) continue;
      const got = await this.fill(at, RECORD_OVERHEAD + length);
      if (got < RECORD_OVERHEAD + length) continue;
      if (this.view(at + RECORD_HEADER_SIZE + length, 1)[0] !== END_OF_RECORD) continue;
      const entry = this.view(at + RECORD_HEADER_SIZE, length);
      if (BigInt(adler32(entry)) !== this.view(at, 8).readBigInt64BE(0)) continue;
      const zxid = zxidOfEntry(entry);
      if (zxid > this.lastZxid) return { kind: 'record', offset: at, zxid };
    }
    return null;
  }

  /** Continue the scan at a record found by findResume(). */
  resumeAt(offset: number): void {
    this.pos = offset;
    this.stop = null;
  }

  /** Offset of the first non-zero byte in [from, size), or null when all are zero. */
  async firstNonZero(from: number): Promise<number | null> {
    for (let at = from; at < this.size; ) {
      const n = await this.fill(at, Math.min(ZERO_SCAN_CHUNK_SIZE, this.size - at));
      if (n === 0) break;
      const chunk = this.view(at, n);
      if (!chunk.equals(ZEROS.subarray(0, n))) {
        for (let i = 0; i < n; i++) if (chunk[i] !== 0) return at + i;
      }
      at += n;
    }
    return null;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private isMarkerFor(head: Buffer, lastZxid: bigint): boolean {
    return head.readUInt32BE(0) === END_MARKER_MAGIC && head.readUInt32BE(4) === Number(BigInt.asUintN(32, lastZxid));
  }

  private halt(stop: ScanStop): null {
    this.stop = stop;
    return null;
  }

  private view(at: number, n: number): Buffer {
    const from = at - this.bufStart;
    return this.buf.subarray(from, from + n);
  }

  /** Make bytes [at, at+n) available in buf (as many as the file has); returns how many are. */
  private async fill(at: number, n: number): Promise<number> {
    const want = Math.max(0, Math.min(n, this.size - at));
    if (at >= this.bufStart && at + want <= this.bufStart + this.bufLen) return want;
    if (want > this.buf.length) this.buf = Buffer.allocUnsafe(want);
    else if (this.buf.length > READ_CHUNK_SIZE && want <= READ_CHUNK_SIZE) this.buf = Buffer.allocUnsafe(READ_CHUNK_SIZE);
    const toRead = Math.min(this.buf.length, this.size - at);
    let filled = 0;
    while (filled < toRead) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.handle.read(this.buf, filled, toRead - filled, at + filled));
      } catch (err) {
        throw ioError('read txn log', this.path, err);
      }
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.bufStart = at;
    this.bufLen = filled;
    return Math.min(want, filled);
  }
}

export function isZero(bytes: Buffer): boolean {
  return bytes.length <= ZEROS.length ? bytes.equals(ZEROS.subarray(0, bytes.length)) : bytes.every((b) => b === 0);
}
