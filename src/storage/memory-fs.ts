/**
 * A file system in memory with the durability rules of a real one, for the simulator and the
 * tests: a write reaches the page cache (reads see it) and becomes durable only at the file's
 * fsync; a creation, rename or removal becomes durable only at its directory's fsync. A
 * crash() keeps the durable state plus whatever prefix of the un-synced operations a chooser
 * says reached the disk (the last one possibly torn), like a power loss.
 *
 * Beyond a real disk it can be told to fail an operation with an errno (EIO, ENOSPC, EMFILE),
 * to fail an fsync (whose un-synced data is then dropped, as Linux drops dirty pages after a
 * failed writeback), and to damage durable bytes at rest (bit flips, lost writes).
 * Directories themselves are durable once made. Paths are POSIX and absolute or relative.
 */
import * as path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { OpenFlags, StorageFile, StorageFs } from './fs.js';

type FileOp = { kind: 'write'; pos: number; bytes: Buffer } | { kind: 'truncate'; length: number };
type DirOp = { kind: 'link'; name: string; inode: Inode } | { kind: 'unlink'; name: string };

/** A growable byte array. */
class Bytes {
  buf = Buffer.alloc(0);
  length = 0;

  copy(): Bytes {
    const b = new Bytes();
    b.buf = Buffer.from(this.buf.subarray(0, this.length));
    b.length = this.length;
    return b;
  }

  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  write(pos: number, bytes: Buffer): void {
    this.resize(Math.max(this.length, pos + bytes.length));
    bytes.copy(this.buf, pos);
  }

  resize(length: number): void {
    if (length > this.buf.length) {
      const grown = Buffer.alloc(Math.max(length, this.buf.length * 2, 256));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    } else if (length > this.length) {
      this.buf.fill(0, this.length, length);
    }
    this.length = length;
  }

  apply(op: FileOp): void {
    if (op.kind === 'write') this.write(op.pos, op.bytes);
    else this.resize(op.length);
  }
}

class Inode {
  cache = new Bytes();
  disk = new Bytes();
  pending: FileOp[] = [];
  /** Changes whenever the durable bytes change, unique across files (readers cache what they parsed by it). */
  diskVersion = 0;
}

class Dir {
  cache = new Map<string, Inode>();
  disk = new Map<string, Inode>();
  pending: DirOp[] = [];
}

/** Operations a fault hook may fail. */
export type MemoryFsOp = 'open' | 'read' | 'write' | 'truncate' | 'datasync' | 'syncDir' | 'readdir' | 'rename' | 'unlink';

export interface CrashChoice {
  /** How many of a file's un-synced operations reached the disk, in order. */
  keepFileOps?: (file: string, pending: number) => number;
  /** For the operation after the kept ones, if it is a write: how many of its bytes reached the disk (a torn write). */
  tornBytes?: (file: string, opBytes: number) => number;
  /** How many of a directory's un-synced entry changes reached the disk, in order. */
  keepDirOps?: (dir: string, pending: number) => number;
}

export interface MemoryFsOptions {
  /**
   * An fsync (file or directory) or a yield completes when `release` is called. Default: an
   * fsync at once, a yield after a turn of the event loop. The simulator holds them to decide when they finish; after crash() the releases of
   * the dead process do nothing.
   */
  gate?: (kind: 'sync' | 'yield', release: () => void, target: string) => void;
  /** Fail an operation on `target` with this errno, or null to let it run. */
  fault?: (op: MemoryFsOp, target: string) => string | null;
}

function fsError(code: string, syscall: string, target: string): Error {
  return Object.assign(new Error(`${code}: ${syscall} '${target}'`), { code, syscall, path: target });
}

export class MemoryFs implements StorageFs {
  private readonly dirs = new Map<string, Dir>();
  /** Bumped at every crash: handles and pending fsyncs of the process that died stop working. */
  private generation = 0;
  /** Bumped whenever anything durable changes (readers of durable state cache by it). */
  durableChanges = 0;

  constructor(private readonly opts: MemoryFsOptions = {}) {}

  // ---------- StorageFs ----------

  async open(target: string, flags: OpenFlags): Promise<StorageFile> {
    this.check('open', target);
    const { dir, name } = this.locate(target, true);
    let inode = dir.cache.get(name);
    if (inode === undefined) {
      if (flags === 'r' || flags === 'r+') throw fsError('ENOENT', 'open', target);
      inode = new Inode();
      dir.cache.set(name, inode);
      dir.pending.push({ kind: 'link', name, inode });
    } else if (flags === 'wx') {
      throw fsError('EEXIST', 'open', target);
    } else if (flags === 'w') {
      this.fileOp(inode, { kind: 'truncate', length: 0 });
    }
    return new MemoryFile(this, inode, path.normalize(target), flags !== 'r', this.generation);
  }

  async readdir(target: string): Promise<string[]> {
    this.check('readdir', target);
    const dir = this.dirs.get(path.normalize(target));
    if (dir === undefined) throw fsError(this.isFile(target) ? 'ENOTDIR' : 'ENOENT', 'scandir', target);
    return [...dir.cache.keys()].sort();
  }

