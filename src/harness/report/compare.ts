/**
 * `zablab report compare A B`: two bench results side by side. Runs are matched by name;
 * for each metric the table shows A, B, the change in percent and the ratio B/A.
 */
import { RECOVERY_METRICS, runRecoveryMedians } from './aggregate.js';
import { escapeMarkdownText } from './escape.js';
import { formatDeltaPct, formatMs, formatOpsPerSec, formatRatio, formatTimestamp, NOT_OBSERVED } from './format.js';
import { markdownTable } from './markdown.js';
import type { ResultsFile, RunResult } from './results.js';

export type MetricUnit = 'ops/s' | 'ms';

export interface MetricComparison {
  metric: string;
  kind: 'throughput' | 'latency' | 'recovery';
  unit: MetricUnit;
  /** Which direction is an improvement. */
  better: 'higher' | 'lower';
  a: number | null;
  b: number | null;
  /** (B − A) / A in percent; null when either is missing or A is 0. */
  deltaPct: number | null;
  /** B / A; null when either is missing or A is 0. */
  ratio: number | null;
}

export interface RunComparison {
  name: string;
  statusA: RunResult['status'];
  statusB: RunResult['status'];
  metrics: MetricComparison[];
}

export interface ComparisonSide {
  /** What the user named (directory or file). */
  label: string;
  version: string;
  createdAt: string;
  runs: number;
}

export interface Comparison {
  a: ComparisonSide;
  b: ComparisonSide;
  /** Runs in both, in A's order. */
  runs: RunComparison[];
  onlyInA: string[];
  onlyInB: string[];
}

type MetricValue = Pick<MetricComparison, 'metric' | 'kind' | 'unit' | 'better'> & { value: number | null };

function metric(x: MetricValue, a: number | null, b: number | null): MetricComparison {
  const comparable = a !== null && b !== null && a !== 0;
  return {
    metric: x.metric,
    kind: x.kind,
    unit: x.unit,
    better: x.better,
    a,
    b,
    deltaPct: comparable ? ((b - a) / a) * 100 : null,
    ratio: comparable ? b / a : null,
  };
}

/** The values compared for one run (null for a failed run: its numbers mean nothing). */
function values(run: RunResult): MetricValue[] {
  const ok = run.status === 'ok';
  const v = (x: number): number | null => (ok ? x : null);
  const recovery = runRecoveryMedians(run);
  return [
    { metric: 'ops/s', kind: 'throughput', unit: 'ops/s', better: 'higher', value: v(run.throughput.opsPerSec) },
    { metric: 'p50', kind: 'latency', unit: 'ms', better: 'lower', value: v(run.latencyMs.p50) },
    { metric: 'p99', kind: 'latency', unit: 'ms', better: 'lower', value: v(run.latencyMs.p99) },
    { metric: 'p99.9', kind: 'latency', unit: 'ms', better: 'lower', value: v(run.latencyMs.p999) },
    ...RECOVERY_METRICS.map(
      (m): MetricValue => ({ metric: `${m.label} (median)`, kind: 'recovery', unit: 'ms', better: 'lower', value: ok ? recovery[m.key].median : null }),
    ),
  ];
}

function side(label: string, r: ResultsFile): ComparisonSide {
  return { label, version: r.tool.version, createdAt: r.createdAt, runs: r.runs.length };
}

export function compareResults(a: ResultsFile, b: ResultsFile, labels: { a: string; b: string } = { a: 'A', b: 'B' }): Comparison {
  const byNameB = new Map(b.runs.map((r) => [r.name, r]));
  const namesA = new Set(a.runs.map((r) => r.name));
  const runs: RunComparison[] = [];
  for (const runA of a.runs) {
    const runB = byNameB.get(runA.name);
    if (runB === undefined) continue;
    const vb = values(runB);
    const metrics = values(runA)
      .map((x, i) => metric(x, x.value, vb[i]!.value))
      // Recovery rows only where either side measured one (runs without faults have none).
      .filter((m) => m.kind !== 'recovery' || m.a !== null || m.b !== null);
    runs.push({ name: runA.name, statusA: runA.status, statusB: runB.status, metrics });
  }
  return {
    a: side(labels.a, a),
    b: side(labels.b, b),
    runs,
    onlyInA: a.runs.filter((r) => !byNameB.has(r.name)).map((r) => r.name),
    onlyInB: b.runs.filter((r) => !namesA.has(r.name)).map((r) => r.name),
  };
}

export function formatMetricValue(m: MetricComparison, value: number | null): string {
  if (value === null) return NOT_OBSERVED;
  return m.unit === 'ms' ? formatMs(value) : formatOpsPerSec(value);
}

/** Whether B is better, worse or about the same (within 1 %) as A for this metric. */
export function verdict(m: MetricComparison): 'better' | 'worse' | 'same' | null {
  if (m.deltaPct === null) return null;
  if (Math.abs(m.deltaPct) < 1) return 'same';
  return m.deltaPct > 0 === (m.better === 'higher') ? 'better' : 'worse';
}

function statusNote(r: RunComparison): string {
  const failed = [r.statusA === 'failed' ? 'A' : '', r.statusB === 'failed' ? 'B' : ''].filter((x) => x !== '');
  return failed.length === 0 ? '' : ` (failed in ${failed.join(' and ')})`;
}

/** The comparison as markdown: a header, one table of every run × metric, and unmatched runs. */
export function renderComparison(c: Comparison): string {
  const describe = (s: ComparisonSide): string =>
    `${escapeMarkdownText(s.label)} (zablab ${escapeMarkdownText(s.version)}, ${formatTimestamp(s.createdAt)}, ${s.runs} runs)`;
  const out = ['# zablab comparison', '', `- A: ${describe(c.a)}`, `- B: ${describe(c.b)}`, ''];
  if (c.runs.length === 0) {
    out.push('No run is in both results (runs are matched by name).', '');
  } else {
    const rows = c.runs.flatMap((r) =>
      r.metrics.map((m) => [`${r.name}${statusNote(r)}`, m.metric, formatMetricValue(m, m.a), formatMetricValue(m, m.b), formatDeltaPct(m.deltaPct), formatRatio(m.ratio), verdict(m) ?? NOT_OBSERVED]),
    );
    out.push(markdownTable(['run', 'metric', 'A', 'B', 'delta', 'B/A', 'B is'], rows, ['left', 'left', 'right', 'right', 'right', 'right', 'left']));
  }
  if (c.onlyInA.length > 0) out.push('Only in A:', '', ...c.onlyInA.map((n) => `- ${escapeMarkdownText(n)}`), '');
  if (c.onlyInB.length > 0) out.push('Only in B:', '', ...c.onlyInB.map((n) => `- ${escapeMarkdownText(n)}`), '');
  return out.join('\n').trimEnd() + '\n';
}
