/**
 * report.html: everything a bench measured in one self-contained page (see html-page.ts).
 * Sections: header and failures, throughput and latency by read % and topology, history
 * checks (linearizability, set, counter, anomaly timelines), tracing cost (a matrix over spans), latency
 * percentiles, a timeline per run with faults and leader changes, recovery, write
 * breakdown, server metrics, configuration.
 */
import { configText, errorsText, RECOVERY_METRICS, recoveryMetricsFor, recoveryOverRepeats, recoveryValue, workloadText } from './aggregate.js';
import { groupedBarChart, lineChart, stripPlot, type StripValue } from './charts/index.js';
import { escapeHtml } from './escape.js';
import { formatCount, formatMs, formatOpsPerSec, formatSecondsFromMs, formatTimestamp, NOT_APPLICABLE, NOT_OBSERVED } from './format.js';
import { distinct, reportContext, type ReportContext, type Section } from './html-context.js';
import { card, htmlPage, htmlTable, pair, PAIR_CHART_WIDTH, section, type Cell } from './html-page.js';
import { historySection } from './html-history.js';
import { stateCostSection } from './html-state.js';
import { breakdownSection, metricsSection, timelineSection } from './html-runs.js';
import { faultLabel, faultTargetLabel, opsOf, readPctText, shortRunLabels, topologyText } from './labels.js';
import type { RecoveryResult, ResultsFile, RunResult } from './results.js';
import { median } from './stats.js';
import { syncTables } from './sync-tables.js';
import { TRACING_COST_CAPTION, TRACING_COST_HEADERS, tracingCost, tracingCostTable } from './tracing-cost.js';

