/**
 * The TxnLog contract, run against every implementation (hono's runTest({ newRouter }) style).
 * `open` gives a fresh empty log; `reopen`, when the implementation outlives its object,
 * gives the same log again after close() — a restart.
 */
import { describe, expect, it } from 'vitest';
import { encodeLoggedTxn, type LoggedTxn } from '../../../src/jute/index.js';
import { StorageError, type FsyncInfo, type TxnLog } from '../../../src/storage/index.js';
import { collect, makeTxn, range, zxids } from './fixtures.js';

export interface TxnLogSubject {
  log: TxnLog;
  reopen?: () => Promise<TxnLog>;
}

/** `open` must return a `reopen` for implementations that outlive their object (files): restart tests need it. */
export function runTxnLogConformance(name: string, open: () => Promise<TxnLogSubject>, opts: { restarts: boolean }): void {
  async function appendAll(log: TxnLog, from: bigint, to: bigint): Promise<LoggedTxn[]> {
    const txns = range(from, to).map((z) => makeTxn(z));
    for (const t of txns) log.append(t);
    await log.commit();
    return txns;
  }

  function expectCode(fn: () => unknown, code: string): void {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).code).toBe(code);
      return;
    }
    expect.fail(`expected ${code}`);
  }

  describe(`TxnLog conformance: ${name}`, () => {
    it('starts empty', async () => {
      const { log } = await open();
      expect(log.lastLoggedZxid()).toBe(0n);
      expect(await collect(log.read(0n))).toEqual([]);
      await log.close();
    });

    it('gives back every kind of txn exactly as appended, in zxid order', async () => {
      const { log } = await open();
      const txns = await appendAll(log, 1n, 60n);
      expect(await collect(log.read(0n))).toEqual(txns);
      expect(log.lastLoggedZxid()).toBe(60n);
      await log.close();
    });

    it('appendEntry takes a txn already encoded, as append takes it decoded', async () => {
      const { log } = await open();
      const txns = range(1n, 12n).map((z) => makeTxn(z));
      for (const t of txns) {
        if (t.hdr.zxid % 2n === 0n) log.appendEntry(encodeLoggedTxn(t));
        else log.append(t);
      }
      await log.commit();
      expect(await collect(log.read(0n))).toEqual(txns);
      expectCode(() => log.appendEntry(encodeLoggedTxn(makeTxn(12n))), 'ZABLAB_STORAGE_ZXID_ORDER');
      expectCode(() => log.appendEntry(Buffer.alloc(8)), 'ZABLAB_STORAGE_BAD_ARGUMENT');
      await log.close();
    });

    it('reads only txns after the given zxid', async () => {
      const { log } = await open();
      await appendAll(log, 1n, 20n);
      expect(zxids(await collect(log.read(12n)))).toEqual(range(13n, 20n));
      expect(await collect(log.read(20n))).toEqual([]);
      expect(await collect(log.read(99n))).toEqual([]);
      await log.close();
    });

    it('keeps zxids of several epochs in order', async () => {
      const { log } = await open();
      const epoch1 = [0x100000001n, 0x100000002n, 0x100000003n];
      const epoch2 = [0x200000001n, 0x200000002n];
      for (const z of epoch1) log.append(makeTxn(z));
      await log.commit();
      log.rollLog();
      for (const z of epoch2) log.append(makeTxn(z));
      await log.commit();
      expect(zxids(await collect(log.read(0x100000002n)))).toEqual([0x100000003n, ...epoch2]);
      expect(log.lastLoggedZxid()).toBe(0x200000002n);
      await log.close();
    });

    it('does not show appended txns to readers before commit() resolves', async () => {
      const { log } = await open();
      await appendAll(log, 1n, 3n);
      log.append(makeTxn(4n));
      log.append(makeTxn(5n));
      expect(log.lastLoggedZxid()).toBe(5n);
      expect(zxids(await collect(log.read(0n)))).toEqual(range(1n, 3n));
      await log.commit();
      expect(zxids(await collect(log.read(0n)))).toEqual(range(1n, 5n));
      await log.close();
    });

    it('refuses a zxid that does not increase, and stays usable', async () => {
      const { log } = await open();
      await appendAll(log, 1n, 5n);
      expectCode(() => log.append(makeTxn(5n)), 'ZABLAB_STORAGE_ZXID_ORDER');
      expectCode(() => log.append(makeTxn(2n)), 'ZABLAB_STORAGE_ZXID_ORDER');
      await appendAll(log, 6n, 6n);
      expect(zxids(await collect(log.read(0n)))).toEqual(range(1n, 6n));
      await log.close();
    });

    it('refuses a txn over the size limit instead of writing what it could not read back', async () => {
      const { log } = await open();
      expectCode(() => log.append(makeTxn(6n, 2 * 1024 * 1024)), 'ZABLAB_STORAGE_TXN_TOO_LARGE');
      const big = makeTxn(6n, 1000 * 1024);
      log.append(big);
      await log.commit();
      const [back] = await collect(log.read(0n));
      // Compared as bytes: a deep equality walk over a megabyte is needlessly slow.
      expect(back && encodeLoggedTxn(back).equals(encodeLoggedTxn(big))).toBe(true);
      await log.close();
    });

    it('group commit: many concurrent append+commit pairs share a few fsyncs', async () => {
      const { log } = await open();
      const fsyncs: FsyncInfo[] = [];
      log.onFsync = (info) => fsyncs.push(info);
      const n = 200;
      const commits: Promise<void>[] = [];
      for (let z = 1n; z <= BigInt(n); z++) {
        log.append(makeTxn(z));
        commits.push(log.commit());
      }
      await Promise.all(commits);
      expect(fsyncs.length).toBeGreaterThan(0);
      expect(fsyncs.length).toBeLessThanOrEqual(3);
      expect(fsyncs.reduce((s, f) => s + f.txns, 0)).toBe(n);
      for (const f of fsyncs) {
        expect(f.bytes).toBeGreaterThan(0);
        expect(f.durationMs).toBeGreaterThanOrEqual(0);
      }
      expect(zxids(await collect(log.read(0n)))).toEqual(range(1n, BigInt(n)));
      await log.close();
    });

    it('commit() with nothing new waits for the batch in flight, and costs no fsync of its own', async () => {
      const { log } = await open();
      let fsyncs = 0;
      log.onFsync = () => fsyncs++;
      await log.commit();
      expect(fsyncs).toBe(0);
      log.append(makeTxn(1n));
      const first = log.commit();
      const second = log.commit();
      await second;
      expect(zxids(await collect(log.read(0n)))).toEqual([1n]);
      await first;
      expect(fsyncs).toBe(1);
      await log.close();
    });

    it('a commit resolves only after the txns appended before it are readable', async () => {
      const { log } = await open();
      const firstSeen: Promise<bigint | undefined>[] = [];
      for (let z = 1n; z <= 50n; z++) {
        log.append(makeTxn(z));
        const committed = z;
        firstSeen.push(log.commit().then(async () => zxids(await collect(log.read(committed - 1n)))[0]));
      }
      expect(await Promise.all(firstSeen)).toEqual(range(1n, 50n));
      await log.close();
    });

    it('rollLog: reads run across files, wherever the rolls fall', async () => {
      const { log } = await open();
      await appendAll(log, 1n, 10n);
      log.rollLog();
      log.rollLog();
      await appendAll(log, 11n, 20n);
      log.append(makeTxn(21n));
      log.rollLog();
      log.append(makeTxn(22n));
      await log.commit();
      log.rollLog();
      expect(zxids(await collect(log.read(0n)))).toEqual(range(1n, 22n));
      expect(zxids(await collect(log.read(10n)))).toEqual(range(11n, 22n));
      expect(zxids(await collect(log.read(11n)))).toEqual(range(12n, 22n));
      expect(zxids(await collect(log.read(21n)))).toEqual([22n]);
      await log.close();
    });

    it('truncate drops every txn above the zxid, across files, and appends continue after it', async () => {
      const { log } = await open();
      await appendAll(log, 1n, 10n);
      log.rollLog();
      await appendAll(log, 11n, 20n);
      log.rollLog();
      await appendAll(log, 21n, 30n);
      await log.truncate(15n);
      expect(log.lastLoggedZxid()).toBe(15n);
      expect(zxids(await collect(log.read(0n)))).toEqual(range(1n, 15n));
      const replacement = makeTxn(16n, 99);
      log.append(replacement);
      await log.commit();
      const all = await collect(log.read(0n));
      expect(zxids(all)).toEqual(range(1n, 16n));
      expect(all.at(-1)).toEqual(replacement);
      await log.close();
    });

    it('truncate at a file boundary, above the end, and to nothing', async () => {
      const { log } = await open();
      await appendAll(log, 1n, 10n);
      log.rollLog();
      await appendAll(log, 11n, 20n);
      await log.truncate(99n);
      expect(zxids(await collect(log.read(0n)))).toEqual(range(1n, 20n));
      expect(log.lastLoggedZxid()).toBe(20n);
      // Under a snapshot of 99 the history ends there.
      await log.truncate(99n, { snapshot: true });
      expect(log.lastLoggedZxid()).toBe(99n);
      await log.truncate(10n);
      expect(zxids(await collect(log.read(0n)))).toEqual(range(1n, 10n));
      expect(log.lastLoggedZxid()).toBe(10n);
      await log.truncate(0n);
      expect(await collect(log.read(0n))).toEqual([]);
      expect(log.lastLoggedZxid()).toBe(0n);
      await appendAll(log, 1n, 2n);
      expect(zxids(await collect(log.read(0n)))).toEqual([1n, 2n]);
      await log.close();
    });

    it('truncate commits what was appended before it', async () => {
      const { log } = await open();
      for (const z of range(1n, 5n)) log.append(makeTxn(z));
      await log.truncate(3n);
      expect(zxids(await collect(log.read(0n)))).toEqual(range(1n, 3n));
      expect(log.lastLoggedZxid()).toBe(3n);
      await log.close();
    });

    it('refuses appends while a truncate runs', async () => {
      const { log } = await open();
      await appendAll(log, 1n, 5n);
      const truncating = log.truncate(2n);
      expectCode(() => log.append(makeTxn(6n)), 'ZABLAB_STORAGE_BUSY');
      await truncating;
      await appendAll(log, 3n, 3n);
      await log.close();
    });

    it('is unusable after close(), which commits what was pending', async () => {
      const subject = await open();
      const { log } = subject;
      await appendAll(log, 1n, 2n);
      log.append(makeTxn(3n));
      await log.close();
      expectCode(() => log.append(makeTxn(4n)), 'ZABLAB_STORAGE_CLOSED');
      await expect(log.commit()).rejects.toMatchObject({ code: 'ZABLAB_STORAGE_CLOSED' });
      await log.close();
      if (subject.reopen) {
        const again = await subject.reopen();
        expect(zxids(await collect(again.read(0n)))).toEqual(range(1n, 3n));
        await again.close();
      }
    });

    it.runIf(opts.restarts)('after a restart: committed txns, lastLoggedZxid and truncations are all still there', async () => {
      const subject = await open();
      if (!subject.reopen) throw new Error(`${name}: restart tests need open() to return reopen`);
      const log = subject.log;
      await appendAll(log, 1n, 10n);
      log.rollLog();
      const txns = [...(await collect(log.read(0n))), ...(await appendAll(log, 11n, 25n))];
      await log.truncate(22n);
      await log.close();

      const again = await subject.reopen();
      expect(again.lastLoggedZxid()).toBe(22n);
      expect(await collect(again.read(0n))).toEqual(txns.slice(0, 22));
      expectCode(() => again.append(makeTxn(22n)), 'ZABLAB_STORAGE_ZXID_ORDER');
      await appendAll(again, 23n, 30n);
      await again.close();

      const third = await subject.reopen();
      expect(zxids(await collect(third.read(20n)))).toEqual(range(21n, 30n));
      expect(third.lastLoggedZxid()).toBe(30n);
      await third.close();
    });
  });
}
