/**
 * The History section of report.html: per run that recorded a history, the linearizability
 * verdict (and why there is none, when there is none), the set and counter checks, and for
 * each anomaly its witness as a timeline with the same operations as a table beside it (the
 * chart's text alternative).
 */
import { describeOp } from '../history/index.js';
import { opsTimeline, type OpBar } from './charts/index.js';
import { escapeHtml } from './escape.js';
import { formatCount, formatMs, formatNumber } from './format.js';
import type { ReportContext, Section } from './html-context.js';
import { card, htmlTable, type Cell } from './html-page.js';
import { RUNS_CHARTED_MAX } from './html-runs.js';
import { counterText, keyZnode, linearizabilityText, opOfRecord, setText } from './history-text.js';
import type { HistoryAnomaly, HistoryOpRecord, RunHistory, RunResult } from './results.js';

function verdictClass(valid: boolean | null): string {
  return valid === true ? 'verdict-ok' : valid === false ? 'verdict-bad' : 'verdict-unknown';
}

/** ns on the history's clock → ms with 3 decimals, from `originNs`. */
function msFrom(ns: number, originNs: number): string {
  return formatNumber((ns - originNs) / 1e6, 3);
}

function whenText(o: HistoryOpRecord, originNs: number): string {
  return `${msFrom(o.invokeNs, originNs)} → ${o.completeNs === null ? 'open' : msFrom(o.completeNs, originNs)} ms`;
}

function overviewTable(runs: readonly RunResult[]): string {
  const rows = runs.map((r): Cell[] => {
    const h = r.history!;
    return [
      r.name,
      { text: linearizabilityText(h), className: verdictClass(h.linearizable) },
      formatCount(h.ops),
      formatCount(h.indeterminate),
      formatCount(h.failed),
      formatCount(h.keys),
      h.error !== null && h.ops === 0 ? '—' : `${formatCount(h.checkedOpsPerSec)} ops/s in ${formatMs(h.checkMs)}`,
      h.set === null ? '—' : { text: setText(h.set), className: verdictClass(h.set.valid) },
      h.counter === null ? '—' : { text: counterText(h.counter), className: verdictClass(h.counter.valid) },
    ];
  });
  return htmlTable(['run', 'linearizability', 'ops', 'indeterminate', 'failed', 'keys', 'check speed', 'set', 'counter'], rows, [false, false, true, true, true, true, true, false, false], 'table-history');
}

function anomalyBlock(ctx: ReportContext, run: RunResult, h: RunHistory, a: HistoryAnomaly, k: number): string {
  const i = ctx.indexOf(run);
  const ops = a.ops.map((o, j) => ({ record: o, op: opOfRecord(o, a.key, j) }));
  // Times from the witness's first invocation; where that is in the window is said once, above.
  const originNs = Math.min(...a.ops.map((o) => o.invokeNs));
  const byProcess = [...ops].sort((x, y) => x.record.process - y.record.process || x.record.invokeNs - y.record.invokeNs);
  const bars: OpBar[] = byProcess.map(({ record, op }) => ({
    process: `p${record.process}`,
    from: (record.invokeNs - originNs) / 1e6,
    to: record.completeNs === null ? null : (record.completeNs - originNs) / 1e6,
    outcome: record.outcome,
    label: `${describeOp(op)}${record.outcome === 'ok' ? ' ok' : ''}`,
    tip: `p${record.process} ${describeOp(op)}: ${whenText(record, originNs)} (history.jsonl lines ${record.invokeLine}/${record.completeLine ?? '-'})`,
  }));
  const znode = keyZnode(h.root, a.key);
  const at = formatNumber((originNs - h.windowStartNs) / 1e9, 3);
  const processes = new Set(a.ops.map((o) => o.process)).size;
  const desc =
    `${a.opsTotal} operations by ${processes} ${processes === 1 ? 'process' : 'processes'} on key ${JSON.stringify(a.key)} (${znode}), from ${at} s into the measured window. ` +
    'No order of them respects both their real-time order and what a register (initial value null) allows. ' +
    byProcess.map(({ record, op }) => `p${record.process} ${describeOp(op)}${record.outcome === 'ok' ? ' ok' : ''}, ${whenText(record, originNs)}`).join('; ') +
    '.';
  const chart = opsTimeline({
    testId: `chart-anomaly-${i}-${k}`,
    title: `Anomaly on key ${JSON.stringify(a.key)}: ${a.opsTotal} operations no register could produce`,
    desc,
    bars,
    xLabel: `ms after the first invocation (${at} s into the measured window)`,
  });
  const table = htmlTable(
    ['process', 'op', 'outcome', 'invoke → complete', 'history.jsonl lines'],
    byProcess.map(({ record, op }): Cell[] => [`p${record.process}`, describeOp(op), record.outcome, whenText(record, originNs), `${record.invokeLine}/${record.completeLine ?? '-'}`]),
    [false, false, false, true, true],
    `table-anomaly-${i}-${k}`,
  );
  const notes = [
    a.shrunk ? '' : 'The shrink ran out of its budget: a smaller witness may exist.',
    a.ops.length < a.opsTotal ? `Only the first ${a.ops.length} of its ${a.opsTotal} operations are kept here; history.jsonl has them all.` : '',
  ].filter((n) => n !== '');
  return [
    `<div class="anomaly" data-testid="anomaly-${i}-${k}">`,
    `<h4>Key ${escapeHtml(JSON.stringify(a.key))} <small><code>${escapeHtml(znode)}</code>, ${formatCount(a.keyOps)} operations on it</small></h4>`,
    notes.length > 0 ? `<p class="caption">${escapeHtml(notes.join(' '))}</p>` : '',
    card(chart),
    table,
    '</div>',
  ].join('\n');
}