  async mkdir(target: string): Promise<string | undefined> {
    const full = path.normalize(target);
    let first: string | undefined;
    const parts: string[] = [];
    for (let d = full; ; d = path.dirname(d)) {
      parts.unshift(d);
      if (path.dirname(d) === d) break;
    }
    for (const d of parts) {
      if (this.dirs.has(d)) continue;
      if (this.isFile(d)) throw fsError('EEXIST', 'mkdir', d);
      this.dirs.set(d, new Dir());
      first ??= d;
    }
    return first;
  }

  async stat(target: string): Promise<{ size: number; isDirectory: boolean }> {
    const full = path.normalize(target);
    if (this.dirs.has(full)) return { size: 0, isDirectory: true };
    const inode = this.inodeAt(full);
    if (inode === undefined) throw fsError('ENOENT', 'stat', target);
    return { size: inode.cache.length, isDirectory: false };
  }

  async checkAccess(target: string): Promise<void> {
    await this.stat(target);
  }

  async rename(from: string, to: string): Promise<void> {
    this.check('rename', from);
    const src = this.locate(from, false);
    const inode = src.dir.cache.get(src.name);
    if (inode === undefined) throw fsError('ENOENT', 'rename', from);
    const dst = this.locate(to, true);
    src.dir.cache.delete(src.name);
    src.dir.pending.push({ kind: 'unlink', name: src.name });
    dst.dir.cache.set(dst.name, inode);
    dst.dir.pending.push({ kind: 'link', name: dst.name, inode });
  }

  async unlink(target: string): Promise<void> {
    this.check('unlink', target);
    const { dir, name } = this.locate(target, false);
    if (!dir.cache.has(name)) throw fsError('ENOENT', 'unlink', target);
    dir.cache.delete(name);
    dir.pending.push({ kind: 'unlink', name });
  }

  async syncDir(target: string): Promise<void> {
    const full = path.normalize(target);
    const dir = this.dirs.get(full);
    if (dir === undefined) throw fsError('ENOENT', 'open', target);
    const taken = dir.pending.length;
    await this.gate('sync', full);
    this.check('syncDir', full);
    for (const op of dir.pending.splice(0, taken)) applyDirOp(dir.disk, op);
    if (taken > 0) this.durableChanges++;
  }

  yieldTurn(): Promise<void> {
    return this.gate('yield', '');
  }

  // ---------- crashes and damage ----------

  /** The machine lost power: keep what is durable plus what `choice` says reached the disk. */
  crash(choice: CrashChoice = {}): void {
    this.generation++;
    this.durableChanges++;
    const inodes = new Set<Inode>();
    for (const [dirPath, dir] of this.dirs) {
      const keep = clamp(choice.keepDirOps?.(dirPath, dir.pending.length) ?? 0, dir.pending.length);
      for (const op of dir.pending.slice(0, keep)) applyDirOp(dir.disk, op);
      dir.pending = [];
      dir.cache = new Map(dir.disk);
      for (const [name, inode] of dir.disk) {
        if (inodes.has(inode)) continue;
        inodes.add(inode);
        this.settle(inode, path.join(dirPath, name), choice);
      }
    }
  }

  /** Durable bytes of a file as a restarted process would read them (a copy), or null when it has none. */
  durableBytes(target: string): Buffer | null {
    const view = this.durableView(target);
    return view === null ? null : Buffer.from(view);
  }

  /** The durable bytes themselves, to read at once (valid until the file next changes); null when none. */
  durableView(target: string): Buffer | null {
    const { dir, name } = this.locate(target, false);
    return dir.disk.get(name)?.disk.view() ?? null;
  }

  /** Names a restarted process would find in `dir`. */
  durableNames(target: string): string[] {
    const dir = this.dirs.get(path.normalize(target));
    return dir === undefined ? [] : [...dir.disk.keys()].sort();
  }

  /** Changes whenever the durable bytes of the file change; -1 when there is no durable file. */
  durableVersion(target: string): number {
    const { dir, name } = this.locate(target, false);
    return dir.disk.get(name)?.diskVersion ?? -1;
  }

  /** Size of the file as the running process sees it (-1 when absent). */
  cachedSize(target: string): number {
    return this.inodeAt(path.normalize(target))?.cache.length ?? -1;
  }

  /** Change durable bytes at rest (a bit flip, a lost write): `edit` gets the bytes in place. Also what the running process reads. */
  damage(target: string, edit: (bytes: Buffer) => void): void {
    const { dir, name } = this.locate(target, false);
    const inode = dir.disk.get(name);
    if (inode === undefined) throw fsError('ENOENT', 'damage', target);
    edit(inode.disk.view());
    inode.diskVersion = ++this.durableChanges;
    if (inode.pending.length === 0) inode.cache = inode.disk.copy();
  }

