/** A grouped bar chart: categories along x, one bar per series in each group. */
import { CHART_DEFAULT_HEIGHT, CHART_DEFAULT_WIDTH, categoryAxis, categoryAxisHeight, categoryAxisLeft, frame, noData, yAxis } from './frame.js';
import { seriesColor } from './palette.js';
import { linearScale, logScale } from './scale.js';
import { el, text, tip } from './svg.js';

export interface BarSeries {
  name: string;
  /** One value per category; null draws no bar. */
  values: readonly (number | null)[];
}

export interface BarChartSpec {
  testId: string;
  title: string;
  categories: readonly string[];
  /** Full names for the category tooltips (labels may be shortened). */
  categoryTips?: readonly string[];
  series: readonly BarSeries[];
  /** Axis title with its unit. */
  yLabel: string;
  yScale?: 'linear' | 'log';
  formatValue?: (v: number) => string;
  width?: number;
  height?: number;
}

export const BAR_CATEGORIES_MAX = 200;
export const BAR_SERIES_MAX = 12;

export function groupedBarChart(spec: BarChartSpec): string {
  const format = spec.formatValue ?? ((v: number) => String(v));
  const log = spec.yScale === 'log';
  const categories = spec.categories.slice(0, BAR_CATEGORIES_MAX);
  const series = spec.series.slice(0, BAR_SERIES_MAX);
  const width = spec.width ?? Math.max(CHART_DEFAULT_WIDTH, Math.min(1400, 80 + categories.length * (series.length * 10 + 18)));
  const margin = { left: categoryAxisLeft(categories, width, 16), right: 16, top: 6, bottom: 0 };
  const band = (width - margin.left - margin.right) / Math.max(1, categories.length);
  margin.bottom = categoryAxisHeight(categories, band) + 6;
  const f = frame({
    kind: 'bar',
    testId: spec.testId,
    title: spec.title,
    width,
    height: (spec.height ?? CHART_DEFAULT_HEIGHT) + margin.bottom - 28,
    legend: series.map((s, i) => ({ name: s.name, color: seriesColor(i), swatch: 'box' as const })),
    margin,
    data: { 'data-series-count': series.length, 'data-category-count': categories.length },
  });
  const { plot } = f;
  const values = series.flatMap((s) => s.values.slice(0, categories.length)).filter((v): v is number => v !== null && Number.isFinite(v) && (!log || v > 0));
  if (values.length === 0 || categories.length === 0) return f.finish(noData(plot));
  const y = log
    ? logScale(Math.min(...values), Math.max(...values), [plot.y + plot.h, plot.y])
    : linearScale(0, Math.max(...values), [plot.y + plot.h, plot.y], { includeZero: true });
  const inner = band * 0.8;
  const barW = inner / Math.max(1, series.length);
  const base = plot.y + plot.h;
  const groups = series.map((s, si) => {
    const bars = categories.map((cat, ci) => {
      const v = s.values[ci];
      if (v === null || v === undefined || !y.shows(v)) return '';
      const top = y.map(v);
      const x = plot.x + band * ci + (band - inner) / 2 + barW * si;
      return el('rect', { class: 'bar', x, y: top, width: Math.max(1, barW - 1), height: Math.max(0.5, base - top), fill: seriesColor(si) }, tip(`${spec.categoryTips?.[ci] ?? cat} · ${s.name}: ${format(v)}`));
    });
    return el('g', { class: 'series', 'data-series': s.name }, bars.join(''));
  });
  const axisSvg = categoryAxis(categories, plot, band, spec.categoryTips);
  const scaleNote = log ? text(plot.x + plot.w, plot.y - 4, 'log scale', { class: 'note', 'text-anchor': 'end' }) : '';
  return f.finish(yAxis(y, plot, spec.yLabel) + axisSvg + scaleNote + groups.join(''));
}
