/**
 * A simulated server's disk: a MemoryFs (src/storage) that the server's real storage code
 * writes through, with the durability rules of a real disk (nothing is durable before its
 * fsync; a power loss keeps a prefix of what was written after, maybe torn), plus what a
 * test of storage needs beyond that: faults (errno failures, failed fsyncs, flipped bits,
 * lost writes) and a read of what is durable, for the checkers.
 *
 * The durable view is the checkers' own reading of the bytes, independent of the server's
 * storage code: it parses log records and epoch files itself (sync, cached by file version).
 */
import * as path from 'node:path';
import { JuteReader, OpCode } from '../jute/index.js';
import { DataTree } from '../tree/index.js';
import { MemoryFs, adler32, zxidFromName, type CrashChoice, type MemoryFsOp } from '../storage/index.js';
import type { Zxid } from '../zab/index.js';
import { SIM_SESSION, appliedFromTree, indexOfZxid, type AppliedEntry } from './state.js';

/** A record the checkers read back from durable log bytes. */
export interface DurableRecord {
  readonly zxid: Zxid;
  readonly writeId: number;
}

/** Where a server's files live on its disk (dataDir and dataLogDir are the same). */
export function serverDirs(id: number): { dataDir: string; versionDir: string } {
  const dataDir = `/sim/${id}`;
  return { dataDir, versionDir: path.posix.join(dataDir, 'version-2') };
}

/** Decides when an fsync or a yield of the storage finishes (the runner or a scenario). */
export type GateHandler = (kind: 'sync' | 'yield', release: () => void) => void;

const FILE_HEADER = 16;
/** TxnHeader {long clientId; int cxid; long zxid; long time; int type}. */
const TXN_CXID = 8;
const TXN_ZXID = 12;
const TXN_TYPE = 28;

const SNAP_TRAILER = 13;
const MAGIC_SNAP = 0x5a4b534e;

export class SimDisk {
  readonly fs: MemoryFs;
  readonly dataDir: string;
  readonly dir: string;
  /** Fail operations with this errno while the fault lasts: (op kinds, errno, until virtual time). */
  private errnoFault: { ops: ReadonlySet<MemoryFsOp>; code: string; until: number } | null = null;
  private readonly cache = new Map<string, { version: number; value: unknown }>();
  private state: DurableState | null = null;
  /** Txns (zxid → write) the disk held durably when it was last damaged (see heldBeforeDamage). */
  private readonly heldAtDamage = new Map<Zxid, number>();
  now = 0;

  constructor(
    id: number,
    private readonly gates: () => GateHandler,
  ) {
    const dirs = serverDirs(id);
    this.dataDir = dirs.dataDir;
    this.dir = dirs.versionDir;
    this.fs = new MemoryFs({
      gate: (kind, release) => this.gates()(kind, release),
      fault: (op) => this.fault(op),
    });
  }

  // ---------- faults ----------

  /** Fail `ops` with `code` until virtual time `until` (EIO, ENOSPC, EMFILE; 'datasync' for a failed fsync). */
  failOps(ops: readonly MemoryFsOp[], code: string, until: number): void {
    this.errnoFault = { ops: new Set(ops), code, until };
  }

  clearFaults(): void {
    this.errnoFault = null;
  }

  private fault(op: MemoryFsOp): string | null {
    const f = this.errnoFault;
    if (f === null || this.now >= f.until || !f.ops.has(op)) return null;
    return f.code;
  }

  crash(choice: CrashChoice): void {
    this.fs.crash(choice);
  }

  /** Flip one bit of a durable file at rest. */
  flipBit(file: string, byte: number, bit: number): void {
    this.damage(file, (b) => {
      if (byte < b.length) b[byte] = b[byte]! ^ (1 << bit);
    });
  }

  /** A lost write: durable bytes [from, to) read back as zeros. */
  zeroRange(file: string, from: number, to: number): void {
    this.damage(file, (b) => b.fill(0, from, Math.min(to, b.length)));
  }

  /**
   * Did this disk hold the txn durably before damage took it? An ACK it sent then was true
   * when sent: the quorum a commit counted on had it, and getting it back is recovery's job.
   */
  heldBeforeDamage(zxid: Zxid, writeId: number): boolean {
    return this.heldAtDamage.get(zxid) === writeId;
  }

  private damage(file: string, edit: (bytes: Buffer) => void): void {
    const before = this.view();
    for (const f of before.logs) for (const [z, w] of f.byZxid) this.heldAtDamage.set(z, w);
    if (before.snapshot !== null) for (const e of this.snapshotEntries(before.snapshot.file, before.snapshot.zxid)) this.heldAtDamage.set(e.zxid, e.writeId);
    this.fs.damage(file, edit);
  }

  // ---------- the durable view (what a restarted server would read) ----------

