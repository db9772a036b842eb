/**
 * The file system as storage sees it: the few calls the txn log, the snapshots and the epoch
 * files make. `nodeFs` is the machine's; `MemoryFs` (memory-fs.ts) keeps files in memory with
 * the same durability rules (nothing is durable before its fsync) so that the simulator and
 * the tests run this very storage code, crash it, and damage what it wrote.
 *
 * Errors are Node's: an Error with a `code` (ENOENT, ENOSPC, EIO, EMFILE, ...).
 */
import { promises as fsp } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** An open file. Node's FileHandle has this shape. */
export interface StorageFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  writev(buffers: Buffer[], position: number): Promise<{ bytesWritten: number }>;
  /** fdatasync: the file's data is durable when it resolves. */
  datasync(): Promise<void>;
  /** fsync: data and metadata. */
  sync(): Promise<void>;
  /** Cut or extend (with zeros) to `length` bytes. */
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/** 'r' read; 'r+' read and write an existing file; 'w' create or empty; 'wx' create, failing when it exists. */
export type OpenFlags = 'r' | 'r+' | 'w' | 'wx';

export interface StorageFs {
  open(path: string, flags: OpenFlags): Promise<StorageFile>;
  /** Names in a directory (ENOENT when it does not exist). */
  readdir(dir: string): Promise<string[]>;
  /** mkdir -p; returns the first directory it created, undefined when all existed. */
  mkdir(dir: string): Promise<string | undefined>;
  stat(path: string): Promise<{ size: number; isDirectory: boolean }>;
  /** Throws unless the caller may read and write `path`. */
  checkAccess(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Remove a file (ENOENT when it is gone). */
  unlink(path: string): Promise<void>;
  /** fsync a directory, so that creations, renames and removals in it survive a crash. */
  syncDir(dir: string): Promise<void>;
  /** Let other work run: between the pieces of a long write, so that one snapshot does not stall the server. */
  yieldTurn(): Promise<void>;
}

/** The machine's file system. */
export const nodeFs: StorageFs = {
  open: (path, flags) => fsp.open(path, flags),
  readdir: (dir) => fsp.readdir(dir),
  mkdir: (dir) => fsp.mkdir(dir, { recursive: true }),
  stat: async (path) => {
    const st = await fsp.stat(path);
    return { size: st.size, isDirectory: st.isDirectory() };
  },
  checkAccess: (path) => fsp.access(path, fsConstants.R_OK | fsConstants.W_OK),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  syncDir: async (dir) => {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  yieldTurn: () => nextTurn(),
};

/** The errno code of a file-system error, or undefined. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
