/** What the sections of report.html share: the runs to chart and how series are named. */
import { otherCellFields } from './aggregate.js';
import { systemLabel, topologyLabel } from './labels.js';
import type { ResultsFile, RunResult } from './results.js';

export interface ReportContext {
  results: ResultsFile;
  /** Successful runs: the ones with numbers worth charting. */
  ok: RunResult[];
  /** A run's index in results.runs (stable ids for charts). */
  indexOf(run: RunResult): number;
  /**
   * The series a run belongs to when runs are compared across read %: its topology
   * (`3v+2o`), plus the system when runs differ in it (`local/zookeeper`), the scenario when
   * there are several, and any other matrix field (`snapCount=1000`).
   */
  seriesOf(run: RunResult): string;
}

/** One section of the page: its anchor id, heading and markup. */
export interface Section {
  id: string;
  title: string;
  html: string;
}

/** Fields that are part of the topology label or the x axis, so not repeated in series names. */
const SHOWN_ELSEWHERE = ['readPct', 'voters', 'observers', 'driver', 'program'];

export function reportContext(results: ResultsFile): ReportContext {
  const ok = results.runs.filter((r) => r.status === 'ok');
  const index = new Map(results.runs.map((r, i) => [r, i]));
  const systems = new Set(ok.map(systemLabel));
  const scenarios = new Set(ok.map((r) => r.scenario));
  return {
    results,
    ok,
    indexOf: (run) => index.get(run) ?? -1,
    seriesOf: (run) =>
      [topologyLabel(run), systems.size > 1 ? systemLabel(run) : '', scenarios.size > 1 ? run.scenario : '', otherCellFields(run, SHOWN_ELSEWHERE)]
        .filter((p) => p !== '')
        .join(' '),
  };
}

/** Distinct values in first-seen order. */
export function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
