/**
 * "What does tracing cost?": runs of a matrix over `spans`, grouped by the rest of their cell,
 * one row per spans value with its throughput and latency over the repeats and the ratio to
 * the same cell with tracing off (spans 0). The ratio is of the best throughput of each value
 * (the repeat least disturbed by the machine), as the tracing-overhead script it replaces did.
 */
import { formatMs, formatOpsPerSec, formatRatio, NOT_OBSERVED } from './format.js';
import { cellKeyLabel } from './labels.js';
import type { RunResult } from './results.js';
import { maxOf, median } from './stats.js';

/** The matrix key of the top-level `spans` field. */
const SPANS_KEY = 'spans';

export interface TracingCostRow {
  /** Share of requests traced: 0 off, 1 every request. */
  spans: number;
  /** Successful repeats. */
  runs: number;
  opsPerSecMedian: number | null;
  opsPerSecBest: number | null;
  p50MsMedian: number | null;
  p99MsMedian: number | null;
  /** Best throughput over the best throughput with spans 0; null without such runs. */
  opsPerSecRatio: number | null;
  /** Median p99 over the median p99 with spans 0. */
  p99Ratio: number | null;
}

export interface TracingCostGroup {
  scenario: string;
  /** The rest of the cell (`readPct=0`), '' when spans is the only field varied. */
  cell: string;
  rows: TracingCostRow[];
}

/** The share traced that a matrix value of `spans` means (true: every request, false: none). */
function spansShare(value: string | number | boolean): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return Number(value);
}

function ratio(value: number | null, base: number | null): number | null {
  return value === null || base === null || base === 0 ? null : value / base;
}

/** Groups in the order their runs first appear; rows by share traced, off first. Empty unless a matrix varies spans. */
export function tracingCost(runs: readonly RunResult[]): TracingCostGroup[] {
  const groups = new Map<string, { scenario: string; cell: string; bySpans: Map<number, RunResult[]> }>();
  for (const run of runs) {
    const value = run.cell[SPANS_KEY];
    if (run.status !== 'ok' || value === undefined) continue;
    const rest = Object.entries(run.cell)
      .filter(([k]) => k !== SPANS_KEY)
      .map(([k, v]) => `${cellKeyLabel(k)}=${String(v)}`)
      .join(',');
    const key = JSON.stringify([run.scenario, rest]);
    let g = groups.get(key);
    if (g === undefined) {
      g = { scenario: run.scenario, cell: rest, bySpans: new Map() };
      groups.set(key, g);
    }
    const share = spansShare(value);
    g.bySpans.set(share, [...(g.bySpans.get(share) ?? []), run]);
  }
  return [...groups.values()].map((g) => {
    const rows = [...g.bySpans.entries()]
      .sort(([a], [b]) => a - b)
      .map(([spans, rs]) => ({
        spans,
        runs: rs.length,
        opsPerSecMedian: median(rs.map((r) => r.throughput.opsPerSec)),
        opsPerSecBest: maxOf(rs.map((r) => r.throughput.opsPerSec)),
        p50MsMedian: median(rs.map((r) => r.latencyMs.p50)),
        p99MsMedian: median(rs.map((r) => r.latencyMs.p99)),
      }));
    const off = rows.find((r) => r.spans === 0);
    return {
      scenario: g.scenario,
      cell: g.cell,
      rows: rows.map((r) => ({
        ...r,
        opsPerSecRatio: off === undefined ? null : ratio(r.opsPerSecBest, off.opsPerSecBest),
        p99Ratio: off === undefined ? null : ratio(r.p99MsMedian, off.p99MsMedian),
      })),
    };
  });
}

/** `off`, `1 %`, `100 %`: a share traced as the tables show it. */
export function spansText(spans: number): string {
  return spans === 0 ? 'off' : `${Math.round(spans * 10_000) / 100} %`;
}

export const TRACING_COST_HEADERS = ['scenario', 'cell', 'spans', 'repeats', 'ops/s (median)', 'ops/s (best)', 'p50 (median)', 'p99 (median)', 'best ops/s vs off', 'p99 vs off'] as const;
export const TRACING_COST_CAPTION =
  'Runs of a matrix over spans (the share of requests traced), by the rest of their cell: throughput and latency over the repeats, and the ratio to the same cell with tracing off (best throughput to best: the repeat least disturbed by the machine; target: every request traced keeps >= 0.90×).';

/** The table's rows as text, for summary.md and report.html alike. */
export function tracingCostTable(groups: readonly TracingCostGroup[]): string[][] {
  const ops = (v: number | null): string => (v === null ? NOT_OBSERVED : formatOpsPerSec(v));
  return groups.flatMap((g) =>
    g.rows.map((r) => [
      g.scenario,
      g.cell === '' ? NOT_OBSERVED : g.cell,
      spansText(r.spans),
      String(r.runs),
      ops(r.opsPerSecMedian),
      ops(r.opsPerSecBest),
      formatMs(r.p50MsMedian),
      formatMs(r.p99MsMedian),
      formatRatio(r.opsPerSecRatio),
      formatRatio(r.p99Ratio),
    ]),
  );
}