  durableFiles(prefix: string): { name: string; path: string; zxid: bigint }[] {
    const out: { name: string; path: string; zxid: bigint }[] = [];
    for (const name of this.fs.durableNames(this.dir)) {
      const zxid = zxidFromName(name, prefix);
      if (zxid !== null) out.push({ name, path: path.posix.join(this.dir, name), zxid });
    }
    return out.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
  }

  get acceptedEpoch(): bigint {
    return this.epoch('acceptedEpoch');
  }

  get currentEpoch(): bigint {
    return this.epoch('currentEpoch');
  }

  /** Is the recovering mark on the disk (the server found damage and has not synced since)? */
  get recovering(): boolean {
    return this.fs.durableVersion(path.posix.join(this.dir, 'recovering')) >= 0;
  }

  /** Every valid durable log record, in file order (damaged ones are skipped, as a reader past a hole). */
  get log(): DurableRecord[] {
    return this.view().logs.flatMap((f) => f.records);
  }

  /** The newest snapshot whose checksum verifies, with the writes it holds at or below its zxid. */
  get snapshot(): { zxid: Zxid; entries: AppliedEntry[] } {
    const snap = this.view().snapshot;
    return snap === null ? { zxid: 0n, entries: [] } : { zxid: snap.zxid, entries: this.snapshotEntries(snap.file, snap.zxid) };
  }

  get lastDurableZxid(): Zxid {
    const v = this.view();
    const snap = v.snapshot?.zxid ?? 0n;
    return v.lastLogged > snap ? v.lastLogged : snap;
  }

  /** Could a restart recover this txn from the disk: a valid log record, or the snapshot (at or below its zxid)? */
  holdsDurably(zxid: Zxid, writeId: number): boolean {
    const v = this.view();
    for (const f of v.logs) if (f.byZxid.get(zxid) === writeId) return true;
    if (v.snapshot === null || zxid > v.snapshot.zxid) return false;
    const entries = this.snapshotEntries(v.snapshot.file, v.snapshot.zxid);
    const i = indexOfZxid(entries, zxid);
    return i >= 0 && entries[i]!.writeId === writeId;
  }

  hasZxid(zxid: Zxid): boolean {
    const v = this.view();
    if (v.snapshot !== null && zxid <= v.snapshot.zxid) return true;
    return v.logs.some((f) => f.byZxid.has(zxid));
  }

  durableEpochFiles(): { name: string; path: string }[] {
    return ['acceptedEpoch', 'currentEpoch']
      .map((name) => ({ name, path: path.posix.join(this.dir, name) }))
      .filter((f) => this.fs.durableVersion(f.path) >= 0);
  }

  durableSize(file: string): number {
    return this.fs.durableBytes(file)?.length ?? 0;
  }

  /** Bytes up to the last non-zero one (a pre-allocated log is mostly zeros). */
  usedBytes(file: string): number {
    const b = this.fs.durableBytes(file);
    if (b === null) return 0;
    let end = b.length;
    while (end > 0 && b[end - 1] === 0) end--;
    return Math.max(end, 1);
  }

  /** Where the durable log record of write `writeId` lies (the newest, if logged twice), or null. */
  recordOf(writeId: number): { file: string; from: number; to: number } | null {
    let found: { file: string; from: number; to: number } | null = null;
    for (const f of this.durableFiles('log')) {
      const parsed = this.parsedLog(f.path);
      parsed.records.forEach((r, i) => {
        if (r.writeId === writeId) found = { file: f.path, ...parsed.spans[i]! };
      });
    }
    return found;
  }

  /** Where each valid record of a durable log file lies, in order. */
  recordSpans(file: string): { from: number; to: number }[] {
    return this.parsedLog(file).spans;
  }

  /** Everything the checkers ask, rebuilt only when something durable changed. */
  private view(): DurableState {
    if (this.state !== null && this.state.changes === this.fs.durableChanges) return this.state;
    const logs = this.durableFiles('log').map((f) => this.parsedLog(f.path));
    let lastLogged = 0n;
    for (const f of logs) if (f.last > lastLogged) lastLogged = f.last;
    let snapshot: DurableState['snapshot'] = null;
    const snaps = this.durableFiles('snapshot');
    for (let i = snaps.length - 1; i >= 0 && snapshot === null; i--) {
      if (this.cached(`${snaps[i]!.path}#ok`, snaps[i]!.path, snapshotVerifies) === true) snapshot = { zxid: snaps[i]!.zxid, file: snaps[i]!.path };
    }
    this.state = { changes: this.fs.durableChanges, logs, lastLogged, snapshot };
    return this.state;
  }

  private snapshotEntries(file: string, zxid: Zxid): AppliedEntry[] {
    return this.cached(file, file, (bytes) => snapshotWrites(bytes, zxid)) ?? [];
  }

