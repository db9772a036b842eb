/** `zablab report compare A B --out FILE.html`: the comparison as a self-contained page. */
import { groupedBarChart } from './charts/index.js';
import { formatMetricValue, verdict, type Comparison, type ComparisonSide } from './compare.js';
import { escapeHtml } from './escape.js';
import { formatDeltaPct, formatMs, formatOpsPerSec, formatRatio, formatTimestamp, NOT_OBSERVED } from './format.js';
import { card, htmlPage, htmlTable, type Cell } from './html-page.js';
import { shortRunLabels } from './labels.js';

function sideText(s: ComparisonSide): string {
  return `${s.label} (zablab ${s.version}, ${formatTimestamp(s.createdAt)}, ${s.runs} runs)`;
}

export function renderComparisonHtml(c: Comparison): string {
  const labels = shortRunLabels(c.runs.map((r) => r.name));
  const tips = c.runs.map((r) => r.name);
  const pick = (metric: string, side: 'a' | 'b'): (number | null)[] => c.runs.map((r) => r.metrics.find((m) => m.metric === metric)?.[side] ?? null);
  const chart = (metric: string, testId: string, title: string, yLabel: string, format: (v: number) => string): string =>
    card(
      groupedBarChart({
        testId,
        title,
        categories: labels,
        categoryTips: tips,
        series: [
          { name: 'A', values: pick(metric, 'a') },
          { name: 'B', values: pick(metric, 'b') },
        ],
        yLabel,
        formatValue: format,
      }),
    );
  const rows = c.runs.flatMap((r) =>
    r.metrics.map((m): Cell[] => {
      const v = verdict(m);
      return [
        r.name,
        m.metric,
        { text: formatMetricValue(m, m.a), num: true },
        { text: formatMetricValue(m, m.b), num: true },
        { text: formatDeltaPct(m.deltaPct), num: true, className: v === 'better' || v === 'worse' ? v : '' },
        { text: formatRatio(m.ratio), num: true },
        v ?? NOT_OBSERVED,
      ];
    }),
  );
  const unmatched = (title: string, names: readonly string[]): string =>
    names.length === 0 ? '' : `<h3>${escapeHtml(title)}</h3><ul>${names.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`;
  const body = [
    '<header data-testid="report-header"><h1>zablab comparison</h1>',
    `<dl class="meta"><dt>A</dt><dd>${escapeHtml(sideText(c.a))}</dd><dt>B</dt><dd>${escapeHtml(sideText(c.b))}</dd></dl></header>`,
    c.runs.length === 0
      ? '<p class="caption">No run is in both results (runs are matched by name).</p>'
      : chart('ops/s', 'chart-compare-throughput', 'Throughput, A and B', 'throughput (ops/s)', (v) => `${formatOpsPerSec(v)} ops/s`) +
        chart('p99', 'chart-compare-p99', 'p99 latency, A and B', 'p99 latency (ms)', formatMs) +
        htmlTable(['run', 'metric', 'A', 'B', 'delta', 'B/A', 'B is'], rows, [false, false, true, true, true, true, false], 'table-comparison'),
    unmatched('Only in A', c.onlyInA),
    unmatched('Only in B', c.onlyInB),
  ].join('\n');
  return htmlPage({ title: `zablab comparison: ${c.a.label} vs ${c.b.label}`, body });
}
