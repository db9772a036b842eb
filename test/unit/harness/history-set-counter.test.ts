/** Jepsen's set and counter checks: lost and invented elements, counters outside what the acknowledged and indeterminate deltas allow. */
import { describe, expect, it } from 'vitest';
import { checkCounter, checkSet, HistoryError, type SetAdd } from '../../../src/harness/history/index.js';

const adds = (outcome: SetAdd['outcome'], ...elements: string[]): SetAdd[] => elements.map((element) => ({ element, outcome }));

describe('checkSet', () => {
  it('accepts a final read with every acknowledged add, whatever became of the indeterminate ones', () => {
    const v = checkSet({ adds: [...adds('ok', 'a', 'b'), ...adds('info', 'c', 'd'), ...adds('fail', 'e')], finalRead: ['b', 'a', 'c'] });
    expect(v).toEqual({ valid: true, attempted: 5, acknowledged: 2, present: 3, lost: [], invented: [], failedPresent: [], duplicated: [], recovered: ['c'] });
  });

  it('flags an acknowledged add missing from the final read as lost', () => {
    const v = checkSet({ adds: adds('ok', 'a', 'b', 'c'), finalRead: ['a', 'c'] });
    expect(v.valid).toBe(false);
    expect(v.lost).toEqual(['b']);
  });

  it('flags an element never attempted as invented, and one whose add failed as failedPresent', () => {
    const v = checkSet({ adds: [...adds('ok', 'a'), ...adds('fail', 'b')], finalRead: ['a', 'b', 'z'] });
    expect(v).toMatchObject({ valid: false, lost: [], invented: ['z'], failedPresent: ['b'] });
  });

  it('flags an element the final read lists twice', () => {
    expect(checkSet({ adds: adds('ok', 'a'), finalRead: ['a', 'a'] })).toMatchObject({ valid: false, duplicated: ['a'] });
  });

  it('counts an element added several times by its best outcome', () => {
    const v = checkSet({ adds: [{ element: 1, outcome: 'fail' }, { element: 1, outcome: 'ok' }, { element: 1, outcome: 'info' }], finalRead: [] });
    expect(v).toMatchObject({ valid: false, attempted: 1, acknowledged: 1, lost: [1] });
  });

  it('compares elements as JSON values (1 and "1" differ)', () => {
    expect(checkSet({ adds: [{ element: 1, outcome: 'ok' }], finalRead: ['1'] })).toMatchObject({ lost: [1], invented: ['1'] });
  });

  it('rejects an unknown outcome', () => {
    expect(() => checkSet({ adds: [{ element: 1, outcome: 'maybe' as SetAdd['outcome'] }], finalRead: [] })).toThrow(HistoryError);
  });
});

describe('checkCounter', () => {
  it('accepts the initial value plus the acknowledged deltas', () => {
    const v = checkCounter({ initial: 10, deltas: [{ delta: 1, outcome: 'ok' }, { delta: 5, outcome: 'ok' }, { delta: 100, outcome: 'fail' }], finalValue: 16 });
    expect(v).toEqual({ valid: true, acknowledged: 16, lower: 16, upper: 16, finalValue: 16, outsideBy: 0 });
  });

  it('widens the bounds by the indeterminate deltas, each of which may or may not have applied', () => {
    const history = { deltas: [{ delta: 2, outcome: 'ok' as const }, { delta: 3, outcome: 'info' as const }, { delta: -1, outcome: 'info' as const }], finalValue: 0 };
    expect(checkCounter(history)).toMatchObject({ acknowledged: 2, lower: 1, upper: 5 });
    for (const finalValue of [1, 2, 4, 5]) expect(checkCounter({ ...history, finalValue }).valid, `final ${finalValue}`).toBe(true);
  });

  it('flags a counter below the bounds (acknowledged increments lost)', () => {
    const v = checkCounter({ deltas: [{ delta: 1, outcome: 'ok' }, { delta: 1, outcome: 'ok' }, { delta: 1, outcome: 'info' }], finalValue: 1 });
    expect(v).toMatchObject({ valid: false, lower: 2, upper: 3, outsideBy: -1 });
  });

  it('flags a counter above the bounds (an increment applied twice)', () => {
    const v = checkCounter({ deltas: [{ delta: 1, outcome: 'ok' }, { delta: 1, outcome: 'fail' }], finalValue: 2 });
    expect(v).toMatchObject({ valid: false, lower: 1, upper: 1, outsideBy: 1 });
  });

  it('sums exactly near 2^53, and rejects deltas that are not safe integers', () => {
    const big = Number.MAX_SAFE_INTEGER - 1;
    expect(checkCounter({ deltas: [{ delta: big, outcome: 'ok' }, { delta: 1, outcome: 'ok' }, { delta: -1, outcome: 'ok' }], finalValue: big }).valid).toBe(true);
    expect(() => checkCounter({ deltas: [{ delta: 0.5, outcome: 'ok' }], finalValue: 0 })).toThrow(/deltas\[0\]\.delta must be an integer/);
  });
});
