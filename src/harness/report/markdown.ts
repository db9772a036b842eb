/** GitHub-flavoured markdown tables that also read well in a terminal (columns padded). */
import { escapeMarkdownCell } from './escape.js';

export type Align = 'left' | 'right';

/** A table; cells are plain text (escaped here). Rows shorter than the header are padded with empty cells. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const head = headers.map(escapeMarkdownCell);
  const body = rows.map((r) => headers.map((_, i) => escapeMarkdownCell(r[i] ?? '')));
  const widths = head.map((h, i) => Math.max(3, h.length, ...body.map((r) => r[i]!.length)));
  const pad = (text: string, i: number): string => (align[i] === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (cells: readonly string[]): string => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(head), rule, ...body.map(line)].join('\n') + '\n';
}
