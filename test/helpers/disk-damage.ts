/**
 * Damaging a stopped server's files the way a bad disk does, for the storage-damage tests:
 * a flipped byte inside a txn log record, a damaged snapshot, older files purged. The txn
 * log is parsed here by hand (ZooKeeper's format: 16-byte file header, then per record an
 * 8-byte checksum, a 4-byte length, the entry, a 'B'), independently of the server's code.
 * Also a small tmpfs to make a txn log fail with ENOSPC (needs root, as in CI).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface LogRecord {
  file: string;
  offset: number;
  end: number;
  zxid: bigint;
}

/** Files named `<prefix>.<hex zxid>` in dir, oldest first. */
export function zxidFiles(dir: string, prefix: 'log' | 'snapshot'): { file: string; zxid: bigint }[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((name) => ({ name, m: new RegExp(`^${prefix}\\.([0-9a-f]+)$`).exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map((x) => ({ file: path.join(dir, x.name), zxid: BigInt(`0x${x.m[1]!}`) }))
    .sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
}

/** The whole records of one log file, in order, up to the first bytes that are not one. */
export function logRecords(file: string): LogRecord[] {
  const b = fs.readFileSync(file);
  const out: LogRecord[] = [];
  for (let at = 16; at + 13 <= b.length; ) {
    const len = b.readInt32BE(at + 8);
    if (len <= 0 || at + 13 + len > b.length || b[at + 12 + len] !== 0x42) break;
    out.push({ file, offset: at, end: at + 13 + len, zxid: b.readBigInt64BE(at + 12 + 12) });
    at += 13 + len;
  }
  return out;
}

/** Every record of the txn log in `versionDir`, across files. */
export function allLogRecords(versionDir: string): LogRecord[] {
  return zxidFiles(versionDir, 'log').flatMap((f) => logRecords(f.file));
}

/** Flip every bit of the byte at `offset` (a bad sector would do worse). */
export function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, offset);
    one[0] = one[0]! ^ 0xff;
    fs.writeSync(fd, one, 0, 1, offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Flip a byte in the middle of a record's entry; returns the record. */
export function damageRecord(rec: LogRecord): LogRecord {
  flipByte(rec.file, rec.offset + 12 + Math.floor((rec.end - rec.offset - 13) / 2));
  return rec;
}

/**
 * Leave only the newest snapshot and the logs holding txns after it (as a purge would once
 * the older snapshots are gone), then flip a byte in the middle of that snapshot. Returns its
 * path. The caller makes sure the log rolled a few times, so that what is left does not reach
 * back to the first txn.
 */
export function damageOnlySnapshot(versionDir: string): string {
  const snaps = zxidFiles(versionDir, 'snapshot');
  const newest = snaps.at(-1);
  if (newest === undefined) throw new Error(`no snapshot in ${versionDir}`);
  for (const s of snaps.slice(0, -1)) fs.rmSync(s.file);
  for (const l of zxidFiles(versionDir, 'log')) {
    const last = logRecords(l.file).at(-1);
    if (last === undefined || last.zxid <= newest.zxid) fs.rmSync(l.file);
  }
  flipByte(newest.file, Math.floor(fs.statSync(newest.file).size / 2));
  return newest.file;
}

/** Can this process mount a tmpfs (root, as in CI)? */
export function canMount(): boolean {
  return process.getuid?.() === 0;
}

/** A tmpfs of `bytes` at a new directory; umount() removes it. */
export function mountTmpfs(dir: string, bytes: number): { dir: string; umount(): void } {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  return mountedTmpfs(dir);
}

/** A handle on a tmpfs mounted at dir (or nothing mounted: umount() is then a no-op). */
export function mountedTmpfs(dir: string): { dir: string; umount(): void } {
  return {
    dir,
    umount: () => {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } catch {
        // Not mounted (any more).
      }
    },
  };
}

/** Fill a file system until only about `leaveBytes` are free. */
export function fillUntilFree(dir: string, leaveBytes: number): void {
  const st = fs.statfsSync(dir);
  const free = Number(st.bavail) * Number(st.bsize);
  const fill = free - leaveBytes;
  if (fill > 0) fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(fill));
}
