/**
 * The txn log in files, in ZooKeeper's format (see log-format.ts): `log.<zxid hex>` files in
 * one directory (`<dataLogDir>/version-2`), each named after its first txn, pre-allocated in preAllocSize steps.
 *
 * Durability rules:
 * - a commit writes the batch with one writev and one fdatasync; the directory is fsynced
 *   when the batch created a file;
 * - when the log rolls inside a batch, the old file is fsynced before the new one is created,
 *   so a crash can never leave a later file behind a torn earlier one;
 * - every batch ends with an end marker (log-format.ts), overwritten by the next batch, so
 *   that damage to the last records written can be told from a torn write;
 * - on open, the newest file's torn tail (a failed record with nothing valid after it: never
 *   fsynced, never acknowledged) is cut and said so through `log`; damage (valid data after a
 *   failed record) is never cut here: recovery (recovery.ts) decides, and read() throws
 *   StorageDamageError rather than end early at it. The next append starts a new file, as
 *   ZooKeeper does on restart.
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeLoggedTxn, encodeLoggedTxn, followsZxid, zxidHex, type LoggedTxn } from '../jute/index.js';
import { checkEntrySize, checkZxidOrder } from './append-rules.js';
import { StorageDamageError, StorageError, ioError } from './errors.js';
import { LOG_FILE_PREFIX, ensureDir, fsyncDir, listZxidFiles, makeLogName, removeFile, setAside, type ZxidFile } from './files.js';
import { nodeFs, type StorageFile, type StorageFs } from './fs.js';
import { GroupCommit } from './group-commit.js';
import {
  DEFAULT_MAX_TXN_SIZE,
  END_MARKER_SIZE,
  FILE_HEADER_SIZE,
  LogFileScanner,
  MAX_TXN_SIZE_LIMIT,
  encodeEndMarker,
  encodeLogFileHeader,
  encodeLogRecord,
  TXN_HEADER_SIZE,
  zxidOfEntry,
  type ScannedRecord,
} from './log-format.js';
import { describeHole, holeIsCovered, judgeStop, walkLogFile } from './log-scan.js';
import type { FsyncInfo, HistoryRead, LoggedEntry, TxnLog } from './txn-log.js';

/** ZooKeeper's default preAllocSize: 64 MiB (its config key counts KB). */
export const DEFAULT_PRE_ALLOC_SIZE = 64 * 1024 * 1024;
const MAX_PRE_ALLOC_SIZE = 1024 * 1024 * 1024;
/** ZooKeeper extends the file when a write comes within 4 KiB of its pre-allocated end. */
const PRE_ALLOC_MARGIN = 4096;

export interface FileTxnLogOptions {
  /** The directory of the log files: `<dataLogDir>/version-2` (see versionDir()). Created if missing. */
  dir: string;
  /** The file system (default: the machine's). */
  fs?: StorageFs;
  /** Pre-allocation step in bytes (ZooKeeper's preAllocSize key is in KB); 0 disables. Default 64 MiB. */
  preAllocSize?: number;
  /** Largest txn entry written or read back; longer entries on disk count as corruption. Default jute.maxbuffer + 1024. */
  maxTxnSize?: number;
  /**
   * Where the history stands past the log, e.g. the zxid of the snapshot recovery starts from:
   * appends must follow it, and the next file links to it. Default 0.
   */
  historyZxid?: bigint;
  /** Recovery reports (what was dropped, where) and warnings. */
  log?: (msg: string) => void;
}

interface PendingRecord {
  zxid: bigint;
  bytes: Buffer;
  /** This record starts a new file (first append after open, rollLog or truncate). */
  newFile: boolean;
  /** The zxid it follows (the history's end before it): a new file's header links to it. */
  follows: bigint;
}

