/** Building SVG markup as strings: every text and attribute value is escaped here. */
import { escapeHtml } from '../escape.js';

export type Attrs = Record<string, string | number | null | undefined>;

/** A coordinate: one decimal is enough on screen and keeps the file small. */
export function px(v: number): string {
  const r = Math.round(v * 10) / 10;
  return String(Object.is(r, -0) ? 0 : r);
}

function attrText(attrs: Attrs): string {
  let out = '';
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    out += ` ${k}="${escapeHtml(typeof v === 'number' ? px(v) : v)}"`;
  }
  return out;
}

/** An element; `content` is markup (already escaped), omitted for an empty element. */
export function el(name: string, attrs: Attrs, content?: string): string {
  return content === undefined ? `<${name}${attrText(attrs)}/>` : `<${name}${attrText(attrs)}>${content}</${name}>`;
}

/** A text element with escaped text. */
export function text(x: number, y: number, value: string, attrs: Attrs = {}): string {
  return el('text', { x, y, ...attrs }, escapeHtml(value));
}

/** A tooltip: the browser shows an SVG `<title>` child when the pointer rests on its parent. */
export function tip(value: string): string {
  return `<title>${escapeHtml(value)}</title>`;
}

/** A rough text width at the charts' 11px font (no layout engine here; good enough for margins). */
export function textWidth(value: string, fontPx = 11): number {
  return value.length * fontPx * 0.58;
}

/** `value` cut to `max` characters with an ellipsis. */
export function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, Math.max(1, max - 1))}…`;
}
