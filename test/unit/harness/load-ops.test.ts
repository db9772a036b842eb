/**
 * The op mix every load driver draws from: readPct and the per-op weights become shares of
 * all operations, the seeded pickers converge to them, and one seed gives one sequence.
 */
import { describe, expect, it } from 'vitest';
import { KeyPicker, OpPicker, keyPath, opMix } from '../../../src/harness/load/ops.js';
import type { OpKind, WorkloadSection } from '../../../src/harness/scenario/types.js';

function workload(over: Partial<WorkloadSection>): WorkloadSection {
  return {
    readPct: 90,
    reads: {},
    writes: {},
    valueSize: 16,
    keys: 100,
    clients: 1,
    connections: 1,
    pipelining: 1,
    rate: null,
    durationMs: 1_000,
    warmupMs: 0,
    ...over,
  };
}

function shares(picker: OpPicker, n: number): Map<OpKind, number> {
  const counts = new Map<OpKind, number>();
  for (let i = 0; i < n; i++) {
    const op = picker.next();
    counts.set(op, (counts.get(op) ?? 0) + 1);
  }
  return new Map([...counts].map(([op, c]) => [op, c / n]));
}

describe('opMix', () => {
  it('splits reads from writes by readPct, with getData and setData by default', () => {
    expect(opMix(workload({ readPct: 90 }))).toEqual([
      { op: 'getData', weight: 0.9 },
      { op: 'setData', weight: expect.closeTo(0.1, 10) as number },
    ]);
  });

  it('splits each side by its weights and leaves out ops with weight 0', () => {
    const mix = opMix(workload({ readPct: 50, reads: { getData: 3, exists: 1, getChildren: 0 }, writes: { setData: 1, create: 1, delete: 1, multi: 1, sync: 0 } }));
    expect(mix).toEqual([
      { op: 'getData', weight: 0.375 },
      { op: 'exists', weight: 0.125 },
      { op: 'setData', weight: 0.125 },
      { op: 'create', weight: 0.125 },
      { op: 'delete', weight: 0.125 },
      { op: 'multi', weight: 0.125 },
    ]);
    expect(mix.reduce((n, m) => n + m.weight, 0)).toBeCloseTo(1, 12);
  });

  it('all reads or all writes: the other side is absent', () => {
    expect(opMix(workload({ readPct: 100, writes: { create: 1 } })).map((m) => m.op)).toEqual(['getData']);
    expect(opMix(workload({ readPct: 0, reads: { exists: 1 } })).map((m) => m.op)).toEqual(['setData']);
  });
});

describe('OpPicker', () => {
  it('converges to the mix weights', () => {
    const mix = opMix(workload({ readPct: 70, reads: { getData: 1, exists: 1 }, writes: { setData: 2, multi: 1 } }));
    const got = shares(new OpPicker(mix, 42), 200_000);
    for (const { op, weight } of mix) expect(got.get(op) ?? 0).toBeCloseTo(weight, 2);
    expect([...got.keys()].sort()).toEqual(mix.map((m) => m.op).sort());
  });

  it('is deterministic by seed, and different seeds give different sequences', () => {
    const mix = opMix(workload({ readPct: 50, reads: { getData: 1, exists: 1, getChildren: 1 }, writes: { setData: 1, create: 1, sync: 1 } }));
    const draw = (seed: number): OpKind[] => {
      const p = new OpPicker(mix, seed);
      return Array.from({ length: 1_000 }, () => p.next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('refuses a mix with no positive weight', () => {
    expect(() => new OpPicker([{ op: 'getData', weight: 0 }], 1)).toThrow(/no op with a positive weight/);
  });
});

describe('keys', () => {
  it('keyPath: root/k and a 6-digit index', () => {
    expect(keyPath('/zablab-bench', 0)).toBe('/zablab-bench/k000000');
    expect(keyPath('/b', 123_456)).toBe('/b/k123456');
  });

  it('KeyPicker: uniform over [0, keys), deterministic by seed', () => {
    const keys = 10;
    const p = new KeyPicker(keys, 3);
    const counts = new Array<number>(keys).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[p.next()]!++;
    for (const c of counts) expect(c / n).toBeCloseTo(1 / keys, 2);
    const a = new KeyPicker(1_000, 5);
    const b = new KeyPicker(1_000, 5);
    expect(Array.from({ length: 100 }, () => a.next())).toEqual(Array.from({ length: 100 }, () => b.next()));
    expect(() => new KeyPicker(0, 1)).toThrow(RangeError);
  });
});