  private epoch(name: string): bigint {
    const bytes = this.fs.durableBytes(path.posix.join(this.dir, name));
    if (bytes === null) return 0n;
    const first = bytes.toString('utf8').split('\n')[0]!.trim();
    return /^\d+$/.test(first) ? BigInt(first) : -1n;
  }

  /** What `make` derives from a durable file's bytes, remembered under `key` until the file changes. */
  private cached<T>(key: string, file: string, make: (bytes: Buffer) => T): T | undefined {
    const version = this.fs.durableVersion(file);
    if (version < 0) return undefined;
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.version === version) return hit.value as T;
    const value = make(this.fs.durableView(file)!);
    this.cache.set(key, { version, value });
    return value;
  }

  private parsedLog(file: string): ParsedLog {
    const before = this.cache.get(file)?.value as ParsedLog | undefined;
    return this.cached(file, file, (bytes) => scanLog(bytes, before)) ?? emptyLog();
  }
}

interface DurableState {
  changes: number;
  logs: ParsedLog[];
  lastLogged: Zxid;
  /** The newest snapshot file that verifies. */
  snapshot: { zxid: Zxid; file: string } | null;
}

interface ParsedLog {
  records: DurableRecord[];
  byZxid: Map<Zxid, number>;
  spans: { from: number; to: number }[];
  /** The last zxid and the end of the last valid record, and the bytes up to it (to resume from). */
  last: bigint;
  end: number;
  prefix: Buffer;
}

function emptyLog(): ParsedLog {
  return { records: [], byZxid: new Map(), spans: [], last: -1n, end: 0, prefix: Buffer.alloc(0) };
}

/**
 * Valid records of a log file and where they lie, skipping anything that is not one (byte by
 * byte past a bad spot). `before`, when the file only grew since it was parsed (its parsed
 * prefix is unchanged), lets the parse go on from where it ended.
 */
function scanLog(b: Buffer, before?: ParsedLog): ParsedLog {
  const reuse = before !== undefined && b.length >= before.end && b.subarray(0, before.end).equals(before.prefix);
  const out = reuse ? before : emptyLog();
  if (b.length < FILE_HEADER) return out;
  let end = Math.max(out.end, FILE_HEADER);
  for (let at = end; at + 13 <= b.length; ) {
    if (b[at] === 0 && b.readInt32BE(at + 8) === 0) {
      // A record's first non-zero byte is at most 7 bytes in (its checksum's low half is
      // never zero): jump over zero runs (a pre-allocated tail) to just before the next one.
      at = Math.max(at + 1, nextNonZero(b, at) - 7);
      continue;
    }
    const len = b.readInt32BE(at + 8);
    const ok =
      len >= 32 &&
      at + 13 + len <= b.length &&
      b[at + 12 + len] === 0x42 &&
      BigInt(adler32(b.subarray(at + 12, at + 12 + len))) === b.readBigInt64BE(at);
    if (!ok) {
      at++;
      continue;
    }
    const entry = b.subarray(at + 12, at + 12 + len);
    const zxid = entry.readBigInt64BE(TXN_ZXID);
    if (zxid > out.last) {
      // Ours carry the write id as the cxid of a create in the simulated clients' session.
      if (entry.readBigInt64BE(0) === SIM_SESSION && entry.readInt32BE(TXN_TYPE) === OpCode.create) {
        const writeId = entry.readInt32BE(TXN_CXID);
        out.records.push({ zxid, writeId });
        out.byZxid.set(zxid, writeId);
      }
      out.spans.push({ from: at, to: at + 13 + len });
      out.last = zxid;
      end = at + 13 + len;
    }
    at += 13 + len;
  }
  out.end = end;
  out.prefix = Buffer.from(b.subarray(0, end));
  return out;
}

/** Offset of the first non-zero byte at or after `from` (b.length when none). */
function nextNonZero(b: Buffer, from: number): number {
  let at = from;
  while (at + 8 <= b.length && b.readUInt32LE(at) === 0 && b.readUInt32LE(at + 4) === 0) at += 8;
  while (at < b.length && b[at] === 0) at++;
  return at;
}

/** Does a snapshot file verify (magic, trailer checksum)? */
function snapshotVerifies(b: Buffer): boolean {
  if (b.length < FILE_HEADER + SNAP_TRAILER || b.readUInt32BE(0) !== MAGIC_SNAP) return false;
  const end = b.length - SNAP_TRAILER;
  return BigInt(adler32(b.subarray(0, end))) === b.readBigInt64BE(end);
}

/** The writes a (verified) snapshot holds at or below its zxid. */
function snapshotWrites(b: Buffer, zxid: Zxid): AppliedEntry[] {
  const body = b.subarray(FILE_HEADER, b.length - SNAP_TRAILER);
  const r = new JuteReader(body);
  const sessions = r.readCount();
  for (let i = 0; i < sessions; i++) {
    r.readLong();
    r.readInt();
  }
  return appliedFromTree(DataTree.deserialize(body.subarray(r.offset)), zxid);
}
