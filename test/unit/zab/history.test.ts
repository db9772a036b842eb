import { describe, expect, it } from 'vitest';
import { History } from '../../../src/zab/history.js';
import { makeZxid, type Txn } from '../../../src/zab/index.js';

const t = (epoch: number, n: number): Txn => ({ zxid: makeZxid(BigInt(epoch), BigInt(n)), data: new Uint8Array([epoch, n]) });

describe('History (the in-memory log tail a leader DIFFs from)', () => {
  it('appends in zxid order only', () => {
    const h = new History(0n, [t(1, 1), t(1, 2)]);
    expect(h.lastZxid).toBe(makeZxid(1n, 2n));
    expect(() => h.append(t(1, 2))).toThrow(/appended after/);
    h.append(t(2, 1));
    expect(h.size).toBe(3);
  });

  it('answers contains/floor/range around the base', () => {
    const h = new History(makeZxid(1n, 5n), [t(1, 6), t(1, 7), t(2, 1)]);
    expect(h.contains(makeZxid(1n, 5n))).toBe(true);
    expect(h.contains(makeZxid(1n, 7n))).toBe(true);
    expect(h.contains(makeZxid(1n, 8n))).toBe(false);
    expect(h.floor(makeZxid(1n, 9n))).toBe(makeZxid(1n, 7n));
    expect(h.floor(makeZxid(1n, 4n))).toBeNull();
    expect(h.range(makeZxid(1n, 6n)).map((x) => x.zxid)).toEqual([makeZxid(1n, 7n), makeZxid(2n, 1n)]);
    expect(h.get(makeZxid(2n, 1n))?.data).toEqual(new Uint8Array([2, 1]));
  });

  it('truncates to a zxid, never below its base', () => {
    const h = new History(makeZxid(1n, 5n), [t(1, 6), t(1, 7), t(1, 8)]);
    h.truncate(makeZxid(1n, 6n));
    expect(h.lastZxid).toBe(makeZxid(1n, 6n));
    expect(() => h.truncate(makeZxid(1n, 4n))).toThrow(/below base/);
  });

  it('trims applied entries beyond `keep`, moving the base up; unapplied entries stay', () => {
    const h = new History(0n, [t(1, 1), t(1, 2), t(1, 3), t(1, 4), t(1, 5)]);
    h.trim(makeZxid(1n, 4n), 2);
    expect(h.base).toBe(makeZxid(1n, 2n));
    expect(h.all().map((x) => x.zxid)).toEqual([makeZxid(1n, 3n), makeZxid(1n, 4n), makeZxid(1n, 5n)]);
  });

  it('resets to a snapshot', () => {
    const h = new History(0n, [t(1, 1)]);
    h.reset(makeZxid(3n, 9n));
    expect(h.size).toBe(0);
    expect(h.lastZxid).toBe(makeZxid(3n, 9n));
  });
});
