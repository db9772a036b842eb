/**
 * Recovery planning: what a server can rebuild from its disk, and whether anything it once
 * held (and so may have acknowledged) is gone.
 *
 * The history a server recovers is its newest valid snapshot plus the txns the log holds
 * after it, as long as each follows the one before (followsZxid): a damaged record, a lost
 * write or a missing file breaks that chain. Damage is evidence of history beyond the end of
 * the chain: a valid txn past the break, an end marker past it (a batch written whole), or a
 * snapshot (valid or not) of a later zxid. A torn tail is not evidence: it was never fsynced.
 * A damaged snapshot the log still reaches past is harmless, and so is a hole in the log
 * below the snapshot recovery starts from.
 *
 * Storage reports; the server decides (refuse to start, or recover from peers).
 * cutHistory() is the one way damaged files are changed: it keeps the history up to a zxid
 * and sets everything after it aside as `damaged.<name>` files (never deleted).
 */
import * as path from 'node:path';
import { followsZxid, zxidHex } from '../jute/index.js';
import { StorageError, ioError, type DamageSite } from './errors.js';
import { DAMAGED_PREFIX, LOG_FILE_PREFIX, fsyncDir, listZxidFiles, setAside, TMP_SUFFIX } from './files.js';
import type { StorageFile, StorageFs } from './fs.js';
import { encodeEndMarker } from './log-format.js';
import { describeHole, holeIsCovered, walkLogFile, type LogHole } from './log-scan.js';
import type { SnapStore } from './snap-store.js';

/** One thing found wrong on the disk. */
export interface DamageFinding {
  file: string;
  /** Byte offset in the file, when the damage is inside one. */
  offset: number | null;
  what: string;
}

export interface DamageReport {
  /** The recoverable history ends here: every txn up to it can be rebuilt from this disk. */
  validThrough: bigint;
  /** The newest zxid the disk shows was once there (null: beyond validThrough, extent unknown). */
  evidenceThrough: bigint | null;
  /** The break that ends the history, first, then the rest. */
  findings: DamageFinding[];
}

export interface RecoveryPlan {
  /** The newest valid snapshot (verified whole), or null: recovery starts from the empty tree. */
  snapshot: { zxid: bigint; body: Buffer } | null;
  /** Snapshots that failed verification (newer than the chosen one). */
  damagedSnapshots: { zxid: bigint; file: string; problem: string }[];
  /** The last txn of the recoverable history (the snapshot's zxid when the log adds nothing). */
  validThrough: bigint;
  /** Damage to history that may have been acknowledged, or null. */
  damage: DamageReport | null;
  /** Valid txns past validThrough that a cut would drop: [first, last] and how many. */
  beyond: { first: bigint; last: bigint; count: number } | null;
}

export interface RecoveryInputs {
  fs: StorageFs;
  snaps: SnapStore;
  /** `<dataLogDir>/version-2`. */
  logDir: string;
  maxTxnSize: number;
}

