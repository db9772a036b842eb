/**
 * The register check as Jepsen's ZooKeeper test uses it: planted anomalies are flagged with a
 * small witness, tricky but linearizable histories pass, and a budget gives "unknown"
 * instead of a hang.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory, HistoryBuilder, parseHistory, type History, type HistoryValue, type HistoryVerdict, type OpF, type Outcome } from '../../../src/harness/history/index.js';
import { registerHistory } from '../../helpers/register-history.js';

/** [process, f, value, invoke ns, completion ns (null: no completion line), outcome (default ok), key (default "x")] */
type Spec = [number, OpF, HistoryValue, number, number | null, Outcome?, (string | number)?];

/** A history from op specs: invoke and completion lines ordered by time, as a recorder writes them. */
function history(...specs: Spec[]): History {
  const events: { t: number; line: string }[] = [];
  for (const [process, f, value, invoke, complete, outcome = 'ok', key = 'x'] of specs) {
    events.push({ t: invoke, line: JSON.stringify({ process, type: 'invoke', f, key, value: f === 'read' ? null : value, time: invoke }) });
    if (complete !== null) events.push({ t: complete, line: JSON.stringify({ process, type: outcome, f, key, value, time: complete }) });
  }
  events.sort((a, b) => a.t - b.t);
  const b = new HistoryBuilder();
  for (const e of events) b.addLine(e.line);
  return b.finish();
}

/** The witness of the only anomaly as "f value" strings, in invocation order. */
function witness(v: HistoryVerdict): string[] {
  expect(v.anomalies).toHaveLength(1);
  return v.anomalies[0]!.ops.map((o) => `${o.f} ${JSON.stringify(o.value)}`);
}

describe('checkHistory flags what a register cannot do', () => {
  it('a stale read: a read returns a value overwritten before it began', () => {
    const v = checkHistory(history([0, 'write', 1, 0, 10], [0, 'write', 2, 20, 30], [1, 'read', 1, 40, 50]));
    expect(v.linearizable).toBe(false);
    expect(witness(v)).toEqual(['write 1', 'write 2', 'read 1']);
    expect(v.anomalies[0]).toMatchObject({ key: 'x', keyOps: 3, shrunk: true });
  });

  it('a lost write: a read misses an acknowledged write that completed before the read began', () => {
    const v = checkHistory(history([0, 'write', 1, 0, 10], [1, 'read', null, 20, 30]));
    expect(v.linearizable).toBe(false);
    expect(witness(v)).toEqual(['write 1', 'read null']);
  });

  it('a double-applied cas: two cas from the same expected value both acknowledged, one after the other', () => {
    const v = checkHistory(history([0, 'write', 0, 0, 10], [1, 'cas', [0, 1], 20, 30], [2, 'cas', [0, 1], 40, 50]));
    expect(v.linearizable).toBe(false);
    expect(witness(v)).toEqual(['write 0', 'cas [0,1]', 'cas [0,1]']);
  });

  it('a double-applied cas even when the two overlap: only one can see the expected value', () => {
    const v = checkHistory(history([0, 'write', 0, 0, 10], [1, 'cas', [0, 1], 20, 50], [2, 'cas', [0, 2], 25, 45], [3, 'read', 2, 60, 70]));
    expect(v.linearizable).toBe(false);
  });

  it('a read of a value whose write failed (fail means it did not happen)', () => {
    const v = checkHistory(history([0, 'write', 1, 0, 10], [0, 'write', 2, 20, 30, 'fail'], [1, 'read', 2, 40, 50]));
    expect(v.linearizable).toBe(false);
    expect(witness(v)).toEqual(['read 2']);
  });

  it('a read of an indeterminate write before that write was invoked', () => {
    const v = checkHistory(history([1, 'read', 7, 0, 10], [0, 'write', 7, 20, 30, 'info']));
    expect(v.linearizable).toBe(false);
  });

  it('shrinks a long history to the ops that explain the anomaly, keeping the write a read depends on', () => {
    // 300 linearizable ops on the key, then write 1, read 1 (needs the write), write 2, and a stale read of 1.
    const base = registerHistory({ ops: 300, keys: 1, processes: 4, seed: 11 }).trim().split('\n');
    const t = 10_000_000_000;
    const planted = [
      [9, 'write', 'one', t, t + 10],
      [9, 'read', 'one', t + 20, t + 30],
      [9, 'write', 'two', t + 40, t + 50],
      [8, 'read', 'one', t + 60, t + 70],
    ] as const;
    const lines = [...base];
    for (const [p, f, value, invoke, complete] of planted) {
      lines.push(JSON.stringify({ process: p, type: 'invoke', f, key: 'k0', value: f === 'read' ? null : value, time: invoke }));
      lines.push(JSON.stringify({ process: p, type: 'ok', f, key: 'k0', value, time: complete }));
    }
    const v = checkHistory(parseHistory(lines.join('\n')));
    expect(v.linearizable).toBe(false);
    expect(v.anomalies[0]!.keyOps).toBeGreaterThan(250);
    // Not just "read one" (that alone would blame a read for a write that did happen).
    expect(witness(v)).toEqual(['write "one"', 'write "two"', 'read "one"']);
  });

  it('checks each key on its own and names the key with the anomaly (1 and "1" are two keys)', () => {
    const v = checkHistory(
      history(
        [0, 'write', 'a', 0, 10, 'ok', 1],
        [1, 'read', 'a', 20, 30, 'ok', 1],
        [2, 'read', null, 20, 30, 'ok', '1'],
        [3, 'write', 'b', 0, 10, 'ok', 'y'],
        [3, 'read', null, 20, 30, 'ok', 'y'],
      ),
    );
    expect(v.keys).toBe(3);
    expect(v.anomalies.map((a) => a.key)).toEqual(['y']);
  });
});

