/** A stacked horizontal bar chart: one bar per row, segments stacked left to right. */
import { CHART_DEFAULT_WIDTH, frame, noData, xAxis } from './frame.js';
import { seriesColor } from './palette.js';
import { linearScale } from './scale.js';
import { el, text, textWidth, tip, truncate } from './svg.js';

export interface StackedRow {
  label: string;
  segments: readonly { name: string; value: number }[];
}

export interface StackedBarSpec {
  testId: string;
  title: string;
  rows: readonly StackedRow[];
  /** Axis title with its unit. */
  xLabel: string;
  formatValue?: (v: number) => string;
  width?: number;
}

const ROWS_MAX = 60;
const ROW_HEIGHT = 26;

export function stackedBarChart(spec: StackedBarSpec): string {
  const format = spec.formatValue ?? ((v: number) => String(v));
  const rows = spec.rows.slice(0, ROWS_MAX);
  // One colour per segment name, in order of first appearance, the same in every row.
  const names: string[] = [];
  for (const r of rows) for (const s of r.segments) if (!names.includes(s.name)) names.push(s.name);
  const labelW = Math.min(160, Math.max(40, ...rows.map((r) => textWidth(truncate(r.label, 26))))) + 12;
  const f = frame({
    kind: 'stacked',
    testId: spec.testId,
    title: spec.title,
    width: spec.width ?? CHART_DEFAULT_WIDTH,
    height: 28 + 60 + rows.length * ROW_HEIGHT,
    legend: names.map((n, i) => ({ name: n, color: seriesColor(i), swatch: 'box' as const })),
    margin: { left: labelW, right: 20, top: 6, bottom: 42 },
    data: { 'data-series-count': names.length, 'data-row-count': rows.length },
  });
  const { plot } = f;
  const totals = rows.map((r) => r.segments.reduce((s, x) => s + (Number.isFinite(x.value) && x.value > 0 ? x.value : 0), 0));
  if (rows.length === 0 || Math.max(...totals) <= 0) return f.finish(noData(plot));
  const x = linearScale(0, Math.max(...totals), [plot.x, plot.x + plot.w], { includeZero: true, tickCount: 6 });
  const rowH = plot.h / rows.length;
  const barH = Math.min(18, rowH * 0.7);
  const bars = rows.map((r, ri) => {
    const cy = plot.y + rowH * (ri + 0.5);
    let acc = 0;
    const segs = r.segments
      .filter((s) => Number.isFinite(s.value) && s.value > 0)
      .map((s) => {
        const x0 = x.map(acc);
        acc += s.value;
        return el('rect', { class: 'segment', 'data-segment': s.name, x: x0, y: cy - barH / 2, width: Math.max(0.5, x.map(acc) - x0), height: barH, fill: seriesColor(names.indexOf(s.name)) }, tip(`${r.label} · ${s.name}: ${format(s.value)}`));
      })
      .join('');
    const label = el('g', { class: 'row-label' }, tip(r.label) + text(plot.x - 8, cy + 4, truncate(r.label, 26), { class: 'tick', 'text-anchor': 'end' }));
    const total = text(x.map(acc) + 4, cy + 4, format(acc), { class: 'note' });
    return el('g', { class: 'row', 'data-row': r.label }, label + segs + total);
  });
  return f.finish(xAxis(x, plot, spec.xLabel) + bars.join(''));
}
