/** Views over runs that several reports share: recovery metrics, repeats of one cell, errors. */
import type { FaultAction } from '../scenario/types.js';
import { formatBytes, formatCount, formatNumber, formatSecondsFromMs } from './format.js';
import { cellKey, cellKeyLabel, withoutRepeat } from './labels.js';
import type { RecoveryResult, RunResult } from './results.js';
import { maxOf, median, sumOf } from './stats.js';

export type RecoveryMetric = 'leaderElectedMs' | 'firstWriteMs' | 'servingAgainMs' | 'recovered90Ms' | 'writeUnavailableMs';

/** The recovery measurements, in the order tables and charts show them. */
export const RECOVERY_METRICS: readonly { key: RecoveryMetric; label: string }[] = [
  { key: 'leaderElectedMs', label: 'leader elected' },
  { key: 'firstWriteMs', label: 'first write' },
  { key: 'servingAgainMs', label: 'back in service' },
  { key: 'recovered90Ms', label: '90 % throughput' },
  { key: 'writeUnavailableMs', label: 'write unavailable' },
];

/** Faults that give a member back (restart, resume, heal), as measure/recovery.ts defines them. */
const RESTORING_FAULTS: ReadonlySet<FaultAction> = new Set(['restart', 'resume', 'heal', 'add-observer']);

/**
 * The measurements that mean something for a fault kind: a fault that takes a member away
 * is measured by the election and the first write after it; one that gives a member back by
 * when it serves again. Both by throughput and write availability.
 */
export function recoveryMetricsFor(fault: FaultAction): readonly { key: RecoveryMetric; label: string }[] {
  const skip: RecoveryMetric[] = RESTORING_FAULTS.has(fault) ? ['leaderElectedMs', 'firstWriteMs'] : ['servingAgainMs'];
  return RECOVERY_METRICS.filter((m) => !skip.includes(m.key));
}

/** A recovery value, or null where it does not apply or was not observed. */
export function recoveryValue(r: RecoveryResult, key: RecoveryMetric): number | null {
  return r[key] ?? null;
}

export interface MedianMax {
  median: number | null;
  max: number | null;
  /** How many of the values were observed (not null). */
  observed: number;
}

export interface RecoveryGroup {
  /** The runs' name without the repeat suffix. */
  label: string;
  fault: FaultAction;
  target: string;
  /** Position of the fault in its runs (0-based). */
  index: number;
  /** Repeats that contributed. */
  runs: number;
  metrics: Record<RecoveryMetric, MedianMax>;
}

export function medianMax(values: readonly (number | null)[]): MedianMax {
  return { median: median(values), max: maxOf(values), observed: values.filter((v) => v !== null).length };
}

/** Over faults of any kinds: each metric only from the faults it applies to (older files have "first write" after restarts). */
function recoveryMetrics(recs: readonly RecoveryResult[]): Record<RecoveryMetric, MedianMax> {
  const of = (key: RecoveryMetric): MedianMax =>
    medianMax(recs.filter((r) => recoveryMetricsFor(r.fault).some((m) => m.key === key)).map((r) => recoveryValue(r, key)));
  return {
    leaderElectedMs: of('leaderElectedMs'),
    firstWriteMs: of('firstWriteMs'),
    servingAgainMs: of('servingAgainMs'),
    recovered90Ms: of('recovered90Ms'),
    writeUnavailableMs: of('writeUnavailableMs'),
  };
}

/**
 * Recovery over the repeats of each matrix cell: the i-th fault of every successful repeat
 * of one cell forms a group. Groups in the order their cells first appear.
 */
export function recoveryOverRepeats(runs: readonly RunResult[]): RecoveryGroup[] {
  const groups = new Map<string, { label: string; recs: RecoveryResult[]; first: RecoveryResult; index: number }>();
  for (const run of runs) {
    if (run.status !== 'ok') continue;
    run.recovery.forEach((r, index) => {
      const key = JSON.stringify([cellKey(run), index, r.fault, r.target]);
      const g = groups.get(key);
      if (g === undefined) groups.set(key, { label: withoutRepeat(run.name), recs: [r], first: r, index });
      else g.recs.push(r);
    });
  }
  return [...groups.values()].map((g) => ({
    label: g.label,
    fault: g.first.fault,
    target: g.first.target,
    index: g.index,
    runs: g.recs.length,
    metrics: recoveryMetrics(g.recs),
  }));
}

/** Median of each recovery metric over the faults of one run. */
export function runRecoveryMedians(run: RunResult): Record<RecoveryMetric, MedianMax> {
  return recoveryMetrics(run.recovery);
}

export function totalErrors(run: RunResult): number {
  return sumOf(Object.values(run.errors));
}

/** `12 (CONNECTIONLOSS 10, TIMEOUT 2)`: the total and the most frequent codes. */
export function errorsText(run: RunResult, codesMax = 3): string {
  const total = totalErrors(run);
  if (total === 0) return '0';
  const codes = Object.entries(run.errors)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const shown = codes.slice(0, codesMax).map(([c, n]) => `${c} ${formatCount(n)}`);
  if (codes.length > codesMax) shown.push(`+${codes.length - codesMax} more`);
  return `${formatCount(total)} (${shown.join(', ')})`;
}

/** `snapCount=10000, tickTime=200`, or `(defaults)`. */
export function configText(config: Record<string, string>): string {
  const entries = Object.entries(config);
  return entries.length === 0 ? '(defaults)' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

function weightsText(weights: Partial<Record<string, number>>): string {
  return Object.entries(weights)
    .filter(([, w]) => w !== undefined && w > 0)
    .map(([op, w]) => `${op} ${formatNumber(w!, Number.isInteger(w) ? 0 : 2)}`)
    .join(', ');
}

/** The workload in one line: mix, concurrency, rate, values, keys, duration. */
export function workloadText(run: RunResult): string {
  const w = run.workload;
  const mix = `${formatNumber(w.readPct, Number.isInteger(w.readPct) ? 0 : 1)} % reads (${weightsText(w.reads) || 'none'}), writes (${weightsText(w.writes) || 'none'})`;
  const concurrency = `${w.clients} clients × ${w.connections} connections × ${w.pipelining} in flight`;
  const rate = w.rate === null ? 'closed loop' : `open loop at ${formatCount(w.rate)} ops/s`;
  const data = `${formatBytes(w.valueSize)} values, ${formatCount(w.keys)} keys`;
  const time = `${formatSecondsFromMs(w.durationMs)} measured after ${formatSecondsFromMs(w.warmupMs)} warm-up`;
  const state = [
    (w.populate ?? 0) > 0 ? `${formatCount(w.populate ?? 0)} znodes populated` : '',
    (w.sessions ?? 0) > 0 ? `${formatCount(w.sessions ?? 0)} sessions held${(w.watches ?? 0) > 0 ? ` × ${formatCount(w.watches ?? 0)} ${w.watchMode ?? 'oneShot'} watches` : ''}` : '',
  ].filter((p) => p !== '');
  return [mix, concurrency, rate, data, ...state, time].join('; ');
}

/** Matrix fields other than these (by last segment) that vary a run: for series names. */
export function otherCellFields(run: RunResult, except: readonly string[]): string {
  return Object.entries(run.cell)
    .filter(([k]) => !except.includes(cellKeyLabel(k)))
    .map(([k, v]) => `${cellKeyLabel(k)}=${String(v)}`)
    .join(', ');
}