describe('checkHistory accepts tricky linearizable histories', () => {
  it('concurrent writes with reads seeing either order', () => {
    for (const [first, second] of [
      [1, 2],
      [2, 1],
    ]) {
      const v = checkHistory(history([0, 'write', 1, 0, 100], [1, 'write', 2, 10, 90], [2, 'read', null, 5, 8], [2, 'read', first!, 20, 30], [2, 'read', second!, 40, 50], [3, 'read', second!, 110, 120]));
      expect(v.linearizable, `reads ${first} then ${second}`).toBe(true);
    }
  });

  it('but not both orders: one reader sees 1 then 2, another 2 then 1, after both writes began', () => {
    const v = checkHistory(history([0, 'write', 1, 0, 100], [1, 'write', 2, 0, 100], [2, 'read', 1, 20, 30], [2, 'read', 2, 40, 50], [3, 'read', 2, 20, 30], [3, 'read', 1, 40, 50]));
    expect(v.linearizable).toBe(false);
  });

  it('an indeterminate write that took effect, late, after a read that missed it', () => {
    const v = checkHistory(history([0, 'write', 1, 0, 10], [1, 'write', 2, 20, 30, 'info'], [2, 'read', 1, 40, 50], [2, 'read', 2, 60, 70]));
    expect(v.linearizable).toBe(true);
    expect(v.indeterminate).toBe(1);
  });

  it('an indeterminate write that never took effect', () => {
    const v = checkHistory(history([0, 'write', 1, 0, 10], [1, 'write', 2, 20, 30, 'info'], [2, 'read', 1, 40, 50], [2, 'read', 1, 60, 70]));
    expect(v.linearizable).toBe(true);
  });

  it('an indeterminate cas whose expected value never held (it failed or never ran)', () => {
    const v = checkHistory(history([0, 'write', 1, 0, 10], [1, 'cas', [5, 6], 20, 30, 'info'], [2, 'read', 1, 40, 50]));
    expect(v.linearizable).toBe(true);
  });

  it('an indeterminate cas that applied, seen by a later read', () => {
    const v = checkHistory(history([0, 'write', 1, 0, 10], [1, 'cas', [1, 6], 20, 30, 'info'], [2, 'read', 6, 40, 50]));
    expect(v.linearizable).toBe(true);
  });

  it('an op with no completion line by the end of the history counts as indeterminate', () => {
    const v = checkHistory(history([0, 'write', 1, 0, 10], [1, 'write', 2, 20, null], [2, 'read', 2, 40, 50], [2, 'read', 2, 60, 70]));
    expect(v.linearizable).toBe(true);
    expect(v.indeterminate).toBe(1);
  });

  it('ignores failed ops, and indeterminate reads', () => {
    const v = checkHistory(history([0, 'write', 1, 0, 10], [1, 'write', 2, 20, 30, 'fail'], [1, 'cas', [1, 3], 40, 50, 'fail'], [2, 'read', 99, 40, 50, 'info'], [2, 'read', 1, 60, 70]));
    expect(v.linearizable).toBe(true);
    expect(v).toMatchObject({ ops: 5, failed: 2, indeterminate: 1 });
  });

  it('ops that touch (one completes at the very ns the next begins) count as concurrent', () => {
    const v = checkHistory(history([0, 'write', 1, 0, 10], [0, 'write', 2, 20, 30], [1, 'read', 1, 30, 40]));
    expect(v.linearizable).toBe(true);
  });

  it('a read of a missing key returns null (the initial value)', () => {
    expect(checkHistory(history([0, 'read', null, 0, 10], [1, 'write', 1, 20, 30])).linearizable).toBe(true);
  });

  it('an empty history', () => {
    expect(checkHistory({ ops: [] })).toMatchObject({ ops: 0, keys: 0, linearizable: true });
  });
});

