/**
 * FileTxnLog on real files: ZooKeeper's byte format, and recovery from every kind of damage a
 * crash or a bad disk leaves at the tail of the log. Every case reopens the log.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TxnHeader, encode, encodeLoggedTxn, OpCode } from '../../../src/jute/index.js';
import { END_MARKER_MAGIC, FileTxnLog, StorageDamageError, StorageError, adler32, type FsyncInfo } from '../../../src/storage/index.js';
import { encodeLogRecord } from '../../../src/storage/log-format.js';
import { collect, makeTxn, range, tempDir, zxids } from './fixtures.js';

const PRE_ALLOC = 64 * 1024;
const HEADER = 16;

let dir: string;
let cleanup: () => void;
let messages: string[];

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  messages = [];
});
afterEach(() => cleanup());

function open(opts: { preAllocSize?: number } = {}): Promise<FileTxnLog> {
  return FileTxnLog.open({ dir, preAllocSize: opts.preAllocSize ?? PRE_ALLOC, log: (m) => messages.push(m) });
}

/** Offsets of each record in a file holding `zxids` (from the first). */
function recordOffsets(zs: bigint[]): number[] {
  const out: number[] = [];
  let at = HEADER;
  for (const z of zs) {
    out.push(at);
    at += 13 + encodeLoggedTxn(makeTxn(z)).length;
  }
  out.push(at);
  return out;
}

async function writeLog(from: bigint, to: bigint): Promise<void> {
  const log = await open();
  for (const z of range(from, to)) log.append(makeTxn(z));
  await log.commit();
  await log.close();
}

async function patch(file: string, offset: number, bytes: Buffer): Promise<void> {
  const h = await fs.open(file, 'r+');
  await h.write(bytes, 0, bytes.length, offset);
  await h.close();
}

async function files(): Promise<string[]> {
  return (await fs.readdir(dir)).sort();
}

async function expectRecovered(lastZxid: bigint): Promise<FileTxnLog> {
  const log = await open();
  expect(log.lastLoggedZxid()).toBe(lastZxid);
  expect(zxids(await collect(log.read(0n)))).toEqual(range(1n, lastZxid));
  return log;
}

describe('FileTxnLog format (ZooKeeper-compatible)', () => {
  it('writes log.<first zxid hex> with a ZKLG header and checksummed, B-terminated records', async () => {
    await writeLog(1n, 5n);
    expect(await files()).toEqual(['log.1']);
    const bytes = readFileSync(path.join(dir, 'log.1'));
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('ZKLG');
    expect(bytes.readInt32BE(4)).toBe(2);
    expect(bytes.readBigInt64BE(8)).toBe(0n);
    const offsets = recordOffsets(range(1n, 5n));
    for (const [i, z] of range(1n, 5n).entries()) {
      const at = offsets[i]!;
      const entry = encodeLoggedTxn(makeTxn(z));
      expect(bytes.readBigInt64BE(at)).toBe(BigInt(adler32(entry)));
      expect(bytes.readInt32BE(at + 8)).toBe(entry.length);
      expect(bytes.subarray(at + 12, at + 12 + entry.length).equals(entry)).toBe(true);
      expect(bytes[at + 12 + entry.length]).toBe(0x42);
    }
    // The batch's end marker (a zero-length record ZooKeeper reads as the end), then zeros
    // up to the pre-allocated size.
    const end = offsets.at(-1)!;
    expect(bytes.readUInt32BE(end)).toBe(END_MARKER_MAGIC);
    expect(bytes.readUInt32BE(end + 4)).toBe(5);
    expect(bytes.readInt32BE(end + 8)).toBe(0);
    expect(bytes.length % PRE_ALLOC).toBe(0);
    expect(bytes.length).toBeGreaterThan(end + 12);
    expect(bytes.subarray(end + 12).every((b) => b === 0)).toBe(true);
  });

  it('names every rolled file after its first zxid, and starts a new file after a restart', async () => {
    const log = await open();
    for (const z of [0x100000001n, 0x100000002n]) log.append(makeTxn(z));
    await log.commit();
    log.rollLog();
    log.append(makeTxn(0x10000000bn));
    await log.commit();
    await log.close();
    const again = await open();
    again.append(makeTxn(0x200000001n));
    await again.commit();
    await again.close();
    expect(await files()).toEqual(['log.100000001', 'log.10000000b', 'log.200000001']);
  });

  it('grows the file in preAllocSize steps as records fill it', async () => {
    const log = await open({ preAllocSize: 8192 });
    for (const z of range(1n, 200n)) log.append(makeTxn(z, 200));
    await log.commit();
    await log.close();
    const size = (await fs.stat(path.join(dir, 'log.1'))).size;
    expect(size % 8192).toBe(0);
    expect(size).toBeGreaterThan(200 * 200);
    const again = await expectRecovered(200n);
    await again.close();
    expect(messages).toEqual([]);
  });

  it('preAllocSize 0 writes no padding', async () => {
    const log = await open({ preAllocSize: 0 });
    for (const z of range(1n, 3n)) log.append(makeTxn(z));
    await log.commit();
    await log.close();
    expect((await fs.stat(path.join(dir, 'log.1'))).size).toBe(recordOffsets(range(1n, 3n)).at(-1)! + 12);
    const again = await expectRecovered(3n);
    await again.close();
  });

  it('a batch that crosses a roll fsyncs the old file before it creates the new one', async () => {
    const log = await open();
    const fsyncs: FsyncInfo[] = [];
    log.onFsync = (info) => fsyncs.push(info);
    log.append(makeTxn(1n));
    log.append(makeTxn(2n));
    log.rollLog();
    log.append(makeTxn(3n));
    await log.commit();
    expect(fsyncs.map((f) => f.txns)).toEqual([2, 1]);
    await log.close();
    expect(await files()).toEqual(['log.1', 'log.3']);
  });
});

