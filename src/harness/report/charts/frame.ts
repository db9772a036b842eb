/** What every chart shares: the svg element, title, legend, plot area and axes. */
import { formatTick } from '../format.js';
import type { Scale } from './scale.js';
import { escapeHtml } from '../escape.js';
import { el, px, text, textWidth, tip, type Attrs } from './svg.js';

export interface Plot {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LegendItem {
  name: string;
  color: string;
  dash?: string | undefined;
  /** A line swatch (line charts) or a filled box (bars, boxes). */
  swatch: 'line' | 'box';
}

const TITLE_HEIGHT = 28;
const LEGEND_ROW_HEIGHT = 18;
const LEGEND_ITEMS_MAX = 40;

export const CHART_DEFAULT_WIDTH = 720;
export const CHART_DEFAULT_HEIGHT = 300;

interface LegendLayout {
  height: number;
  svg: string;
}

/** Legend items flow left to right and wrap; returns the markup and the height it takes. */
function legend(items: readonly LegendItem[], x0: number, y0: number, width: number): LegendLayout {
  if (items.length <= 1) return { height: 0, svg: '' };
  const shown = items.slice(0, LEGEND_ITEMS_MAX);
  let x = x0;
  let row = 0;
  const parts: string[] = [];
  for (const item of shown) {
    const w = 22 + textWidth(item.name) + 14;
    if (x > x0 && x + w > x0 + width) {
      x = x0;
      row++;
    }
    const y = y0 + row * LEGEND_ROW_HEIGHT;
    const swatch =
      item.swatch === 'line'
        ? el('line', { x1: x, y1: y + 6, x2: x + 16, y2: y + 6, stroke: item.color, 'stroke-width': 2.5, 'stroke-dasharray': item.dash })
        : el('rect', { x, y: y + 1, width: 14, height: 10, fill: item.color, rx: 2 });
    parts.push(el('g', { class: 'legend-item', 'data-series': item.name }, `${swatch}${text(x + 20, y + 10, item.name)}`));
    x += w;
  }
  if (items.length > shown.length) {
    parts.push(text(x, y0 + row * LEGEND_ROW_HEIGHT + 10, `+${items.length - shown.length} more`, { class: 'note' }));
  }
  return { height: (row + 1) * LEGEND_ROW_HEIGHT + 4, svg: el('g', { class: 'legend' }, parts.join('')) };
}

export interface FrameSpec {
  kind: 'line' | 'bar' | 'strip' | 'stacked' | 'ops';
  testId: string;
  title: string;
  /** A longer description for assistive technology (an SVG `<desc>`, referenced by aria-describedby). */
  desc?: string;
  width: number;
  height: number;
  legend: readonly LegendItem[];
  /** Margins around the plot area (the title and legend are added on top). */
  margin: { left: number; right: number; top: number; bottom: number };
  /** Extra attributes on the svg (data-* for tests and tools). */
  data?: Attrs;
}

export interface Frame {
  plot: Plot;
  /** Wraps the chart's body into the finished svg. */
  finish(body: string): string;
}

/** Lays out title, legend and plot area; the chart draws into `plot`. */
export function frame(spec: FrameSpec): Frame {
  const lg = legend(spec.legend, spec.margin.left, TITLE_HEIGHT, spec.width - spec.margin.left - spec.margin.right);
  const top = TITLE_HEIGHT + lg.height + spec.margin.top;
  const plot: Plot = {
    x: spec.margin.left,
    y: top,
    w: Math.max(40, spec.width - spec.margin.left - spec.margin.right),
    h: Math.max(40, spec.height - top - spec.margin.bottom),
  };
  const height = plot.y + plot.h + spec.margin.bottom;
  return {
    plot,
    finish: (body) =>
      el(
        'svg',
        {
          viewBox: `0 0 ${px(spec.width)} ${px(height)}`,
          width: spec.width,
          height,
          class: `chart chart-${spec.kind}`,
          'data-testid': spec.testId,
          role: 'img',
          'aria-label': spec.title,
          'aria-describedby': spec.desc === undefined ? undefined : `${spec.testId}-desc`,
          ...spec.data,
        },
        `${tip(spec.title)}${spec.desc === undefined ? '' : el('desc', { id: `${spec.testId}-desc` }, escapeHtml(spec.desc))}${text(spec.margin.left, 18, spec.title, { class: 'chart-title' })}${lg.svg}${body}`,
      ),
  };
}

/** Horizontal grid lines, tick labels on the left and the axis title (with its unit). */
export function yAxis(scale: Scale, plot: Plot, label: string): string {
  const parts: string[] = [];
  for (const t of scale.ticks) {
    const y = scale.map(t);
    parts.push(el('line', { class: 'grid', x1: plot.x, x2: plot.x + plot.w, y1: y, y2: y }));
    parts.push(text(plot.x - 6, y + 4, formatTick(t), { class: 'tick', 'text-anchor': 'end' }));
  }
  const cx = 14;
  const cy = plot.y + plot.h / 2;
  parts.push(text(cx, cy, label, { class: 'axis-title', 'text-anchor': 'middle', transform: `rotate(-90 ${px(cx)} ${px(cy)})` }));
  parts.push(el('line', { class: 'axis', x1: plot.x, x2: plot.x, y1: plot.y, y2: plot.y + plot.h }));
  return el('g', { class: 'y-axis' }, parts.join(''));
}

/** Vertical grid lines, tick labels below and the axis title (numeric x). */
export function xAxis(scale: Scale, plot: Plot, label: string): string {
  const parts: string[] = [];
  const bottom = plot.y + plot.h;
  for (const t of scale.ticks) {
    const x = scale.map(t);
    parts.push(el('line', { class: 'grid', x1: x, x2: x, y1: plot.y, y2: bottom }));
    parts.push(text(x, bottom + 16, formatTick(t), { class: 'tick', 'text-anchor': 'middle' }));
  }
  parts.push(el('line', { class: 'axis', x1: plot.x, x2: plot.x + plot.w, y1: bottom, y2: bottom }));
  parts.push(text(plot.x + plot.w / 2, bottom + 34, label, { class: 'axis-title', 'text-anchor': 'middle' }));
  return el('g', { class: 'x-axis' }, parts.join(''));
}

/** Category labels are slanted when one does not fit its band, and then cut to this many characters. */
const SLANTED_LABEL_MAX = 26;

function slanted(labels: readonly string[], band: number): boolean {
  return labels.some((l) => textWidth(l) > band - 4);
}

/** A long label keeps its end: run names differ in their last part (`...readPct=90#2`). */
function cutLabel(label: string): string {
  return label.length <= SLANTED_LABEL_MAX ? label : `…${label.slice(label.length - SLANTED_LABEL_MAX + 1)}`;
}

/** Category labels under a band axis: straight when they fit, else slanted and cut (the tooltip has the full text). */
export function categoryAxis(labels: readonly string[], plot: Plot, band: number, tips: readonly string[] = []): string {
  const bottom = plot.y + plot.h;
  const slant = slanted(labels, band);
  const parts: string[] = [el('line', { class: 'axis', x1: plot.x, x2: plot.x + plot.w, y1: bottom, y2: bottom })];
  labels.forEach((label, i) => {
    const cx = plot.x + band * (i + 0.5);
    const t = slant
      ? text(cx, bottom + 12, cutLabel(label), { class: 'tick', 'text-anchor': 'end', transform: `rotate(-30 ${px(cx)} ${px(bottom + 12)})` })
      : text(cx, bottom + 16, label, { class: 'tick', 'text-anchor': 'middle' });
    parts.push(el('g', { class: 'category' }, `${tip(tips[i] ?? label)}${t}`));
  });
  return el('g', { class: 'x-axis' }, parts.join(''));
}

/** The bottom margin categoryAxis needs for these labels at this band width (sin 30° of the longest slanted label). */
export function categoryAxisHeight(labels: readonly string[], band: number): number {
  if (!slanted(labels, band)) return 22;
  return Math.max(0, ...labels.map((l) => textWidth(cutLabel(l)))) * 0.5 + 20;
}

/**
 * The left margin a band axis needs: a slanted first label reaches left of its band by
 * about cos 30° of its width, and must not be cut off at the svg's edge.
 */
export function categoryAxisLeft(labels: readonly string[], width: number, right: number, minimum = 60): number {
  let left = minimum;
  for (let i = 0; i < 2; i++) {
    const band = (width - left - right) / Math.max(1, labels.length);
    if (!slanted(labels, band)) return left;
    left = Math.max(minimum, Math.ceil(textWidth(cutLabel(labels[0] ?? '')) * 0.87 - band / 2 + 6));
  }
  return left;
}

/** What a chart shows when it has nothing to draw. */
export function noData(plot: Plot, message = 'no data'): string {
  return text(plot.x + plot.w / 2, plot.y + plot.h / 2, message, { class: 'note', 'text-anchor': 'middle' });
}
