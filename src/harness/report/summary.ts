/**
 * summary.md: the results as GitHub markdown tables, to paste in a ticket or read in a
 * terminal. One table per scenario, recovery per fault (and over repeats), write breakdown,
 * and the configuration of every run.
 */
import { renderAnomaly, type Anomaly } from '../history/index.js';
import { configText, errorsText, RECOVERY_METRICS, recoveryMetricsFor, recoveryOverRepeats, recoveryValue, workloadText, type MedianMax } from './aggregate.js';
import { escapeMarkdownText } from './escape.js';
import { formatCount, formatMs, formatOpsPerSec, formatSecondsFromMs, formatTimestamp, NOT_APPLICABLE, NOT_OBSERVED } from './format.js';
import { counterText, keyZnode, linearizabilityText, opOfRecord, setText } from './history-text.js';
import { faultTargetLabel, readPctText, topologyText } from './labels.js';
import { markdownTable, type Align } from './markdown.js';
import type { RecoveryResult, ResultsFile, RunResult } from './results.js';
import { stateCostLines } from './state-text.js';
import { syncTables } from './sync-tables.js';
import { TRACING_COST_CAPTION, TRACING_COST_HEADERS, tracingCost, tracingCostTable } from './tracing-cost.js';

const RUN_TABLE_HEADERS = ['run', 'topology', 'read %', 'ops/s', 'p50', 'p99', 'p99.9', 'errors'];
const RUN_TABLE_ALIGN: Align[] = ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'left'];

/** Runs grouped by scenario, in the order results.scenarios lists them (then any others). */
export function runsByScenario(results: ResultsFile): { name: string; description: string; source: string; runs: RunResult[] }[] {
  const groups = results.scenarios.map((s) => ({ ...s, runs: [] as RunResult[] }));
  for (const run of results.runs) {
    let g = groups.find((x) => x.name === run.scenario);
    if (g === undefined) {
      g = { name: run.scenario, description: '', source: '', runs: [] };
      groups.push(g);
    }
    g.runs.push(run);
  }
  return groups.filter((g) => g.runs.length > 0);
}

function runRow(run: RunResult): string[] {
  const head = [run.name, topologyText(run), readPctText(run)];
  if (run.status === 'failed') return [...head, 'failed', NOT_OBSERVED, NOT_OBSERVED, NOT_OBSERVED, errorsText(run)];
  const l = run.latencyMs;
  return [...head, formatOpsPerSec(run.throughput.opsPerSec), formatMs(l.p50), formatMs(l.p99), formatMs(l.p999), errorsText(run)];
}

function medianMaxText(m: MedianMax): string {
  return m.observed === 0 ? NOT_OBSERVED : `${formatMs(m.median)} / ${formatMs(m.max)}`;
}

function headerLines(results: ResultsFile): string[] {
  const failed = results.runs.filter((r) => r.status === 'failed').length;
  const h = results.host;
  return [
    '# zablab bench results',
    '',
    `- tool: ${results.tool.name} ${escapeMarkdownText(results.tool.version)}`,
    `- created: ${formatTimestamp(results.createdAt)}`,
    `- host: ${h.cpus} CPUs, ${escapeMarkdownText(h.platform)}, Node ${escapeMarkdownText(h.node)}`,
    `- scenarios: ${results.scenarios.map((s) => escapeMarkdownText(s.name)).join(', ') || 'none'}`,
    `- runs: ${results.runs.length}${failed > 0 ? ` (${failed} failed)` : ''}`,
    '',
  ];
}

/** Each recovery column, — where it does not apply to the fault's kind. */
function recoveryCells(r: RecoveryResult): string[] {
  const applies = new Set(recoveryMetricsFor(r.fault).map((m) => m.key));
  return RECOVERY_METRICS.map((m) => (applies.has(m.key) ? formatMs(recoveryValue(r, m.key)) : NOT_APPLICABLE));
}

function ackedWritesLines(results: ResultsFile): string[] {
  const runs = results.runs.filter((r) => r.ackedWrites !== undefined);
  if (runs.length === 0) return [];
  return [
    '### Acknowledged writes',
    '',
    "The runner's own creates, acknowledged during the run and looked up on every running server afterwards.",
    '',
    markdownTable(
      ['run', 'acknowledged', 'indeterminate', 'checked on servers', 'lost'],
      runs.map((r) => {
        const a = r.ackedWrites!;
        return [r.name, formatCount(a.writes), formatCount(a.indeterminate), a.servers.map((s) => String(s.serverId)).join(', ') || NOT_OBSERVED, a.lost > 0 ? `LOST ${formatCount(a.lost)}` : a.error !== null ? `not checked: ${a.error}` : 'none lost'];
      }),
      ['left', 'right', 'right', 'left', 'left'],
    ),
  ];
}

