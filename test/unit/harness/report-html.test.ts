/**
 * report.html as text: escaping, self-containment, and which sections and charts a given
 * results file produces (the browser test checks that they render).
 */
import { describe, expect, it } from 'vitest';
import { renderReportHtml } from '../../../src/harness/report/index.js';
import { makeResultsFixture } from '../../helpers/results-fixture.js';

function testIds(html: string): string[] {
  return [...html.matchAll(/data-testid="([^"]+)"/g)].map((m) => m[1]!);
}

describe('report.html', () => {
  it('escapes every text it shows: a run named <script> stays text', () => {
    const r = makeResultsFixture();
    r.runs[0]!.name = '<script>alert("x")</script>';
    r.runs[6]!.error = 'failed: <img src=x onerror=alert(1)> & more';
    r.scenarios[0]!.description = '"quoted" <b>bold</b>';
    r.runs[0]!.ensemble.config = { '<k>': "it's" };
    const html = renderReportHtml(r);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>bold');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('failed: &lt;img src=x onerror=alert(1)&gt; &amp; more');
    expect(html).toContain('&lt;k&gt;=it&#39;s');
    // The name also reaches attributes (data-run, data-series) and SVG tooltips, escaped there too.
    expect(html).toContain('data-run="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"');
  });

  it('needs no network: no URL in any attribute or style, a CSP that forbids requests, no script', () => {
    const r = makeResultsFixture();
    r.scenarios[0]!.description = 'see https://example.com/doc and http://example.org';
    const html = renderReportHtml(r);
    // URLs a user typed appear as text only.
    expect(html.match(/https?:\/\//g)).toHaveLength(2);
    expect(html).toContain('see https://example.com/doc and http://example.org');
    const refs = [...html.matchAll(/\s(?:src|href|xlink:href|action|srcset|poster|data)="([^"]*)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.every((v) => v!.startsWith('#'))).toBe(true);
    expect(html).not.toMatch(/url\(|@import|<link|<iframe|<object|<embed|<script/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;`);
    expect(makeResultsFixture().scenarios.map((s) => s.description).join(' ')).not.toMatch(/https?:/);
    expect(renderReportHtml(makeResultsFixture())).not.toMatch(/https?:\/\//);
  });

  it('has every section and chart the fixture calls for', () => {
    const html = renderReportHtml(makeResultsFixture());
    const ids = testIds(html);
    for (const section of ['throughput', 'latency', 'timelines', 'recovery', 'breakdown', 'metrics', 'config']) expect(ids).toContain(`section-${section}`);
    expect(ids).toEqual(
      expect.arrayContaining([
        'report-header',
        'failed-runs',
        'chart-throughput-vs-read',
        'chart-p99-vs-read',
        'chart-latency-percentiles',
        'chart-latency-percentiles-log',
        'toggle-latency-log',
        'chart-latency-by-op',
        'chart-recovery-kill',
        'chart-recovery-restart',
        'chart-breakdown-2',
        'table-runs',
        'table-recovery',
        'table-recovery-repeats',
        'table-config',
      ]),
    );
    // A timeline pair per successful run (indexes in results.runs); none for the failed run 6.
    expect(ids.filter((id) => id.startsWith('chart-timeline-'))).toEqual([0, 1, 2, 3, 4, 5].flatMap((i) => [`chart-timeline-ops-${i}`, `chart-timeline-p99-${i}`]));
    // Server metrics for the runs that sampled them: 3 keys each.
    expect(ids.filter((id) => id.startsWith('chart-metric-'))).toEqual(['0', '4', '5'].flatMap((i) => [0, 1, 2].map((k) => `chart-metric-${i}-${k}`)));
    expect(ids).not.toContain('chart-throughput-per-run');
    // Sections in the order the task lists them.
    const order = ['throughput', 'latency', 'timelines', 'recovery', 'breakdown', 'metrics', 'config'].map((s) => html.indexOf(`id="${s}"`));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('lists failed runs with their errors before any chart', () => {
    const html = renderReportHtml(makeResultsFixture());
    const failures = html.indexOf('data-testid="failed-runs"');
    expect(failures).toBeGreaterThan(0);
    expect(failures).toBeLessThan(html.indexOf('<svg'));
    expect(html).toContain('<li><strong>leader-kill#3</strong>: the ensemble did not serve within 60000 ms: server 2 is looking (see s2/server.log)</li>');
  });

  it('draws ops/s per run when read % does not vary, and leaves out sections without data', () => {
    const r = makeResultsFixture();
    r.runs = r.runs.filter((x) => x.scenario === 'readmix' && x.workload.readPct === 90).map((x) => ({ ...x, breakdown: null, metrics: [] }));
    const ids = testIds(renderReportHtml(r));
    expect(ids).toContain('chart-throughput-per-run');
    expect(ids).not.toContain('chart-throughput-vs-read');
    for (const absent of ['section-recovery', 'section-breakdown', 'section-metrics', 'failed-runs']) expect(ids).not.toContain(absent);
  });

  it('renders a results file without runs', () => {
    const r = makeResultsFixture();
    r.runs = [];
    const html = renderReportHtml(r);
    expect(html).toContain('No successful run.');
    expect(html).toMatch(/<\/html>\n$/);
  });

  it('names timeline markers after the fault and the new leader, in time order (not the one from warm-up)', () => {
    const html = renderReportHtml(makeResultsFixture());
    const ops4 = html.slice(html.indexOf('data-testid="chart-timeline-ops-4"'));
    const svg = ops4.slice(0, ops4.indexOf('</svg>'));
    expect([...svg.matchAll(/class="marker marker-(\w+)" data-label="([^"]+)"/g)].map((m) => `${m[1]}: ${m[2]}`)).toEqual([
      'fault: kill leader (id 3)',
      'leader: no leader',
      'leader: leader → 2',
      'fault: restart last (id 3)',
    ]);
  });
});
