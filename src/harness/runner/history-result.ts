/**
 * A run's history verdicts as results.json keeps them (RunHistory): the checker's verdict
 * with its witnesses cut to size and times as numbers, and the set and counter checks of the
 * final reads. Pure: the runner (history.ts) does the reading.
 */
import { checkCounter, checkSet, type HistoryValue, type HistoryVerdict, type Op, type SetAdd } from '../history/index.js';
import {
  HISTORY_ANOMALIES_MAX,
  HISTORY_ELEMENTS_MAX,
  HISTORY_WITNESS_OPS_MAX,
  type CounterCheck,
  type HistoryOpRecord,
  type RunHistory,
  type SetCheck,
} from '../report/results.js';

export function opRecord(op: Op): HistoryOpRecord {
  return {
    process: op.process,
    f: op.f,
    value: op.value,
    outcome: op.outcome,
    invokeNs: Number(op.invokeNs),
    completeNs: op.completeNs === null ? null : Number(op.completeNs),
    invokeLine: op.invokeLine,
    completeLine: op.completeLine,
  };
}

export interface HistoryResultInput {
  file: string;
  originEpochMs: number;
  windowStartNs: number;
  root: string;
  verdict: HistoryVerdict;
  checkMs: number;
  set: SetCheck | null;
  counter: CounterCheck | null;
}

export function historyResultOf(i: HistoryResultInput): RunHistory {
  const v = i.verdict;
  return {
    file: i.file,
    originEpochMs: i.originEpochMs,
    windowStartNs: i.windowStartNs,
    root: i.root,
    ops: v.ops,
    indeterminate: v.indeterminate,
    failed: v.failed,
    keys: v.keys,
    linearizable: v.linearizable,
    unknown: v.unknown.map((u) => ({ key: u.key, keyOps: u.keyOps, reason: u.reason })),
    error: null,
    checkMs: Math.round(i.checkMs * 10) / 10,
    checkedOpsPerSec: Math.round(v.ops / Math.max(i.checkMs / 1_000, 1e-6)),
    anomaliesFound: v.anomalies.length,
    anomalies: v.anomalies.slice(0, HISTORY_ANOMALIES_MAX).map((a) => ({
      key: a.key,
      keyOps: a.keyOps,
      shrunk: a.shrunk,
      ops: a.ops.slice(0, HISTORY_WITNESS_OPS_MAX).map(opRecord),
      opsTotal: a.ops.length,
    })),
    set: i.set,
    counter: i.counter,
  };
}

/** A history that could not be checked: no verdict, and why. */
export function historyErrorOf(base: Pick<HistoryResultInput, 'file' | 'originEpochMs' | 'windowStartNs' | 'root' | 'set' | 'counter'>, error: string): RunHistory {
  return { ...base, ops: 0, indeterminate: 0, failed: 0, keys: 0, linearizable: null, unknown: [], error, checkMs: 0, checkedOpsPerSec: 0, anomaliesFound: 0, anomalies: [] };
}

function elements(values: readonly HistoryValue[]): string[] {
  return values.slice(0, HISTORY_ELEMENTS_MAX).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
}

/** Jepsen's set check of the adds against the final read (null: it could not be made, `error` says why). */
export function setCheckOf(adds: readonly SetAdd[], finalRead: readonly string[] | null, error: string | null): SetCheck {
  const indeterminate = adds.filter((a) => a.outcome === 'info').length;
  if (finalRead === null) {
    return {
      valid: null,
      attempted: adds.length,
      acknowledged: adds.filter((a) => a.outcome === 'ok').length,
      indeterminate,
      present: null,
      lost: [],
      lostCount: 0,
      invented: [],
      inventedCount: 0,
      failedPresent: [],
      failedPresentCount: 0,
      duplicatedCount: 0,
      recovered: 0,
      error: error ?? 'no final read',
    };
  }
  const v = checkSet({ adds: [...adds], finalRead: [...finalRead] });
  return {
    valid: v.valid,
    attempted: v.attempted,
    acknowledged: v.acknowledged,
    indeterminate,
    present: v.present,
    lost: elements(v.lost),
    lostCount: v.lost.length,
    invented: elements(v.invented),
    inventedCount: v.invented.length,
    failedPresent: elements(v.failedPresent),
    failedPresentCount: v.failedPresent.length,
    duplicatedCount: v.duplicated.length,
    recovered: v.recovered.length,
    error: null,
  };
}

/** Jepsen's counter check: the counter starts at 0 and each increment adds 1. */
export function counterCheckOf(tally: { ok: number; info: number; fail: number }, finalValue: number | null, error: string | null): CounterCheck {
  const base = { ok: tally.ok, info: tally.info, fail: tally.fail, lower: tally.ok, upper: tally.ok + tally.info };
  if (finalValue === null) return { ...base, valid: null, finalValue: null, error: error ?? 'no final read' };
  const v = checkCounter({ initial: 0, deltas: [{ delta: tally.ok, outcome: 'ok' }, { delta: tally.info, outcome: 'info' }], finalValue });
  return { ...base, valid: v.valid, lower: v.lower, upper: v.upper, finalValue, error: null };
}