describe('FileTxnLog recovery: torn tails are cut, damage is kept and reported', () => {
  const logFile = (): string => path.join(dir, 'log.1');
  const offsets = recordOffsets(range(1n, 10n));
  const last = offsets[9]!;
  const end = offsets[10]!;

  beforeEach(async () => {
    await writeLog(1n, 10n);
  });

  async function readError(log: FileTxnLog, after = 0n): Promise<{ seen: bigint[]; err: unknown }> {
    const seen: bigint[] = [];
    const err = await (async () => {
      for await (const t of log.read(after)) seen.push(t.hdr.zxid);
    })().catch((e: unknown) => e);
    return { seen, err };
  }

  it('a clean log: records, the batch end marker, zeros; nothing dropped, nothing said', async () => {
    const sizeBefore = (await fs.stat(logFile())).size;
    const bytes = readFileSync(logFile());
    expect(bytes.readUInt32BE(end)).toBe(END_MARKER_MAGIC);
    expect(bytes.readUInt32BE(end + 4)).toBe(10);
    expect(bytes.readInt32BE(end + 8)).toBe(0);
    const log = await expectRecovered(10n);
    await log.close();
    expect(messages).toEqual([]);
    expect((await fs.stat(logFile())).size).toBe(sizeBefore);
  });

  it('a torn tail (the file ends mid-record, no end marker after it) is cut at the last whole record', async () => {
    await fs.truncate(logFile(), last + 7);
    const log = await expectRecovered(9n);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(logFile());
    expect(messages[0]).toContain(`cut a torn tail of 7 bytes at offset ${last}`);
    expect(messages[0]).toContain('never acknowledged');
    // Cut, and the cut end is marked, so that later damage to record 9 is still told apart.
    expect((await fs.stat(logFile())).size).toBe(last + 12);
    expect(readFileSync(logFile()).readUInt32BE(last)).toBe(END_MARKER_MAGIC);
    // The log goes on: zxid 10 can be logged again (in a new file) and read back.
    log.append(makeTxn(10n));
    await log.commit();
    await log.close();
    const again = await expectRecovered(10n);
    await again.close();
    expect(await files()).toEqual(['log.1', 'log.a']);
  });

  it('a batch cut short over the end marker of the one before it is a torn tail too', async () => {
    const next = encodeLogRecord(encodeLoggedTxn(makeTxn(11n)));
    await patch(logFile(), end, next.subarray(0, 20));
    const log = await expectRecovered(10n);
    await log.close();
    expect(messages[0]).toContain(`cut a torn tail of ${PRE_ALLOC - end} bytes at offset ${end}`);
    expect((await fs.stat(logFile())).size).toBe(end + 12);
    expect(readFileSync(logFile()).readUInt32BE(end)).toBe(END_MARKER_MAGIC);
  });

  it('a flipped byte in the last record is damage, not a torn tail: nothing is cut, read() refuses to end early', async () => {
    const size = (await fs.stat(logFile())).size;
    const mid = last + Math.floor((end - last) / 2);
    const byte = readFileSync(logFile())[mid]!;
    await patch(logFile(), mid, Buffer.from([byte ^ 0x10]));
    const log = await open();
    expect(messages).toEqual([]);
    expect((await fs.stat(logFile())).size).toBe(size);
    const { seen, err } = await readError(log);
    expect(seen).toEqual(range(1n, 9n));
    expect(err).toBeInstanceOf(StorageDamageError);
    expect((err as StorageDamageError).message).toContain('checksum mismatch');
    expect((err as StorageDamageError).site).toMatchObject({ file: logFile(), offset: last, after: 9n, next: null });
    await log.close();
    expect(readFileSync(logFile())[mid]).toBe(byte ^ 0x10);
  });

  it('a missing end-of-record byte in the last record is damage too', async () => {
    await patch(logFile(), end - 1, Buffer.from([0x00]));
    const log = await open();
    const { err } = await readError(log);
    expect((err as Error).message).toContain('end-of-record');
    await log.close();
  });

  it('a damaged entry length is damage, not an allocation', async () => {
    await patch(logFile(), last + 8, Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    const log = await open();
    const { err } = await readError(log);
    expect((err as Error).message).toContain('entry length 2147483647');
    await log.close();
  });

  it('a lost write (a batch of zeros with valid batches after it) is damage; a snapshot past it makes it harmless', async () => {
    await fs.rm(logFile());
    const writer = await open();
    for (const batch of [range(1n, 5n), range(6n, 8n), range(9n, 10n)]) {
      for (const z of batch) writer.append(makeTxn(z));
      await writer.commit();
    }
    await writer.close();
    const at = recordOffsets(range(1n, 10n));
    await patch(logFile(), at[5]!, Buffer.alloc(at[8]! - at[5]!));
    const log = await open();
    expect(log.lastLoggedZxid()).toBe(10n);
    const { seen, err } = await readError(log);
    expect(seen).toEqual(range(1n, 5n));
    expect((err as StorageDamageError).site).toMatchObject({ offset: at[5]!, after: 5n, next: 9n });
    // With everything up to 8 in a snapshot, the lost txns do not matter.
    expect(zxids(await collect(log.read(8n)))).toEqual([9n, 10n]);
    await log.close();
  });

  it('garbage over the end marker, with nothing valid after it, is a torn tail', async () => {
    await patch(logFile(), end, Buffer.from('not a record, just bytes that a bad disk left here'));
    const log = await expectRecovered(10n);
    await log.close();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`at offset ${end}`);
    expect((await fs.stat(logFile())).size).toBe(end + 12);
  });

  it('garbage deep inside the zero-filled region is not a record: ignored', async () => {
    await patch(logFile(), end + 5000, Buffer.from([1, 2, 3]));
    const log = await expectRecovered(10n);
    await log.close();
    expect(messages).toEqual([]);
  });

  it('the cut is durable and idempotent: a second reopen finds nothing to drop', async () => {
    await fs.truncate(logFile(), last + 9);
    const first = await expectRecovered(9n);
    await first.close();
    expect(messages).toHaveLength(1);
    messages = [];
    const second = await expectRecovered(9n);
    await second.close();
    expect(messages).toEqual([]);
  });

  it('a last file whose header never reached the disk is removed', async () => {
    await fs.writeFile(path.join(dir, 'log.b'), Buffer.from([0x5a, 0x4b]));
    const log = await expectRecovered(10n);
    await log.close();
    expect(await files()).toEqual(['log.1']);
    expect(messages[0]).toContain('torn header');
  });

  it('a last file of zeros (created, pre-allocated, never written) is removed', async () => {
    await fs.writeFile(path.join(dir, 'log.b'), Buffer.alloc(PRE_ALLOC));
    const log = await expectRecovered(10n);
    await log.close();
    expect(await files()).toEqual(['log.1']);
  });

  it('a last file whose first record is damaged but whose second is valid is kept: read() reports the hole', async () => {
    const log = await open();
    for (const z of range(11n, 12n)) log.append(makeTxn(z));
    await log.commit();
    await log.close();
    await patch(path.join(dir, 'log.b'), HEADER + 20, Buffer.from([0xee]));
    const again = await open();
    expect(again.lastLoggedZxid()).toBe(12n);
    expect(await files()).toEqual(['log.1', 'log.b']);
    const { seen, err } = await readError(again);
    expect(seen).toEqual(range(1n, 10n));
    expect((err as StorageDamageError).site).toMatchObject({ after: 10n, next: 12n });
    await again.close();
  });

  it('a damaged record at the end of an older file is damage, not a torn tail', async () => {
    const log = await open();
    for (const z of range(11n, 12n)) log.append(makeTxn(z));
    await log.commit();
    await log.close();
    await fs.truncate(logFile(), last + 7);
    const again = await open();
    expect(messages).toEqual([]);
    const { seen, err } = await readError(again);
    expect(seen).toEqual(range(1n, 9n));
    expect((err as StorageDamageError).site).toMatchObject({ file: logFile(), after: 9n, next: 11n });
    expect(zxids(await collect(again.read(10n)))).toEqual([11n, 12n]);
    await again.close();
  });

  it('a removed empty last file still bounds the file before it: damage there is kept and judged, never cut as a torn tail', async () => {
    // log.1's last record is cut short with nothing after it, which in the newest file would be
    // a torn tail; but log.b was created after it, so log.1 had been fsynced whole: damage.
    await fs.truncate(logFile(), last + 7);
    await fs.writeFile(path.join(dir, 'log.b'), Buffer.alloc(PRE_ALLOC));
    const log = await open();
    expect(await files()).toEqual(['log.1']);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('removed txn log');
    expect(readFileSync(logFile()).length).toBe(last + 7);
    const { seen, err } = await readError(log);
    expect(seen).toEqual(range(1n, 9n));
    expect((err as StorageDamageError).site).toMatchObject({ file: logFile(), after: 9n, next: 11n });
    // A snapshot of zxid 10 covers everything log.1 can have held.
    expect(zxids(await collect(log.read(10n)))).toEqual([]);
    await log.close();
  });

  it('a zeroed last record before its intact end marker, then a removed empty file: the file name bounds the hole', async () => {
    await patch(logFile(), last, Buffer.alloc(end - last));
    await fs.writeFile(path.join(dir, 'log.b'), Buffer.alloc(HEADER));
    const log = await open();
    const { seen, err } = await readError(log);
    expect(seen).toEqual(range(1n, 9n));
    expect((err as StorageDamageError).site).toMatchObject({ after: 9n, next: 11n });
    expect(zxids(await collect(log.read(10n)))).toEqual([]);
    // The bound holds only until the log writes a file of its own.
    log.append(makeTxn(11n));
    await log.commit();
    expect(zxids(await collect(log.read(10n)))).toEqual([11n]);
    await log.close();
  });

  it('a last file that is not a txn log at all is set aside, not deleted', async () => {
    await fs.writeFile(path.join(dir, 'log.b'), Buffer.from('PK\u0003\u0004 this is a zip file, not a log'));
    const log = await expectRecovered(10n);
    await log.close();
    expect(await files()).toEqual(['damaged.log.b', 'log.1']);
    expect(messages[0]).toContain('is not a txn log');
  });

  it('a record with a valid checksum but an unknown txn type is kept, and read() says why it cannot decode it', async () => {
    const hdr = encode(TxnHeader, { clientId: 1n, cxid: 1, zxid: 11n, time: 0n, type: OpCode.reconfig });
    const entry = Buffer.concat([hdr, Buffer.from('reconfig body')]);
    const record = encodeLogRecord(entry);
    await patch(logFile(), end, record);
    const log = await open();
    expect(log.lastLoggedZxid()).toBe(11n);
    expect(messages).toEqual([]);
    const { seen, err } = await readError(log);
    expect(seen).toEqual(range(1n, 10n));
    expect(err).toMatchObject({ code: 'ZABLAB_STORAGE_UNSUPPORTED_TXN' });
    expect((err as Error).message).toContain(`offset ${end}`);
    await log.close();
  });
});