function recoverySection(results: ResultsFile): string[] {
  const rows = results.runs.flatMap((run) =>
    run.recovery.map((r) => [
      run.name,
      r.fault,
      formatSecondsFromMs(r.atMs),
      faultTargetLabel(r),
      ...recoveryCells(r),
    ]),
  );
  if (rows.length === 0) return [];
  const out = [
    '## Recovery',
    '',
    'Milliseconds from the fault; — : does not apply to that kind of fault (first write and leader elected after restart, resume or heal; back in service after kill, pause or partition), or not observed before the run ended.',
    '',
    markdownTable(['run', 'fault', 'at', 'target', ...RECOVERY_METRICS.map((m) => m.label)], rows, ['left', 'left', 'right', 'left', 'right', 'right', 'right', 'right', 'right']),
  ];
  const groups = recoveryOverRepeats(results.runs).filter((g) => g.runs > 1);
  if (groups.length > 0) {
    out.push(
      '### Recovery over repeats (median / max)',
      '',
      markdownTable(
        ['runs', 'fault', 'target', 'repeats', ...RECOVERY_METRICS.map((m) => m.label)],
        groups.map((g) => {
          const applies = new Set(recoveryMetricsFor(g.fault).map((m) => m.key));
          return [g.label, g.fault, g.target, String(g.runs), ...RECOVERY_METRICS.map((m) => (applies.has(m.key) ? medianMaxText(g.metrics[m.key]) : NOT_APPLICABLE))];
        }),
        ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
    );
  }
  out.push(...ackedWritesLines(results));
  return out;
}

function tracingCostSection(results: ResultsFile): string[] {
  const groups = tracingCost(results.runs);
  if (groups.length === 0) return [];
  return ['## Tracing cost', '', TRACING_COST_CAPTION, '', markdownTable([...TRACING_COST_HEADERS], tracingCostTable(groups), ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'])];
}

/** Catch-ups, snapshots and p99 during them (report/sync-tables.ts). */
function syncSection(results: ResultsFile): string[] {
  const tables = syncTables(results.runs);
  if (tables.length === 0) return [];
  return ['## Catch-up and snapshots', '', ...tables.flatMap((t) => [`### ${t.title}`, '', t.caption, '', markdownTable(t.table.headers, t.table.rows, t.table.numeric.map((n) => (n ? 'right' : 'left')))])];
}

function breakdownSection(results: ResultsFile): string[] {
  const runs = results.runs.filter((r) => r.breakdown !== null && r.breakdown.stages.length > 0);
  if (runs.length === 0) return [];
  const out = ['## Write breakdown', '', 'From spans: one row per stage and server.', ''];
  for (const run of runs) {
    const b = run.breakdown!;
    out.push(
      `### ${escapeMarkdownText(run.name)}: ${formatCount(b.writes)} writes`,
      '',
      markdownTable(
        ['stage', 'server', 'role', 'count', 'mean', 'p50', 'p99'],
        b.stages.map((s) => [s.stage, s.serverId === null ? 'all' : String(s.serverId), s.role ?? NOT_OBSERVED, formatCount(s.count), formatMs(s.meanMs), formatMs(s.p50Ms), formatMs(s.p99Ms)]),
        ['left', 'right', 'left', 'right', 'right', 'right', 'right'],
      ),
    );
  }
  return out;
}

/** Witnesses written out in summary.md per run (report.html and results.json have more). */
const SUMMARY_ANOMALIES_MAX = 3;

function historySection(results: ResultsFile): string[] {
  const runs = results.runs.filter((r) => r.history !== undefined);
  if (runs.length === 0) return [];
  const out = [
    '## History checks',
    '',
    'Each key a register (linearizable?), the set (acknowledged creates all present?), the counter (within its acknowledged and indeterminate increments?).',
    '',
    markdownTable(
      ['run', 'linearizability', 'ops', 'indeterminate', 'check', 'set', 'counter'],
      runs.map((r) => {
        const h = r.history!;
        return [r.name, linearizabilityText(h), formatCount(h.ops), formatCount(h.indeterminate), `${formatCount(h.checkedOpsPerSec)} ops/s`, h.set === null ? NOT_OBSERVED : setText(h.set), h.counter === null ? NOT_OBSERVED : counterText(h.counter)];
      }),
      ['left', 'left', 'right', 'right', 'right', 'left', 'left'],
    ),
  ];
  for (const r of runs) {
    const h = r.history!;
    for (const a of h.anomalies.slice(0, SUMMARY_ANOMALIES_MAX)) {
      const anomaly: Anomaly = { key: a.key, keyOps: a.keyOps, shrunk: a.shrunk, ops: a.ops.map((o, j) => opOfRecord(o, a.key, j)) };
      out.push(
        `### ${escapeMarkdownText(r.name)}: key ${escapeMarkdownText(JSON.stringify(a.key))} (${escapeMarkdownText(keyZnode(h.root, a.key))})`,
        '',
        `Times in ms from the start of the measured window; lines of ${escapeMarkdownText(h.file)}.`,
        '',
        // An indented code block: no fence for a value to close.
        ...renderAnomaly(anomaly, BigInt(Math.round(h.windowStartNs))).map((l) => `    ${l}`),
        '',
      );
    }
  }
  return out;
}

function configSection(results: ResultsFile): string[] {
  if (results.runs.length === 0) return [];
  return [
    '## Configuration',
    '',
    markdownTable(
      ['run', 'ensemble', 'zoo.cfg', 'load', 'workload'],
      results.runs.map((r) => [r.name, topologyText(r), configText(r.ensemble.config), r.load.driver, workloadText(r)]),
    ),
  ];
}

export function renderSummary(results: ResultsFile): string {
  const out = headerLines(results);
  const failed = results.runs.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    out.push('## Failed runs', '', markdownTable(['run', 'error'], failed.map((r) => [r.name, r.error ?? '(no error recorded)'])));
  }
  for (const s of runsByScenario(results)) {
    out.push(`## Scenario ${escapeMarkdownText(s.name)}`, '');
    if (s.description !== '') out.push(escapeMarkdownText(s.description.trim()), '');
    if (s.source !== '') out.push(`Source: \`${s.source.replace(/`/g, "'")}\``, '');
    out.push(markdownTable(RUN_TABLE_HEADERS, s.runs.map(runRow), RUN_TABLE_ALIGN));
  }
  if (results.runs.length === 0) out.push('No runs.', '');
  out.push(...historySection(results), ...tracingCostSection(results), ...recoverySection(results), ...stateCostLines(results), ...syncSection(results), ...breakdownSection(results), ...configSection(results));
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}
