/** `report compare`: runs matched by name, A, B, delta % and B/A per metric, unmatched runs listed. */
import { describe, expect, it } from 'vitest';
import { compareResults, renderComparison, renderComparisonHtml, type MetricComparison } from '../../../src/harness/report/index.js';
import { makeResultsFixture } from '../../helpers/results-fixture.js';

function fixtures(): ReturnType<typeof compareResults> {
  const a = makeResultsFixture();
  const b = makeResultsFixture();
  b.tool.version = '0.2.0';
  const run0 = b.runs[0]!;
  run0.throughput.opsPerSec = 8_210.4 * 1.25;
  run0.latencyMs.p99 = 6.48 / 2;
  b.runs[4]!.recovery[0]!.leaderElectedMs = 406.2; // leader-kill#1: 812.4 → 406.2
  b.runs = b.runs.filter((r) => r.name !== 'readmix/observers=2,readPct=90#1');
  b.runs.push({ ...structuredClone(run0), name: 'readmix/observers=4,readPct=50#1' });
  return compareResults(a, b, { a: 'before', b: 'after' });
}

function metricOf(c: ReturnType<typeof compareResults>, run: string, metric: string): MetricComparison {
  const m = c.runs.find((r) => r.name === run)?.metrics.find((x) => x.metric === metric);
  expect(m, `${run} / ${metric}`).toBeDefined();
  return m!;
}

describe('compareResults', () => {
  const c = fixtures();

  it('matches runs by name and lists the runs only one side has', () => {
    expect(c.runs.map((r) => r.name)).toEqual([
      'readmix/observers=0,readPct=50#1',
      'readmix/observers=0,readPct=90#1',
      'readmix/observers=2,readPct=50#1',
      'leader-kill#1',
      'leader-kill#2',
      'leader-kill#3',
    ]);
    expect(c.onlyInA).toEqual(['readmix/observers=2,readPct=90#1']);
    expect(c.onlyInB).toEqual(['readmix/observers=4,readPct=50#1']);
    expect(c.a).toMatchObject({ label: 'before', version: '0.1.0', runs: 7 });
    expect(c.b).toMatchObject({ label: 'after', version: '0.2.0', runs: 7 });
  });

  it('computes delta % and B/A, and knows which direction is better', () => {
    const ops = metricOf(c, 'readmix/observers=0,readPct=50#1', 'ops/s');
    expect(ops.a).toBeCloseTo(8_210.4, 6);
    expect(ops.deltaPct).toBeCloseTo(25, 9);
    expect(ops.ratio).toBeCloseTo(1.25, 9);
    expect(ops.better).toBe('higher');
    const p99 = metricOf(c, 'readmix/observers=0,readPct=50#1', 'p99');
    expect(p99.deltaPct).toBeCloseTo(-50, 9);
    expect(p99.ratio).toBeCloseTo(0.5, 9);
    expect(p99.better).toBe('lower');
    const unchanged = metricOf(c, 'readmix/observers=0,readPct=90#1', 'p50');
    expect([unchanged.deltaPct, unchanged.ratio]).toEqual([0, 1]);
  });

  it('compares the median of each recovery time, only for runs with faults', () => {
    const elected = metricOf(c, 'leader-kill#1', 'leader elected (median)');
    expect([elected.a, elected.b]).toEqual([812.4, 406.2]);
    expect(elected.deltaPct).toBeCloseTo(-50, 9);
    // Only kills have a first write; the restart's back-in-service is its own row.
    expect(metricOf(c, 'leader-kill#1', 'first write (median)').a).toBeCloseTo(1_034.7, 9);
    expect(metricOf(c, 'leader-kill#1', 'back in service (median)').a).toBe(2_900);
    expect(c.runs[0]!.metrics.map((m) => m.metric)).toEqual(['ops/s', 'p50', 'p99', 'p99.9']);
  });

  it('has no numbers for a failed run (its zeros mean nothing)', () => {
    const failed = c.runs.find((r) => r.name === 'leader-kill#3')!;
    expect([failed.statusA, failed.statusB]).toEqual(['failed', 'failed']);
    expect(failed.metrics.every((m) => m.a === null && m.b === null && m.deltaPct === null && m.ratio === null)).toBe(true);
  });
});

describe('renderComparison', () => {
  const md = renderComparison(fixtures());
  const lines = md.split('\n');

  it('names both sides, then one row per run and metric with A, B, delta, ratio and a verdict', () => {
    expect(lines.slice(0, 4)).toEqual([
      '# zablab comparison',
      '',
      '- A: before (zablab 0.1.0, 2025-03-01 12:00:05 UTC, 7 runs)',
      '- B: after (zablab 0.2.0, 2025-03-01 12:00:05 UTC, 7 runs)',
    ]);
    const row = (run: string, metric: string): string[] =>
      lines
        .find((l) => l.startsWith(`| ${run} `) && l.includes(` ${metric} `))!
        .slice(2, -2)
        .split(' | ')
        .map((x) => x.trim());
    expect(lines.find((l) => l.startsWith('| run '))!.replace(/ +/g, ' ')).toBe('| run | metric | A | B | delta | B/A | B is |');
    expect(row('readmix/observers=0,readPct=50#1', 'ops/s')).toEqual(['readmix/observers=0,readPct=50#1', 'ops/s', '8,210', '10,263', '+25.0 %', '1.25×', 'better']);
    expect(row('readmix/observers=0,readPct=50#1', 'p99')).toEqual(['readmix/observers=0,readPct=50#1', 'p99', '6.48 ms', '3.24 ms', '-50.0 %', '0.50×', 'better']);
    expect(row('readmix/observers=0,readPct=90#1', 'p50')).toEqual(['readmix/observers=0,readPct=90#1', 'p50', '0.940 ms', '0.940 ms', '0.0 %', '1.00×', 'same']);
    expect(row('leader-kill#1', 'leader elected (median)')).toEqual(['leader-kill#1', 'leader elected (median)', '812 ms', '406 ms', '-50.0 %', '0.50×', 'better']);
    expect(row('leader-kill#3 (failed in A and B)', 'ops/s')).toEqual(['leader-kill#3 (failed in A and B)', 'ops/s', '—', '—', '—', '—', '—']);
  });

  it('lists unmatched runs under the table', () => {
    expect(md).toContain('\nOnly in A:\n\n- readmix/observers=2,readPct=90#1\n');
    expect(md).toContain('\nOnly in B:\n\n- readmix/observers=4,readPct=50#1\n');
  });

  it('says so when no run matches', () => {
    const a = makeResultsFixture();
    const b = makeResultsFixture();
    b.runs = b.runs.map((r) => ({ ...r, name: `other-${r.name}` }));
    expect(renderComparison(compareResults(a, b))).toContain('No run is in both results (runs are matched by name).');
  });
});

describe('renderComparisonHtml', () => {
  it('is a self-contained page with A/B charts and the table, escaping names', () => {
    const a = makeResultsFixture();
    a.runs[0]!.name = '<script>alert(1)</script>';
    const b = structuredClone(a);
    const html = renderComparisonHtml(compareResults(a, b, { a: 'A<dir>', b: 'B' }));
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('A&lt;dir&gt;');
    expect(html).toContain('data-testid="chart-compare-throughput"');
    expect(html).toContain('data-testid="chart-compare-p99"');
    expect(html).toContain('data-testid="table-comparison"');
    expect(html).not.toMatch(/https?:\/\//);
  });
});
