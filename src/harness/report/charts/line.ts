/**
 * A line chart: numeric x, several series, optional vertical markers (faults, leader
 * changes). Gaps (null, or ≤ 0 on a log scale) break a line instead of drawing it to zero.
 */
import { FAULT_COLOR, LEADER_COLOR, seriesColor, seriesDash } from './palette.js';
import { CHART_DEFAULT_HEIGHT, CHART_DEFAULT_WIDTH, frame, noData, xAxis, yAxis, type Plot } from './frame.js';
import { linearScale, logScale, type Scale } from './scale.js';
import { maxOf, minOf } from '../stats.js';
import { el, px, text, textWidth, tip, truncate } from './svg.js';

export interface LinePoint {
  x: number;
  y: number | null;
  /** Tooltip text; default `series: x, y`. */
  tip?: string;
}

export interface LineSeries {
  name: string;
  points: readonly LinePoint[];
}

export interface ChartMarker {
  x: number;
  label: string;
  kind: 'fault' | 'leader';
}

export interface LineChartSpec {
  testId: string;
  title: string;
  /** Axis titles with their unit, e.g. `time (s)`, `p99 (ms)`. */
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  markers?: readonly ChartMarker[];
  yScale?: 'linear' | 'log';
  /** Start y at 0 (default true on a linear scale). */
  yFromZero?: boolean;
  /** Fix the x domain (e.g. a run's window) instead of fitting the points. */
  xDomain?: [number, number];
  formatX?: (x: number) => string;
  formatY?: (y: number) => string;
  /** Write marker labels in the plot (default true); small charts keep them to the tooltip. */
  markerLabels?: boolean;
  /** Points per series drawn at most (default LINE_POINTS_MAX); longer series are downsampled. */
  pointsMax?: number;
  width?: number;
  height?: number;
}

/** Limits that keep a report light: a line of an hour-long run is downsampled, not dropped. */
export const LINE_SERIES_MAX = 24;
/** Points per series by default: more than a chart has pixels across. */
export const LINE_POINTS_MAX = 1_200;
/** Points get a dot (and its tooltip) when dots would be at least this far apart on average; denser ones only blur the line. */
const DOT_SPACING_MIN_PX = 4;
export const MARKERS_MAX = 100;

/**
 * At most about `max` points: the points are cut into max/2 buckets and each keeps its lowest
 * and highest point (and a gap, if it has one), so a one-second spike or dip in an hour-long
 * run survives — plain every-k-th sampling would drop it.
 */
export function downsample(points: readonly LinePoint[], max: number): LinePoint[] {
  if (points.length <= max) return [...points];
  const size = Math.ceil(points.length / Math.max(1, Math.floor(max / 2)));
  const out: LinePoint[] = [];
  for (let i = 0; i < points.length; i += size) {
    let lo: LinePoint | undefined;
    let hi: LinePoint | undefined;
    let gap: LinePoint | undefined;
    for (const p of points.slice(i, i + size)) {
      if (p.y === null) gap ??= p;
      else {
        if (lo === undefined || p.y < lo.y!) lo = p;
        if (hi === undefined || p.y > hi.y!) hi = p;
      }
    }
    const keep = [...new Set([lo, hi, gap].filter((p): p is LinePoint => p !== undefined))];
    out.push(...keep.sort((a, b) => a.x - b.x));
  }
  return out;
}

function markersSvg(markers: readonly ChartMarker[], x: Scale, plot: Plot, labels: boolean): string {
  const sorted = [...markers].sort((a, b) => a.x - b.x);
  // Labels go in three rows at the top of the plot so that nearby markers do not overwrite each other.
  return sorted
    .map((m, i) => {
      const mx = x.map(m.x);
      const color = m.kind === 'fault' ? FAULT_COLOR : LEADER_COLOR;
      const ly = plot.y + 11 + (i % 3) * 12;
      const label = truncate(m.label, 28);
      const rightSide = mx + 4 + textWidth(label) > plot.x + plot.w;
      return el(
        'g',
        { class: `marker marker-${m.kind}`, 'data-label': m.label },
        tip(m.label) +
          el('line', { x1: mx, x2: mx, y1: plot.y, y2: plot.y + plot.h, stroke: color, 'stroke-width': 1.5, 'stroke-dasharray': m.kind === 'fault' ? '5 3' : '2 3' }) +
          (labels ? text(rightSide ? mx - 4 : mx + 4, ly, label, { class: 'marker-label', fill: color, 'text-anchor': rightSide ? 'end' : 'start' }) : ''),
      );
    })
    .join('');
}

