/**
 * The live page: one self-contained HTML document (inline CSS and script, no fonts, no
 * CDN), whose script asks `live.json` for the rendered regions twice a second and swaps in
 * those that changed. Landmarks and headings name every region; each region takes keyboard
 * focus; the status line is a polite live region, the charts are images with a description.
 */
import { createHash } from 'node:crypto';
import { CHART_CSS } from '../report/charts/index.js';
import { escapeHtml } from '../report/escape.js';
import { REGIONS } from './render.js';

export const LIVE_JSON = 'live.json';
export const REFRESH_MS = 500;

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #111; background: #f6f6f4; }
header { padding: 0.6rem 1rem; background: #1f2933; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0 0 0.2rem; }
#status { font-variant-numeric: tabular-nums; }
#conn { font-size: 0.85rem; color: #cbd2d9; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(640px, 1fr)); gap: 0.8rem; padding: 0.8rem; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 0.5rem 0.8rem; min-width: 0; }
section:focus { outline: 3px solid #2563eb; outline-offset: 2px; }
h2 { font-size: 1rem; margin: 0.2rem 0 0.5rem; }
h3 { font-size: 0.9rem; margin: 0.5rem 0 0.2rem; }
table.servers { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.servers caption { text-align: left; font-size: 0.85rem; color: #555; padding-bottom: 0.3rem; }
table.servers th, table.servers td { padding: 0.2rem 0.7rem; border-bottom: 1px solid #eee; text-align: left; }
td.mode-leader { font-weight: 700; color: #6c5ce7; }
td.mode-down, td.mode-looking { color: #c0392b; font-weight: 700; }
.note { color: #666; font-style: italic; }
ol.events { margin: 0; padding-left: 1.2rem; font-variant-numeric: tabular-nums; }
li.event-fault { color: #c0392b; }
li.event-leader { color: #6c5ce7; }
.t { color: #555; display: inline-block; min-width: 4.5em; }
${CHART_CSS}
`;

/** Fetches the regions and swaps in what changed; the page never reloads. */
const SCRIPT = `
(() => {
  const shown = {};
  let seq = -1;
  const conn = document.getElementById('conn');
  async function tick() {
    try {
      const r = await fetch('${LIVE_JSON}', { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const s = await r.json();
      for (const [id, html] of Object.entries(s.regions)) {
        const el = document.getElementById(id);
        if (el !== null && shown[id] !== html) { el.innerHTML = html; shown[id] = html; }
      }
      seq = s.seq;
      document.body.dataset.seq = String(seq);
      conn.textContent = 'updated ' + new Date(s.nowEpochMs).toLocaleTimeString();
    } catch (e) {
      conn.textContent = 'not connected (the bench or watch may have ended): ' + e.message;
    } finally {
      setTimeout(tick, ${REFRESH_MS});
    }
  }
  tick();
})();
`;

const SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT).digest('base64')}`;

/** Only our inline script, our inline style and requests to this server. */
export const CONTENT_SECURITY_POLICY = `default-src 'none'; script-src '${SCRIPT_HASH}'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'`;

export function livePage(title: string): string {
  const sections = REGIONS.map(
    (r) => `<section id="region-${r.id}" aria-labelledby="h-${r.id}" tabindex="0"><h2 id="h-${r.id}">${escapeHtml(r.title)}</h2><div id="${r.id}"><p class="note">loading…</p></div></section>`,
  ).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body data-seq="-1">
<header>
<h1>${escapeHtml(title)}</h1>
<p id="status" role="status" aria-live="polite" aria-atomic="true">connecting…</p>
<p id="conn">connecting…</p>
</header>
<main aria-label="Live view">
${sections}
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
