/**
 * The search against the definition: on thousands of small random histories (ties, info and
 * failed ops included) checkHistory agrees with a brute-force search over every real-time
 * order of every choice of indeterminate ops, and each witness it reports is itself
 * non-linearizable by that same brute force.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory, HistoryBuilder, type History, type HistoryValue, type Op, type OpF, type Outcome } from '../../../src/harness/history/index.js';
import { seededRandom } from '../../helpers/random.js';

const VALUES: HistoryValue[] = [null, 1, 2, 3];
const FS: OpF[] = ['read', 'read', 'write', 'cas'];

/** Up to 7 ops, each its own process, on times 0..12 (so ties happen), values from a small set. */
function randomHistory(seed: number): History {
  const rnd = seededRandom(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const events: { t: number; order: number; line: string }[] = [];
  const n = 1 + Math.floor(rnd() * 7);
  for (let p = 0; p < n; p++) {
    const f = pick(FS);
    const value = f === 'cas' ? [pick(VALUES), pick(VALUES)] : pick(VALUES);
    const invoke = Math.floor(rnd() * 10);
    const complete = invoke + Math.floor(rnd() * 4);
    const r = rnd();
    const outcome: Outcome = r < 0.7 ? 'ok' : r < 0.85 ? 'info' : 'fail';
    events.push({ t: invoke, order: 0, line: JSON.stringify({ process: p, type: 'invoke', f, key: 'x', value: f === 'read' ? null : value, time: invoke }) });
    events.push({ t: complete, order: 1, line: JSON.stringify({ process: p, type: outcome, f, key: 'x', value, time: complete }) });
  }
  events.sort((a, b) => a.t - b.t || a.order - b.order);
  const b = new HistoryBuilder();
  for (const e of events) b.addLine(e.line);
  return b.finish();
}

/** The definition: some choice of open ops and some real-time-respecting order obeys the register. */
function bruteForce(ops: readonly Op[]): boolean {
  const must = ops.filter((o) => o.outcome === 'ok');
  const maybe = ops.filter((o) => o.outcome === 'info' && o.f !== 'read');
  for (let mask = 0; mask < 1 << maybe.length; mask++) {
    const chosen = [...must, ...maybe.filter((_, i) => (mask & (1 << i)) !== 0)];
    if (someOrder(chosen, [], null)) return true;
  }
  return false;
}

function someOrder(left: readonly Op[], done: readonly Op[], state: HistoryValue): boolean {
  if (left.length === 0) return true;
  for (const op of left) {
    const rest = left.filter((o) => o !== op);
    // op may go next only if no remaining op completed before op was invoked.
    if (rest.some((o) => o.completeNs !== null && o.completeNs < op.invokeNs)) continue;
    const after = apply(op, state);
    if (after !== undefined && someOrder(rest, [...done, op], after)) return true;
  }
  return false;
}

function apply(op: Op, state: HistoryValue): HistoryValue | undefined {
  switch (op.f) {
    case 'read':
      return JSON.stringify(op.value) === JSON.stringify(state) ? state : undefined;
    case 'write':
      return op.value;
    case 'cas': {
      const [expected, next] = op.value as [HistoryValue, HistoryValue];
      return JSON.stringify(expected) === JSON.stringify(state) ? next : undefined;
    }
  }
}

describe('checkHistory against brute force', () => {
  it('agrees on 3,000 random small histories, and every witness fails on its own', () => {
    let linearizable = 0;
    for (let seed = 1; seed <= 3_000; seed++) {
      const h = randomHistory(seed);
      const v = checkHistory(h);
      const expected = bruteForce(h.ops);
      expect(v.linearizable, `seed ${seed}`).toBe(expected);
      if (expected) linearizable++;
      else expect(bruteForce(v.anomalies[0]!.ops), `witness of seed ${seed}`).toBe(false);
    }
    // Both verdicts are well represented, or the comparison proves little.
    expect(linearizable).toBeGreaterThan(600);
    expect(linearizable).toBeLessThan(2_400);
  });
});
