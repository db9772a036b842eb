/**
 * Snapshots in files: `snapshot.<zxid hex>` in one directory (`<dataDir>/version-2`).
 * A snapshot is written to `snapshot.<zxid hex>.tmp`, fdatasynced, renamed, and the
 * directory fsynced: a crash leaves either the whole snapshot or a temp file that is
 * ignored (and removed on the next open), never a partial file under the final name.
 */
import { constants as bufferConstants } from 'node:buffer';
import * as path from 'node:path';
import { ADLER32_INITIAL, adler32 } from './adler32.js';
import { StorageError, ioError } from './errors.js';
import {
  SNAPSHOT_FILE_PREFIX,
  TMP_SUFFIX,
  ensureDir,
  fsyncDir,
  listZxidFiles,
  makeSnapshotName,
  removeFile,
  setAside,
  zxidFromName,
} from './files.js';
import { errnoOf, nodeFs, type StorageFile, type StorageFs } from './fs.js';
import {
  SNAP_HEADER_SIZE,
  SNAP_SEAL,
  SNAP_TRAILER_SIZE,
  encodeSnapHeader,
  encodeSnapTrailer,
  snapshotProblem,
} from './snap-format.js';
import type { SaveOptions, SnapStore } from './snap-store.js';

/** Pieces are gathered into writes of this size; larger pieces are written as they come. */
const WRITE_CHUNK_SIZE = 1024 * 1024;
const READ_CHUNK_SIZE = 4 * 1024 * 1024;

export interface FileSnapStoreOptions {
  /** The directory of the snapshot files: `<dataDir>/version-2` (see versionDir()). Created if missing. */
  dir: string;
  /** The file system (default: the machine's). */
  fs?: StorageFs;
  /** Why a snapshot was skipped, stale temp files removed. */
  log?: (msg: string) => void;
}

function defaultLog(msg: string): void {
  console.warn(`zablab storage: ${msg}`);
}

export class FileSnapStore implements SnapStore {
  private saving: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly fs: StorageFs,
    readonly snapDir: string,
    private readonly log: (msg: string) => void,
  ) {}

  static async open(opts: FileSnapStoreOptions): Promise<FileSnapStore> {
    const fs = opts.fs ?? nodeFs;
    await ensureDir(fs, opts.dir);
    const store = new FileSnapStore(fs, opts.dir, opts.log ?? defaultLog);
    await store.removeStaleTempFiles();
    return store;
  }

  save(zxid: bigint, body: AsyncIterable<Buffer> | Iterable<Buffer>, opts: SaveOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (zxid < 0n || zxid >= 1n << 64n) {
      return Promise.reject(new StorageError('ZABLAB_STORAGE_BAD_ARGUMENT', `snapshot zxid ${zxid} is not a 64-bit zxid`));
    }
    const run = this.saving.then(() => this.write(zxid, body, opts.publish));
    this.saving = run.catch(() => undefined);
    return run;
  }

  async loadNewest(): Promise<{ zxid: bigint; body: Buffer } | null> {
    for (const zxid of await this.list()) {
      const loaded = await this.load(zxid);
      if (loaded.problem === null) return { zxid, body: loaded.body };
      this.log(`skipping snapshot ${this.pathOf(zxid)}: ${loaded.problem}`);
    }
    return null;
  }

  async load(zxid: bigint): Promise<{ problem: null; body: Buffer } | { problem: string }> {
    if (this.closed) throw closedError();
    return readSnapshotFile(this.fs, this.pathOf(zxid));
  }

  async list(): Promise<bigint[]> {
    if (this.closed) throw closedError();
    const files = await listZxidFiles(this.fs, this.snapDir, SNAPSHOT_FILE_PREFIX);
    return files.map((f) => f.zxid).reverse();
  }

  async setAside(zxid: bigint): Promise<string> {
    if (this.closed) throw closedError();
    return setAside(this.fs, this.pathOf(zxid));
  }

  pathOf(zxid: bigint): string {
    return path.join(this.snapDir, makeSnapshotName(zxid));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.saving;
  }

  private async write(zxid: bigint, body: AsyncIterable<Buffer> | Iterable<Buffer>, publish?: Promise<boolean>): Promise<void> {
    const final = path.join(this.snapDir, makeSnapshotName(zxid));
    const temp = final + TMP_SUFFIX;
    let handle: StorageFile;
    try {
      handle = await this.fs.open(temp, 'w');
    } catch (err) {
      throw ioError('create snapshot', temp, err);
    }
    const out = new ChunkedWriter(this.fs, handle, temp);
    try {
      await out.write(encodeSnapHeader());
      if (Symbol.asyncIterator in body) {
        for await (const piece of body) await out.writePiece(piece);
      } else {
        for (const piece of body) await out.writePiece(piece);
      }
      await out.write(encodeSnapTrailer(out.checksum));
      await out.flush();
      try {
        await handle.datasync();
      } catch (err) {
        throw ioError('fsync snapshot', temp, err);
      }
      if (publish !== undefined && !(await publish)) throw new SaveWithdrawn();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await removeFile(this.fs, temp).catch(() => undefined);
      if (err instanceof SaveWithdrawn) return;
      throw err;
    }
    try {
      await handle.close();
      await this.fs.rename(temp, final);
    } catch (err) {
      throw ioError('finish snapshot', final, err);
    }
    await fsyncDir(this.fs, this.snapDir);
  }

  /** A `.tmp` left by a crash mid-save is garbage: it never became a snapshot. */
  private async removeStaleTempFiles(): Promise<void> {
    let names: string[];
    try {
      names = await this.fs.readdir(this.snapDir);
    } catch (err) {
      throw ioError('list', this.snapDir, err);
    }
    let removed = 0;
    for (const name of names) {
      if (!name.endsWith(TMP_SUFFIX)) continue;
      if (zxidFromName(name.slice(0, -TMP_SUFFIX.length), SNAPSHOT_FILE_PREFIX) === null) continue;
      await removeFile(this.fs, path.join(this.snapDir, name));
      this.log(`removed ${path.join(this.snapDir, name)}: a snapshot that was never finished`);
      removed++;
    }
    if (removed > 0) await fsyncDir(this.fs, this.snapDir);
  }
}

