/**
 * ZooKeeper's on-disk layout: `<dataDir>/version-2/snapshot.<zxid hex>` and
 * `<dataLogDir>/version-2/log.<zxid hex>` (hex without padding, as Long.toHexString).
 */
import * as path from 'node:path';
import { ioError } from './errors.js';
import { errnoOf, type StorageFs } from './fs.js';

export const VERSION_DIR = 'version-2';
export const LOG_FILE_PREFIX = 'log';
export const SNAPSHOT_FILE_PREFIX = 'snapshot';
/** ZooKeeper's AtomicFileOutputStream writes `<name>.tmp` and renames it when complete. */
export const TMP_SUFFIX = '.tmp';
/** Files set aside because they hold damage: `damaged.<name>`, never read again, never purged. */
export const DAMAGED_PREFIX = 'damaged.';

const HEX_NAME = /^([a-z]+)\.([0-9a-fA-F]{1,16})$/;

export function makeLogName(zxid: bigint): string {
  return `${LOG_FILE_PREFIX}.${zxid.toString(16)}`;
}

export function makeSnapshotName(zxid: bigint): string {
  return `${SNAPSHOT_FILE_PREFIX}.${zxid.toString(16)}`;
}

/** The zxid in a `<prefix>.<hex>` file name, or null for any other name (temp files included). */
export function zxidFromName(name: string, prefix: string): bigint | null {
  const m = HEX_NAME.exec(name);
  if (m === null || m[1] !== prefix) return null;
  return BigInt(`0x${m[2]!}`);
}

export interface ZxidFile {
  zxid: bigint;
  name: string;
  path: string;
}

/** Files of one kind in `dir`, oldest first. A missing directory has none. */
export async function listZxidFiles(fs: StorageFs, dir: string, prefix: string): Promise<ZxidFile[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw ioError('list', dir, err);
  }
  const out: ZxidFile[] = [];
  for (const name of names) {
    const zxid = zxidFromName(name, prefix);
    if (zxid !== null) out.push({ zxid, name, path: path.join(dir, name) });
  }
  return out.sort((x, y) => (x.zxid < y.zxid ? -1 : x.zxid > y.zxid ? 1 : 0));
}

/** fsync a directory so that creations, renames and deletions in it survive a crash. */
export async function fsyncDir(fs: StorageFs, dir: string): Promise<void> {
  try {
    await fs.syncDir(dir);
  } catch (err) {
    throw ioError('fsync directory', dir, err);
  }
}

/** The directory of txn logs or snapshots for a configured dataDir / dataLogDir. */
export function versionDir(configuredDir: string): string {
  return path.join(configuredDir, VERSION_DIR);
}

/** Create `dir` (with its parents) if needed, durably, and check that we may use it. */
export async function ensureDir(fs: StorageFs, dir: string): Promise<void> {
  let created: string | undefined;
  try {
    created = await fs.mkdir(dir);
  } catch (err) {
    throw ioError('create directory', dir, err);
  }
  if (created !== undefined) {
    // Each new directory's entry lives in its parent: fsync parents up to the first one that existed.
    const top = path.dirname(path.resolve(created));
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
      await fsyncDir(fs, path.dirname(d));
      if (path.dirname(d) === top || path.dirname(d) === d) break;
    }
  }
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await fs.checkAccess(dir);
  } catch (err) {
    throw ioError('use directory', dir, err);
  }
}

/** Remove a file; a file already gone is fine. */
export async function removeFile(fs: StorageFs, file: string): Promise<void> {
  try {
    await fs.unlink(file);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw ioError('remove', file, err);
  }
}

/** Rename `file` to `damaged.<name>` in its directory (durably): kept for the operator, never read again. */
export async function setAside(fs: StorageFs, file: string): Promise<string> {
  const aside = path.join(path.dirname(file), DAMAGED_PREFIX + path.basename(file));
  try {
    await fs.rename(file, aside);
  } catch (err) {
    throw ioError('set aside', file, err);
  }
  await fsyncDir(fs, path.dirname(file));
  return aside;
}

/** Write a small file atomically and durably: temp file, fsync, rename, fsync of the directory. */
export async function writeFileDurably(fs: StorageFs, file: string, bytes: Buffer): Promise<void> {
  const tmp = file + TMP_SUFFIX;
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, done);
        if (bytesWritten === 0) throw new Error('write made no progress');
        done += bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    throw ioError('write', file, err);
  }
  await fsyncDir(fs, path.dirname(file));
}

/** A whole small file, or null when it does not exist. */
export async function readSmallFile(fs: StorageFs, file: string, maxBytes: number): Promise<Buffer | null> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return null;
    throw ioError('open', file, err);
  }
  try {
    const size = Math.min((await handle.stat()).size, maxBytes);
    const buf = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(buf, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buf.subarray(0, filled);
  } catch (err) {
    throw ioError('read', file, err);
  } finally {
    await handle.close();
  }
}
