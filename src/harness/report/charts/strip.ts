/**
 * A box and strip plot: for each group along x and each series within it, a box (quartiles,
 * median, min–max whiskers) with every value drawn as a point over it.
 */
import { maxOf, quantile } from '../stats.js';
import { CHART_DEFAULT_HEIGHT, CHART_DEFAULT_WIDTH, categoryAxis, categoryAxisHeight, categoryAxisLeft, frame, noData, yAxis } from './frame.js';
import { seriesColor } from './palette.js';
import { linearScale } from './scale.js';
import { el, tip } from './svg.js';

export interface StripValue {
  v: number;
  /** What the point is (e.g. the run and fault); shown in its tooltip. */
  tip?: string;
}

export interface StripSeries {
  name: string;
  /** Per group, the values (may be empty). */
  values: readonly (readonly StripValue[])[];
}

export interface StripPlotSpec {
  testId: string;
  title: string;
  groups: readonly string[];
  series: readonly StripSeries[];
  yLabel: string;
  formatValue?: (v: number) => string;
  width?: number;
  height?: number;
}

export const STRIP_POINTS_MAX = 5_000;

/** A spread in [-0.5, 0.5) that looks random but is the same on every render (golden ratio). */
function jitter(i: number): number {
  return ((i * 0.6180339887) % 1) - 0.5;
}

export function stripPlot(spec: StripPlotSpec): string {
  const format = spec.formatValue ?? ((v: number) => String(v));
  const series = spec.series.slice(0, 12);
  const width = spec.width ?? CHART_DEFAULT_WIDTH;
  const margin = { left: categoryAxisLeft(spec.groups, width, 16), right: 16, top: 6, bottom: 0 };
  const band = (width - margin.left - margin.right) / Math.max(1, spec.groups.length);
  margin.bottom = categoryAxisHeight(spec.groups, band) + 6;
  const f = frame({
    kind: 'strip',
    testId: spec.testId,
    title: spec.title,
    width,
    height: spec.height ?? CHART_DEFAULT_HEIGHT,
    legend: series.map((s, i) => ({ name: s.name, color: seriesColor(i), swatch: 'box' as const })),
    margin,
    data: { 'data-series-count': series.length, 'data-group-count': spec.groups.length },
  });
  const { plot } = f;
  const all = series.flatMap((s) => s.values.flat()).map((p) => p.v).filter(Number.isFinite);
  if (all.length === 0 || spec.groups.length === 0) return f.finish(noData(plot, 'no values observed'));
  const y = linearScale(0, maxOf(all)!, [plot.y + plot.h, plot.y], { includeZero: true });
  const inner = band * 0.8;
  const sub = inner / Math.max(1, series.length);
  let budget = STRIP_POINTS_MAX;
  const out = series.map((s, si) => {
    const color = seriesColor(si);
    const parts = spec.groups.map((group, gi) => {
      const vals = (s.values[gi] ?? []).filter((p) => Number.isFinite(p.v));
      if (vals.length === 0) return '';
      const cx = plot.x + band * gi + (band - inner) / 2 + sub * (si + 0.5);
      const boxW = Math.min(36, sub * 0.6);
      const nums = vals.map((p) => p.v);
      const [lo, q1, med, q3, hi] = [0, 0.25, 0.5, 0.75, 1].map((q) => quantile(nums, q)!) as [number, number, number, number, number];
      const summary = `${s.name} · ${group}: median ${format(med)}, quartiles ${format(q1)}–${format(q3)}, min ${format(lo)}, max ${format(hi)}, n=${nums.length}`;
      const box =
        el('line', { class: 'whisker', x1: cx, x2: cx, y1: y.map(lo), y2: y.map(hi), stroke: color }) +
        el('rect', { class: 'box', x: cx - boxW / 2, y: y.map(q3), width: boxW, height: Math.max(1, y.map(q1) - y.map(q3)), fill: color, 'fill-opacity': 0.18, stroke: color }, tip(summary)) +
        el('line', { class: 'median', x1: cx - boxW / 2, x2: cx + boxW / 2, y1: y.map(med), y2: y.map(med), stroke: color, 'stroke-width': 2.5 });
      const points = vals
        .slice(0, Math.max(0, budget))
        .map((p, i) => el('circle', { class: 'point', cx: cx + jitter(i) * boxW * 1.2, cy: y.map(p.v), r: 3, fill: color, 'fill-opacity': 0.75 }, tip(`${p.tip ?? `${s.name} · ${group}`}: ${format(p.v)}`)));
      budget -= points.length;
      return el('g', { class: 'box-group', 'data-group': group }, box + points.join(''));
    });
    return el('g', { class: 'series', 'data-series': s.name }, parts.join(''));
  });
  return f.finish(yAxis(y, plot, spec.yLabel) + categoryAxis(spec.groups, plot, band) + out.join(''));
}
