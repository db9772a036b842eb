/**
 * The txn log in files, in ZooKeeper's format (see log-format.ts): `log.<zxid hex>` files in
 * one directory (`<dataLogDir>/version-2`), each named after its first txn, pre-allocated in preAllocSize steps.
 *
 * Durability rules:
 * - a commit writes the batch with one writev and one fdatasync; the directory is fsynced
 *   when the batch created a file;
 * - when the log rolls inside a batch, the old file is fsynced before the new one is created,
 *   so a crash can never leave a later file behind a torn earlier one;
 * - on open, the last file's torn or corrupt tail is cut at the last valid record (and said
 *   so through `log`), and the next append starts a new file, as ZooKeeper does on restart.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeLoggedTxn, encodeLoggedTxn, type LoggedTxn } from '../jute/index.js';
import { checkEntrySize, checkZxidOrder } from './append-rules.js';
import { StorageError, ioError } from './errors.js';
import { LOG_FILE_PREFIX, ensureDir, fsyncDir, listZxidFiles, makeLogName, removeFile, type ZxidFile } from './files.js';
import { GroupCommit } from './group-commit.js';
import {
  DEFAULT_MAX_TXN_SIZE,
  FILE_HEADER_SIZE,
  LogFileScanner,
  MAX_TXN_SIZE_LIMIT,
  encodeLogFileHeader,
  encodeLogRecord,
} from './log-format.js';
import type { FsyncInfo, TxnLog } from './txn-log.js';

/** ZooKeeper's default preAllocSize: 64 MiB (its config key counts KB). */
export const DEFAULT_PRE_ALLOC_SIZE = 64 * 1024 * 1024;
const MAX_PRE_ALLOC_SIZE = 1024 * 1024 * 1024;
/** ZooKeeper extends the file when a write comes within 4 KiB of its pre-allocated end. */
const PRE_ALLOC_MARGIN = 4096;

export interface FileTxnLogOptions {
  /** The directory of the log files: `<dataLogDir>/version-2` (see versionDir()). Created if missing. */
  dir: string;
  /** Pre-allocation step in bytes (ZooKeeper's preAllocSize key is in KB); 0 disables. Default 64 MiB. */
  preAllocSize?: number;
  /** Largest txn entry written or read back; longer entries on disk count as corruption. Default jute.maxbuffer + 1024. */
  maxTxnSize?: number;
  /** Recovery reports (what was dropped, where) and warnings. */
  log?: (msg: string) => void;
}

interface PendingRecord {
  zxid: bigint;
  bytes: Buffer;
  /** This record starts a new file (first append after open, rollLog or truncate). */
  newFile: boolean;
}

/** The file appends go to. Set before the file exists, so that read() never reads past what is durable. */
interface ActiveFile {
  path: string;
  handle: fs.FileHandle | null;
  /** Next write offset. */
  position: number;
  /** Allocated size (pre-allocation included). */
  size: number;
  /** Bytes known to be on disk: read() stops here. */
  durableEnd: number;
}

const hex = (zxid: bigint): string => `0x${zxid.toString(16)}`;

function defaultLog(msg: string): void {
  console.warn(`zablab storage: ${msg}`);
}

