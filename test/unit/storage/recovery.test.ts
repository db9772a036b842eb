/**
 * Recovery planning on the storage code itself (over MemoryFs): a torn tail is not damage;
 * a flipped bit in an acknowledged record, a lost write, a missing log file or a damaged
 * snapshot the log does not reach past are; holes the snapshot covers are harmless; a cut
 * keeps the history through a zxid and sets the rest aside, never deleting it.
 */
import * as path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  FileSnapStore,
  FileTxnLog,
  MemoryFs,
  cutHistory,
  describeDamage,
  planCut,
  planRecovery,
  readEpochFile,
  writeEpochFile,
  type RecoveryInputs,
} from '../../../src/storage/index.js';
import { encodeLoggedTxn } from '../../../src/jute/index.js';
import { collect, makeTxn, range, zxids } from './fixtures.js';

const DIR = '/data/version-2';
const quiet = (): void => undefined;
let fs: MemoryFs;

beforeEach(() => {
  fs = new MemoryFs();
});

async function inputs(): Promise<RecoveryInputs> {
  return { fs, snaps: await FileSnapStore.open({ fs, dir: DIR, log: quiet }), logDir: DIR, maxTxnSize: 1 << 20 };
}

/** Batches of txns, one commit each; `roll` before a batch starts a new file. */
async function writeLog(batches: { zxids: bigint[]; roll?: boolean }[]): Promise<void> {
  const log = await FileTxnLog.open({ fs, dir: DIR, preAllocSize: 4096, log: quiet });
  for (const b of batches) {
    if (b.roll) log.rollLog();
    for (const z of b.zxids) log.append(makeTxn(z));
    await log.commit();
  }
  await log.close();
}

async function snapshot(zxid: bigint, body = `state at ${zxid}`): Promise<void> {
  const snaps = await FileSnapStore.open({ fs, dir: DIR, log: quiet });
  await snaps.save(zxid, [Buffer.from(body)]);
  await snaps.close();
}

/** Offset of record `z` in a file whose first record is `first` (records made by makeTxn). */
function offsetOf(first: bigint, z: bigint): number {
  let at = 16;
  for (let x = first; x < z; x++) at += 13 + encodeLoggedTxn(makeTxn(x)).length;
  return at;
}

function flip(file: string, offset: number): void {
  fs.damage(path.join(DIR, file), (b) => {
    b[offset] = b[offset]! ^ 0x04;
  });
}

