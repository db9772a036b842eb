/**
 * The live page's regions as HTML fragments, rendered on the server from a snapshot with the
 * report's own chart code (lineChart, opsTimeline): the page swaps them in, so it holds no
 * chart code of its own and the report and the live view draw alike. All text is escaped.
 */
import { lineChart, opsTimeline, type ChartMarker, type LineSeries, type OpBar } from '../report/charts/index.js';
import { escapeHtml } from '../report/escape.js';
import { formatMs, formatNumber, formatOpsPerSec } from '../report/format.js';
import { OP_KINDS } from '../scenario/types.js';
import type { LiveSnapshot } from './state.js';
import { LABEL_EVENTS, type Waterfall } from './waterfall.js';

/** The regions of the page, in order: id → heading. */
export const REGIONS = [
  { id: 'servers', title: 'Servers' },
  { id: 'throughput', title: 'Throughput per op' },
  { id: 'latency', title: 'p99 latency per op' },
  { id: 'outstanding', title: 'Outstanding requests' },
  { id: 'waterfall', title: 'Write waterfall' },
  { id: 'events', title: 'Faults and leader changes' },
  { id: 'runs', title: 'Runs' },
] as const;
export type RegionId = (typeof REGIONS)[number]['id'] | 'status';

/** Seconds shown on the timelines: the last two minutes. */
const WINDOW_SEC = 120;
const CHART_WIDTH = 620;
const CHART_HEIGHT = 240;
/** The waterfall's time axis runs this far past its last span, so that labels fit beside the bars. */
const WATERFALL_LABEL_ROOM = 1.6;

function sec(s: LiveSnapshot, atEpochMs: number): number {
  return Math.round((atEpochMs - s.originEpochMs) / 100) / 10;
}

/** The last WINDOW_SEC seconds, from time 0 or the earliest observation if one came before it. */
function xDomain(s: LiveSnapshot): [number, number] {
  const now = sec(s, s.nowEpochMs);
  const times = [...s.seconds, ...s.outstanding, ...s.markers].map((p) => sec(s, p.atEpochMs));
  const earliest = Math.min(0, ...times);
  return [Math.max(earliest, now - WINDOW_SEC), Math.max(earliest + 1, now)];
}

function markers(s: LiveSnapshot): ChartMarker[] {
  return s.markers.map((m) => ({ x: sec(s, m.atEpochMs), label: m.label, kind: m.kind }));
}

function timeline(s: LiveSnapshot, spec: { testId: string; title: string; yLabel: string; series: LineSeries[]; formatY: (y: number) => string }): string {
  return lineChart({
    ...spec,
    xLabel: s.source === 'bench' ? 'time since the run started (s)' : 'time since the watch started (s)',
    markers: markers(s),
    xDomain: xDomain(s),
    formatX: (x) => `t = ${formatNumber(x, 1)} s`,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
  });
}

function opsSeen(s: LiveSnapshot): (typeof OP_KINDS)[number][] {
  return OP_KINDS.filter((op) => s.seconds.some((p) => p.byOp[op] !== undefined));
}

function noLoad(s: LiveSnapshot): string {
  return s.source === 'watch'
    ? '<p class="note">zablab watch sees the servers, not the clients: throughput and latency per op come with <code>zablab bench --live</code>.</p>'
    : '';
}

export function throughputHtml(s: LiveSnapshot): string {
  if (s.source === 'watch') return noLoad(s);
  const series = opsSeen(s).map((op) => ({ name: op, points: s.seconds.map((p) => ({ x: sec(s, p.atEpochMs), y: p.byOp[op]?.ops ?? null })) }));
  return timeline(s, { testId: 'live-throughput', title: 'Throughput per second', yLabel: 'ops/s', series, formatY: (y) => `${formatOpsPerSec(y)} ops/s` });
}

