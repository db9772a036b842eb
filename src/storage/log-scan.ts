/**
 * Reading a txn log file whole, telling a torn tail from damage.
 *
 * A scan of one file stops where the bytes are not a valid record. What lies past the stop
 * decides what it is:
 *  - nothing valid after it, in the newest file: a torn tail, a batch cut short by a crash.
 *    It was never fsynced, so never acknowledged: recovery may cut it;
 *  - a valid record or an end marker after it, or any stop in an older file (a file is
 *    fsynced whole before the next one is created): damage to data that was written and
 *    acknowledged — a hole in the history whose txns are gone.
 * A hole is harmless when every txn it can have held is at or below the snapshot recovery
 * starts from (they are in the snapshot).
 */
import { zxidHex } from '../jute/index.js';
import type { StorageFs } from './fs.js';
import { FILE_HEADER_SIZE, LogFileScanner, type ScanStop, type ScannedRecord } from './log-format.js';
import type { ZxidFile } from './files.js';

/** Where a file's valid history breaks, and what comes after the break. */
export interface LogHole {
  file: string;
  offset: number;
  /** Why the bytes there are not a record. */
  detail: string;
  /** The last valid zxid before the hole (the file name's zxid - 1 before its first record). */
  after: bigint;
  /** The first valid zxid after it; null when unknown (an end marker says a batch was written there whole). */
  next: bigint | null;
}

/** What a scan found at one stop. */
export type StopVerdict =
  | { kind: 'clean' }
  | { kind: 'tail'; offset: number; detail: string }
  | { kind: 'hole'; hole: LogHole; resumeAt: number | null };

/**
 * Decide what a stop is. `newest`: the file is the last of the log (a torn tail can only be
 * there); `nextFileZxid`: the name zxid of the file after this one (the next valid zxid when
 * nothing valid follows in this file).
 */
export async function judgeStop(scanner: LogFileScanner, stop: ScanStop, newest: boolean, nextFileZxid: bigint | null): Promise<StopVerdict> {
  const clean = stop.kind === 'end' || stop.kind === 'marker';
  const after = scanner.lastRecordZxid;
  const resume = await scanner.findResume(clean ? stop.offset + 12 : stop.offset + 1);
  const detail = clean ? `data lost before offset ${stop.offset}: zeros or an end marker, then more data` : stop.detail;
  if (resume === null) {
    if (clean) return { kind: 'clean' };
    if (newest) return { kind: 'tail', offset: stop.offset, detail: stop.detail };
    return { kind: 'hole', hole: { file: scanner.path, offset: stop.offset, detail, after, next: nextFileZxid }, resumeAt: null };
  }
  if (resume.kind === 'marker') {
    const more = await scanner.findResume(resume.offset + 12);
    // Nothing valid after the marker: the next file's name bounds what this one held.
    const next = more?.kind === 'record' ? more.zxid : more === null ? nextFileZxid : null;
    return { kind: 'hole', hole: { file: scanner.path, offset: stop.offset, detail, after, next }, resumeAt: more?.kind === 'record' ? more.offset : null };
  }
  return { kind: 'hole', hole: { file: scanner.path, offset: stop.offset, detail, after, next: resume.zxid }, resumeAt: resume.offset };
}

/** A harmless hole: every txn it can have held is at or below `coveredZxid` (in the snapshot). */
export function holeIsCovered(hole: LogHole, coveredZxid: bigint): boolean {
  return hole.next !== null && hole.next <= coveredZxid + 1n;
}

/** What a hole is and which txns it took, e.g. "checksum mismatch: ...; the txns after 0x33 up to 0x35 are unreadable". */
export function describeHole(hole: LogHole): string {
  const which = hole.next === null ? `an unknown number of txns after ${zxidHex(hole.after)}` : `the txns after ${zxidHex(hole.after)} up to ${zxidHex(hole.next)}`;
  return `${hole.detail}; ${which} are unreadable`;
}

export interface FileWalk {
  /** The file's header is a txn log's; `follows` is its link (log-format.ts), 0n when it has none. */
  onHeader?: (follows: bigint) => void;
  /** Every valid record, in order, across holes (the entry is a view valid until the next step). */
  onRecord?: (rec: ScannedRecord) => void | Promise<void>;
  onHole?: (hole: LogHole) => void;
}

export interface FileWalkResult {
  header: 'ok' | 'torn' | 'foreign';
  headerDetail: string;
  records: number;
  lastZxid: bigint | null;
  /** Offset where a torn tail starts (newest file only), or null. */
  tornAt: number | null;
  tornDetail: string;
  /** Offset just past the last valid record (or the header). */
  validEnd: number;
  size: number;
}

/** Scan one file whole: every valid record, every hole, and a torn tail if there is one. */
export async function walkLogFile(
  fs: StorageFs,
  file: ZxidFile,
  maxTxnSize: number,
  where: { newest: boolean; nextFileZxid: bigint | null },
  walk: FileWalk = {},
): Promise<FileWalkResult> {
  const scanner = await LogFileScanner.open(fs, file.path, file.zxid, maxTxnSize);
  const out: FileWalkResult = {
    header: 'ok',
    headerDetail: '',
    records: 0,
    lastZxid: null,
    tornAt: null,
    tornDetail: '',
    validEnd: FILE_HEADER_SIZE,
    size: scanner.size,
  };
  try {
    const header = await scanner.checkHeader();
    if (header.kind === 'ok') walk.onHeader?.(header.follows);
    else {
      out.header = header.kind;
      out.headerDetail = header.detail;
      const resume = await scanner.findResume(FILE_HEADER_SIZE);
      if (resume?.kind !== 'record') {
        if (resume?.kind === 'marker' || !where.newest) {
          walk.onHole?.({ file: file.path, offset: 0, detail: `file header: ${header.detail}`, after: file.zxid - 1n, next: where.nextFileZxid });
        }
        out.validEnd = 0;
        return out;
      }
      walk.onHole?.({ file: file.path, offset: 0, detail: `file header: ${header.detail}`, after: file.zxid - 1n, next: resume.zxid });
      scanner.resumeAt(resume.offset);
    }
    for (;;) {
      for (let rec = await scanner.next(); rec !== null; rec = await scanner.next()) {
        out.records++;
        out.lastZxid = rec.zxid;
        out.validEnd = rec.end;
        await walk.onRecord?.(rec);
      }
      const verdict = await judgeStop(scanner, scanner.stop!, where.newest, where.nextFileZxid);
      if (verdict.kind === 'clean') return out;
      if (verdict.kind === 'tail') {
        out.tornAt = verdict.offset;
        out.tornDetail = verdict.detail;
        return out;
      }
      walk.onHole?.(verdict.hole);
      if (verdict.resumeAt === null) return out;
      scanner.resumeAt(verdict.resumeAt);
    }
  } finally {
    await scanner.close().catch(() => undefined);
  }
}
