/** The per-run sections of report.html: timelines, write breakdown, server metrics. */
import { lineChart, stackedBarChart, type ChartMarker } from './charts/index.js';
import { escapeHtml } from './escape.js';
import { formatCount, formatMs, formatNumber, formatOpsPerSec } from './format.js';
import type { ReportContext, Section } from './html-context.js';
import { card, htmlTable, pair, PAIR_CHART_WIDTH, type Cell } from './html-page.js';
import { faultLabel, leaderChangeLabel, opsOf } from './labels.js';
import type { MetricSample, RunResult } from './results.js';

/** Per-run sections draw at most this many runs (a huge matrix would make a page no one scrolls). */
export const RUNS_CHARTED_MAX = 200;

function runHeading(ctx: ReportContext, run: RunResult): string {
  return `<h3 id="run-${ctx.indexOf(run)}">${escapeHtml(run.name)} <small>(${escapeHtml(ctx.seriesOf(run))}, ${formatNumber(run.workload.readPct)} % reads)</small></h3>`;
}

function tooMany(count: number): string {
  return count > RUNS_CHARTED_MAX ? `<p class="caption">Only the first ${RUNS_CHARTED_MAX} of ${count} runs are charted; every run is in results.json and timeline.csv.</p>` : '';
}

export function runMarkers(run: RunResult): ChartMarker[] {
  return [
    ...run.recovery.map((r): ChartMarker => ({ x: r.atMs / 1_000, label: faultLabel(r), kind: 'fault' })),
    ...run.leaderChanges.map((c): ChartMarker => ({ x: c.atMs / 1_000, label: leaderChangeLabel(c), kind: 'leader' })),
  ];
}

function timelineCharts(ctx: ReportContext, run: RunResult): string {
  const i = ctx.indexOf(run);
  const ops = opsOf(Object.assign({}, ...run.timeline.map((p) => p.byOp)) as RunResult['timeline'][number]['byOp']);
  const end = Math.max(run.durationMs / 1_000, ...run.timeline.map((p) => p.t));
  const markers = runMarkers(run);
  const tipAt = (t: number): string => `t = ${t} s`;
  const opsSeries = [
    { name: 'all', points: run.timeline.map((p) => ({ x: p.t, y: p.ops, tip: `all, ${tipAt(p.t)}: ${formatOpsPerSec(p.ops)} ops/s` })) },
    ...(ops.length > 1 ? ops.map((op) => ({ name: op, points: run.timeline.map((p) => ({ x: p.t, y: p.byOp[op]?.ops ?? 0, tip: `${op}, ${tipAt(p.t)}: ${formatOpsPerSec(p.byOp[op]?.ops ?? 0)} ops/s` })) })) : []),
    ...(run.timeline.some((p) => p.errors > 0) ? [{ name: 'errors', points: run.timeline.map((p) => ({ x: p.t, y: p.errors, tip: `errors, ${tipAt(p.t)}: ${formatCount(p.errors)}` })) }] : []),
  ];
  // A second without completions has no latency: a gap, not a zero.
  const p99Series = [
    { name: 'all', points: run.timeline.map((p) => ({ x: p.t, y: p.ops > 0 ? p.p99 : null, tip: `all, ${tipAt(p.t)}: p99 ${formatMs(p.p99)}` })) },
    ...(ops.length > 1
      ? ops.map((op) => ({
          name: op,
          points: run.timeline.map((p) => {
            const o = p.byOp[op];
            return { x: p.t, y: o !== undefined && o.ops > 0 ? o.p99 : null, tip: `${op}, ${tipAt(p.t)}: p99 ${formatMs(o?.p99 ?? null)}` };
          }),
        }))
      : []),
  ];
  const common = { xLabel: 'time in the measured window (s)', markers, xDomain: [0, end] as [number, number], formatX: tipAt, width: PAIR_CHART_WIDTH };
  return pair(
    lineChart({ ...common, testId: `chart-timeline-ops-${i}`, title: 'Throughput per second', yLabel: 'ops/s', series: opsSeries, formatY: (y) => `${formatOpsPerSec(y)} ops/s` }),
    lineChart({ ...common, testId: `chart-timeline-p99-${i}`, title: 'p99 latency per second', yLabel: 'p99 latency (ms)', series: p99Series, formatY: formatMs }),
  );
}

export function timelineSection(ctx: ReportContext): Section | null {
  const runs = ctx.ok.filter((r) => r.timeline.length > 0);
  if (runs.length === 0) return null;
  const html = [
    '<p class="caption">Per second of the measured window. Dashed red lines: faults; dotted purple lines: leader changes as the servers reported them.</p>',
    tooMany(runs.length),
    ...runs.slice(0, RUNS_CHARTED_MAX).map((r) => `<div class="run-timeline" data-run="${escapeHtml(r.name)}">${runHeading(ctx, r)}${timelineCharts(ctx, r)}</div>`),
  ].join('\n');
  return { id: 'timelines', title: 'Timelines', html };
}

/** Stages that contain other stages: drawn in the table, not stacked (they would count time twice). */
const ENCLOSING_STAGES = ['request', 'ack'];
const STAGE_ORDER = ['queue', 'quorum', 'commitSent', 'append', 'fsync', 'apply'];

function stageRank(stage: string): number {
  const i = STAGE_ORDER.indexOf(stage);
  return i === -1 ? STAGE_ORDER.length : i;
}