export function latencyHtml(s: LiveSnapshot): string {
  if (s.source === 'watch') return noLoad(s);
  const series = opsSeen(s).map((op) => ({ name: op, points: s.seconds.map((p) => ({ x: sec(s, p.atEpochMs), y: (p.byOp[op]?.ops ?? 0) > 0 ? p.byOp[op]!.p99 : null })) }));
  return timeline(s, { testId: 'live-latency', title: 'p99 latency per second', yLabel: 'p99 latency (ms)', series, formatY: formatMs });
}

export function outstandingHtml(s: LiveSnapshot): string {
  const ids = [...new Set(s.outstanding.map((o) => o.id))].sort((a, b) => a - b);
  const series = ids.map((id) => ({ name: `server ${id}`, points: s.outstanding.filter((o) => o.id === id).map((o) => ({ x: sec(s, o.atEpochMs), y: o.value })) }));
  return timeline(s, { testId: 'live-outstanding', title: 'outstanding_requests (mntr)', yLabel: 'requests', series, formatY: (y) => formatNumber(y) });
}

export function serversHtml(s: LiveSnapshot): string {
  if (s.servers.length === 0) return '<p class="note">no ensemble yet</p>';
  const rows = s.servers.map((m) => {
    const cells = [
      `<th scope="row">${m.id}</th>`,
      `<td>${escapeHtml(m.role)}</td>`,
      `<td class="mode mode-${escapeHtml(m.mode)}">${escapeHtml(m.mode)}</td>`,
      `<td>${m.epoch === null ? '—' : m.epoch}</td>`,
      `<td><code>${m.zxid === null ? '—' : escapeHtml(m.zxid)}</code></td>`,
      `<td>${m.serving ? 'yes' : '<strong>no</strong>'}</td>`,
      `<td>${m.outstanding === null ? '—' : formatNumber(m.outstanding)}</td>`,
    ];
    return `<tr data-server="${m.id}" data-mode="${escapeHtml(m.mode)}">${cells.join('')}</tr>`;
  });
  return [
    '<table class="servers"><caption>Each server as it reports itself (srvr, twice a second); epoch: the high 32 bits of its last zxid</caption>',
    '<thead><tr><th scope="col">id</th><th scope="col">role</th><th scope="col">mode</th><th scope="col">epoch</th><th scope="col">zxid</th><th scope="col">serves</th><th scope="col">outstanding</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody></table>`,
  ].join('');
}

function stageLabel(w: Waterfall, i: number): string {
  const sp = w.spans[i]!;
  const who = `server ${sp.serverId}${sp.role === null ? '' : ` (${sp.role})`}`;
  const extra = sp.events.filter((e) => LABEL_EVENTS.includes(e.name)).map((e) => `${e.name} at ${formatMs(Math.round(e.atMs * 1000) / 1000)}`);
  const name = sp.stage === 'request' ? 'request' : sp.stage === 'proposal' ? 'proposal → commit sent' : sp.stage === 'ack' ? 'ack (log, fsync)' : 'commit (apply)';
  return `${name}, ${who}: ${formatMs(Math.round((sp.toMs - sp.fromMs) * 1000) / 1000)}${extra.length > 0 ? `; ${extra.join(', ')}` : ''}`;
}

