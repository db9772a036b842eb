/** A run's history verdicts in words, the same in report.html, summary.md and the progress line. */
import type { HistoryKey, HistoryValue, Op } from '../history/index.js';
import { keyPath } from '../load/ops.js';
import { formatCount } from './format.js';
import type { CounterCheck, HistoryOpRecord, RunHistory, SetCheck } from './results.js';

const KEYS_NAMED_MAX = 3;

function keyList(keys: readonly (string | number)[], total = keys.length): string {
  const named = keys.slice(0, KEYS_NAMED_MAX).map((k) => JSON.stringify(k));
  return named.join(', ') + (total > named.length ? ` and ${total - named.length} more` : '');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** `linearizable`, `NOT linearizable: 1 anomaly (key 17)`, `unknown: key 3 ran out of its time budget`. */
export function linearizabilityText(h: RunHistory): string {
  if (h.linearizable === true) return 'linearizable';
  if (h.linearizable === false) return `NOT linearizable: ${plural(h.anomaliesFound, 'anomaly', 'anomalies')} (${h.anomaliesFound === 1 ? 'key' : 'keys'} ${keyList(h.anomalies.map((a) => a.key), h.anomaliesFound)})`;
  if (h.error !== null) return `unknown: ${h.error}`;
  const byReason = (reason: 'time' | 'memory'): string[] => {
    const keys = h.unknown.filter((u) => u.reason === reason).map((u) => u.key);
    return keys.length === 0 ? [] : [`${keys.length === 1 ? 'key' : 'keys'} ${keyList(keys)} ran out of the ${reason} budget`];
  };
  const why = [...byReason('time'), ...byReason('memory')];
  return `unknown: ${why.length > 0 ? why.join('; ') : 'no verdict'}`;
}

/** `ok: 412 acknowledged adds all present`, `LOST 3 of 412 acknowledged adds`, `unknown: ...`. */
export function setText(s: SetCheck): string {
  if (s.valid === null) return `unknown: ${s.error ?? 'no final read'}`;
  if (s.valid) return `ok: ${plural(s.acknowledged, 'acknowledged add')} all present${s.recovered > 0 ? `, ${formatCount(s.recovered)} of ${formatCount(s.indeterminate)} indeterminate present` : ''}`;
  const problems = [
    s.lostCount > 0 ? `LOST ${formatCount(s.lostCount)} of ${plural(s.acknowledged, 'acknowledged add')}` : '',
    s.inventedCount > 0 ? `${plural(s.inventedCount, 'element')} never added` : '',
    s.failedPresentCount > 0 ? `${plural(s.failedPresentCount, 'failed add')} present` : '',
    s.duplicatedCount > 0 ? `${plural(s.duplicatedCount, 'element')} listed twice` : '',
  ].filter((p) => p !== '');
  return `INVALID: ${problems.join(', ')}`;
}

/** `ok: 97 in [97, 99]`, `INVALID: 95, below the 97 acknowledged increments`. */
export function counterText(c: CounterCheck): string {
  if (c.valid === null || c.finalValue === null) return `unknown: ${c.error ?? 'no final read'}`;
  const range = c.lower === c.upper ? `${formatCount(c.lower)}` : `[${formatCount(c.lower)}, ${formatCount(c.upper)}]`;
  if (c.valid) return `ok: ${formatCount(c.finalValue)} in ${range}`;
  return c.finalValue < c.lower
    ? `INVALID: ${formatCount(c.finalValue)}, below the ${plural(c.lower, 'acknowledged increment')}`
    : `INVALID: ${formatCount(c.finalValue)}, above ${formatCount(c.upper)} (acknowledged + indeterminate increments)`;
}

/** One line for the progress output: `history: linearizable (12,345 ops, 3 indeterminate), set ok, counter ok`. */
export function historySummaryLine(h: RunHistory): string {
  const counts = `${plural(h.ops, 'op')}${h.indeterminate > 0 ? `, ${formatCount(h.indeterminate)} indeterminate` : ''}`;
  const verdict = h.linearizable === true ? `linearizable (${counts})` : `${linearizabilityText(h)} (${counts})`;
  const word = (valid: boolean | null): string => (valid === true ? 'ok' : valid === false ? 'INVALID' : 'unknown');
  return `history: ${verdict}, set ${word(h.set?.valid ?? null)}, counter ${word(h.counter?.valid ?? null)}`;
}

/** A witness op of results.json as the checker's Op again (for describeOp and renderAnomaly). */
export function opOfRecord(r: HistoryOpRecord, key: HistoryKey, index: number): Op {
  return {
    index,
    process: r.process,
    f: r.f,
    key,
    value: r.value as HistoryValue,
    outcome: r.outcome,
    invokeNs: BigInt(Math.round(r.invokeNs)),
    completeNs: r.completeNs === null ? null : BigInt(Math.round(r.completeNs)),
    invokeLine: r.invokeLine,
    completeLine: r.completeLine,
  };
}

/** The znode of a history key: key i is `<root>/k` + i in 6 digits (as the load names its keys). */
export function keyZnode(root: string, key: HistoryKey): string {
  return typeof key === 'number' && Number.isInteger(key) && key >= 0 ? keyPath(root, key) : String(key);
}
