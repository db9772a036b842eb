/**
 * timeline.csv: one row per run, second and op (`all` first, then each op the run did), for
 * spreadsheets and plotting tools. Numbers are plain (no grouping, at most 3 decimals).
 */
import { csvField } from './escape.js';
import { opsOf } from './labels.js';
import type { ResultsFile } from './results.js';

export const TIMELINE_COLUMNS = ['run', 't', 'op', 'ops', 'errors', 'p50_ms', 'p99_ms'] as const;

/** A number for CSV: no exponent for the magnitudes a timeline has, trailing zeros dropped. */
function csvNumber(value: number): string {
  if (!Number.isFinite(value)) return '';
  const rounded = Math.round(value * 1_000) / 1_000;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

export function renderTimelineCsv(results: ResultsFile): string {
  const lines: string[] = [TIMELINE_COLUMNS.join(',')];
  for (const run of results.runs) {
    const name = csvField(run.name);
    for (const p of run.timeline) {
      const t = csvNumber(p.t);
      lines.push([name, t, 'all', csvNumber(p.ops), csvNumber(p.errors), csvNumber(p.p50), csvNumber(p.p99)].join(','));
      for (const op of opsOf(p.byOp)) {
        const o = p.byOp[op]!;
        lines.push([name, t, op, csvNumber(o.ops), csvNumber(o.errors), csvNumber(o.p50), csvNumber(o.p99)].join(','));
      }
    }
  }
  return lines.join('\n') + '\n';
}
