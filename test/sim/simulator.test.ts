/**
 * The simulator itself: a seed replays exactly, the disk keeps only what a crash would keep,
 * the checkers catch what they claim to catch, and `zablab sim` reports failures with one
 * command that replays them.
 */
import { describe, expect, it } from 'vitest';
import {
  Checkers,
  encodeSnapshot,
  encodeWrite,
  Prng,
  runSeed,
  SimDisk,
  simMain,
  txn,
  type CheckerView,
} from '../../src/sim/index.js';
import { makeZxid } from '../../src/zab/index.js';

describe('determinism', () => {
  it('the same seed gives the same run, event for event', () => {
    const a: string[] = [];
    const b: string[] = [];
    const ra = runSeed(424242, { steps: 120, trace: (l) => a.push(l) });
    const rb = runSeed(424242, { steps: 120, trace: (l) => b.push(l) });
    expect(ra.ok).toBe(true);
    expect(a.length).toBeGreaterThan(1000);
    expect(b).toEqual(a);
    expect(rb.stats).toEqual(ra.stats);
  });

  it('a run with explicit sizes replays the run whose sizes were drawn from the seed', () => {
    const drawn = runSeed(77, { steps: 60 });
    const explicit = runSeed(77, { steps: 60, voters: drawn.voters, observers: drawn.observers });
    expect(explicit.stats).toEqual(drawn.stats);
    expect(drawn.replay).toBe(`npx zablab sim --seed 77 --voters ${drawn.voters} --observers ${drawn.observers} --steps 60`);
  });

  it('different seeds explore different runs', () => {
    expect(runSeed(1, { steps: 60 }).stats).not.toEqual(runSeed(2, { steps: 60 }).stats);
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

describe('simulated disk', () => {
  const t1 = txn(1, 1, 11);
  const t2 = txn(1, 2, 12);
  const t3 = txn(1, 3, 13);

  it('a crash keeps the fsynced data and the chosen prefix of what was written after', () => {
    const d = new SimDisk();
    d.write([{ kind: 'append', txns: [t1] }, { kind: 'acceptedEpoch', epoch: 1n }]);
    d.fsync();
    d.write([{ kind: 'append', txns: [t2] }, { kind: 'currentEpoch', epoch: 1n }, { kind: 'append', txns: [t3] }]);
    d.crash(2, false);
    const r = d.recover().disk;
    expect(r.log.map((t) => t.zxid)).toEqual([t1.zxid, t2.zxid]);
    expect(r.acceptedEpoch).toBe(1n);
    expect(r.currentEpoch).toBe(1n);
  });

  it('recovery drops a torn record at the tail of the log, keeps the whole records before it', () => {
    const d = new SimDisk();
    d.write([{ kind: 'append', txns: [t1] }]);
    d.fsync();
    d.write([{ kind: 'append', txns: [t2, t3] }]);
    d.crash(0, true); // t2 reached the disk whole, t3 only in part
    const r = d.recover();
    expect(r.tornDropped).toBe(true);
    expect(r.disk.log.map((t) => t.zxid)).toEqual([t1.zxid, t2.zxid]);
  });

  it('restores from a snapshot plus the log after it; appends the snapshot holds are skipped', () => {
    const d = new SimDisk();
    d.write([{ kind: 'append', txns: [t1, t2] }]);
    d.saveSnapshot({ zxid: t2.zxid, entries: [{ zxid: t1.zxid, writeId: 11 }, { zxid: t2.zxid, writeId: 12 }] });
    d.fsync(); // the snapshot was ahead of the log: the fsynced appends are already in it
    d.write([{ kind: 'append', txns: [t3] }]);
    d.fsync();
    const r = d.recover();
    expect(r.disk.appliedZxid).toBe(t2.zxid);
    expect(r.disk.log.map((t) => t.zxid)).toEqual([t3.zxid]);
    expect(d.holdsDurably(t1.zxid, 11)).toBe(true);
    expect(d.holdsDurably(t3.zxid, 13)).toBe(true);
    expect(d.holdsDurably(t3.zxid, 99)).toBe(false);
  });

  it('an installed snapshot replaces the log', () => {
    const d = new SimDisk();
    d.write([{ kind: 'append', txns: [t1] }]);
    d.fsync();
    const image = [{ zxid: makeZxid(2n, 1n), writeId: 21 }];
    d.write([{ kind: 'installSnapshot', zxid: makeZxid(2n, 1n), snapshot: encodeSnapshot(image) }]);
    d.fsync();
    expect(d.recover().disk).toMatchObject({ appliedZxid: makeZxid(2n, 1n), log: [] });
  });
});

describe('checkers', () => {
  function view(disks: SimDisk[]): CheckerView {
    return { now: 0, voterIds: disks.map((_, i) => i + 1), quorumSize: Math.floor(disks.length / 2) + 1, disk: (id) => disks[id - 1]! };
  }
  function durable(...txns: ReturnType<typeof txn>[]): SimDisk {
    const d = new SimDisk();
    d.write([{ kind: 'append', txns }]);
    d.fsync();
    return d;
  }
  const e = (counter: number, writeId: number) => ({ zxid: makeZxid(1n, BigInt(counter)), writeId });

  it('flags two servers applying different txns at the same position', () => {
    const c = new Checkers(view([durable(txn(1, 1, 1), txn(1, 2, 2)), durable(txn(1, 1, 1), txn(1, 2, 2)), new SimDisk()]));
    c.onApply(1, [e(1, 1)]);
    c.onApply(2, [e(2, 2)]);
    expect(c.violations.map((v) => v.check)).toContain('prefix');
  });

  it('flags an apply that no quorum of voters holds durably', () => {
    const c = new Checkers(view([durable(txn(1, 1, 1)), new SimDisk(), new SimDisk()]));
    c.onApply(1, [e(1, 1)]);
    expect(c.violations.map((v) => v.check)).toEqual(['quorum']);
  });

  it('flags two leaders of one epoch, and a leader that lost an acknowledged write', () => {
    const c = new Checkers(view([durable(txn(1, 1, 1)), durable(txn(1, 1, 1)), new SimDisk()]));
    c.onApply(1, [e(1, 1)]);
    c.onWriteAcked({ writeId: 1, zxid: e(1, 1).zxid, index: 0, server: 1, time: 0 });
    c.onLeaderServing(2, 2n, []);
    c.onLeaderServing(3, 2n, [e(1, 1)]);
    expect(c.violations.map((v) => v.check)).toEqual(['acked', 'election']);
  });

  it('flags one zxid logged as two different txns', () => {
    const c = new Checkers(view([new SimDisk()]));
    c.onLogAppend(1, txn(1, 1, 1));
    c.onLogAppend(2, { zxid: makeZxid(1n, 1n), data: encodeWrite(2) });
    expect(c.violations.map((v) => v.check)).toEqual(['log']);
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
