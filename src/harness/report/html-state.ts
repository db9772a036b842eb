/**
 * report.html's section on what state costs: the large state each run built, every server's
 * resources, and per run two charts over the whole run — RSS per server and the longest
 * event-loop delay per server — with faults and leader changes marked as on the timelines.
 */
import { lineChart, type LineSeries } from './charts/index.js';
import { escapeHtml } from './escape.js';
import { formatBytes, formatMs, formatNumber } from './format.js';
import type { ReportContext, Section } from './html-context.js';
import { htmlTable, pair, PAIR_CHART_WIDTH } from './html-page.js';
import { RUNS_CHARTED_MAX, runMarkers } from './html-runs.js';
import type { RunResult } from './results.js';
import { RESOURCE_METRICS } from '../measure/resources-summary.js';
import {
  LARGE_STATE_CAPTION,
  LARGE_STATE_HEADERS,
  LARGE_STATE_NUMERIC,
  largeStateRows,
  RESOURCES_CAPTION,
  RESOURCES_HEADERS,
  RESOURCES_NUMERIC,
  resourcesRows,
} from './state-tables.js';

const MIB = 1024 * 1024;

function rssSeries(run: RunResult): LineSeries[] {
  return (run.resources?.rss ?? []).map((r) => ({
    name: `server ${r.id}`,
    points: r.samples.map((s) => ({ x: s.t, y: s.bytes / MIB, tip: `server ${r.id}, t = ${formatNumber(s.t, 1)} s: ${formatBytes(s.bytes)}` })),
  }));
}

function eventLoopSeries(run: RunResult): LineSeries[] {
  const key = RESOURCE_METRICS.eventLoopDelayMaxMs;
  const ids = [...new Set(run.metrics.map((s) => s.id))].sort((a, b) => a - b);
  return ids
    .map((id) => ({
      name: `server ${id}`,
      points: run.metrics.filter((s) => s.id === id && s.values[key] !== undefined).map((s) => ({ x: s.t, y: s.values[key]!, tip: `server ${id}, t = ${formatNumber(s.t, 1)} s: ${formatMs(s.values[key]!)}` })),
    }))
    .filter((s) => s.points.length > 0);
}

function runCharts(ctx: ReportContext, run: RunResult): string {
  const i = ctx.indexOf(run);
  const common = { xLabel: 'time since the measured window started (s)', markers: runMarkers(run), formatX: (x: number) => `t = ${formatNumber(x, 1)} s`, width: PAIR_CHART_WIDTH };
  const eventLoop = eventLoopSeries(run);
  return pair(
    lineChart({ ...common, testId: `chart-rss-${i}`, title: 'Resident memory per server', yLabel: 'RSS (MiB)', series: rssSeries(run), formatY: (y) => `${formatNumber(y, 1)} MiB` }),
    lineChart({
      ...common,
      testId: `chart-event-loop-${i}`,
      title: eventLoop.length > 0 ? 'Longest event-loop delay per second' : run.ensemble.program === 'zookeeper' ? 'Event-loop delay: none in a JVM' : 'Event-loop delay: not reported',
      yLabel: 'event-loop delay max (ms)',
      series: eventLoop,
      formatY: formatMs,
    }),
  );
}

export function stateCostSection(ctx: ReportContext): Section | null {
  const runs = ctx.results.runs;
  const state = largeStateRows(runs);
  const resources = resourcesRows(runs);
  if (state.length === 0 && resources.length === 0) return null;
  const charted = ctx.ok.filter((r) => r.resources !== undefined).slice(0, RUNS_CHARTED_MAX);
  const html = [
    state.length === 0 ? '' : `<h3>Large state</h3><p class="caption">${escapeHtml(LARGE_STATE_CAPTION)}</p>${htmlTable(LARGE_STATE_HEADERS, state, LARGE_STATE_NUMERIC, 'table-large-state')}`,
    resources.length === 0 ? '' : `<h3>Server resources</h3><p class="caption">${escapeHtml(RESOURCES_CAPTION)}</p>${htmlTable(RESOURCES_HEADERS, resources, RESOURCES_NUMERIC, 'table-resources')}`,
    ...charted.map((r) => `<div class="run-resources" data-run="${escapeHtml(r.name)}"><h3>${escapeHtml(r.name)}</h3>${runCharts(ctx, r)}</div>`),
  ].join('\n');
  return { id: 'state-cost', title: 'State and resources', html };
}