export function waterfallHtml(s: LiveSnapshot): string {
  const w = s.waterfall;
  const note = s.waterfallNote === '' ? '' : `<p class="note">${escapeHtml(s.waterfallNote)}</p>`;
  if (w === null) return note;
  const bars: OpBar[] = w.spans.map((sp, i) => ({
    process: `s${sp.serverId}`,
    from: sp.fromMs,
    to: sp.toMs,
    outcome: 'ok',
    // Every bar names its server: rows of one server next to each other share one row label.
    label: `${sp.stage} on s${sp.serverId}${sp.role === null ? '' : ` (${sp.role})`}: ${formatMs(Math.round((sp.toMs - sp.fromMs) * 1000) / 1000)}`,
    tip: stageLabel(w, i),
  }));
  const age = Math.max(0, Math.round((s.nowEpochMs - w.startEpochMs) / 100) / 10);
  const title = `Write ${w.zxid ?? ''}${w.op === null ? '' : ` (${w.op})`}: ${w.spans.length} spans on ${w.servers} servers`;
  const chart = opsTimeline({
    testId: 'live-waterfall',
    title,
    desc: `A sampled write across the ensemble, ${formatNumber(age, 1)} s ago: ${w.spans.map((_, i) => stageLabel(w, i)).join('; ')}.`,
    bars,
    xLabel: 'ms since the request',
    width: CHART_WIDTH,
    // Room right of the longest bar for its label.
    xMax: Math.max(...w.spans.map((sp) => sp.toMs)) * WATERFALL_LABEL_ROOM,
  });
  const list = w.spans.map((_, i) => `<li>${escapeHtml(stageLabel(w, i))}</li>`).join('');
  return (
    `<div class="waterfall" data-trace="${escapeHtml(w.traceId)}" data-servers="${w.servers}">` +
    `<p>${escapeHtml(title)}, ${formatNumber(age, 1)} s ago; leader: ${w.leader === null ? '—' : `server ${w.leader}`}.</p>${chart}` +
    `<details><summary>The spans as text</summary><ol>${list}</ol></details>${note}</div>`
  );
}

export function eventsHtml(s: LiveSnapshot): string {
  const items = s.markers
    .slice()
    .reverse()
    .map((m) => `<li class="event event-${m.kind}" data-kind="${m.kind}"><span class="t">${formatNumber(sec(s, m.atEpochMs), 1)} s</span> ${escapeHtml(m.label)}</li>`);
  const notes = s.notes
    .slice(-5)
    .reverse()
    .map((n) => `<li class="event event-note">${escapeHtml(n)}</li>`);
  if (items.length + notes.length === 0) return '<p class="note">no fault and no leader change yet</p>';
  const since = s.source === 'bench' ? 'the run started' : 'the watch started';
  return `<p class="note">Newest first; times in seconds since ${since}.</p><ol class="events">${items.join('')}</ol>${notes.length > 0 ? `<h3>Notes</h3><ol class="events">${notes.join('')}</ol>` : ''}`;
}

export function runsHtml(s: LiveSnapshot): string {
  if (s.source === 'watch') return '<p class="note">watching an ensemble; no bench runs</p>';
  const r = s.run;
  const current = r === null ? '<p class="note">no run yet</p>' : `<p class="current-run">run <strong>${r.index} of ${r.total}</strong>: <code>${escapeHtml(r.name)}</code>, ${escapeHtml(r.phase)}</p>`;
  const done = s.done.map((d) => `<li>${escapeHtml(d)}</li>`).join('');
  return current + (done === '' ? '' : `<ol class="done">${done}</ol>`);
}

export function statusHtml(s: LiveSnapshot): string {
  const r = s.run;
  const parts: string[] = [];
  if (r !== null) parts.push(`run ${r.index}/${r.total} ${escapeHtml(r.name)}: ${escapeHtml(r.phase)}${r.measured === null ? '' : ` ${escapeHtml(r.measured)}`}`);
  if (r?.liveOpsPerSec != null) parts.push(`${formatOpsPerSec(r.liveOpsPerSec)} ops/s`);
  parts.push(s.leader === null ? 'no leader' : `leader: server ${s.leader}`);
  return parts.join(' · ');
}

export function renderRegions(s: LiveSnapshot): Record<RegionId, string> {
  return {
    status: statusHtml(s),
    servers: serversHtml(s),
    throughput: throughputHtml(s),
    latency: latencyHtml(s),
    outstanding: outstandingHtml(s),
    waterfall: waterfallHtml(s),
    events: eventsHtml(s),
    runs: runsHtml(s),
  };
}