  /** Write a whole file durably (scripted setups). */
  async writeDurable(target: string, bytes: Buffer): Promise<void> {
    await this.mkdir(path.dirname(target));
    const f = await this.open(target, 'w');
    await f.write(bytes, 0, bytes.length, 0);
    await f.datasync();
    await f.close();
    await this.syncDir(path.dirname(target));
  }

  // ---------- used by MemoryFile ----------

  /** @internal */
  isCurrent(generation: number): boolean {
    return generation === this.generation;
  }

  /** @internal */
  check(op: MemoryFsOp, target: string): void {
    const code = this.opts.fault?.(op, path.normalize(target)) ?? null;
    if (code !== null) throw fsError(code, op, target);
  }

  /** @internal */
  fileOp(inode: Inode, op: FileOp): void {
    inode.cache.apply(op);
    inode.pending.push(op);
  }

  /** @internal Make the file's un-synced operations durable (or, when the fsync fails, drop them). */
  async syncFile(inode: Inode, target: string): Promise<void> {
    const taken = inode.pending.length;
    await this.gate('sync', target);
    const ops = inode.pending.splice(0, taken);
    // On a failed fsync the kernel marks the pages clean: the data is gone from the durable
    // path though this process still reads it, and retrying the fsync cannot bring it back.
    this.check('datasync', target);
    for (const op of ops) inode.disk.apply(op);
    if (ops.length > 0) inode.diskVersion = ++this.durableChanges;
  }

  private gate(kind: 'sync' | 'yield', target: string): Promise<void> {
    const gate = this.opts.gate;
    if (gate === undefined) return kind === 'yield' ? nextTurn() : Promise.resolve();
    const generation = this.generation;
    return new Promise((resolve) => gate(kind, () => {
      if (generation === this.generation) resolve();
    }, target));
  }

  private settle(inode: Inode, file: string, choice: CrashChoice): void {
    const ops = inode.pending;
    inode.pending = [];
    const keep = clamp(choice.keepFileOps?.(file, ops.length) ?? 0, ops.length);
    for (const op of ops.slice(0, keep)) inode.disk.apply(op);
    const next = ops[keep];
    if (next?.kind === 'write' && choice.tornBytes !== undefined) {
      const n = clamp(choice.tornBytes(file, next.bytes.length), next.bytes.length);
      if (n > 0) inode.disk.write(next.pos, next.bytes.subarray(0, n));
    }
    if (ops.length > 0) inode.diskVersion = ++this.durableChanges;
    inode.cache = inode.disk.copy();
  }

  private isFile(target: string): boolean {
    return this.inodeAt(path.normalize(target)) !== undefined;
  }

  private inodeAt(full: string): Inode | undefined {
    return this.dirs.get(path.dirname(full))?.cache.get(path.basename(full));
  }

  private locate(target: string, forCreate: boolean): { dir: Dir; name: string } {
    const full = path.normalize(target);
    const dir = this.dirs.get(path.dirname(full));
    if (dir === undefined) throw fsError('ENOENT', forCreate ? 'open' : 'lstat', target);
    return { dir, name: path.basename(full) };
  }
}

class MemoryFile implements StorageFile {
  private closed = false;

  constructor(
    private readonly fs: MemoryFs,
    private readonly inode: Inode,
    private readonly target: string,
    private readonly writable: boolean,
    private readonly generation: number,
  ) {}

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    this.usable('read');
    const data = this.inode.cache;
    const n = Math.max(0, Math.min(length, data.length - position));
    if (n > 0) data.buf.copy(buffer, offset, position, position + n);
    return { bytesRead: n };
  }

  async write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    this.usable('write');
    this.fs.fileOp(this.inode, { kind: 'write', pos: position, bytes: Buffer.from(buffer.subarray(offset, offset + length)) });
    return { bytesWritten: length };
  }

  async writev(buffers: Buffer[], position: number): Promise<{ bytesWritten: number }> {
    this.usable('write');
    const bytes = Buffer.concat(buffers);
    this.fs.fileOp(this.inode, { kind: 'write', pos: position, bytes });
    return { bytesWritten: bytes.length };
  }

  async datasync(): Promise<void> {
    this.usable('datasync');
    await this.fs.syncFile(this.inode, this.target);
  }

  sync(): Promise<void> {
    return this.datasync();
  }

  async truncate(length: number): Promise<void> {
    this.usable('truncate');
    this.fs.fileOp(this.inode, { kind: 'truncate', length });
  }

  async stat(): Promise<{ size: number }> {
    this.usable('read');
    return { size: this.inode.cache.length };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private usable(op: MemoryFsOp): void {
    if (this.closed || !this.fs.isCurrent(this.generation)) throw fsError('EBADF', op, this.target);
    if (!this.writable && (op === 'write' || op === 'truncate')) throw fsError('EBADF', op, this.target);
    this.fs.check(op, this.target);
  }
}

function applyDirOp(entries: Map<string, Inode>, op: DirOp): void {
  if (op.kind === 'link') entries.set(op.name, op.inode);
  else entries.delete(op.name);
}

function clamp(n: number, max: number): number {
  return Math.max(0, Math.min(Math.floor(n), max));
}