/** Read the disk and decide what is recoverable. Changes nothing. */
export async function planRecovery(inputs: RecoveryInputs): Promise<RecoveryPlan> {
  const { fs, snaps, logDir, maxTxnSize } = inputs;
  const damagedSnapshots: RecoveryPlan['damagedSnapshots'] = [];
  let snapshot: RecoveryPlan['snapshot'] = null;
  for (const zxid of await snaps.list()) {
    const loaded = await snaps.load(zxid);
    if (loaded.problem === null) {
      snapshot = { zxid, body: loaded.body };
      break;
    }
    damagedSnapshots.push({ zxid, file: snaps.pathOf(zxid), problem: loaded.problem });
  }
  const base = snapshot?.zxid ?? 0n;

  const findings: DamageFinding[] = [];
  let chainEnd = base;
  let broken = false;
  let unknownBeyond = false;
  let beyond: RecoveryPlan['beyond'] = null;
  const breakAt = (finding: DamageFinding): void => {
    if (!broken) findings.unshift(finding);
    else findings.push(finding);
    broken = true;
  };
  const files = await listZxidFiles(fs, logDir, LOG_FILE_PREFIX);
  // A damaged snapshot the recovered chain passes through exactly held nothing the log lacks.
  const unreached = new Set(damagedSnapshots.map((s) => s.zxid).filter((z) => z > base));
  let first = 0;
  for (let i = 0; i < files.length; i++) if (files[i]!.zxid <= base + 1n) first = i;
  for (let i = first; i < files.length; i++) {
    const file = files[i]!;
    let follows = 0n;
    let firstOfFile = true;
    await walkLogFile(fs, file, maxTxnSize, { newest: i === files.length - 1, nextFileZxid: files[i + 1]?.zxid ?? null }, {
      onHeader: (f) => {
        follows = f;
      },
      onRecord: (rec) => {
        const openingRecord = firstOfFile;
        firstOfFile = false;
        if (rec.zxid <= base) return;
        if (!broken) {
          // A file that says what its first record follows must not start past the chain (a
          // missing file, txns only a SNAP's snapshot held); otherwise counters must run on.
          const linked = openingRecord && follows !== 0n;
          if (linked ? follows <= chainEnd : followsZxid(chainEnd, rec.zxid)) {
            chainEnd = rec.zxid;
            unreached.delete(rec.zxid);
            return;
          }
          const from = linked && follows > chainEnd ? follows : rec.zxid;
          breakAt({ file: file.path, offset: rec.offset, what: `the txns after ${zxidHex(chainEnd)} up to ${zxidHex(from)} are missing` });
        }
        beyond = beyond === null ? { first: rec.zxid, last: rec.zxid, count: 1 } : { first: beyond.first, last: rec.zxid, count: beyond.count + 1 };
      },
      onHole: (hole: LogHole) => {
        if (holeIsCovered(hole, base)) return;
        if (hole.next === null) unknownBeyond = true;
        breakAt({ file: hole.file, offset: hole.offset, what: describeHole(hole) });
      },
    });
  }
  for (const s of damagedSnapshots) {
    if (unreached.has(s.zxid)) {
      findings.push({ file: s.file, offset: null, what: `snapshot of ${zxidHex(s.zxid)} is damaged (${s.problem}) and the log does not hold its history` });
    }
  }
  const lastBeyond = (beyond as RecoveryPlan['beyond'])?.last ?? null;
  const newestSnapshot = damagedSnapshots[0]?.zxid ?? null;
  let evidence: bigint | null = [lastBeyond, newestSnapshot].reduce<bigint | null>((m, z) => (z !== null && (m === null || z > m) ? z : m), null);
  if (unknownBeyond) evidence = null;
  const damaged = broken || unreached.size > 0;
  return {
    snapshot,
    damagedSnapshots,
    validThrough: chainEnd,
    damage: damaged ? { validThrough: chainEnd, evidenceThrough: evidence, findings } : null,
    beyond,
  };
}

/** Where the damage that ends the history is (for StorageDamageError). */
export function damageSite(d: DamageReport): DamageSite | null {
  const f = d.findings[0];
  return f === undefined ? null : { file: f.file, offset: f.offset ?? 0, after: d.validThrough, next: d.evidenceThrough };
}

/** One line for a log: where the damage is and what is lost. */
export function describeDamage(d: DamageReport): string {
  const lost = d.evidenceThrough === null ? 'an unknown number of txns after it' : `the txns after it (up to ${zxidHex(d.evidenceThrough)} at least)`;
  const where = d.findings.map((f) => `${f.file}${f.offset === null ? '' : ` at offset ${f.offset}`}: ${f.what}`).join('; ');
  return `the history on this disk is whole only through zxid ${zxidHex(d.validThrough)}; ${lost} were written and cannot be recovered from it (${where})`;
}

export interface CutPlan {
  /** Snapshots to set aside (newer than the cut, or damaged). */
  snapshots: { zxid: bigint; file: string; why: string }[];
  /** Log files to set aside whole (they start after the cut). */
  logFiles: string[];
  /** The log file holding the cut: its bytes past the cut are set aside with a copy of it. */
  cutFile: { file: string; keepBytes: number; lastZxid: bigint } | null;
  /** Valid txns after the cut that it drops: [first, last] and how many (damaged bytes hold more). */
  dropped: { first: bigint; last: bigint; count: number } | null;
}

/**
 * What cutHistory(at) would do. `at` must lie within the recoverable history: from the
 * snapshot recovery starts from to validThrough.
 */