function checkSize(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new StorageError('ZABLAB_STORAGE_BAD_ARGUMENT', `${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

export class FileTxnLog implements TxnLog {
  onFsync?: (info: FsyncInfo) => void;

  private pending: PendingRecord[] = [];
  private pendingBytes = 0;
  /** Whether the next append goes to a file that exists or is already queued for creation. */
  private hasAppendFile = false;
  private active: ActiveFile | null = null;
  private failure: StorageError | null = null;
  private closing = false;
  private truncating = false;
  private readonly group = new GroupCommit(
    () => this.flush(),
    () => this.pending.length > 0,
  );

  private constructor(
    readonly logDir: string,
    private readonly preAllocSize: number,
    private readonly maxTxnSize: number,
    private readonly log: (msg: string) => void,
    private lastZxid: bigint,
  ) {}

  static async open(opts: FileTxnLogOptions): Promise<FileTxnLog> {
    const preAllocSize = opts.preAllocSize ?? DEFAULT_PRE_ALLOC_SIZE;
    const maxTxnSize = opts.maxTxnSize ?? DEFAULT_MAX_TXN_SIZE;
    checkSize('preAllocSize', preAllocSize, 0, MAX_PRE_ALLOC_SIZE);
    checkSize('maxTxnSize', maxTxnSize, 64, MAX_TXN_SIZE_LIMIT);
    const log = opts.log ?? defaultLog;
    const logDir = opts.dir;
    await ensureDir(logDir);
    const lastZxid = await recoverLog(logDir, maxTxnSize, log);
    return new FileTxnLog(logDir, preAllocSize, maxTxnSize, log, lastZxid);
  }

  append(txn: LoggedTxn): void {
    this.checkUsable();
    const zxid = txn.hdr.zxid;
    checkZxidOrder(zxid, this.lastZxid);
    const entry = encodeLoggedTxn(txn);
    checkEntrySize(zxid, entry.length, this.maxTxnSize, this.pendingBytes);
    const bytes = encodeLogRecord(entry);
    this.pending.push({ zxid, bytes, newFile: !this.hasAppendFile });
    this.pendingBytes += bytes.length;
    this.hasAppendFile = true;
    this.lastZxid = zxid;
  }

  async commit(): Promise<void> {
    if (this.closing) throw closedError();
    if (this.failure) throw this.failure;
    await this.group.commit();
  }

  async *read(afterZxid: bigint): AsyncGenerator<LoggedTxn> {
    if (this.closing) throw closedError();
    const files = await listZxidFiles(this.logDir, LOG_FILE_PREFIX);
    // Captured after listing: the file being written may only be read up to what is durable.
    const active = this.active === null ? null : { path: this.active.path, durableEnd: this.active.durableEnd };
    let start = 0;
    for (let i = 0; i < files.length; i++) if (files[i]!.zxid <= afterZxid + 1n) start = i;
    let previous = -1n;
    for (const file of files.slice(start)) {
      const limit = active !== null && active.path === file.path ? active.durableEnd : undefined;
      const scanner = await LogFileScanner.open(file.path, file.zxid, this.maxTxnSize, limit);
      try {
        const header = await scanner.checkHeader();
        if (header.kind !== 'ok') {
          if (limit === undefined) this.log(`reading ${file.path} stopped: ${header.detail}`);
          return;
        }
        for (let rec = await scanner.next(); rec !== null; rec = await scanner.next()) {
          if (rec.zxid <= previous) {
            this.log(`reading ${file.path} stopped at offset ${rec.offset}: zxid ${hex(rec.zxid)} follows ${hex(previous)}`);
            return;
          }
          previous = rec.zxid;
          if (rec.zxid > afterZxid) yield decodeEntry(rec.entry, file.path, rec.offset);
        }
        const stop = scanner.stop!;
        if (stop.kind !== 'end') {
          if (limit === undefined) this.log(`reading ${file.path} stopped at offset ${stop.offset}: ${stop.detail}`);
          return;
        }
      } finally {
        await scanner.close();
      }
    }
  }

  lastLoggedZxid(): bigint {
    return this.lastZxid;
  }

  rollLog(): void {
    this.checkUsable();
    this.hasAppendFile = false;
  }

  async truncate(zxid: bigint): Promise<void> {
    this.checkUsable();
    this.truncating = true;
    try {
      await this.group.commit();
      await this.group.idle();
      await this.closeActive();
      this.hasAppendFile = false;
      const files = await listZxidFiles(this.logDir, LOG_FILE_PREFIX);
      // Newest first, so that a crash part-way leaves a prefix of the log, never a gap.
      let removed = 0;
      while (files.length > 0 && files.at(-1)!.zxid > zxid) {
        await removeFile(files.pop()!.path);
        removed++;
      }
      if (removed > 0) await fsyncDir(this.logDir);
      const containing = files.at(-1);
      if (containing !== undefined && (await this.cutAfter(containing, zxid)) === 'removed') files.pop();
      this.lastZxid = await lastZxidIn(files, this.maxTxnSize);
    } catch (err) {
      throw this.fail(err);
    } finally {
      this.truncating = false;
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      if (this.failure === null) await this.group.commit();
    } finally {
      await this.group.idle();
      await this.closeActive().catch(() => undefined);
    }
  }

  private checkUsable(): void {
    if (this.closing) throw closedError();
    if (this.failure) throw this.failure;
    if (this.truncating) {
      throw new StorageError('ZABLAB_STORAGE_BUSY', 'the txn log is being truncated; wait for truncate() to resolve');
    }
  }

  /** Takes everything pending and makes it durable (GroupCommit calls this, one at a time). */
  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.failure) throw this.failure;
    try {
      let pieces: Buffer[] = [];
      let txns = 0;
      let created = false;
      for (const rec of batch) {
        if (rec.newFile) {
          if (this.active !== null) {
            await this.writeAndSync(pieces, txns);
            pieces = [];
            txns = 0;
            await this.closeActive();
          }
          await this.createFile(rec.zxid);
          pieces.push(encodeLogFileHeader());
          created = true;
        }
        pieces.push(rec.bytes);
        txns++;
      }
      if (pieces.length > 0) await this.writeAndSync(pieces, txns);
      if (created) await fsyncDir(this.logDir);
    } catch (err) {
      throw this.fail(err);
    }
  }

  private async createFile(firstZxid: bigint): Promise<void> {
    const file = path.join(this.logDir, makeLogName(firstZxid));
    this.active = { path: file, handle: null, position: 0, size: 0, durableEnd: 0 };
    try {
      this.active.handle = await fs.open(file, 'wx');
    } catch (err) {
      throw ioError('create txn log', file, err);
    }
  }

  private async writeAndSync(pieces: Buffer[], txns: number): Promise<void> {
    const file = this.active!;
    const handle = file.handle!;
    let bytes = 0;
    for (const p of pieces) bytes += p.length;
    try {
      await this.preAllocate(file, file.position + bytes);
      await writeFully(handle, pieces, file.position);
      file.position += bytes;
      const startMs = performance.now();
      await handle.datasync();
      const durationMs = performance.now() - startMs;
      file.durableEnd = file.position;
      this.reportFsync({ durationMs, txns, bytes });
    } catch (err) {
      throw ioError('write txn log', file.path, err);
    }
  }

  /** Extend the file with zeros ahead of the writes, as FilePadding does. */
  private async preAllocate(file: ActiveFile, end: number): Promise<void> {
    const step = this.preAllocSize;
    if (step === 0 || end + PRE_ALLOC_MARGIN < file.size) return;
    const size = (Math.floor((end + PRE_ALLOC_MARGIN) / step) + 1) * step;
    await file.handle!.truncate(size);
    file.size = size;
  }

  private reportFsync(info: FsyncInfo): void {
    try {
      this.onFsync?.(info);
    } catch (err) {
      this.log(`onFsync callback threw: ${String(err)}`);
    }
  }

  private async closeActive(): Promise<void> {
    const file = this.active;
    this.active = null;
    if (file?.handle) {
      try {
        await file.handle.close();
      } catch (err) {
        throw ioError('close txn log', file.path, err);
      }
    }
  }

  /** Cut `file` after its last record with zxid <= zxid; a file left with no record is removed. */
  private async cutAfter(file: ZxidFile, zxid: bigint): Promise<'cut' | 'removed'> {
    const scanner = await LogFileScanner.open(file.path, file.zxid, this.maxTxnSize);
    let cut = FILE_HEADER_SIZE;
    let size: number;
    try {
      size = scanner.size;
      if ((await scanner.checkHeader()).kind === 'ok') {
        for (let rec = await scanner.next(); rec !== null && rec.zxid <= zxid; rec = await scanner.next()) cut = rec.end;
      }
    } finally {
      await scanner.close();
    }
    if (cut === FILE_HEADER_SIZE) {
      await removeFile(file.path);
      await fsyncDir(this.logDir);
      return 'removed';
    }
    if (cut < size) await truncateDurably(file.path, cut);
    return 'cut';
  }

  private fail(err: unknown): StorageError {
    if (this.failure === null) {
      const why = err instanceof Error ? err.message : String(err);
      this.failure = new StorageError(
        'ZABLAB_STORAGE_FAILED',
        `the txn log failed and accepts no more writes (${why}); restart the server to recover from what is on disk`,
        { cause: err },
      );
      this.log(this.failure.message);
    }
    return this.failure;
  }
}

function closedError(): StorageError {
  return new StorageError('ZABLAB_STORAGE_CLOSED', 'the txn log is closed');
}

function decodeEntry(entry: Buffer, file: string, offset: number): LoggedTxn {
  try {
    return decodeLoggedTxn(entry);
  } catch (err) {
    throw new StorageError(
      'ZABLAB_STORAGE_UNSUPPORTED_TXN',
      `the txn at offset ${offset} of ${file} has a valid checksum but cannot be decoded ` +
        `(${err instanceof Error ? err.message : String(err)}); it was written with a txn type zablab does not support`,
      { cause: err },
    );
  }
}

async function writeFully(handle: fs.FileHandle, pieces: Buffer[], position: number): Promise<void> {
  let rest = pieces;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, at);
    if (bytesWritten === 0) throw new Error('write made no progress');
    at += bytesWritten;
    let skip = bytesWritten;
    let i = 0;
    while (i < rest.length && skip >= rest[i]!.length) skip -= rest[i++]!.length;
    rest = rest.slice(i);
    if (skip > 0) rest[0] = rest[0]!.subarray(skip);
  }
}

async function truncateDurably(file: string, length: number): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r+');
    await handle.truncate(length);
    await handle.datasync();
  } catch (err) {
    throw ioError('truncate txn log', file, err);
  } finally {
    await handle?.close();
  }
}

/**
 * Recovery on open: from the newest file back, cut a torn or corrupt tail at the last valid
 * record; a file with no valid record is removed (or moved aside when it is not a txn log
 * at all). Returns the last valid zxid, 0n for an empty log.
 */
async function recoverLog(logDir: string, maxTxnSize: number, log: (msg: string) => void): Promise<bigint> {
  const files = await listZxidFiles(logDir, LOG_FILE_PREFIX);
  for (let file = files.pop(); file !== undefined; file = files.pop()) {
    const last = await recoverTail(logDir, file, maxTxnSize, log);
    if (last !== null) return last;
  }
  return 0n;
}

async function recoverTail(
  logDir: string,
  file: ZxidFile,
  maxTxnSize: number,
  log: (msg: string) => void,
): Promise<bigint | null> {
  const scanner = await LogFileScanner.open(file.path, file.zxid, maxTxnSize);
  const size = scanner.size;
  let last: bigint | null = null;
  let keep = FILE_HEADER_SIZE;
  let problem: string | null = null;
  try {
    const header = await scanner.checkHeader();
    if (header.kind === 'foreign') {
      await scanner.close();
      const aside = path.join(logDir, `corrupt.${file.name}`);
      try {
        await fs.rename(file.path, aside);
      } catch (err) {
        throw ioError('move aside', file.path, err);
      }
      await fsyncDir(logDir);
      log(`txn log ${file.path} is not a txn log (${header.detail}); moved it to ${aside}`);
      return null;
    }
    if (header.kind === 'torn') {
      problem = `torn header: ${header.detail}`;
      keep = 0;
    } else {
      for (let rec = await scanner.next(); rec !== null; rec = await scanner.next()) {
        last = rec.zxid;
        keep = rec.end;
      }
      const stop = scanner.stop!;
      if (stop.kind === 'end') {
        const nonZero = await scanner.firstNonZero(stop.offset);
        if (nonZero !== null) problem = `garbage after the last record (first non-zero byte at offset ${nonZero})`;
      } else {
        problem = `${stop.kind} record: ${stop.detail}`;
      }
    }
  } finally {
    await scanner.close().catch(() => undefined);
  }
  if (last === null) {
    await removeFile(file.path);
    await fsyncDir(logDir);
    log(
      problem === null
        ? `removed txn log ${file.path}: it holds no txn`
        : `removed txn log ${file.path}: no valid txn (${problem}); dropped ${size} bytes`,
    );
    return null;
  }
  if (problem !== null) {
    await truncateDurably(file.path, keep);
    log(
      `txn log ${file.path}: dropped ${size - keep} bytes at offset ${keep} (${problem}); ` +
        `the last valid txn is zxid ${hex(last)}`,
    );
  }
  return last;
}

/** The last valid zxid in `files` (oldest first), scanning from the newest. */
async function lastZxidIn(files: ZxidFile[], maxTxnSize: number): Promise<bigint> {
  for (let i = files.length - 1; i >= 0; i--) {
    const scanner = await LogFileScanner.open(files[i]!.path, files[i]!.zxid, maxTxnSize);
    let last: bigint | null = null;
    try {
      if ((await scanner.checkHeader()).kind === 'ok') {
        for (let rec = await scanner.next(); rec !== null; rec = await scanner.next()) last = rec.zxid;
      }
    } finally {
      await scanner.close();
    }
    if (last !== null) return last;
  }
  return 0n;
}
