/**
 * A run's history in results.json and the reports: a planted stale read becomes an anomaly
 * whose witness results.json keeps, the validator checks the history block (and still reads
 * files without one), report.html draws the witness as an accessible timeline with a table
 * beside it, summary.md and the progress line give the verdict, and compare ignores it.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory, parseHistory, type HistoryVerdict } from '../../../src/harness/history/index.js';
import { compareResults, renderComparison, renderReportHtml, renderSummary, validateResults } from '../../../src/harness/report/index.js';
import type { ResultsFile, RunHistory } from '../../../src/harness/report/results.js';
import { runSummaryLine } from '../../../src/harness/runner/bench.js';
import { counterCheckOf, historyErrorOf, historyResultOf, setCheckOf } from '../../../src/harness/runner/history-result.js';
import { registerHistory } from '../../helpers/register-history.js';
import { makeResultsFixture } from '../../helpers/results-fixture.js';

const WINDOW_START_NS = 500_000_000;

function runHistory(verdict: HistoryVerdict, over: Partial<RunHistory> = {}): RunHistory {
  return {
    ...historyResultOf({
      file: 'runs/001-readmix/history.jsonl',
      originEpochMs: 1_700_000_000_000,
      windowStartNs: WINDOW_START_NS,
      root: '/zablab-bench/history-x',
      verdict,
      checkMs: 12.5,
      set: setCheckOf(
        [
          { element: 'e0.1', outcome: 'ok' },
          { element: 'e1.1', outcome: 'info' },
        ],
        ['e0.1', 'e1.1'],
        null,
      ),
      counter: counterCheckOf({ ok: 40, info: 2, fail: 9 }, 41, null),
    }),
    ...over,
  };
}

/** A history with one planted stale read, checked: the anomaly, and the read's value. */
function staleReadVerdict(): { verdict: HistoryVerdict; staleValue: unknown } {
  const text = registerHistory({ ops: 300, keys: 3, processes: 4, seed: 11, staleRead: true });
  const verdict = checkHistory(parseHistory(text));
  const clean = checkHistory(parseHistory(registerHistory({ ops: 300, keys: 3, processes: 4, seed: 11 })));
  expect(clean.linearizable).toBe(true);
  const read = verdict.anomalies[0]?.ops.find((o) => o.f === 'read');
  return { verdict, staleValue: read?.value };
}

function withHistory(h: RunHistory): ResultsFile {
  const r = makeResultsFixture();
  r.runs[0]!.history = h;
  return r;
}

describe('a run\'s history in results.json', () => {
  it('keeps the verdict and the witness of a planted stale read', () => {
    const { verdict } = staleReadVerdict();
    expect(verdict.linearizable).toBe(false);
    const h = runHistory(verdict);
    expect(h).toMatchObject({ linearizable: false, ops: 300, anomaliesFound: 1, checkMs: 12.5, checkedOpsPerSec: 24_000 });
    const a = h.anomalies[0]!;
    expect(a.ops.length).toBe(a.opsTotal);
    expect(a.ops.length).toBeGreaterThanOrEqual(3);
    // Two writes ordered in real time, then a read of the older one.
    expect(a.ops.filter((o) => o.f === 'write').length).toBeGreaterThanOrEqual(2);
    for (const o of a.ops) {
      expect(typeof o.invokeNs).toBe('number');
      expect(o.invokeLine).toBeGreaterThan(0);
    }
    expect(validateResults(JSON.parse(JSON.stringify(withHistory(h))))).toBeTruthy();
  });

  it('set and counter checks: a lost acknowledged add and a counter below its acknowledged increments are invalid; no final read is no verdict', () => {
    expect(setCheckOf([{ element: 'a', outcome: 'ok' }, { element: 'b', outcome: 'ok' }], ['a'], null)).toMatchObject({ valid: false, lost: ['b'], lostCount: 1, acknowledged: 2, present: 1 });
    expect(setCheckOf([{ element: 'a', outcome: 'info' }], ['a', 'zz'], null)).toMatchObject({ valid: false, invented: ['zz'], recovered: 1 });
    expect(setCheckOf([{ element: 'a', outcome: 'ok' }], null, 'no quorum')).toMatchObject({ valid: null, present: null, acknowledged: 1, error: 'no quorum' });
    expect(counterCheckOf({ ok: 10, info: 3, fail: 0 }, 13, null)).toMatchObject({ valid: true, lower: 10, upper: 13 });
    expect(counterCheckOf({ ok: 10, info: 3, fail: 0 }, 9, null)).toMatchObject({ valid: false, finalValue: 9 });
    expect(counterCheckOf({ ok: 10, info: 3, fail: 0 }, 14, null)).toMatchObject({ valid: false });
    expect(counterCheckOf({ ok: 10, info: 0, fail: 0 }, null, 'timed out')).toMatchObject({ valid: null, finalValue: null, error: 'timed out' });
  });
});