/**
 * A snapshot being written is synced every this many bytes, so that its dirty pages never pile
 * up: an fsync of the txn log (every acknowledged write waits on one) would otherwise wait while
 * the kernel writes back a quarter GB of snapshot.
 */
const SNAPSHOT_SYNC_EVERY_BYTES = 16 * 1024 * 1024;

/** Gathers small pieces into large writes, keeping the running Adler-32 of all bytes written. */
class ChunkedWriter {
  checksum = ADLER32_INITIAL;
  private readonly buf = Buffer.allocUnsafe(WRITE_CHUNK_SIZE);
  private used = 0;
  private position = 0;
  /** Bytes written since the last datasync. */
  private unsynced = 0;

  constructor(
    private readonly fs: StorageFs,
    private readonly handle: StorageFile,
    private readonly file: string,
  ) {}

  /** One body piece; then the event loop gets a turn, so that a large snapshot does not stall it. */
  async writePiece(piece: Buffer): Promise<void> {
    if (!Buffer.isBuffer(piece)) {
      throw new StorageError('ZABLAB_STORAGE_BAD_ARGUMENT', 'snapshot body pieces must be Buffers');
    }
    await this.write(piece);
    await this.fs.yieldTurn();
  }

  /** The piece is copied or written before this resolves, so the caller may reuse it. */
  async write(piece: Buffer): Promise<void> {
    if (piece.length >= WRITE_CHUNK_SIZE) {
      // In chunks (a learner saves a whole SNAP as one piece): the checksum is spread over as
      // many turns, and the file is synced every SNAPSHOT_SYNC_EVERY_BYTES as it grows.
      await this.flush();
      for (let from = 0; from < piece.length; from += WRITE_CHUNK_SIZE) {
        const part = piece.subarray(from, from + WRITE_CHUNK_SIZE);
        this.checksum = adler32(part, this.checksum);
        await this.writeAt(part);
      }
      return;
    }
    this.checksum = adler32(piece, this.checksum);
    if (this.used + piece.length > WRITE_CHUNK_SIZE) await this.flush();
    piece.copy(this.buf, this.used);
    this.used += piece.length;
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    await this.writeAt(this.buf.subarray(0, n));
  }

  private async writeAt(bytes: Buffer): Promise<void> {
    let done = 0;
    try {
      while (done < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, this.position);
        if (bytesWritten === 0) throw new Error('write made no progress');
        done += bytesWritten;
        this.position += bytesWritten;
        this.unsynced += bytesWritten;
      }
      if (this.unsynced >= SNAPSHOT_SYNC_EVERY_BYTES) {
        this.unsynced = 0;
        await this.handle.datasync();
      }
    } catch (err) {
      throw ioError('write snapshot', this.file, err);
    }
  }
}

/** Reads a snapshot file in chunks, checksumming as it goes; reports what is wrong with it, if anything. */
async function readSnapshotFile(fs: StorageFs, file: string): Promise<{ problem: null; body: Buffer } | { problem: string }> {
  let handle: StorageFile;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return { problem: 'the file is gone' };
    throw ioError('open snapshot', file, err);
  }
  try {
    const size = (await handle.stat()).size;
    if (size > bufferConstants.MAX_LENGTH) return { problem: `${size} bytes is more than one Buffer can hold` };
    const bytes = Buffer.allocUnsafe(size);
    const prefixEnd = Math.max(0, size - SNAP_TRAILER_SIZE);
    let checksum = ADLER32_INITIAL;
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, Math.min(READ_CHUNK_SIZE, size - filled), filled);
      if (bytesRead === 0) break;
      checksum = adler32(bytes.subarray(filled, Math.min(filled + bytesRead, prefixEnd)), checksum);
      filled += bytesRead;
    }
    if (filled < size) return { problem: `file shrank while being read (${filled} of ${size} bytes)` };
    const problem = snapshotProblem(bytes, checksum);
    if (problem !== null) return { problem };
    return { problem: null, body: bytes.subarray(SNAP_HEADER_SIZE, size - SNAP_TRAILER_SIZE) };
  } catch (err) {
    throw err instanceof StorageError ? err : ioError('read snapshot', file, err);
  } finally {
    await handle.close();
  }
}

/**
 * ZooKeeper's quick validity test (SnapStream.isValidSnapshot): long enough and ends with the
 * "/" seal. It does not read the body; purge uses it to pick the snapshots to keep.
 */
export async function looksLikeCompleteSnapshot(fs: StorageFs, file: string): Promise<boolean> {
  let handle: StorageFile | undefined;
  try {
    handle = await fs.open(file, 'r');
    const size = (await handle.stat()).size;
    if (size < SNAP_HEADER_SIZE + SNAP_TRAILER_SIZE) return false;
    const tail = Buffer.alloc(SNAP_SEAL.length);
    const { bytesRead } = await handle.read(tail, 0, tail.length, size - tail.length);
    return bytesRead === tail.length && tail.equals(SNAP_SEAL);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw ioError('read snapshot', file, err);
  } finally {
    await handle?.close();
  }
}

function closedError(): StorageError {
  return new StorageError('ZABLAB_STORAGE_CLOSED', 'the snapshot store is closed');
}

/** A save whose publish gate said no: the temp file goes, and the save resolves. */
class SaveWithdrawn extends Error {}