/** log.1, log.b and log.15 holding txns 1–10, 11–20 and 21–30; the log is left open. */
async function openThreeFiles(): Promise<FileTxnLog> {
  const log = await open();
  for (const [from, to] of [
    [1n, 10n],
    [11n, 20n],
    [21n, 30n],
  ] as const) {
    for (const z of range(from, to)) log.append(makeTxn(z));
    await log.commit();
    log.rollLog();
  }
  return log;
}

describe('FileTxnLog across files', () => {
  async function threeFiles(): Promise<void> {
    await (await openThreeFiles()).close();
  }

  it('reads from the file that holds the start zxid onwards', async () => {
    await threeFiles();
    expect(await files()).toEqual(['log.1', 'log.15', 'log.b']);
    const log = await open();
    expect(zxids(await collect(log.read(0n)))).toEqual(range(1n, 30n));
    expect(zxids(await collect(log.read(10n)))).toEqual(range(11n, 30n));
    expect(zxids(await collect(log.read(25n)))).toEqual(range(26n, 30n));
    await log.close();
  });

  it('truncate removes later files and cuts the one holding the zxid; a restart sees the same', async () => {
    await threeFiles();
    const log = await open();
    await log.truncate(14n);
    expect(await files()).toEqual(['log.1', 'log.b']);
    const cut = recordOffsets(range(11n, 14n)).at(-1)!;
    expect((await fs.stat(path.join(dir, 'log.b'))).size).toBe(cut + 12);
    expect(readFileSync(path.join(dir, 'log.b')).readUInt32BE(cut)).toBe(END_MARKER_MAGIC);
    await log.close();
    const again = await expectRecovered(14n);
    again.append(makeTxn(15n));
    await again.commit();
    await again.close();
    expect(await files()).toEqual(['log.1', 'log.b', 'log.f']);
    expect(messages).toEqual([]);
  });

  it('truncate to below the first file removes every file', async () => {
    await threeFiles();
    const log = await open();
    await log.truncate(0n);
    expect(await files()).toEqual([]);
    expect(log.lastLoggedZxid()).toBe(0n);
    await log.close();
  });

  it('a damaged record in a middle file: read() throws rather than end there, and reads on past it when a snapshot covers it', async () => {
    await threeFiles();
    const offsets = recordOffsets(range(11n, 20n));
    await patch(path.join(dir, 'log.b'), offsets[4]! + 14, Buffer.from([0xab, 0xcd]));
    const log = await open();
    expect(log.lastLoggedZxid()).toBe(30n);
    const seen: bigint[] = [];
    const err = await (async () => {
      for await (const t of log.read(0n)) seen.push(t.hdr.zxid);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(range(1n, 14n));
    expect(err).toBeInstanceOf(StorageDamageError);
    expect((err as StorageDamageError).site).toMatchObject({ file: path.join(dir, 'log.b'), offset: offsets[4], after: 14n, next: 16n });
    expect(zxids(await collect(log.read(15n)))).toEqual(range(16n, 30n));
    await log.close();
  });

  it('reads a default 64 MiB pre-allocated file with bounded reads', async () => {
    const log = await open({ preAllocSize: 64 * 1024 * 1024 });
    for (const z of range(1n, 3n)) log.append(makeTxn(z));
    await log.commit();
    await log.close();
    expect((await fs.stat(path.join(dir, 'log.1'))).size).toBe(64 * 1024 * 1024);
    const again = await open({ preAllocSize: 64 * 1024 * 1024 });
    expect(zxids(await collect(again.read(0n)))).toEqual(range(1n, 3n));
    await again.close();
    expect(messages).toEqual([]);
  });
});

describe('FileTxnLog.readHistory: a run of the history for a DIFF', () => {
  const E2 = 2n << 32n;
  const threeFiles = openThreeFiles;
  const zs = (r: Awaited<ReturnType<FileTxnLog['readHistory']>>): bigint[] => (r.kind === 'ok' ? r.entries.map((e) => e.zxid) : []);

  it('gives the txns in (after, upTo] across files, as the bytes the log holds', async () => {
    const log = await threeFiles();
    const r = await log.readHistory(5n, 25n, 1 << 20);
    expect(zs(r)).toEqual(range(6n, 25n));
    expect(r.kind === 'ok' && r.entries[0]!.entry).toEqual(encodeLoggedTxn(makeTxn(6n)));
    expect(r.kind === 'ok' && r.bytes).toBe(range(6n, 25n).reduce((n, z) => n + encodeLoggedTxn(makeTxn(z)).length, 0));
    // `after` the last txn of a file: the run starts in the next one.
    expect(zs(await log.readHistory(10n, 11n, 1 << 20))).toEqual([11n]);
    await log.close();
  });

  it('refuses when the log does not hold `after` itself, or ends before upTo', async () => {
    const log = await threeFiles();
    expect(await log.readHistory(0n, 5n, 1 << 20)).toEqual({ kind: 'missing', why: 'the log does not hold 0x0 (the next txn it holds is 0x1)' });
    expect(await log.readHistory(20n, 31n, 1 << 20)).toEqual({ kind: 'missing', why: "the log's history ends at 0x1e, before 0x1f" });
    await log.close();
    await fs.rm(path.join(dir, 'log.1')); // purged
    const again = await open();
    expect(await again.readHistory(5n, 25n, 1 << 20)).toMatchObject({ kind: 'missing', why: 'the log does not hold 0x5 (the next txn it holds is 0xb)' });
    await again.close();
  });

  it('refuses more than maxBytes', async () => {
    const log = await threeFiles();
    const size = range(6n, 15n).reduce((n, z) => n + encodeLoggedTxn(makeTxn(z)).length, 0);
    expect(zs(await log.readHistory(5n, 15n, size))).toEqual(range(6n, 15n));
    expect(await log.readHistory(5n, 15n, size - 1)).toEqual({ kind: 'missing', why: `the txns after 0x5 are more than ${size - 1} bytes` });
    await log.close();
  });

  it('does not reach across a SNAP: the file after it links to the snapshot, not to the txns before (ZOOKEEPER-2099)', async () => {
    const log = await threeFiles();
    await log.truncate(20n);
    // A SNAP at <2,5>: the history jumps from 0x14 to it; the next epoch's txns follow.
    await log.truncate(E2 + 5n, { snapshot: true });
    for (const z of range(E2 + 6n, E2 + 9n)) log.append(makeTxn(z));
    await log.commit();
    expect(await log.readHistory(15n, E2 + 8n, 1 << 20)).toEqual({ kind: 'missing', why: "the log's history breaks after 0x14: next is 0x200000006, in a file that follows 0x200000005" });
    expect(zs(await log.readHistory(E2 + 6n, E2 + 8n, 1 << 20))).toEqual([E2 + 7n, E2 + 8n]);
    // Without a SNAP, a new epoch's first txn follows the last of the one before.
    log.rollLog();
    await log.close();
    await fs.rm(dir, { recursive: true });
    const plain = await open();
    for (const z of [...range(1n, 4n), E2 + 1n, E2 + 2n]) plain.append(makeTxn(z));
    await plain.commit();
    expect(zs(await plain.readHistory(2n, E2 + 2n, 1 << 20))).toEqual([3n, 4n, E2 + 1n, E2 + 2n]);
    await plain.close();
  });

  it('reads only what is durable of the file being written', async () => {
    const log = await threeFiles();
    log.append(makeTxn(31n));
    expect(await log.readHistory(25n, 31n, 1 << 20)).toEqual({ kind: 'missing', why: "the log's history ends at 0x1e, before 0x1f" });
    await log.commit();
    expect(zs(await log.readHistory(25n, 31n, 1 << 20))).toEqual(range(26n, 31n));
    await log.close();
  });

  it('damage after `after` is an error, not a shorter run', async () => {
    const log = await threeFiles();
    await log.close();
    await patch(path.join(dir, 'log.b'), recordOffsets(range(11n, 20n))[4]! + 14, Buffer.from([0xab, 0xcd]));
    const again = await open();
    await expect(again.readHistory(5n, 25n, 1 << 20)).rejects.toBeInstanceOf(StorageDamageError);
    expect(zs(await again.readHistory(16n, 25n, 1 << 20))).toEqual(range(17n, 25n));
    await again.close();
  });
});

describe('FileTxnLog operating errors', () => {
  it('says which path it cannot use when the log directory is a file', async () => {
    const file = path.join(dir, 'not-a-dir');
    await fs.writeFile(file, 'x');
    const err = await FileTxnLog.open({ dir: file, log: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('ZABLAB_STORAGE_IO');
    expect((err as StorageError).message).toContain(file);
  });

  it('creates a missing log directory, parents included', async () => {
    const nested = path.join(dir, 'a', 'b', 'version-2');
    const log = await FileTxnLog.open({ dir: nested, log: () => undefined });
    log.append(makeTxn(1n));
    await log.commit();
    await log.close();
    expect(await fs.readdir(nested)).toEqual(['log.1']);
  });

  it('rejects options outside their limits', async () => {
    await expect(FileTxnLog.open({ dir, preAllocSize: -1 })).rejects.toMatchObject({ code: 'ZABLAB_STORAGE_BAD_ARGUMENT' });
    await expect(FileTxnLog.open({ dir, maxTxnSize: 2 ** 40 })).rejects.toMatchObject({ code: 'ZABLAB_STORAGE_BAD_ARGUMENT' });
  });
});