export function lineChart(spec: LineChartSpec): string {
  const formatX = spec.formatX ?? ((v: number) => String(v));
  const formatY = spec.formatY ?? ((v: number) => String(v));
  const log = spec.yScale === 'log';
  const series = spec.series.slice(0, LINE_SERIES_MAX).map((s) => ({ name: s.name, points: downsample(s.points, Math.min(spec.pointsMax ?? LINE_POINTS_MAX, LINE_POINTS_MAX)) }));
  const all = series.flatMap((s) => s.points);
  const ys = all.map((p) => p.y).filter((y): y is number => y !== null && Number.isFinite(y) && (!log || y > 0));
  const candidates = spec.markers ?? [];
  const xs = all.map((p) => p.x).concat(candidates.map((m) => m.x));
  const [x0, x1] = spec.xDomain ?? [minOf(xs) ?? 0, maxOf(xs) ?? 1];
  // Markers outside the window (e.g. a leader elected during warm-up) are not drawn nor counted.
  const markers = candidates.filter((m) => m.x >= x0 && m.x <= x1).slice(0, MARKERS_MAX);
  const f = frame({
    kind: 'line',
    testId: spec.testId,
    title: spec.title,
    width: spec.width ?? CHART_DEFAULT_WIDTH,
    height: spec.height ?? CHART_DEFAULT_HEIGHT,
    legend: series.map((s, i) => ({ name: s.name, color: seriesColor(i), dash: seriesDash(i), swatch: 'line' as const })),
    margin: { left: 60, right: 16, top: markers.length > 0 && spec.markerLabels !== false ? 8 : 4, bottom: 42 },
    data: { 'data-series-count': series.length, 'data-marker-count': markers.length },
  });
  const { plot } = f;
  if (ys.length === 0) return f.finish(noData(plot));
  const x = linearScale(x0, x1, [plot.x, plot.x + plot.w], { tickCount: 8 });
  const yMin = minOf(ys)!;
  const yMax = maxOf(ys)!;
  const y = log ? logScale(yMin, yMax, [plot.y + plot.h, plot.y]) : linearScale(yMin, yMax, [plot.y + plot.h, plot.y], { includeZero: spec.yFromZero ?? true });

  const lines = series.map((s, i) => {
    const color = seriesColor(i);
    // Split into runs of drawable points: a gap is a gap.
    const segments: string[][] = [[]];
    for (const p of s.points) {
      if (p.y === null || !y.shows(p.y)) {
        if (segments.at(-1)!.length > 0) segments.push([]);
        continue;
      }
      segments.at(-1)!.push(`${px(x.map(p.x))},${px(y.map(p.y))}`);
    }
    const paths = segments
      .filter((seg) => seg.length > 0)
      .map((seg) =>
        seg.length === 1
          ? el('circle', { cx: seg[0]!.split(',')[0]!, cy: seg[0]!.split(',')[1]!, r: 2, fill: color })
          : el('polyline', { points: seg.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.8, 'stroke-dasharray': seriesDash(i), 'stroke-linejoin': 'round' }, tip(s.name)),
      )
      .join('');
    const dots =
      s.points.length <= plot.w / DOT_SPACING_MIN_PX
        ? s.points
            .filter((p): p is LinePoint & { y: number } => p.y !== null && y.shows(p.y))
            .map((p) => el('circle', { class: 'dot', cx: x.map(p.x), cy: y.map(p.y), r: 2.5, fill: color }, tip(p.tip ?? `${s.name}: ${formatX(p.x)}, ${formatY(p.y)}`)))
            .join('')
        : '';
    return el('g', { class: 'series', 'data-series': s.name, 'data-points': s.points.length }, paths + dots);
  });
  const scaleNote = log ? text(plot.x + plot.w, plot.y - 4, 'log scale', { class: 'note', 'text-anchor': 'end' }) : '';
  return f.finish(yAxis(y, plot, spec.yLabel) + xAxis(x, plot, spec.xLabel) + scaleNote + lines.join('') + markersSvg(markers, x, plot, spec.markerLabels ?? true));
}
