/**
 * The simulator itself: a seed replays exactly, a simulated disk keeps only what a crash
 * would keep (through the server's own storage code), the checkers catch what they claim to
 * catch, and `zablab sim` reports failures with one command that replays them.
 */
import { describe, expect, it } from 'vitest';
import { decodeLoggedTxn } from '../../src/jute/index.js';
import { Checkers, Prng, runSeed, SimDisk, simMain, writeTxn, type CheckerView } from '../../src/sim/index.js';
import { FileTxnLog } from '../../src/storage/index.js';
import { makeZxid } from '../../src/zab/index.js';

describe('determinism', () => {
  it('the same seed gives the same run, event for event', async () => {
    const a: string[] = [];
    const b: string[] = [];
    const ra = await runSeed(424242, { steps: 120, trace: (l) => a.push(l) });
    const rb = await runSeed(424242, { steps: 120, trace: (l) => b.push(l) });
    expect(ra.ok).toBe(true);
    expect(a.length).toBeGreaterThan(1000);
    expect(b).toEqual(a);
    expect(rb.stats).toEqual(ra.stats);
  });

  it('a run with explicit sizes replays the run whose sizes were drawn from the seed', async () => {
    const drawn = await runSeed(77, { steps: 60 });
    const explicit = await runSeed(77, { steps: 60, voters: drawn.voters, observers: drawn.observers });
    expect(explicit.stats).toEqual(drawn.stats);
    expect(drawn.replay).toBe(`npx zablab sim --seed 77 --voters ${drawn.voters} --observers ${drawn.observers} --steps 60`);
  });

  it('different seeds explore different runs', async () => {
    expect((await runSeed(1, { steps: 60 })).stats).not.toEqual((await runSeed(2, { steps: 60 })).stats);
  });

  it('the PRNG is a pure function of its seed and stays in range', () => {
    const x = new Prng(9);
    const y = new Prng(9);
    for (let i = 0; i < 1000; i++) {
      const n = x.int(3, 7);
      expect(n).toBe(y.int(3, 7));
      expect(n >= 3 && n <= 7).toBe(true);
    }
  });
});

/** A disk whose fsyncs finish when `hold` says, for the storage code to run on. */
function diskOf(id = 1): { disk: SimDisk; held: (() => void)[]; hold: { on: boolean } } {
  const held: (() => void)[] = [];
  const hold = { on: false };
  const disk = new SimDisk(id, () => (_kind, release) => (hold.on ? held.push(release) : release()));
  return { disk, held, hold };
}

async function logWrites(disk: SimDisk, writes: [number, number][]): Promise<FileTxnLog> {
  await disk.fs.mkdir(disk.dir);
  const log = await FileTxnLog.open({ fs: disk.fs, dir: disk.dir, log: () => undefined });
  for (const [counter, w] of writes) log.append(decodeLoggedTxn(Buffer.from(writeTxn(makeZxid(1n, BigInt(counter)), w))));
  return log;
}

describe('simulated disk', () => {
  it('a power loss keeps what was fsynced; a process crash keeps what was written', async () => {
    const { disk, held, hold } = diskOf();
    const log = await logWrites(disk, [[1, 11]]);
    await log.commit();
    hold.on = true;
    log.append(decodeLoggedTxn(Buffer.from(writeTxn(makeZxid(1n, 2n), 12))));
    const pending = log.commit();
    await new Promise((r) => setImmediate(r));
    expect(held.length).toBe(1); // the second batch waits on its fsync
    expect(disk.log.map((r) => r.writeId)).toEqual([11]);
    disk.crash({ keepFileOps: (_f, n) => n, keepDirOps: (_d, n) => n });
    expect(disk.log.map((r) => r.writeId)).toEqual([11, 12]);
    void pending.catch(() => undefined);
    const other = diskOf(2);
    const log2 = await logWrites(other.disk, [[1, 21]]);
    await log2.commit();
    other.hold.on = true;
    log2.append(decodeLoggedTxn(Buffer.from(writeTxn(makeZxid(1n, 2n), 22))));
    void log2.commit().catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    other.disk.crash({});
    expect(other.disk.log.map((r) => r.writeId)).toEqual([21]);
  });

  it('a torn write leaves whole records before it, and the storage code cuts the torn one on open', async () => {
    const { disk, hold } = diskOf();
    const log = await logWrites(disk, [[1, 11]]);
    await log.commit();
    hold.on = true;
    for (const [c, w] of [[2, 12], [3, 13]] as const) log.append(decodeLoggedTxn(Buffer.from(writeTxn(makeZxid(1n, BigInt(c)), w))));
    void log.commit().catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    // The batch reaches the disk up to the middle of its second record.
    disk.crash({ keepFileOps: () => 0, tornBytes: (_f, n) => Math.floor(n * 0.7) });
    expect(disk.log.map((r) => r.writeId)).toEqual([11, 12]);
    hold.on = false;
    const messages: string[] = [];
    const reopened = await FileTxnLog.open({ fs: disk.fs, dir: disk.dir, log: (m) => messages.push(m) });
    expect(reopened.lastLoggedZxid()).toBe(makeZxid(1n, 2n));
    expect(messages.join('\n')).toContain('cut a torn tail');
    await reopened.close();
  });

  it('holdsDurably answers from the log records a restart could read', async () => {
    const { disk } = diskOf();
    const log = await logWrites(disk, [[1, 11], [2, 12]]);
    await log.close();
    expect(disk.holdsDurably(makeZxid(1n, 2n), 12)).toBe(true);
    expect(disk.holdsDurably(makeZxid(1n, 2n), 99)).toBe(false);
    expect(disk.holdsDurably(makeZxid(1n, 3n), 13)).toBe(false);
    expect(disk.lastDurableZxid).toBe(makeZxid(1n, 2n));
  });
});