describe('recovery planning', () => {
  it('a clean disk: the snapshot and the log after it, no damage', async () => {
    await writeLog([{ zxids: range(1n, 10n) }]);
    await snapshot(6n);
    const plan = await planRecovery(await inputs());
    expect(plan.snapshot?.zxid).toBe(6n);
    expect(plan.validThrough).toBe(10n);
    expect(plan.damage).toBeNull();
  });

  it('a torn tail is not damage: it was never acknowledged', async () => {
    await writeLog([{ zxids: range(1n, 10n) }]);
    fs.damage(path.join(DIR, 'log.1'), (b) => b.fill(0, offsetOf(1n, 10n) + 5));
    const plan = await planRecovery(await inputs());
    expect(plan.damage).toBeNull();
    expect(plan.validThrough).toBe(9n);
  });

  it('a flipped bit in a middle record is damage: valid through the record before, evidence up to the last', async () => {
    await writeLog([{ zxids: range(1n, 5n) }, { zxids: range(6n, 10n) }]);
    flip('log.1', offsetOf(1n, 4n) + 20);
    const plan = await planRecovery(await inputs());
    expect(plan.validThrough).toBe(3n);
    expect(plan.damage).toMatchObject({ validThrough: 3n, evidenceThrough: 10n });
    expect(plan.damage!.findings[0]).toMatchObject({ file: path.join(DIR, 'log.1'), offset: offsetOf(1n, 4n) });
    expect(plan.beyond).toEqual({ first: 5n, last: 10n, count: 6 });
    expect(describeDamage(plan.damage!)).toContain('whole only through zxid 0x3');
  });

  it('a flipped bit in the very last record is damage too (its batch end marker follows it)', async () => {
    await writeLog([{ zxids: range(1n, 10n) }]);
    flip('log.1', offsetOf(1n, 10n) + 20);
    const plan = await planRecovery(await inputs());
    expect(plan.damage).toMatchObject({ validThrough: 9n, evidenceThrough: null });
  });

  it('a lost write (zeros where a batch was, valid batches after) is damage', async () => {
    await writeLog([{ zxids: range(1n, 3n) }, { zxids: range(4n, 6n) }, { zxids: range(7n, 9n) }]);
    fs.damage(path.join(DIR, 'log.1'), (b) => b.fill(0, offsetOf(1n, 4n), offsetOf(1n, 7n)));
    const plan = await planRecovery(await inputs());
    expect(plan.damage).toMatchObject({ validThrough: 3n, evidenceThrough: 9n });
  });

  it('a missing log file in the middle is damage', async () => {
    await writeLog([{ zxids: range(1n, 5n) }, { zxids: range(6n, 10n), roll: true }, { zxids: range(11n, 15n), roll: true }]);
    await fs.unlink(path.join(DIR, 'log.6'));
    const plan = await planRecovery(await inputs());
    expect(plan.damage).toMatchObject({ validThrough: 5n, evidenceThrough: 15n });
    expect(plan.damage!.findings[0]!.what).toContain('missing');
  });

  it('a hole at or below the snapshot is harmless', async () => {
    await writeLog([{ zxids: range(1n, 5n) }, { zxids: range(6n, 10n) }]);
    flip('log.1', offsetOf(1n, 3n) + 20);
    await snapshot(4n);
    const plan = await planRecovery(await inputs());
    expect(plan.damage).toBeNull();
    expect(plan.validThrough).toBe(10n);
    const log = await FileTxnLog.open({ fs, dir: DIR, log: quiet });
    expect(zxids(await collect(log.read(4n)))).toEqual(range(5n, 10n));
    await log.close();
  });

  it('the only snapshot damaged, the logs before it purged: damage', async () => {
    await writeLog([{ zxids: range(1n, 5n) }, { zxids: range(6n, 10n), roll: true }]);
    await snapshot(5n);
    await fs.unlink(path.join(DIR, 'log.1'));
    flip('snapshot.5', 20);
    const plan = await planRecovery(await inputs());
    expect(plan.snapshot).toBeNull();
    expect(plan.damage).toMatchObject({ validThrough: 0n, evidenceThrough: 10n });
    expect(plan.damage!.findings.map((f) => f.what).join(' ')).toContain('snapshot of 0x5 is damaged');
  });

  it('a damaged newest snapshot that an older one and the log reach past is harmless', async () => {
    await writeLog([{ zxids: range(1n, 10n) }]);
    await snapshot(3n);
    await snapshot(7n);
    flip('snapshot.7', 20);
    const plan = await planRecovery(await inputs());
    expect(plan.snapshot?.zxid).toBe(3n);
    expect(plan.damagedSnapshots.map((s) => s.zxid)).toEqual([7n]);
    expect(plan.validThrough).toBe(10n);
    expect(plan.damage).toBeNull();
  });

  it('each file links to what its first record follows: a missing file at an epoch change is found (zxids alone cannot tell)', async () => {
    const e = (epoch: bigint, c: bigint): bigint => (epoch << 32n) | c;
    await writeLog([{ zxids: [e(1n, 1n), e(1n, 2n)] }, { zxids: [e(1n, 3n), e(1n, 4n)], roll: true }, { zxids: [e(2n, 1n), e(2n, 2n)], roll: true }]);
    await fs.unlink(path.join(DIR, `log.${e(1n, 3n).toString(16)}`));
    const plan = await planRecovery(await inputs());
    expect(plan.damage).toMatchObject({ validThrough: e(1n, 2n), evidenceThrough: e(2n, 2n) });
  });

  it('a damaged snapshot a SNAP installed is not reached by the log, even when later zxids follow it', async () => {
    // Txns of epoch 1, then a leader's SNAP up to <5,8>, then txns of epoch 6: the log holds
    // <1,1..3> and <6,1..2>; only the snapshot held what came between.
    const e = (epoch: bigint, c: bigint): bigint => (epoch << 32n) | c;
    await writeLog([{ zxids: [e(1n, 1n), e(1n, 2n), e(1n, 3n)] }]);
    const snapped = e(5n, 8n);
    await snapshot(snapped);
    const log = await FileTxnLog.open({ fs, dir: DIR, log: quiet });
    await log.truncate(snapped, { snapshot: true });
    for (const z of [e(6n, 1n), e(6n, 2n)]) log.append(makeTxn(z));
    await log.commit();
    await log.close();
    expect((await planRecovery(await inputs())).damage).toBeNull();
    flip(`snapshot.${snapped.toString(16)}`, 20);
    const plan = await planRecovery(await inputs());
    expect(plan.snapshot).toBeNull();
    expect(plan.damage).not.toBeNull();
    expect(plan.validThrough).toBe(e(1n, 3n));
  });

  it('a TRUNC to a zxid that is no txn (a new epoch\'s <4,0>) links the next file to the last txn kept, not to a gap (soak seed 2047385)', async () => {
    const e = (epoch: bigint, c: bigint): bigint => (epoch << 32n) | c;
    await writeLog([{ zxids: [e(2n, 1n), e(2n, 2n)] }, { zxids: [e(4n, 1n)] }]);
    const log = await FileTxnLog.open({ fs, dir: DIR, log: quiet });
    await log.truncate(e(4n, 0n));
    expect(log.lastLoggedZxid()).toBe(e(2n, 2n));
    for (const z of [e(4n, 1n), e(4n, 2n)]) log.append(makeTxn(z));
    await log.commit();
    await log.close();
    const plan = await planRecovery(await inputs());
    expect(plan.damage).toBeNull();
    expect(plan.validThrough).toBe(e(4n, 2n));
  });

  it('cutHistory keeps the history through the cut and sets the rest aside; afterwards nothing is damaged', async () => {
    await writeLog([{ zxids: range(1n, 5n) }, { zxids: range(6n, 10n) }, { zxids: range(11n, 12n), roll: true }]);
    await snapshot(2n);
    flip('log.1', offsetOf(1n, 7n) + 20);
    const io = await inputs();
    const plan = await planRecovery(io);
    expect(plan.validThrough).toBe(6n);
    const cut = await planCut(io, plan, plan.validThrough);
    expect(cut.logFiles).toEqual([path.join(DIR, 'log.b')]);
    expect(cut.cutFile).toMatchObject({ file: path.join(DIR, 'log.1'), keepBytes: offsetOf(1n, 7n), lastZxid: 6n });
    await cutHistory(io, cut);
    expect((await fs.readdir(DIR)).sort()).toEqual(['damaged.log.1', 'damaged.log.b', 'log.1', 'snapshot.2']);
    const after = await planRecovery(await inputs());
    expect(after.damage).toBeNull();
    expect(after.validThrough).toBe(6n);
    const log = await FileTxnLog.open({ fs, dir: DIR, log: quiet });
    expect(zxids(await collect(log.read(2n)))).toEqual(range(3n, 6n));
    expect(log.lastLoggedZxid()).toBe(6n);
    await log.close();
    // The damaged copy is byte for byte the original.
    expect(fs.durableBytes(path.join(DIR, 'damaged.log.1'))![offsetOf(1n, 7n) + 20]).not.toBe(fs.durableBytes(path.join(DIR, 'log.1'))![offsetOf(1n, 7n) + 20]);
  });

  it('a cut outside the recoverable history is refused', async () => {
    await writeLog([{ zxids: range(1n, 10n) }]);
    await snapshot(5n);
    const io = await inputs();
    const plan = await planRecovery(io);
    await expect(planCut(io, plan, 4n)).rejects.toThrow(/recoverable from 0x5/);
    await expect(planCut(io, plan, 11n)).rejects.toThrow(/through 0xa/);
  });
});

describe('epoch files', () => {
  it('round-trips with a checksum line ZooKeeper does not read, and catches a flipped digit', async () => {
    await fs.mkdir(DIR);
    await writeEpochFile(fs, DIR, 'currentEpoch', 3n);
    expect(fs.durableBytes(path.join(DIR, 'currentEpoch'))!.toString().split('\n')[0]).toBe('3');
    expect(await readEpochFile(fs, DIR, 'currentEpoch')).toEqual({ kind: 'ok', epoch: 3n });
    fs.damage(path.join(DIR, 'currentEpoch'), (b) => {
      b[0] = 0x37; // '3' → '7': still a number
    });
    expect((await readEpochFile(fs, DIR, 'currentEpoch')).kind).toBe('damaged');
    expect(await readEpochFile(fs, DIR, 'acceptedEpoch')).toEqual({ kind: 'missing' });
  });

  it('reads a ZooKeeper-written file (no checksum line), and the old place as a fallback', async () => {
    await fs.writeDurable('/data/acceptedEpoch', Buffer.from('5\n'));
    await fs.mkdir(DIR);
    expect(await readEpochFile(fs, DIR, 'acceptedEpoch', '/data')).toEqual({ kind: 'ok', epoch: 5n });
  });
});
