/**
 * An operations timeline: one row per operation, grouped by process, each a bar from its
 * invocation to its completion (an indeterminate one runs on to the right edge, dashed), with
 * a label saying what it did and how it ended. Drawn for the witnesses of history anomalies.
 */
import { frame, noData, xAxis } from './frame.js';
import { PALETTE } from './palette.js';
import { linearScale } from './scale.js';
import { el, text, textWidth, tip, truncate } from './svg.js';

export interface OpBar {
  /** The process (the row group's label, e.g. `p12`). */
  process: string;
  from: number;
  /** null: open to the end (indeterminate). */
  to: number | null;
  outcome: 'ok' | 'fail' | 'info';
  /** What the op did, e.g. `read → "3.7"`, drawn beside the bar. */
  label: string;
  /** The bar's tooltip. */
  tip: string;
}

export interface OpsTimelineSpec {
  testId: string;
  title: string;
  /** What the chart shows, in words (the svg's `<desc>`). */
  desc: string;
  /** In the order drawn; rows of the same process should be adjacent. */
  bars: readonly OpBar[];
  xLabel: string;
  width?: number;
  /** Draw x up to at least this (e.g. room for the labels right of the longest bar). */
  xMax?: number;
}

export const OPS_ROWS_MAX = 60;
const ROW_HEIGHT = 24;
const BAR_HEIGHT = 12;
const LABEL_CHARS_MAX = 36;
/** Open bars run this share of the drawn span past the last time. */
const OPEN_TAIL = 0.08;

export const OUTCOME_COLORS: Readonly<Record<OpBar['outcome'], string>> = { ok: PALETTE[0], fail: PALETTE[9], info: PALETTE[1] };

export function opsTimeline(spec: OpsTimelineSpec): string {
  const bars = spec.bars.slice(0, OPS_ROWS_MAX);
  const width = spec.width ?? 860;
  const outcomes = (['ok', 'fail', 'info'] as const).filter((o) => bars.some((b) => b.outcome === o));
  const f = frame({
    kind: 'ops',
    testId: spec.testId,
    title: spec.title,
    desc: spec.desc,
    width,
    height: 28 + 24 + 50 + bars.length * ROW_HEIGHT,
    // A one-entry legend is not drawn; ok alone needs no key.
    legend: outcomes.map((o) => ({ name: o === 'info' ? 'info (indeterminate)' : o, color: OUTCOME_COLORS[o], swatch: 'box' as const })),
    margin: { left: 56, right: 24, top: 6, bottom: 44 },
    data: { 'data-row-count': bars.length },
  });
  const { plot } = f;
  if (bars.length === 0) return f.finish(noData(plot, 'no operations'));
  const times = bars.flatMap((b) => (b.to === null ? [b.from] : [b.from, b.to]));
  const lo = Math.min(...times);
  const hi = Math.max(...times, spec.xMax ?? -Infinity);
  const openEnd = hi + Math.max(hi - lo, 1e-9) * OPEN_TAIL;
  const x = linearScale(lo, bars.some((b) => b.to === null) ? openEnd : hi, [plot.x, plot.x + plot.w], { tickCount: 6 });
  const rowH = plot.h / bars.length;
  const right = plot.x + plot.w;
  const rows = bars.map((b, i) => {
    const y = plot.y + rowH * i;
    const cy = y + rowH / 2;
    const x0 = x.map(b.from);
    const x1 = Math.max(x0 + 2, x.map(b.to ?? openEnd));
    const color = OUTCOME_COLORS[b.outcome];
    const first = i === 0 || bars[i - 1]!.process !== b.process;
    const band = first ? el('line', { class: 'grid', x1: plot.x, x2: right, y1: y, y2: y }) : '';
    const who = first ? text(plot.x - 8, cy + 4, b.process, { class: 'tick', 'text-anchor': 'end' }) : '';
    const bar = el(
      'rect',
      { class: 'bar', 'data-outcome': b.outcome, x: x0, y: cy - BAR_HEIGHT / 2, width: x1 - x0, height: BAR_HEIGHT, fill: color, 'fill-opacity': b.outcome === 'info' ? 0.35 : 0.85, stroke: color, 'stroke-dasharray': b.to === null ? '4 2' : undefined, rx: 2 },
      tip(b.tip),
    );
    // The label goes right of the bar, or left of it when it would run off the plot.
    const label = truncate(b.label, LABEL_CHARS_MAX);
    const fitsRight = x1 + 6 + textWidth(label) <= right;
    const labelText = fitsRight ? text(x1 + 6, cy + 4, label, { class: 'op-label' }) : text(x0 - 6, cy + 4, label, { class: 'op-label', 'text-anchor': 'end' });
    return el('g', { class: 'op', 'data-process': b.process }, band + who + bar + labelText);
  });
  return f.finish(xAxis(x, plot, spec.xLabel) + rows.join(''));
}
