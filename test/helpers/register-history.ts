/**
 * Seeded register histories in the history file format, for tests and bench/history-check.ts:
 * processes run ops back to back on random keys, each op takes effect at a random point of
 * its interval, and reads and cas see what that order gives, so the history is linearizable
 * by construction. Options make some ops indeterminate (whose effect then lands or not) and
 * plant one stale read.
 */
import { seededRandom } from './random.js';

export interface RegisterHistoryOptions {
  ops: number;
  keys: number;
  processes: number;
  seed: number;
  /** Share of ops that end in info, in [0, 1] (default 0). */
  infoShare?: number;
  /** Make one read return a value two writes older than the latest it must see (needs unique values). */
  staleRead?: boolean;
  /** Draw written values from 1..valueRange (as Jepsen's register test does) instead of making each unique. */
  valueRange?: number;
}

interface SimOp {
  process: number;
  f: 'read' | 'write' | 'cas';
  key: string;
  value: unknown;
  invokeNs: number;
  completeNs: number;
  pointNs: number;
  outcome: 'ok' | 'fail' | 'info';
  /** An info op whose effect never lands. */
  lost: boolean;
}

/** The history as JSON lines (events ordered by time, as a recorder would write them). */
export function registerHistory(o: RegisterHistoryOptions): string {
  if (o.staleRead === true && o.valueRange !== undefined) throw new Error('registerHistory: a planted stale read needs unique values (no valueRange)');
  const ops = simulate(o);
  if (o.staleRead === true) plantStaleRead(ops);
  const events: { t: number; line: string }[] = [];
  for (const op of ops) {
    const invokeValue = op.f === 'read' ? null : op.value;
    events.push({ t: op.invokeNs, line: JSON.stringify({ process: op.process, type: 'invoke', f: op.f, key: op.key, value: invokeValue, time: op.invokeNs }) });
    events.push({ t: op.completeNs, line: JSON.stringify({ process: op.process, type: op.outcome, f: op.f, key: op.key, value: op.value, time: op.completeNs }) });
  }
  events.sort((a, b) => a.t - b.t);
  return events.map((e) => e.line).join('\n') + '\n';
}

function simulate(o: RegisterHistoryOptions): SimOp[] {
  const rnd = seededRandom(o.seed);
  const perProcess = Math.ceil(o.ops / o.processes);
  const ops: SimOp[] = [];
  let nextValue = 1;
  const newValue = (): number => (o.valueRange === undefined ? nextValue++ : 1 + Math.floor(rnd() * o.valueRange));
  for (let p = 0; p < o.processes && ops.length < o.ops; p++) {
    let t = 1_000_000_000 + Math.floor(rnd() * 100_000);
    for (let i = 0; i < perProcess && ops.length < o.ops; i++) {
      const duration = 50_000 + Math.floor(rnd() * 2_000_000);
      const r = rnd();
      const f = r < 0.5 ? 'read' : r < 0.8 ? 'write' : 'cas';
      const info = rnd() < (o.infoShare ?? 0);
      ops.push({
        process: p,
        f,
        key: `k${Math.floor(rnd() * o.keys)}`,
        value: f === 'write' ? newValue() : null,
        invokeNs: t,
        completeNs: t + duration,
        pointNs: t + Math.floor(rnd() * duration),
        outcome: info ? 'info' : 'ok',
        lost: info && rnd() < 0.5,
      });
      t += duration + Math.floor(rnd() * 200_000);
    }
  }
  // Apply in linearization-point order: reads and cas see the register as that order leaves it.
  const state = new Map<string, unknown>();
  for (const op of [...ops].sort((a, b) => a.pointNs - b.pointNs)) {
    const current = state.get(op.key) ?? null;
    if (op.f === 'read') {
      op.value = current;
    } else if (op.f === 'write') {
      if (!op.lost) state.set(op.key, op.value);
    } else {
      const hit = rnd() < 0.7;
      op.value = [hit ? current : -1, newValue()];
      if (!hit && op.outcome === 'ok') op.outcome = 'fail';
      if (hit && !op.lost) state.set(op.key, (op.value as unknown[])[1]);
    }
  }
  return ops;
}

/** Finds writes w1, w2 and a read r on one key with w1 before w2 before r in real time, and makes r return w1's value. */
function plantStaleRead(ops: SimOp[]): void {
  const writes = ops.filter((op) => op.f === 'write' && op.outcome === 'ok');
  for (const r of ops) {
    if (r.f !== 'read' || r.outcome !== 'ok') continue;
    const before = writes.filter((w) => w.key === r.key && w.completeNs < r.invokeNs);
    for (const w2 of before) {
      const w1 = before.find((w) => w.completeNs < w2.invokeNs);
      if (w1 !== undefined) {
        r.value = w1.value;
        return;
      }
    }
  }
  throw new Error('plantStaleRead: no read follows two ordered writes; generate more ops');
}
