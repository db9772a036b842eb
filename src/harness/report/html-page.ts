/**
 * The shell of zablab's HTML reports: one self-contained file. A Content-Security-Policy
 * forbids every request (scripts, fonts, images, styles from elsewhere), so the page works
 * offline and cannot leak that it was opened. No script: charts are SVG, tooltips are SVG
 * `<title>`s and the one toggle (log scale) is CSS.
 */
import { CHART_CSS } from './charts/index.js';
import { escapeHtml } from './escape.js';

export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const PAGE_CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1d1f23; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 24px; margin: 0 0 6px; }
h2 { font-size: 19px; margin: 36px 0 10px; padding-top: 10px; border-top: 1px solid #dfe2e6; }
h3 { font-size: 15px; margin: 22px 0 8px; }
p.lead, p.caption { color: #555; margin: 4px 0 12px; max-width: 900px; }
code { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, monospace; background: #eef0f3; padding: 1px 4px; border-radius: 3px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 10px 0 16px; }
dl.meta dt { color: #666; }
dl.meta dd { margin: 0; }
nav.toc { margin: 8px 0 0; display: flex; flex-wrap: wrap; gap: 6px 14px; }
nav.toc a { color: #2b5d9b; text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
.failures { background: #fdecea; border: 1px solid #f3b8b1; border-radius: 6px; padding: 10px 14px; margin: 14px 0; }
.failures h2 { border: 0; margin: 0 0 6px; padding: 0; font-size: 16px; color: #a3271b; }
.failures li { margin: 4px 0; }
.card { background: #fff; border: 1px solid #e1e4e8; border-radius: 6px; padding: 12px; margin: 12px 0; overflow-x: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(370px, 1fr)); gap: 10px; }
.grid .card { margin: 0; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 10px; margin: 12px 0; }
.pair .card { margin: 0; }
table { border-collapse: collapse; margin: 8px 0 12px; background: #fff; font-size: 13px; }
th, td { border: 1px solid #e1e4e8; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:nth-child(even) td { background: #fafbfc; }
td.better { color: #1e7b34; }
.verdict-ok { color: #1e7b34; }
.verdict-bad { color: #b3261e; font-weight: 600; }
.verdict-unknown { color: #8a6100; }
.anomaly h4 { font-size: 14px; margin: 16px 0 6px; }
td.worse { color: #b3261e; }
.toggle-label { display: inline-block; margin: 0 0 6px; user-select: none; }
.scale-log { display: none; }
#latency-log:checked ~ .scale-linear { display: none; }
#latency-log:checked ~ .scale-log { display: block; }
footer { margin-top: 48px; color: #888; font-size: 12px; }
`;

export interface PageSpec {
  title: string;
  /** Markup, already escaped. */
  body: string;
}

export function htmlPage(spec: PageSpec): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(REPORT_CSP)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(spec.title)}</title>`,
    `<style>${PAGE_CSS}${CHART_CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    spec.body,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A cell: plain text (escaped here) or `{ html }` markup already escaped; `num` right-aligns it. */
export type Cell = string | { text: string; num?: boolean; className?: string } | { html: string; num?: boolean };

function cellHtml(tag: 'td' | 'th', cell: Cell, numDefault: boolean): string {
  if (typeof cell === 'string') return `<${tag}${numDefault ? ' class="num"' : ''}>${escapeHtml(cell)}</${tag}>`;
  const num = cell.num ?? numDefault;
  if ('html' in cell) return `<${tag}${num ? ' class="num"' : ''}>${cell.html}</${tag}>`;
  const classes = [num ? 'num' : '', cell.className ?? ''].filter((c) => c !== '').join(' ');
  return `<${tag}${classes === '' ? '' : ` class="${escapeHtml(classes)}"`}>${escapeHtml(cell.text)}</${tag}>`;
}

/** A table; `numeric[i]` right-aligns column i. */
export function htmlTable(headers: readonly string[], rows: readonly (readonly Cell[])[], numeric: readonly boolean[] = [], testId?: string): string {
  const head = `<tr>${headers.map((h, i) => cellHtml('th', h, numeric[i] ?? false)).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c, i) => cellHtml('td', c, numeric[i] ?? false)).join('')}</tr>`).join('\n');
  return `<table${testId === undefined ? '' : ` data-testid="${escapeHtml(testId)}"`}>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** A section with an id (for the table of contents) and a heading. */
export function section(id: string, title: string, content: string): string {
  return `<section id="${escapeHtml(id)}" data-testid="section-${escapeHtml(id)}">\n<h2>${escapeHtml(title)}</h2>\n${content}\n</section>`;
}

export function card(content: string): string {
  return `<div class="card">${content}</div>`;
}

/** Two charts side by side where the page is wide enough, else one above the other. */
export function pair(left: string, right: string): string {
  return `<div class="pair">${card(left)}${card(right)}</div>`;
}

/** Width for a chart drawn in one column of a pair. */
export const PAIR_CHART_WIDTH = 580;