describe('the validator', () => {
  it('reads files with and without a history block', () => {
    const { verdict } = staleReadVerdict();
    expect(() => validateResults(JSON.parse(JSON.stringify(makeResultsFixture())))).not.toThrow();
    expect(() => validateResults(JSON.parse(JSON.stringify(withHistory(runHistory(verdict)))))).not.toThrow();
    const error = historyErrorOf({ file: 'h.jsonl', originEpochMs: 0, windowStartNs: 0, root: '/r', set: null, counter: null }, 'the history could not be merged');
    expect(() => validateResults(JSON.parse(JSON.stringify(withHistory(error))))).not.toThrow();
  });

  it('names the field of a history block that is wrong', () => {
    const { verdict } = staleReadVerdict();
    const bad = (change: (h: Record<string, unknown>) => void): string => {
      const r = JSON.parse(JSON.stringify(withHistory(runHistory(verdict)))) as { runs: { history: Record<string, unknown> }[] };
      change(r.runs[0]!.history);
      try {
        validateResults(r);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('expected the validator to refuse');
    };
    expect(bad((h) => (h.linearizable = 'yes'))).toContain('$.runs[0].history.linearizable must be true or false, got "yes"');
    expect(bad((h) => delete h.anomaliesFound)).toContain('$.runs[0].history.anomaliesFound is missing');
    expect(bad((h) => ((h.anomalies as { ops: { outcome: string }[] }[])[0]!.ops[0]!.outcome = 'maybe'))).toContain('$.runs[0].history.anomalies[0].ops[0].outcome must be one of "ok", "fail", "info"');
    expect(bad((h) => ((h.counter as Record<string, unknown>).finalValue = '41'))).toContain('$.runs[0].history.counter.finalValue must be a number');
  });
});

describe('reports of a run with a history', () => {
  it('report.html: the verdict, and the witness as a timeline with a title, a description and a table of its ops', () => {
    const { verdict, staleValue } = staleReadVerdict();
    const h = runHistory(verdict);
    const a = h.anomalies[0]!;
    const html = renderReportHtml(withHistory(h));
    expect(html).toContain('data-testid="section-history"');
    expect(html).toContain('href="#history"');
    expect(html).toContain(`NOT linearizable: 1 anomaly (key ${JSON.stringify(a.key).replace(/"/g, '&quot;')})`);
    expect(html).toContain('ok: 1 acknowledged add all present, 1 of 1 indeterminate present');
    expect(html).toContain('ok: 41 in [40, 42]');
    // The chart: an accessible image with a title and a description that lists every op.
    const svg = /<svg[^>]*data-testid="chart-anomaly-0-0"[^>]*>[\s\S]*?<\/svg>/.exec(html)?.[0];
    expect(svg).toBeDefined();
    expect(svg).toMatch(/role="img"/);
    expect(svg).toMatch(/aria-describedby="chart-anomaly-0-0-desc"/);
    expect(svg).toMatch(/<title>Anomaly on key/);
    const desc = /<desc id="chart-anomaly-0-0-desc">([^<]*)<\/desc>/.exec(svg!)?.[1];
    expect(desc).toContain(`${a.opsTotal} operations`);
    expect(desc).toContain(`read → ${JSON.stringify(staleValue).replace(/"/g, '&quot;')} ok`);
    // One bar per op, each with its outcome.
    expect([...svg!.matchAll(/<rect class="bar" data-outcome="(\w+)"/g)].map((m) => m[1])).toHaveLength(a.ops.length);
    // The text alternative: one table row per op.
    const table = /<table data-testid="table-anomaly-0-0">([\s\S]*?)<\/table>/.exec(html)?.[1];
    expect(table?.match(/<tr>/g)).toHaveLength(a.ops.length + 1);
    for (const o of a.ops) expect(table).toContain(`<td>p${o.process}</td>`);
  });

  it('report.html: a linearizable run and one with no verdict say so, and why', () => {
    const ok = runHistory(checkHistory(parseHistory(registerHistory({ ops: 100, keys: 2, processes: 3, seed: 5 }))));
    const unknown = runHistory(checkHistory(parseHistory(registerHistory({ ops: 100, keys: 2, processes: 3, seed: 5 }))), {
      linearizable: null,
      unknown: [{ key: 'k1', keyOps: 60, reason: 'time' }],
    });
    const r = makeResultsFixture();
    r.runs[0]!.history = ok;
    r.runs[1]!.history = unknown;
    const html = renderReportHtml(r);
    expect(html).toContain('data-testid="history-verdict-0">linearizable</p>');
    expect(html).toContain('data-testid="history-verdict-1">unknown: key &quot;k1&quot; ran out of the time budget</p>');
    expect(html).not.toContain('chart-anomaly');
  });

  it('summary.md, the progress line and compare', () => {
    const { verdict } = staleReadVerdict();
    const results = withHistory(runHistory(verdict));
    const md = renderSummary(results);
    expect(md).toContain('## History checks');
    expect(md).toMatch(/\| readmix\S* +\| NOT linearizable: 1 anomaly/);
    // The witness as text, indented as a code block, with the lines of history.jsonl.
    expect(md).toMatch(/\n {4}anomaly on key "k\d": no order of these \d+ ops/);
    expect(md).toMatch(/\n {6}p\d +read → \d+ /);
    expect(runSummaryLine(results.runs[0]!)).toMatch(/history: NOT linearizable: 1 anomaly \(key "k\d"\) \(300 ops\), set ok, counter ok$/);
    // compare: one side with a history, one without.
    const c = compareResults(results, makeResultsFixture());
    expect(c.runs.length).toBe(results.runs.length);
    expect(renderComparison(c)).toContain('readmix');
  });
});
