/**
 * "What does tracing cost?" in the reports: runs of a matrix over spans, one row per share
 * traced with throughput and p50/p99 over the repeats, and the ratio to tracing off.
 */
import { describe, expect, it } from 'vitest';
import { renderReportHtml, renderSummary, tracingCost, type RunResult } from '../../../src/harness/report/index.js';
import { makeResultsFixture } from '../../helpers/results-fixture.js';

/** A tracing-overhead results file: readPct [0, 100] × spans [0, 0.01, 1] × 2 repeats; one spans-1 repeat failed. */
function tracingResults(): ReturnType<typeof makeResultsFixture> {
  const r = makeResultsFixture();
  const template = r.runs.find((x) => x.status === 'ok')!;
  // ops/s by readPct and spans, per repeat (the best of each is the second value).
  const ops: Record<number, Record<number, [number, number]>> = {
    0: { 0: [9_000, 10_000], 0.01: [8_800, 9_900], 1: [7_000, 8_000] },
    100: { 0: [40_000, 50_000], 0.01: [49_000, 48_000], 1: [45_000, 30_000] },
  };
  const runs: RunResult[] = [];
  for (const readPct of [0, 100]) {
    for (const spans of [0, 0.01, 1]) {
      for (const repeat of [1, 2]) {
        const opsPerSec = ops[readPct]![spans]![repeat - 1]!;
        runs.push({
          ...structuredClone(template),
          name: `tracing-overhead/readPct=${readPct},spans=${spans}#${repeat}`,
          scenario: 'tracing-overhead',
          cell: { 'workload.readPct': readPct, spans },
          repeat,
          throughput: { opsPerSec, byOp: {} },
          latencyMs: { ...template.latencyMs, p50: 1 + spans, p99: 4 * (1 + spans) + repeat },
        });
      }
    }
  }
  runs.push({ ...structuredClone(runs[runs.length - 1]!), name: 'tracing-overhead/readPct=100,spans=1#3', repeat: 3, status: 'failed', throughput: { opsPerSec: 1, byOp: {} } });
  r.scenarios = [{ name: 'tracing-overhead', description: 'what tracing costs', source: 'bench/tracing-overhead.yaml' }];
  r.runs = runs;
  return r;
}

describe('tracing cost', () => {
  it('groups by the rest of the cell, rows off first, ratios of best throughput and of median p99 to spans 0', () => {
    const groups = tracingCost(tracingResults().runs);
    expect(groups.map((g) => g.cell)).toEqual(['readPct=0', 'readPct=100']);
    const [writes, reads] = groups;
    expect(writes!.rows.map((r) => [r.spans, r.runs, r.opsPerSecMedian, r.opsPerSecBest])).toEqual([
      [0, 2, 9_500, 10_000],
      [0.01, 2, 9_350, 9_900],
      [1, 2, 7_500, 8_000],
    ]);
    expect(writes!.rows.map((r) => r.opsPerSecRatio)).toEqual([1, 0.99, 0.8]);
    // p99 median: spans 0 → 5.5 (5 and 6), spans 1 → 9.5 (9 and 10).
    expect(writes!.rows[2]!.p99Ratio).toBeCloseTo(9.5 / 5.5, 10);
    // The failed repeat does not count: 2 runs, best 45,000 of 50,000.
    expect(reads!.rows[2]).toMatchObject({ spans: 1, runs: 2, opsPerSecBest: 45_000, opsPerSecRatio: 0.9 });
  });

  it('is empty without a matrix over spans, and has no ratio without a spans-0 cell', () => {
    expect(tracingCost(makeResultsFixture().runs)).toEqual([]);
    const r = tracingResults();
    const noOff = tracingCost(r.runs.filter((x) => x.cell['spans'] !== 0));
    expect(noOff[0]!.rows.map((x) => x.opsPerSecRatio)).toEqual([null, null]);
  });

  it('summary.md and report.html show the table', () => {
    const r = tracingResults();
    const md = renderSummary(r);
    expect(md).toContain('## Tracing cost');
    expect(md).toMatch(/\| tracing-overhead \| readPct=0 +\| +off \| +2 \| +9,500 \| +10,000 \| +1.00 ms \| +5.50 ms \| +1.00× \| +1.00× \|/);
    expect(md).toMatch(/\| tracing-overhead \| readPct=0 +\| +100 % \| +2 \| +7,500 \| +8,000 \| +2.00 ms \| +9.50 ms \| +0.80× \| +1.73× \|/);
    expect(md).toMatch(/\| readPct=100 +\| +1 % \|/);
    const html = renderReportHtml(r);
    expect(html).toContain('data-testid="table-tracing-cost"');
    expect(html).toContain('0.80×');
    expect(renderSummary(makeResultsFixture())).not.toContain('Tracing cost');
  });
});