describe('checkers', () => {
  async function durable(...writes: [number, number][]): Promise<SimDisk> {
    const { disk } = diskOf();
    if (writes.length > 0) await (await logWrites(disk, writes)).close();
    return disk;
  }
  function view(disks: SimDisk[]): CheckerView {
    return { now: 0, voterIds: disks.map((_, i) => i + 1), quorumSize: Math.floor(disks.length / 2) + 1, disk: (id) => disks[id - 1]! };
  }
  const e = (counter: number, writeId: number) => ({ zxid: makeZxid(1n, BigInt(counter)), writeId });
  const txn = (counter: number, writeId: number) => ({ zxid: makeZxid(1n, BigInt(counter)), data: writeTxn(makeZxid(1n, BigInt(counter)), writeId) });

  it('flags two servers applying different txns at the same position', async () => {
    const c = new Checkers(view([await durable([1, 1], [2, 2]), await durable([1, 1], [2, 2]), await durable()]));
    c.onApply(1, [e(1, 1)]);
    c.onApply(2, [e(2, 2)]);
    expect(c.violations.map((v) => v.check)).toContain('prefix');
  });

  it('flags an apply that no quorum of voters holds durably', async () => {
    const c = new Checkers(view([await durable([1, 1]), await durable(), await durable()]));
    c.onApply(1, [e(1, 1)]);
    expect(c.violations.map((v) => v.check)).toEqual(['quorum']);
  });

  it('flags two leaders of one epoch, and a leader that lost an acknowledged write', async () => {
    const c = new Checkers(view([await durable([1, 1]), await durable([1, 1]), await durable()]));
    c.onApply(1, [e(1, 1)]);
    c.onWriteAcked({ writeId: 1, zxid: e(1, 1).zxid, index: 0, server: 1, time: 0 });
    c.onLeaderServing(2, 2n, []);
    c.onLeaderServing(3, 2n, [e(1, 1)]);
    expect(c.violations.map((v) => v.check)).toEqual(['acked', 'election']);
  });

  it('flags one zxid logged as two different txns', async () => {
    const c = new Checkers(view([await durable()]));
    c.onLogAppend(1, txn(1, 1));
    c.onLogAppend(2, { zxid: makeZxid(1n, 1n), data: writeTxn(makeZxid(1n, 1n), 2) });
    expect(c.violations.map((v) => v.check)).toEqual(['log']);
  });

  it('flags servers that end with different trees', async () => {
    const c = new Checkers(view([await durable()]));
    c.checkDigests([
      [1, 5n],
      [2, 5n],
      [3, 6n],
    ]);
    expect(c.violations.map((v) => v.check)).toEqual(['digest']);
  });
});

describe('zablab sim', () => {
  function io() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) } };
  }

  it('runs seeds and prints their stats', async () => {
    const t = io();
    const code = await simMain(['--seed', '5', '--seeds', '2', '--voters', '3', '--observers', '1', '--steps', '50'], t.io);
    expect(code).toBe(0);
    const text = t.out.join('');
    expect(text).toMatch(/seed 5 \(3v\+1o\): \d+ ticks, \d+ elections/);
    expect(text).toMatch(/2 seeds ok in [\d.]+ s \([\d.]+ seeds\/s/);
  });

  it('a failing run exits 1 and prints the one command that replays it', async () => {
    const t = io();
    // A liveness bound of one tick cannot be met: the run fails on purpose.
    const code = await simMain(['--seed', '9', '--voters', '5', '--observers', '0', '--steps', '20', '--liveness-ticks', '1'], t.io);
    expect(code).toBe(1);
    const replays = t.err.join('').split('\n').filter((l) => l.startsWith('replay: '));
    expect(replays).toEqual(['replay: npx zablab sim --seed 9 --voters 5 --observers 0 --steps 20 --liveness-ticks 1']);
    expect(t.err.join('')).toContain('[liveness]');
  });

  it('a usage mistake exits 2 with a message that says what is wrong', async () => {
    const t = io();
    expect(await simMain(['--voters', 'many'], t.io)).toBe(2);
    expect(t.err.join('')).toContain('--voters must be an integer');
  });
});
