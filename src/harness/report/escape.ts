/** Escaping for the three places report text goes: HTML (and inline SVG), markdown tables, CSV. */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value inside HTML or inline SVG. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * One markdown table cell: a pipe would end the cell and a newline the row; `<` could open
 * raw HTML where the file is rendered (GitHub keeps some tags), so it becomes `&lt;`.
 */
export function escapeMarkdownCell(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;');
}

/** Markdown outside tables (titles, paragraphs): raw HTML is neutralized, line breaks kept. */
export function escapeMarkdownText(text: string): string {
  return text.replace(/</g, '&lt;');
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