/** The file appends go to. Set before the file exists, so that read() never reads past what is durable. */
interface ActiveFile {
  path: string;
  handle: StorageFile | null;
  /** Next write offset. */
  position: number;
  /** Allocated size (pre-allocation included). */
  size: number;
  /** Bytes known to be on disk: read() stops here. */
  durableEnd: number;
}

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
  /**
   * The name zxid of the empty newest file open() removed, while no file at or past it exists:
   * read() treats it as the file after the newest (a bound on what the older files hold), as
   * the recovery plan made before the removal did.
   */
  private removedNewest: bigint | null = null;
  private readonly group = new GroupCommit(
    () => this.flush(),
    () => this.pending.length > 0,
  );

  private constructor(
    private readonly fs: StorageFs,
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
    const fs = opts.fs ?? nodeFs;
    const logDir = opts.dir;
    await ensureDir(fs, logDir);
    const recovered = await recoverLog(fs, logDir, maxTxnSize, log);
    const history = opts.historyZxid ?? 0n;
    const lastZxid = recovered.lastZxid > history ? recovered.lastZxid : history;
    const txnLog = new FileTxnLog(fs, logDir, preAllocSize, maxTxnSize, log, lastZxid);
    txnLog.removedNewest = recovered.removedNewest;
    return txnLog;
  }

  append(txn: LoggedTxn): void {
    this.checkUsable();
    checkZxidOrder(txn.hdr.zxid, this.lastZxid);
    this.appendChecked(txn.hdr.zxid, encodeLoggedTxn(txn));
  }

  appendEntry(entry: Uint8Array): void {
    this.checkUsable();
    const bytes = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength);
    if (bytes.length < TXN_HEADER_SIZE) throw new StorageError('ZABLAB_STORAGE_BAD_ARGUMENT', `a txn entry of ${bytes.length} bytes has no txn header`);
    const zxid = zxidOfEntry(bytes);
    checkZxidOrder(zxid, this.lastZxid);
    this.appendChecked(zxid, bytes);
  }

  private appendChecked(zxid: bigint, entry: Buffer): void {
    checkEntrySize(zxid, entry.length, this.maxTxnSize, this.pendingBytes);
    const bytes = encodeLogRecord(entry);
    this.pending.push({ zxid, bytes, newFile: !this.hasAppendFile, follows: this.lastZxid });
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
    for await (const { rec, file } of this.records(afterZxid)) {
      if (rec.zxid > afterZxid) yield decodeEntry(rec.entry, file, rec.offset);
    }
  }

  async readHistory(after: bigint, upTo: bigint, maxBytes: number): Promise<HistoryRead> {
    const missing = (why: string): HistoryRead => ({ kind: 'missing', why });
    const entries: LoggedEntry[] = [];
    let bytes = 0;
    let prev: bigint | null = null;
    for await (const { rec, follows } of this.records(after, after)) {
      if (prev === null) {
        // The run must start at `after` itself: a learner at a zxid the log does not hold may
        // have logged txns we never had, or a SNAP took our history past it (ZOOKEEPER-2099).
        if (rec.zxid < after) continue;
        if (rec.zxid > after) return missing(`the log does not hold ${zxidHex(after)} (the next txn it holds is ${zxidHex(rec.zxid)})`);
        prev = after;
        continue;
      }
      // A file after a SNAP links to the snapshot: a new epoch's first txn there does not
      // follow the txns before the SNAP, though its counter (1) alone would say it does.
      const linked = follows !== null && follows !== 0n;
      if (linked ? follows !== prev : !followsZxid(prev, rec.zxid)) {
        const link = linked ? `, in a file that follows ${zxidHex(follows)}` : '';
        return missing(`the log's history breaks after ${zxidHex(prev)}: next is ${zxidHex(rec.zxid)}${link}`);
      }
      if (rec.zxid > upTo) break;
      bytes += rec.entry.length;
      if (bytes > maxBytes) return missing(`the txns after ${zxidHex(after)} are more than ${maxBytes} bytes`);
      entries.push({ zxid: rec.zxid, entry: Buffer.from(rec.entry) });
      prev = rec.zxid;
      if (prev === upTo) return { kind: 'ok', entries, bytes };
    }
    return missing(prev === null ? `the log does not hold ${zxidHex(after)}` : `the log's history ends at ${zxidHex(prev)}, before ${zxidHex(upTo)}`);
  }

  /**
   * Every durable record of the files from the one that may hold `firstZxid` on, in order;
   * `follows` is set on a file's first record (its header's link, 0n when it has none).
   * Throws on damage that leaves a gap after afterZxid.
   */
  private async *records(afterZxid: bigint, firstZxid = afterZxid + 1n): AsyncGenerator<{ rec: ScannedRecord; file: string; follows: bigint | null }> {
    if (this.closing) throw closedError();
    const files = await listZxidFiles(this.fs, this.logDir, LOG_FILE_PREFIX);
    // Captured after listing: the file being written may only be read up to what is durable.
    const active = this.active === null ? null : { path: this.active.path, durableEnd: this.active.durableEnd };
    const bound = this.removedNewest;
    // Every txn past afterZxid would be in the removed file: nothing on disk holds one.
    if (bound !== null && bound <= afterZxid + 1n) return;
    let start = 0;
    for (let i = 0; i < files.length; i++) if (files[i]!.zxid <= firstZxid) start = i;
    let previous = -1n;
    for (let i = start; i < files.length; i++) {
      const file = files[i]!;
      const newest = i === files.length - 1 && bound === null;
      const limit = active !== null && active.path === file.path ? active.durableEnd : undefined;
      const scanner = await LogFileScanner.open(this.fs, file.path, file.zxid, this.maxTxnSize, limit);
      try {
        const header = await scanner.checkHeader();
        let follows: bigint | null = header.kind === 'ok' ? header.follows : 0n;
        if (header.kind !== 'ok') {
          // A header that open() left in place has valid records after it (damage recovery judged).
          const resume = await scanner.findResume(FILE_HEADER_SIZE);
          if (resume?.kind !== 'record') return;
          scanner.resumeAt(resume.offset);
        }
        for (;;) {
          for (let rec = await scanner.next(); rec !== null; rec = await scanner.next()) {
            if (rec.zxid <= previous) {
              throw new StorageDamageError(`${file.path} at offset ${rec.offset}: zxid ${zxidHex(rec.zxid)} follows ${zxidHex(previous)} of an earlier file`, { file: file.path, offset: rec.offset, after: previous, next: rec.zxid });
            }
            previous = rec.zxid;
            yield { rec, file: file.path, follows };
            follows = null;
          }
          if (limit !== undefined) return; // the durable end of the file being written
          const verdict = await judgeStop(scanner, scanner.stop!, newest, files[i + 1]?.zxid ?? bound);
          if (verdict.kind === 'clean') break;
          if (verdict.kind === 'tail') return;
          // Past a hole only when everything it held is at or below afterZxid; otherwise the
          // history after afterZxid has a gap, and ending here would lose acknowledged txns.
          if (!holeIsCovered(verdict.hole, afterZxid)) {
            const { file: at, offset } = verdict.hole;
            throw new StorageDamageError(`damaged txn log: ${at} at offset ${offset}: ${describeHole(verdict.hole)}`, verdict.hole);
          }
          if (verdict.resumeAt === null) break;
          scanner.resumeAt(verdict.resumeAt);
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

  async truncate(zxid: bigint, opts: { snapshot?: boolean } = {}): Promise<void> {
    this.checkUsable();
    this.truncating = true;
    this.removedNewest = null;
    try {
      await this.group.commit();
      await this.group.idle();
      await this.closeActive();
      this.hasAppendFile = false;
      const files = await listZxidFiles(this.fs, this.logDir, LOG_FILE_PREFIX);
      // Newest first, so that a crash part-way leaves a prefix of the log, never a gap.
      let removed = 0;
      while (files.length > 0 && files.at(-1)!.zxid > zxid) {
        await removeFile(this.fs, files.pop()!.path);
        removed++;
      }
      if (removed > 0) await fsyncDir(this.fs, this.logDir);
      const containing = files.at(-1);
      if (containing !== undefined && (await this.cutAfter(containing, zxid)) === 'removed') files.pop();
      // What is appended next follows the history's end, and its file says so: the last txn
      // kept after a TRUNC (linking to the TRUNC's zxid would claim txns up to it that no file
      // holds: soak seed 2047385), or the zxid of the snapshot a SNAP installed.
      const kept = await lastZxidIn(this.fs, files, this.maxTxnSize);
      this.lastZxid = opts.snapshot === true && zxid > kept ? zxid : kept;
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
      let last = 0n;
      let created = false;
      for (const rec of batch) {
        if (rec.newFile) {
          if (this.active !== null) {
            if (pieces.length > 0) await this.writeAndSync(pieces, txns, last);
            pieces = [];
            txns = 0;
            await this.closeActive();
          }
          await this.createFile(rec.zxid);
          pieces.push(encodeLogFileHeader(rec.follows));
          created = true;
        }
        pieces.push(rec.bytes);
        txns++;
        last = rec.zxid;
      }
      if (pieces.length > 0) await this.writeAndSync(pieces, txns, last);
      if (created) await fsyncDir(this.fs, this.logDir);
    } catch (err) {
      throw this.fail(err);
    }
  }

  private async createFile(firstZxid: bigint): Promise<void> {
    const file = path.join(this.logDir, makeLogName(firstZxid));
    this.active = { path: file, handle: null, position: 0, size: 0, durableEnd: 0 };
    this.removedNewest = null;
    try {
      this.active.handle = await this.fs.open(file, 'wx');
    } catch (err) {
      throw ioError('create txn log', file, err);
    }
  }

  /** Write the pieces and the batch's end marker (which the next batch overwrites), then fdatasync. */
  private async writeAndSync(pieces: Buffer[], txns: number, lastZxid: bigint): Promise<void> {
    const file = this.active!;
    const handle = file.handle!;
    let bytes = 0;
    for (const p of pieces) bytes += p.length;
    try {
      await this.preAllocate(file, file.position + bytes + END_MARKER_SIZE);
      await writeFully(handle, [...pieces, encodeEndMarker(lastZxid)], file.position);
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
    let cut = FILE_HEADER_SIZE;
    let last = 0n;
    const scan = await walkLogFile(this.fs, file, this.maxTxnSize, { newest: true, nextFileZxid: null }, {
      onRecord: (rec) => {
        if (rec.zxid > zxid) return;
        cut = rec.end;
        last = rec.zxid;
      },
    });
    if (cut === FILE_HEADER_SIZE) {
      await removeFile(this.fs, file.path);
      await fsyncDir(this.fs, this.logDir);
      return 'removed';
    }
    if (cut < scan.size) await cutDurably(this.fs, file.path, cut, last);
    return 'cut';
  }

  private fail(err: unknown): StorageError {
    if (this.failure === null) {
      // Never retried: after a failed write or fsync, what reached the disk is unknown (and a
      // failed fsync may have dropped the data). The caller stops; a restart recovers from disk.
      const why = (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');
      this.failure = new StorageError(
        'ZABLAB_STORAGE_FAILED',
        `${why}. The txn log accepts no more writes; restart the server once the disk is fixed, it recovers from what is on disk`,
        { cause: err },
      );
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

async function writeFully(handle: StorageFile, pieces: Buffer[], position: number): Promise<void> {
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

/** Cut a file after the record ending at `length` and mark that end (so damage to the record stays detectable). */
async function cutDurably(fs: StorageFs, file: string, length: number, lastZxid: bigint): Promise<void> {
  let handle: StorageFile | undefined;
  try {
    handle = await fs.open(file, 'r+');
    await handle.truncate(length);
    const marker = encodeEndMarker(lastZxid);
    await handle.write(marker, 0, marker.length, length);
    await handle.datasync();
  } catch (err) {
    throw ioError('truncate txn log', file, err);
  } finally {
    await handle?.close();
  }
}

/**
 * Recovery on open: cut the newest file's torn tail (a failed record with nothing valid after
 * it), or remove the newest file when it holds no valid record (moving it aside, and looking
 * at the one before, when it is not a txn log at all). Holes are left for recovery.ts to judge.
 */
async function recoverLog(fs: StorageFs, logDir: string, maxTxnSize: number, log: (msg: string) => void): Promise<RecoveredLog> {
  const files = await listZxidFiles(fs, logDir, LOG_FILE_PREFIX);
  for (let file = files.pop(); file !== undefined; file = files.pop()) {
    const outcome = await recoverNewest(fs, logDir, file, maxTxnSize, log);
    if (typeof outcome === 'bigint') return { lastZxid: outcome, removedNewest: null };
    if (outcome === 'removed') {
      // The removed file was created (so every older file was fsynced whole) and named for
      // its first txn: the older files hold only txns below that name. They are complete, so
      // a stop in them is damage for recovery.ts to judge, never a torn tail to cut here.
      return { lastZxid: await lastZxidIn(fs, files, maxTxnSize), removedNewest: file.zxid };
    }
  }
  return { lastZxid: 0n, removedNewest: null };
}

interface RecoveredLog {
  /** The last valid zxid, 0n for an empty log. */
  lastZxid: bigint;
  /** The name zxid of a newest file removed because it held no txn: the older files hold only txns below it. */
  removedNewest: bigint | null;
}

/** The newest file's last valid zxid once its torn tail is cut; or what was done with a file that holds no txn. */
async function recoverNewest(fs: StorageFs, logDir: string, file: ZxidFile, maxTxnSize: number, log: (msg: string) => void): Promise<bigint | 'removed' | 'set aside'> {
  const scan = await walkLogFile(fs, file, maxTxnSize, { newest: true, nextFileZxid: null });
  if (scan.lastZxid === null) {
    if (scan.header === 'foreign') {
      const aside = await setAside(fs, file.path);
      log(`txn log ${file.path} is not a txn log (${scan.headerDetail}); moved it to ${aside}`);
      return 'set aside';
    }
    await removeFile(fs, file.path);
    await fsyncDir(fs, logDir);
    const why = scan.header === 'torn' ? `torn header: ${scan.headerDetail}` : scan.tornAt === null ? null : scan.tornDetail;
    log(why === null ? `removed txn log ${file.path}: it holds no txn` : `removed txn log ${file.path}: no valid txn (${why}); dropped ${scan.size} bytes`);
    return 'removed';
  }
  if (scan.tornAt !== null) {
    await cutDurably(fs, file.path, scan.tornAt, scan.lastZxid);
    log(
      `txn log ${file.path}: cut a torn tail of ${scan.size - scan.tornAt} bytes at offset ${scan.tornAt} (${scan.tornDetail}); ` +
        `nothing valid follows it, so it was never acknowledged; the last valid txn is zxid ${zxidHex(scan.lastZxid)}`,
    );
  }
  return scan.lastZxid;
}

/** The last valid zxid in `files` (oldest first), scanning from the newest. */
async function lastZxidIn(fs: StorageFs, files: ZxidFile[], maxTxnSize: number): Promise<bigint> {
  for (let i = files.length - 1; i >= 0; i--) {
    const scanner = await LogFileScanner.open(fs, files[i]!.path, files[i]!.zxid, maxTxnSize);
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
