/**
 * The txn log file format, as ZooKeeper writes it (FileTxnLog):
 *
 *   FileHeader { int magic 'ZKLG'; int version 2; long dbid 0 }
 *   then per txn: long checksum (Adler-32 of the entry) | int length | entry bytes | byte 0x42 ('B')
 *
 * Files are pre-allocated with zeros, so a record header of zeros marks the end of the data.
 * The scanner reads records with a bounded buffer and reports precisely where and why it
 * stopped, so that recovery can truncate a torn or corrupt tail and say what it dropped.
 */
import { promises as fs } from 'node:fs';
import { FileHeader, encode } from '../jute/index.js';
import { adler32 } from './adler32.js';
import { ioError } from './errors.js';

/** 'ZKLG' as a big-endian int. */
export const TXNLOG_MAGIC = 0x5a4b4c47;
export const TXNLOG_VERSION = 2;
export const TXNLOG_DBID = 0n;
export const FILE_HEADER_SIZE = 16;
/** checksum (8) + length (4) before the entry; the end-of-record byte after it. */
export const RECORD_HEADER_SIZE = 12;
export const RECORD_OVERHEAD = RECORD_HEADER_SIZE + 1;
export const END_OF_RECORD = 0x42;
/** TxnHeader {long clientId; int cxid; long zxid; long time; int type}: the zxid sits at byte 12. */
const TXN_HEADER_SIZE = 32;
const TXN_HEADER_ZXID_OFFSET = 12;

/** ZooKeeper's jute.maxbuffer default (0xfffff) plus its 1024-byte extra for txn reads. */
export const DEFAULT_MAX_TXN_SIZE = 0xfffff + 1024;
/** Upper bound on the entry limit itself, whatever the configuration says. */
export const MAX_TXN_SIZE_LIMIT = 512 * 1024 * 1024;
const READ_CHUNK_SIZE = 64 * 1024;
/** Checking a pre-allocated tail for zeros goes in larger steps (a 64 MiB tail is 64 reads). */
const ZERO_SCAN_CHUNK_SIZE = 1024 * 1024;
const ZEROS = Buffer.alloc(ZERO_SCAN_CHUNK_SIZE);

export function encodeLogFileHeader(): Buffer {
  return encode(FileHeader, { magic: TXNLOG_MAGIC, version: TXNLOG_VERSION, dbid: TXNLOG_DBID });
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

export function zxidOfEntry(entry: Buffer): bigint {
  return entry.readBigInt64BE(TXN_HEADER_ZXID_OFFSET);
}

/** Why a scan ended. Only `end` is a clean ending; the others mean the bytes from `offset` on are not a record. */
export type ScanStop =
  | { kind: 'end'; offset: number }
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

export type HeaderCheck =
  | { kind: 'ok' }
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
    private readonly handle: fs.FileHandle,
    readonly size: number,
    /** zxid in the file name: the first record's zxid must not be below it. */
    nameZxid: bigint,
    private readonly maxTxnSize: number,
  ) {
    this.lastZxid = nameZxid - 1n;
  }

  static async open(path: string, nameZxid: bigint, maxTxnSize: number, limit?: number): Promise<LogFileScanner> {
    let handle: fs.FileHandle;
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
    return { kind: 'ok' };
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
    const head = this.view(at, RECORD_HEADER_SIZE);
    const checksum = head.readBigInt64BE(0);
    const length = head.readInt32BE(8);
    if (length === 0 && checksum === 0n) return this.halt({ kind: 'end', offset: at });
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
    const entry = this.view(at + RECORD_HEADER_SIZE, length);
    const actual = adler32(entry);
    if (BigInt(actual) !== checksum) {
      return this.halt({
        kind: 'corrupt',
        offset: at,
        detail: `checksum mismatch: stored 0x${BigInt.asUintN(64, checksum).toString(16)}, computed 0x${actual.toString(16)}`,
      });
    }
    const eor = this.view(at + RECORD_HEADER_SIZE + length, 1)[0]!;
    if (eor !== END_OF_RECORD) {
      return this.halt({ kind: 'corrupt', offset: at, detail: `end-of-record byte is 0x${eor.toString(16)}, not 0x42` });
    }
    const zxid = zxidOfEntry(entry);
    if (zxid <= this.lastZxid) {
      return this.halt({
        kind: 'corrupt',
        offset: at,
        detail: `zxid 0x${zxid.toString(16)} does not follow 0x${this.lastZxid.toString(16)}`,
      });
    }
    this.lastZxid = zxid;
    this.pos = at + total;
    return { offset: at, end: this.pos, zxid, entry };
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
