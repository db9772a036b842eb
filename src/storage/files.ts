/**
 * ZooKeeper's on-disk layout: `<dataDir>/version-2/snapshot.<zxid hex>` and
 * `<dataLogDir>/version-2/log.<zxid hex>` (hex without padding, as Long.toHexString).
 */
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ioError } from './errors.js';

export const VERSION_DIR = 'version-2';
export const LOG_FILE_PREFIX = 'log';
export const SNAPSHOT_FILE_PREFIX = 'snapshot';
/** ZooKeeper's AtomicFileOutputStream writes `<name>.tmp` and renames it when complete. */
export const TMP_SUFFIX = '.tmp';

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
export async function listZxidFiles(dir: string, prefix: string): Promise<ZxidFile[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
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
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    throw ioError('fsync directory', dir, err);
  } finally {
    await handle?.close();
  }
}

/** The directory of txn logs or snapshots for a configured dataDir / dataLogDir. */
export function versionDir(configuredDir: string): string {
  return path.join(configuredDir, VERSION_DIR);
}

/** Create `dir` (with its parents) if needed, durably, and check that we may use it. */
export async function ensureDir(dir: string): Promise<void> {
  let created: string | undefined;
  try {
    created = await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    throw ioError('create directory', dir, err);
  }
  if (created !== undefined) {
    // Each new directory's entry lives in its parent: fsync parents up to the first one that existed.
    const top = path.dirname(path.resolve(created));
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
      await fsyncDir(path.dirname(d));
      if (path.dirname(d) === top || path.dirname(d) === d) break;
    }
  }
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await fs.access(dir, fsConstants.R_OK | fsConstants.W_OK);
  } catch (err) {
    throw ioError('use directory', dir, err);
  }
}

/** Remove a file; a file already gone is fine. */
export async function removeFile(file: string): Promise<void> {
  try {
    await fs.rm(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('remove', file, err);
  }
}
