/**
 * The small files a quorum peer keeps beside its snapshots (`<dataDir>/version-2`, where
 * ZooKeeper keeps them): `acceptedEpoch` and `currentEpoch`, and zablab's `recovering` mark.
 *
 * Epochs are decimal text, as ZooKeeper writes them; zablab adds a second line holding the
 * Adler-32 of the first, which ZooKeeper does not read. Without it a flipped bit could turn
 * "3" into "7" unnoticed — and a server's epoch decides elections. Every write is atomic and
 * durable (temp file, fsync, rename, fsync of the directory).
 *
 * `recovering` exists while a server that found damage to its acknowledged history has not
 * yet synced that history back from a leader: until then it must not vote (see src/zab).
 */
import * as path from 'node:path';
import { adler32 } from './adler32.js';
import { readSmallFile, removeFile, fsyncDir, writeFileDurably } from './files.js';
import type { StorageFs } from './fs.js';

export type EpochName = 'acceptedEpoch' | 'currentEpoch';
export const RECOVERING_FILE = 'recovering';
/** Bigger than any epoch file or mark we write. */
const SMALL_FILE_MAX_BYTES = 64 * 1024;

export type EpochRead = { kind: 'ok'; epoch: bigint } | { kind: 'missing' } | { kind: 'damaged'; detail: string };

function checksumLine(text: string): string {
  return `adler32:${adler32(Buffer.from(text, 'utf8')).toString(16).padStart(8, '0')}`;
}

/**
 * Read an epoch from `<snapDir>/<name>`; `legacyDir` is where zablab kept it before it moved
 * next to the snapshots (read when the new place has none).
 */
export async function readEpochFile(fs: StorageFs, snapDir: string, name: EpochName, legacyDir?: string): Promise<EpochRead> {
  let bytes = await readSmallFile(fs, path.join(snapDir, name), SMALL_FILE_MAX_BYTES);
  if (bytes === null && legacyDir !== undefined) bytes = await readSmallFile(fs, path.join(legacyDir, name), SMALL_FILE_MAX_BYTES);
  if (bytes === null) return { kind: 'missing' };
  const lines = bytes.toString('utf8').split('\n');
  const first = lines[0]!.trim();
  if (!/^\d{1,20}$/.test(first)) return { kind: 'damaged', detail: `holds "${first.slice(0, 40)}", not an epoch number` };
  const second = lines[1]?.trim() ?? '';
  if (second !== '' && second !== checksumLine(first)) {
    return { kind: 'damaged', detail: `its checksum line "${second.slice(0, 40)}" does not match "${first}"` };
  }
  return { kind: 'ok', epoch: BigInt(first) };
}

export async function writeEpochFile(fs: StorageFs, snapDir: string, name: EpochName, epoch: bigint): Promise<void> {
  const text = epoch.toString();
  await writeFileDurably(fs, path.join(snapDir, name), Buffer.from(`${text}\n${checksumLine(text)}\n`));
}

/** The reason a server is recovering, or null when it is not. */
export async function readRecovering(fs: StorageFs, snapDir: string): Promise<string | null> {
  const bytes = await readSmallFile(fs, path.join(snapDir, RECOVERING_FILE), SMALL_FILE_MAX_BYTES);
  return bytes === null ? null : bytes.toString('utf8').trim() || 'storage damage';
}

export async function markRecovering(fs: StorageFs, snapDir: string, reason: string): Promise<void> {
  await writeFileDurably(fs, path.join(snapDir, RECOVERING_FILE), Buffer.from(`${reason}\n`));
}

export async function clearRecovering(fs: StorageFs, snapDir: string): Promise<void> {
  await removeFile(fs, path.join(snapDir, RECOVERING_FILE));
  await fsyncDir(fs, snapDir);
}
