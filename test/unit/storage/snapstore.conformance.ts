/** The SnapStore contract, run against every implementation. */
import { describe, expect, it } from 'vitest';
import type { SnapStore } from '../../../src/storage/index.js';

export interface SnapStoreSubject {
  store: SnapStore;
  reopen?: () => Promise<SnapStore>;
}

function* pieces(count: number, size: number, seed: number): Generator<Buffer> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(size, (seed + i) % 256);
}

async function* asyncPieces(count: number, size: number, seed: number): AsyncGenerator<Buffer> {
  for (const p of pieces(count, size, seed)) {
    await Promise.resolve();
    yield p;
  }
}

export function runSnapStoreConformance(name: string, open: () => Promise<SnapStoreSubject>): void {
  describe(`SnapStore conformance: ${name}`, () => {
    it('starts empty', async () => {
      const { store } = await open();
      expect(await store.list()).toEqual([]);
      expect(await store.loadNewest()).toBeNull();
      await store.close();
    });

    it('gives back the body of the newest snapshot, from sync or async pieces', async () => {
      const { store } = await open();
      await store.save(0x100000005n, pieces(10, 1000, 1));
      await store.save(0x100000009n, asyncPieces(7, 333, 2));
      expect(await store.list()).toEqual([0x100000009n, 0x100000005n]);
      const newest = await store.loadNewest();
      expect(newest?.zxid).toBe(0x100000009n);
      expect(newest?.body).toEqual(Buffer.concat([...pieces(7, 333, 2)]));
      await store.close();
    });

    it('lists newest first, whatever the order of saves', async () => {
      const { store } = await open();
      for (const z of [5n, 300n, 17n, 0x1_0000_0000n]) await store.save(z, [Buffer.from(`at ${z}`)]);
      expect(await store.list()).toEqual([0x1_0000_0000n, 300n, 17n, 5n]);
      expect((await store.loadNewest())?.body.toString()).toBe(`at ${0x1_0000_0000n}`);
      await store.close();
    });

    it('keeps an empty body, and a body of many pieces, byte for byte', async () => {
      const { store } = await open();
      await store.save(1n, []);
      expect((await store.loadNewest())?.body.length).toBe(0);
      const big = [...pieces(300, 10_000, 7), Buffer.alloc(3 * 1024 * 1024, 9), ...pieces(5, 1, 3)];
      await store.save(2n, big);
      expect((await store.loadNewest())?.body.equals(Buffer.concat(big))).toBe(true);
      await store.close();
    });

    it('a later save at the same zxid replaces the snapshot', async () => {
      const { store } = await open();
      await store.save(7n, [Buffer.from('first')]);
      await store.save(7n, [Buffer.from('second')]);
      expect(await store.list()).toEqual([7n]);
      expect((await store.loadNewest())?.body.toString()).toBe('second');
      await store.close();
    });

    it('lets the event loop run between pieces', async () => {
      const { store } = await open();
      let turns = 0;
      let turnsSeenByLastPiece = -1;
      let stopped = false;
      // Another task that needs the event loop: it runs once per turn.
      const tick = (): void => {
        turns++;
        if (!stopped) setImmediate(tick);
      };
      setImmediate(tick);
      function* body(): Generator<Buffer> {
        for (let i = 0; i < 40; i++) {
          turnsSeenByLastPiece = turns;
          yield Buffer.alloc(100, i);
        }
      }
      try {
        await store.save(1n, body());
      } finally {
        stopped = true;
      }
      expect(turnsSeenByLastPiece).toBeGreaterThanOrEqual(30);
      await store.close();
    });

    it('the caller may reuse a piece buffer once the next piece is asked for', async () => {
      const { store } = await open();
      const scratch = Buffer.alloc(64);
      function* body(): Generator<Buffer> {
        for (let i = 0; i < 10; i++) {
          scratch.fill(i);
          yield scratch;
        }
      }
      await store.save(3n, body());
      const expected = Buffer.concat(Array.from({ length: 10 }, (_, i) => Buffer.alloc(64, i)));
      expect((await store.loadNewest())?.body.equals(expected)).toBe(true);
      await store.close();
    });

    it('a save whose body fails leaves no snapshot behind', async () => {
      const { store } = await open();
      await store.save(1n, [Buffer.from('good')]);
      function* failing(): Generator<Buffer> {
        yield Buffer.from('partial');
        throw new Error('tree walk failed');
      }
      await expect(store.save(2n, failing())).rejects.toThrow('tree walk failed');
      expect(await store.list()).toEqual([1n]);
      expect((await store.loadNewest())?.body.toString()).toBe('good');
      await store.close();
    });

    it('saves run one after another, in call order', async () => {
      const { store } = await open();
      await Promise.all([store.save(1n, asyncPieces(5, 10, 1)), store.save(2n, [Buffer.from('two')]), store.save(2n, [Buffer.from('again')])]);
      expect(await store.list()).toEqual([2n, 1n]);
      expect((await store.loadNewest())?.body.toString()).toBe('again');
      await store.close();
    });

    it('is unusable after close(), and (when it can) keeps its snapshots across a restart', async () => {
      const subject = await open();
      await subject.store.save(4n, [Buffer.from('kept')]);
      await subject.store.close();
      await expect(subject.store.save(5n, [])).rejects.toMatchObject({ code: 'ZABLAB_STORAGE_CLOSED' });
      await expect(subject.store.loadNewest()).rejects.toMatchObject({ code: 'ZABLAB_STORAGE_CLOSED' });
      if (subject.reopen) {
        const again = await subject.reopen();
        expect(await again.loadNewest()).toEqual({ zxid: 4n, body: Buffer.from('kept') });
        await again.close();
      }
    });
  });
}