function runBlock(ctx: ReportContext, run: RunResult): string {
  const h = run.history!;
  const facts: [string, string][] = [
    ['operations', `${formatCount(h.ops)} on ${formatCount(h.keys)} keys (${formatCount(h.indeterminate)} indeterminate, ${formatCount(h.failed)} failed)`],
    ['check', h.error !== null && h.ops === 0 ? '—' : `${formatCount(h.checkedOpsPerSec)} ops/s, ${formatMs(h.checkMs)}`],
    ['set', h.set === null ? '—' : setText(h.set)],
    ['counter', h.counter === null ? '—' : counterText(h.counter)],
    ['history', h.file],
  ];
  if (h.error !== null && h.linearizable !== null) facts.push(['note', h.error]);
  const heading = `<h3 id="history-${ctx.indexOf(run)}">${escapeHtml(run.name)}</h3>`;
  const verdict = `<p class="${verdictClass(h.linearizable)}" data-testid="history-verdict-${ctx.indexOf(run)}">${escapeHtml(linearizabilityText(h))}</p>`;
  const list = `<dl class="meta">${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`;
  const anomalies = h.anomalies.map((a, k) => anomalyBlock(ctx, run, h, a, k));
  const cut = h.anomaliesFound > h.anomalies.length ? `<p class="caption">The first ${h.anomalies.length} of ${formatCount(h.anomaliesFound)} anomalies; zablab history check names them all.</p>` : '';
  return `<div class="run-history" data-run="${escapeHtml(run.name)}">${heading}${verdict}${list}${cut}${anomalies.join('\n')}</div>`;
}

export function historySection(ctx: ReportContext): Section | null {
  const runs = ctx.results.runs.filter((r) => r.history !== undefined);
  if (runs.length === 0) return null;
  const caption =
    '<p class="caption">What the load\'s clients saw, checked after each run as Jepsen checks ZooKeeper: every key is a register (read = sync + getData, write = setData, cas = setData at a version) whose history must be linearizable; every acknowledged create under the set\'s parent must be there at the end; the counter must equal its acknowledged increments, give or take the indeterminate ones. Indeterminate: the client cannot know whether the op took effect (e.g. the connection was lost). Re-check a run with <code>zablab history check runs/&lt;run&gt;/history.jsonl</code>.</p>';
  const shown = runs.slice(0, RUNS_CHARTED_MAX);
  const cut = runs.length > shown.length ? `<p class="caption">Only the first ${RUNS_CHARTED_MAX} of ${runs.length} runs are shown in detail.</p>` : '';
  return { id: 'history', title: 'History', html: [caption, overviewTable(runs), cut, ...shown.map((r) => runBlock(ctx, r))].join('\n') };
}