function serverLabel(serverId: number | null, role: string | null): string {
  const who = serverId === null ? 'all servers' : `server ${serverId}`;
  return role === null ? who : `${who} (${role})`;
}

export function breakdownSection(ctx: ReportContext): Section | null {
  const runs = ctx.results.runs.filter((r) => r.breakdown !== null && r.breakdown.stages.length > 0);
  if (runs.length === 0) return null;
  const parts = runs.slice(0, RUNS_CHARTED_MAX).map((run) => {
    const b = run.breakdown!;
    const servers = [...new Map(b.stages.map((s) => [`${s.serverId}`, { serverId: s.serverId, role: s.role }])).values()].sort((x, y) => (x.serverId ?? -1) - (y.serverId ?? -1));
    const rows = servers.map((srv) => ({
      label: serverLabel(srv.serverId, srv.role),
      segments: b.stages
        .filter((s) => s.serverId === srv.serverId && !ENCLOSING_STAGES.includes(s.stage))
        .sort((x, y) => stageRank(x.stage) - stageRank(y.stage))
        .map((s) => ({ name: s.stage, value: s.meanMs })),
    }));
    const chart = stackedBarChart({ testId: `chart-breakdown-${ctx.indexOf(run)}`, title: `Where a write's time goes (${formatCount(b.writes)} writes, mean per stage)`, rows, xLabel: 'mean time (ms)', formatValue: formatMs });
    const table = htmlTable(
      ['stage', 'server', 'role', 'count', 'mean', 'p50', 'p99'],
      b.stages.map((s): Cell[] => [s.stage, s.serverId === null ? 'all' : String(s.serverId), s.role ?? '—', formatCount(s.count), formatMs(s.meanMs), formatMs(s.p50Ms), formatMs(s.p99Ms)]),
      [false, true, false, true, true, true, true],
      `table-breakdown-${ctx.indexOf(run)}`,
    );
    return `<div class="run-breakdown" data-run="${escapeHtml(run.name)}">${runHeading(ctx, run)}${card(chart)}${table}</div>`;
  });
  const caption =
    '<p class="caption">From spans, per server: <code>queue</code> request → proposal, <code>quorum</code> proposal → quorum of acks (on the leader this includes its own append and fsync), <code>commitSent</code>, <code>append</code> and <code>fsync</code> of the txn log, <code>apply</code> to the data tree. <code>request</code> (the whole write) and <code>ack</code> (append + fsync + ack sent) enclose other stages; they are in the tables only.</p>';
  return { id: 'breakdown', title: 'Write breakdown', html: caption + tooMany(runs.length) + parts.join('\n') };
}

/** Metrics worth a chart, most telling first (ZooKeeper's mntr names, with or without `zk_`). */
const PREFERRED_METRICS = [
  'outstanding_requests',
  'fsynctime',
  'avg_latency',
  'max_latency',
  'quorum_ack_latency',
  'commit_propagation_latency',
  'proposal_count',
  'num_alive_connections',
  'synced_followers',
  'znode_count',
  'election_time',
];
const METRIC_CHARTS_MAX = 9;

/** The metric keys to chart: preferred names first (avg_ before others), else the first keys by name. */
export function chartedMetricKeys(samples: readonly MetricSample[]): string[] {
  const keys = [...new Set(samples.flatMap((s) => Object.keys(s.values)))].sort();
  const picked: string[] = [];
  for (const p of PREFERRED_METRICS) {
    const matches = keys.filter((k) => k.includes(p) && !picked.includes(k)).sort((a, b) => Number(b.includes('avg')) - Number(a.includes('avg')) || (a < b ? -1 : 1));
    picked.push(...matches.slice(0, 2));
  }
  return (picked.length > 0 ? picked : keys).slice(0, METRIC_CHARTS_MAX);
}

export function metricsSection(ctx: ReportContext): Section | null {
  const runs = ctx.ok.filter((r) => r.metrics.length > 0);
  if (runs.length === 0) return null;
  const parts = runs.slice(0, RUNS_CHARTED_MAX).map((run) => {
    const i = ctx.indexOf(run);
    const ids = [...new Set(run.metrics.map((s) => s.id))].sort((a, b) => a - b);
    const faults = runMarkers(run).filter((m) => m.kind === 'fault');
    const charts = chartedMetricKeys(run.metrics).map((key, k) =>
      card(
        lineChart({
          testId: `chart-metric-${i}-${k}`,
          title: key,
          xLabel: 'time (s)',
          yLabel: key.replace(/^zk_/, ''),
          series: ids.map((id) => ({ name: `server ${id}`, points: run.metrics.filter((s) => s.id === id && s.values[key] !== undefined).map((s) => ({ x: s.t, y: s.values[key]! })) })),
          markers: faults,
          markerLabels: false,
          pointsMax: 300,
          formatX: (x) => `t = ${formatNumber(x, 1)} s`,
          formatY: (y) => formatNumber(y, Number.isInteger(y) ? 0 : 2),
          width: 380,
          height: 220,
        }),
      ),
    );
    return `<div class="run-metrics" data-run="${escapeHtml(run.name)}">${runHeading(ctx, run)}<div class="grid">${charts.join('')}</div></div>`;
  });
  return { id: 'metrics', title: 'Server metrics', html: '<p class="caption">Sampled from each server (mntr) about once a second; dashed red lines: faults.</p>' + tooMany(runs.length) + parts.join('\n') };
}