function header(ctx: ReportContext, sections: readonly Section[]): string {
  const r = ctx.results;
  const failed = r.runs.filter((x) => x.status === 'failed');
  const scenarios = r.scenarios.map((s) => `<li><strong>${escapeHtml(s.name)}</strong>${s.description === '' ? '' : `: ${escapeHtml(s.description)}`}${s.source === '' ? '' : ` <code>${escapeHtml(s.source)}</code>`}</li>`);
  const meta: [string, string][] = [
    ['tool', `${escapeHtml(r.tool.name)} ${escapeHtml(r.tool.version)}`],
    ['created', escapeHtml(formatTimestamp(r.createdAt))],
    ['host', escapeHtml(`${r.host.cpus} CPUs, ${r.host.platform}, Node ${r.host.node}`)],
    ['runs', `${r.runs.length}${failed.length > 0 ? ` (${failed.length} failed)` : ''}`],
  ];
  const failures =
    failed.length === 0
      ? ''
      : `<div class="failures" data-testid="failed-runs"><h2>${failed.length === 1 ? '1 run failed' : `${failed.length} runs failed`}</h2><ul>${failed
          .map((f) => `<li><strong>${escapeHtml(f.name)}</strong>: ${escapeHtml(f.error ?? '(no error recorded)')}</li>`)
          .join('')}</ul></div>`;
  const toc = `<nav class="toc">${sections.map((s) => `<a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a>`).join('')}</nav>`;
  return [
    '<header data-testid="report-header">',
    '<h1>zablab bench report</h1>',
    `<dl class="meta">${meta.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`).join('')}</dl>`,
    scenarios.length > 0 ? `<ul class="scenarios">${scenarios.join('')}</ul>` : '',
    failures,
    toc,
    '</header>',
  ].join('\n');
}

function runTable(runs: readonly RunResult[]): string {
  return htmlTable(
    ['run', 'topology', 'read %', 'ops/s', 'p50', 'p99', 'p99.9', 'errors'],
    runs.map((r): Cell[] =>
      r.status === 'failed'
        ? [r.name, topologyText(r), readPctText(r), 'failed', NOT_OBSERVED, NOT_OBSERVED, NOT_OBSERVED, errorsText(r)]
        : [r.name, topologyText(r), readPctText(r), formatOpsPerSec(r.throughput.opsPerSec), formatMs(r.latencyMs.p50), formatMs(r.latencyMs.p99), formatMs(r.latencyMs.p999), errorsText(r)],
    ),
    [false, false, true, true, true, true, true, false],
    'table-runs',
  );
}

/** Throughput and p99 against read %, one line per topology; or ops/s per run when read % does not vary. */
function overviewSection(ctx: ReportContext): Section {
  const readPcts = distinct(ctx.ok.map((r) => r.workload.readPct)).sort((a, b) => a - b);
  let charts: string;
  if (readPcts.length > 1) {
    const names = distinct(ctx.ok.map(ctx.seriesOf));
    const byRead = (metric: (r: RunResult) => number, unit: (v: number) => string) =>
      names.map((name) => ({
        name,
        points: readPcts.flatMap((pct) => {
          const runs = ctx.ok.filter((r) => ctx.seriesOf(r) === name && r.workload.readPct === pct);
          const v = median(runs.map(metric));
          if (v === null) return [];
          const n = runs.length > 1 ? ` (median of ${runs.length} runs)` : '';
          return [{ x: pct, y: v, tip: `${name}, ${pct} % reads: ${unit(v)}${n}` }];
        }),
      }));
    const common = { xLabel: 'reads (%)', formatX: (x: number) => `${x} % reads`, width: PAIR_CHART_WIDTH };
    charts = pair(
      lineChart({ ...common, testId: 'chart-throughput-vs-read', title: 'Throughput by read %', yLabel: 'throughput (ops/s)', series: byRead((r) => r.throughput.opsPerSec, (v) => `${formatOpsPerSec(v)} ops/s`), formatY: (y) => `${formatOpsPerSec(y)} ops/s` }),
      lineChart({ ...common, testId: 'chart-p99-vs-read', title: 'p99 latency by read %', yLabel: 'p99 latency (ms)', series: byRead((r) => r.latencyMs.p99, formatMs), formatY: formatMs }),
    );
  } else {
    const labels = shortRunLabels(ctx.ok.map((r) => r.name));
    charts = card(
      groupedBarChart({
        testId: 'chart-throughput-per-run',
        title: 'Throughput per run',
        categories: labels,
        categoryTips: ctx.ok.map((r) => `${r.name} (${ctx.seriesOf(r)})`),
        series: [{ name: 'ops/s', values: ctx.ok.map((r) => r.throughput.opsPerSec) }],
        yLabel: 'throughput (ops/s)',
        formatValue: (v) => `${formatOpsPerSec(v)} ops/s`,
      }),
    );
  }
  return { id: 'throughput', title: 'Throughput and latency', html: (ctx.ok.length > 0 ? charts : '<p class="caption">No successful run.</p>') + runTable(ctx.results.runs) };
}

const PERCENTILES = [
  { key: 'p50', label: 'p50' },
  { key: 'p90', label: 'p90' },
  { key: 'p99', label: 'p99' },
  { key: 'p999', label: 'p99.9' },
  { key: 'max', label: 'max' },
] as const;

function latencySection(ctx: ReportContext): Section | null {
  if (ctx.ok.length === 0) return null;
  const labels = shortRunLabels(ctx.ok.map((r) => r.name));
  const tips = ctx.ok.map((r) => r.name);
  const series = PERCENTILES.map((p) => ({ name: p.label, values: ctx.ok.map((r) => r.latencyMs[p.key]) }));
  const chart = (log: boolean): string =>
    groupedBarChart({
      testId: log ? 'chart-latency-percentiles-log' : 'chart-latency-percentiles',
      title: `Latency percentiles per run${log ? ' (log scale)' : ''}`,
      categories: labels,
      categoryTips: tips,
      series,
      yLabel: 'latency (ms)',
      yScale: log ? 'log' : 'linear',
      formatValue: formatMs,
    });
  const ops = distinct(ctx.ok.flatMap((r) => opsOf(r.latencyMs.byOp)));
  const byOp = groupedBarChart({
    testId: 'chart-latency-by-op',
    title: 'p99 latency per op',
    categories: labels,
    categoryTips: tips,
    series: ops.map((op) => ({ name: op, values: ctx.ok.map((r) => r.latencyMs.byOp[op]?.p99 ?? null) })),
    yLabel: 'p99 latency (ms)',
    formatValue: formatMs,
  });
  const opRows = ctx.ok.flatMap((r) =>
    opsOf(r.latencyMs.byOp).map((op): Cell[] => {
      const p = r.latencyMs.byOp[op]!;
      return [r.name, op, formatOpsPerSec(r.throughput.byOp[op] ?? 0), formatCount(p.count), formatMs(p.p50), formatMs(p.p90), formatMs(p.p99), formatMs(p.p999), formatMs(p.max)];
    }),
  );
  const html = [
    // The log-scale toggle is CSS only (#latency-log:checked ~ ...): the page has no script.
    '<div class="card">',
    '<input type="checkbox" id="latency-log" data-testid="toggle-latency-log"><label class="toggle-label" for="latency-log">log scale</label>',
    `<div class="scale-linear">${chart(false)}</div>`,
    `<div class="scale-log">${chart(true)}</div>`,
    '</div>',
    ops.length > 0 ? card(byOp) : '',
    '<h3>Per op</h3>',
    htmlTable(['run', 'op', 'ops/s', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'], opRows, [false, false, true, true, true, true, true, true, true], 'table-latency-by-op'),
  ].join('\n');
  return { id: 'latency', title: 'Latency', html };
}

function recoverySection(ctx: ReportContext): Section | null {
  const runs = ctx.results.runs.filter((r) => r.recovery.length > 0);
  if (runs.length === 0) return null;
  // One chart per fault kind: each kind has its own measurements (recoveryMetricsFor).
  const kinds = distinct(ctx.ok.flatMap((r) => r.recovery.map((rec) => rec.fault)));
  const charts = kinds.map((kind) => {
    const metrics = recoveryMetricsFor(kind);
    const names = distinct(ctx.ok.filter((r) => r.recovery.some((rec) => rec.fault === kind)).map(ctx.seriesOf));
    const series = names.map((name) => ({
      name,
      values: metrics.map((m) =>
        ctx.ok
          .filter((r) => ctx.seriesOf(r) === name)
          .flatMap((r) =>
            r.recovery.flatMap((rec): StripValue[] => {
              const v = rec.fault === kind ? recoveryValue(rec, m.key) : null;
              return v === null ? [] : [{ v, tip: `${r.name} · ${faultLabel(rec)} · ${m.label}` }];
            }),
          ),
      ),
    }));
    return card(
      stripPlot({
        testId: `chart-recovery-${kind}`,
        title: `Recovery after ${kind} (every ${kind} of every run)`,
        groups: metrics.map((m) => m.label),
        series,
        yLabel: `time after the ${kind} (ms)`,
        formatValue: formatMs,
      }),
    );
  });
  const cells = (rec: RecoveryResult): string[] => {
    const applies = new Set(recoveryMetricsFor(rec.fault).map((m) => m.key));
    return RECOVERY_METRICS.map((m) => (applies.has(m.key) ? formatMs(recoveryValue(rec, m.key)) : NOT_APPLICABLE));
  };
  const rows = runs.flatMap((r) =>
    r.recovery.map((rec): Cell[] => [
      r.name,
      rec.fault,
      formatSecondsFromMs(rec.atMs),
      faultTargetLabel(rec),
      rec.leaderBefore === null ? NOT_OBSERVED : String(rec.leaderBefore),
      rec.leaderAfter === null ? NOT_OBSERVED : String(rec.leaderAfter),
      ...cells(rec),
    ]),
  );
  const groups = recoveryOverRepeats(ctx.results.runs).filter((g) => g.runs > 1);
  const repeats =
    groups.length === 0
      ? ''
      : '<h3>Over repeats (median / max)</h3>' +
        htmlTable(
          ['runs', 'fault', 'target', 'repeats', ...RECOVERY_METRICS.map((m) => m.label)],
          groups.map((g) => {
            const applies = new Set(recoveryMetricsFor(g.fault).map((m) => m.key));
            return [
              g.label,
              g.fault,
              g.target,
              String(g.runs),
              ...RECOVERY_METRICS.map((m) =>
                !applies.has(m.key) ? NOT_APPLICABLE : g.metrics[m.key].observed === 0 ? NOT_OBSERVED : `${formatMs(g.metrics[m.key].median)} / ${formatMs(g.metrics[m.key].max)}`,
              ),
            ];
          }),
          [false, false, false, true, true, true, true, true, true],
          'table-recovery-repeats',
        );
  const html = [
    '<p class="caption">Milliseconds from the fault. A fault that takes a member away (kill, pause, partition): until a leader serves again (when it hit the leader), until the first write issued after the fault is acknowledged. One that gives a member back (restart, resume, heal): until that member serves again. Both: until throughput is back to 90 % of its level before the fault, and the longest stretch without an acknowledged write. — : does not apply to that fault, or not observed before the run ended.</p>',
    ctx.ok.length > 0 ? charts.join('\n') : '',
    htmlTable(['run', 'fault', 'at', 'target', 'leader before', 'leader after', ...RECOVERY_METRICS.map((m) => m.label)], rows, [false, false, true, false, true, true, true, true, true, true, true], 'table-recovery'),
    repeats,
    ackedWritesTable(ctx),
  ].join('\n');
  return { id: 'recovery', title: 'Recovery', html };
}

/** Runs with faults: acknowledged writes looked up on every server afterwards. */
function ackedWritesTable(ctx: ReportContext): string {
  const runs = ctx.results.runs.filter((r) => r.ackedWrites !== undefined);
  if (runs.length === 0) return '';
  const rows = runs.map((r): Cell[] => {
    const a = r.ackedWrites!;
    const verdict = a.lost > 0 ? `LOST ${formatCount(a.lost)}` : a.error !== null ? `not checked: ${a.error}` : 'none lost';
    return [r.name, formatCount(a.writes), formatCount(a.indeterminate), a.servers.map((s) => String(s.serverId)).join(', ') || NOT_OBSERVED, verdict];
  });
  return (
    '<h3>Acknowledged writes</h3><p class="caption">Creates the runner acknowledged during the run (beside the load), each looked up on every running server once they served with equal zxids. Indeterminate: the reply was lost, so either outcome is allowed.</p>' +
    htmlTable(['run', 'acknowledged', 'indeterminate', 'checked on servers', 'lost'], rows, [false, true, true, false, false], 'table-acked-writes')
  );
}

function tracingCostSection(ctx: ReportContext): Section | null {
  const groups = tracingCost(ctx.results.runs);
  if (groups.length === 0) return null;
  const html = `<p class="caption">${escapeHtml(TRACING_COST_CAPTION)}</p>` + htmlTable(TRACING_COST_HEADERS, tracingCostTable(groups), [false, false, true, true, true, true, true, true, true, true], 'table-tracing-cost');
  return { id: 'tracing-cost', title: 'Tracing cost', html };
}

/** Catch-ups, snapshots and p99 during them (report/sync-tables.ts). */
function syncSection(ctx: ReportContext): Section | null {
  const tables = syncTables(ctx.results.runs);
  if (tables.length === 0) return null;
  const html = tables.map((t) => `<h3>${escapeHtml(t.title)}</h3><p class="caption">${escapeHtml(t.caption)}</p>` + htmlTable(t.table.headers, t.table.rows, t.table.numeric, `table-${t.id}`)).join('\n');
  return { id: 'catch-up', title: 'Catch-up and snapshots', html };
}

function configSection(ctx: ReportContext): Section | null {
  if (ctx.results.runs.length === 0) return null;
  const rows = ctx.results.runs.map((r): Cell[] => [r.name, r.status, formatTimestamp(r.startedAt), topologyText(r), configText(r.ensemble.config), `${r.load.driver}${r.load.missedSlots > 0 ? `, ${formatCount(r.load.missedSlots)} missed slots` : ''}`, workloadText(r)]);
  return { id: 'config', title: 'Configuration', html: htmlTable(['run', 'status', 'started', 'ensemble', 'zoo.cfg', 'load', 'workload'], rows, [], 'table-config') };
}

export function renderReportHtml(results: ResultsFile): string {
  const ctx = reportContext(results);
  const sections = [overviewSection(ctx), historySection(ctx), tracingCostSection(ctx), latencySection(ctx), timelineSection(ctx), recoverySection(ctx), stateCostSection(ctx), syncSection(ctx), breakdownSection(ctx), metricsSection(ctx), configSection(ctx)].filter((s): s is Section => s !== null);
  const body = [
    header(ctx, sections),
    ...sections.map((s) => section(s.id, s.title, s.html)),
    `<footer>Written by ${escapeHtml(results.tool.name)} ${escapeHtml(results.tool.version)}. This file needs no network: charts are inline SVG; hover a point for its value.</footer>`,
  ].join('\n');
  const scenarios = results.scenarios.map((s) => s.name).join(', ');
  return htmlPage({ title: `zablab report${scenarios === '' ? '' : `: ${scenarios}`} (${formatTimestamp(results.createdAt)})`, body });
}
