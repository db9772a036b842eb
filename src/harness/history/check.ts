/**
 * The linearizability check of a history of per-key registers: a history is linearizable
 * iff each key's sub-history is (P-compositionality: linearizability is local, Herlihy &
 * Wing), so each key is searched on its own, with its own budget. A key that fails is
 * shrunk to a small witness.
 */
import { registerOps, ValueIds } from './register.js';
import { shrinkWitness } from './shrink.js';
import type { Anomaly, History, HistoryKey, HistoryVerdict, Op, UnknownKey } from './types.js';
import { searchLinearization } from './wgl.js';

export interface CheckOptions {
  /** Time the search may spend on one key, in ms (default 10 s); past it the key is unknown. */
  keyTimeMs?: number;
  /**
   * Memory the search's memo may take for one key, in bytes (default 256 MiB); past it the key
   * is unknown. An estimate: the process's peak RSS grows by up to about 1.15 times it (the
   * Map's rehash and the arena's copy are transient).
   */
  keyMemoBytes?: number;
  /** Time the whole check may take, in ms (default: no bound beyond the keys' own); keys not done by then are unknown. */
  totalTimeMs?: number;
  /** Time the shrink of one anomaly may take, in ms (default 5 s); past it the witness is what it got to. */
  shrinkTimeMs?: number;
  /** A monotonic clock in ms (default performance.now). */
  clock?: () => number;
}

export const CHECK_DEFAULTS = { keyTimeMs: 10_000, keyMemoBytes: 256 * 1024 * 1024, shrinkTimeMs: 5_000 } as const;

/** Checks every key's register for linearizability; never takes much longer than the budgets. */
export function checkHistory(history: History, options: CheckOptions = {}): HistoryVerdict {
  const keyTimeMs = options.keyTimeMs ?? CHECK_DEFAULTS.keyTimeMs;
  const memoBytesMax = options.keyMemoBytes ?? CHECK_DEFAULTS.keyMemoBytes;
  const shrinkTimeMs = options.shrinkTimeMs ?? CHECK_DEFAULTS.shrinkTimeMs;
  const clock = options.clock ?? (() => performance.now());
  const endMs = clock() + (options.totalTimeMs ?? Infinity);

  const anomalies: Anomaly[] = [];
  const unknown: UnknownKey[] = [];
  let statesExplored = 0;
  const byKey = partitionByKey(history.ops);
  for (const [key, ops] of byKey) {
    const registers = registerOps(ops, new ValueIds());
    const result = searchLinearization(registers, { deadlineMs: Math.min(clock() + keyTimeMs, endMs), memoBytesMax, clock });
    statesExplored += result.states;
    if (result.linearizable === null) unknown.push({ key, keyOps: registers.length, reason: result.reason });
    if (result.linearizable === false) {
      const witness = shrinkWitness(registers, { deadlineMs: Math.min(clock() + shrinkTimeMs, endMs), memoBytesMax, clock });
      anomalies.push({ key, keyOps: registers.length, ops: witness.ops.map((r) => r.op), shrunk: witness.shrunk });
    }
  }
  return {
    ops: history.ops.length,
    indeterminate: history.ops.filter((o) => o.outcome === 'info').length,
    failed: history.ops.filter((o) => o.outcome === 'fail').length,
    keys: byKey.size,
    linearizable: anomalies.length > 0 ? false : unknown.length > 0 ? null : true,
    anomalies,
    unknown,
    statesExplored,
  };
}

/** Each key's ops in invocation order; keys in order of first appearance (1 and "1" are two keys). */
function partitionByKey(ops: readonly Op[]): Map<HistoryKey, Op[]> {
  const byKey = new Map<HistoryKey, Op[]>();
  for (const op of ops) {
    const list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, [op]);
    else list.push(op);
  }
  return byKey;
}