export async function planCut(inputs: RecoveryInputs, plan: RecoveryPlan, at: bigint): Promise<CutPlan> {
  const base = plan.snapshot?.zxid ?? 0n;
  if (at < base || at > plan.validThrough) {
    throw new StorageError(
      'ZABLAB_STORAGE_BAD_ARGUMENT',
      `cannot cut the history at ${zxidHex(at)}: it is recoverable from ${zxidHex(base)} (the newest valid snapshot) through ${zxidHex(plan.validThrough)}`,
    );
  }
  const snapshots: CutPlan['snapshots'] = plan.damagedSnapshots.map((s) => ({ zxid: s.zxid, file: s.file, why: s.problem }));
  for (const zxid of await inputs.snaps.list()) {
    if (zxid > at && !snapshots.some((s) => s.zxid === zxid)) snapshots.push({ zxid, file: inputs.snaps.pathOf(zxid), why: `newer than ${zxidHex(at)}` });
  }
  const files = await listZxidFiles(inputs.fs, inputs.logDir, LOG_FILE_PREFIX);
  let dropped: CutPlan['dropped'] = null;
  for (let i = 0; i < files.length; i++) {
    await walkLogFile(inputs.fs, files[i]!, inputs.maxTxnSize, { newest: i === files.length - 1, nextFileZxid: files[i + 1]?.zxid ?? null }, {
      onRecord: (rec) => {
        if (rec.zxid <= at) return;
        dropped = dropped === null ? { first: rec.zxid, last: rec.zxid, count: 1 } : { ...dropped, last: rec.zxid, count: dropped.count + 1 };
      },
    });
  }
  const logFiles = files.filter((f) => f.zxid > at).map((f) => f.path);
  const holding = files.filter((f) => f.zxid <= at).at(-1);
  let cutFile: CutPlan['cutFile'] = null;
  if (holding !== undefined) {
    let keepBytes = 0;
    let lastZxid = 0n;
    let more = false;
    const scan = await walkLogFile(inputs.fs, holding, inputs.maxTxnSize, { newest: true, nextFileZxid: null }, {
      onRecord: (rec) => {
        if (rec.zxid > at) more = true;
        else if (!more) {
          keepBytes = rec.end;
          lastZxid = rec.zxid;
        }
      },
      onHole: (hole) => {
        // A hole below the snapshot is kept with the records around it; any other is past the cut.
        if (!holeIsCovered(hole, base)) more = true;
      },
    });
    if (keepBytes === 0) logFiles.unshift(holding.path);
    else if (more || scan.tornAt !== null) cutFile = { file: holding.path, keepBytes, lastZxid };
  }
  return { snapshots, logFiles, cutFile, dropped };
}

/** Carry out a cut: afterwards the disk holds exactly the history through the cut, and `damaged.*` copies of the rest. */
export async function cutHistory(inputs: RecoveryInputs, cut: CutPlan): Promise<void> {
  const { fs, logDir } = inputs;
  for (const s of cut.snapshots) await inputs.snaps.setAside(s.zxid);
  // Newest first, so that a crash part-way leaves a prefix of the log, never a gap.
  for (const file of [...cut.logFiles].reverse()) await setAside(fs, file);
  if (cut.cutFile !== null) {
    const { file, keepBytes, lastZxid } = cut.cutFile;
    // Copy the whole file aside first, then replace it atomically with its prefix: a crash at
    // any point leaves the original or the prefix under its name, never neither.
    await copyFile(fs, file, path.join(path.dirname(file), DAMAGED_PREFIX + path.basename(file)));
    const tmp = file + TMP_SUFFIX;
    await copyFile(fs, file, tmp, keepBytes, encodeEndMarker(lastZxid));
    try {
      await fs.rename(tmp, file);
    } catch (err) {
      throw ioError('replace', file, err);
    }
    await fsyncDir(fs, logDir);
  }
}

/** Copy `from` (its first `limit` bytes, then `tail`) to a new file `to`, fsynced. */
async function copyFile(fs: StorageFs, from: string, to: string, limit?: number, tail?: Buffer): Promise<void> {
  let src: StorageFile | undefined;
  let dst: StorageFile | undefined;
  try {
    src = await fs.open(from, 'r');
    dst = await fs.open(to, 'w');
    const size = Math.min((await src.stat()).size, limit ?? Number.MAX_SAFE_INTEGER);
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await src.read(chunk, 0, Math.min(chunk.length, size - at), at);
      if (bytesRead === 0) break;
      await dst.write(chunk, 0, bytesRead, at);
      at += bytesRead;
    }
    if (tail !== undefined) await dst.write(tail, 0, tail.length, size);
    await dst.datasync();
  } catch (err) {
    throw ioError('copy', from, err);
  } finally {
    await src?.close();
    await dst?.close();
  }
  await fsyncDir(fs, path.dirname(to));
}