describe('checkHistory within budgets', () => {
  // 50 processes on one key: far more configurations than a small budget holds.
  const hard = parseHistory(registerHistory({ ops: 3_000, keys: 1, processes: 50, seed: 5 }));

  it('says unknown (time) when the time budget runs out, instead of hanging', () => {
    let now = 0;
    const clock = (): number => (now += 1);
    const v = checkHistory(hard, { keyTimeMs: 50, clock });
    expect(v.linearizable).toBeNull();
    expect(v.unknown).toEqual([{ key: 'k0', keyOps: expect.any(Number), reason: 'time' }]);
  });

  it('says unknown (memory) when the memo budget runs out', () => {
    const v = checkHistory(hard, { keyMemoBytes: 64 * 1024 });
    expect(v.linearizable).toBeNull();
    expect(v.unknown[0]?.reason).toBe('memory');
  });

  it('still reports an anomaly on one key when another is unknown', () => {
    const stale = history([0, 'write', 1, 0, 10, 'ok', 'z'], [0, 'write', 2, 20, 30, 'ok', 'z'], [1, 'read', 1, 40, 50, 'ok', 'z']);
    const v = checkHistory({ ops: [...hard.ops, ...stale.ops] }, { keyMemoBytes: 64 * 1024 });
    expect(v.linearizable).toBe(false);
    expect(v.anomalies.map((a) => a.key)).toEqual(['z']);
    expect(v.unknown.map((u) => u.key)).toEqual(['k0']);
  });

  it('finishes 10,000 ops over 10 keys by 10 processes, with and without indeterminate ops and a planted stale read', () => {
    for (const infoShare of [0, 0.05]) {
      const ok = checkHistory(parseHistory(registerHistory({ ops: 10_000, keys: 10, processes: 10, seed: 1, infoShare })));
      expect(ok.linearizable).toBe(true);
      const bad = checkHistory(parseHistory(registerHistory({ ops: 10_000, keys: 10, processes: 10, seed: 1, infoShare, staleRead: true })));
      expect(bad.linearizable).toBe(false);
      expect(bad.anomalies[0]!.ops.length).toBeLessThanOrEqual(4);
    }
  });
});
