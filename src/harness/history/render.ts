/** A verdict as text a person reads (the CLI's output), and as plain JSON (times as strings). */
import type { Anomaly, HistoryValue, HistoryVerdict, Op } from './types.js';

/** Width of the bar column in an anomaly's timeline. */
const BAR_COLUMNS = 32;
/** Longest value shown in a timeline; longer ones are cut with "...". */
const VALUE_CHARS_MAX = 24;
/** Witness ops shown per anomaly (an unshrunk witness can be long; --json has them all). */
const WITNESS_ROWS_MAX = 40;
/** Keys named in the unknown line before "and N more". */
const UNKNOWN_KEYS_SHOWN = 5;

/** The verdict's headline and each anomaly's timeline; times count from `originNs`. */
export function renderVerdict(v: HistoryVerdict, originNs: bigint): string {
  const lines = [summaryLine(v), verdictLine(v)];
  for (const a of v.anomalies) lines.push('', ...renderAnomaly(a, originNs));
  return lines.join('\n') + '\n';
}

function summaryLine(v: HistoryVerdict): string {
  const notes = [v.indeterminate > 0 ? `${count(v.indeterminate)} indeterminate` : '', v.failed > 0 ? `${count(v.failed)} failed` : ''].filter((s) => s !== '');
  return `${count(v.ops)} ops${notes.length > 0 ? ` (${notes.join(', ')})` : ''} on ${count(v.keys)} ${v.keys === 1 ? 'key' : 'keys'}`;
}

function verdictLine(v: HistoryVerdict): string {
  const unknown = v.unknown.length === 0 ? '' : `${count(v.unknown.length)} ${v.unknown.length === 1 ? 'key' : 'keys'} ran out of budget: ${unknownKeys(v)}`;
  if (v.linearizable === true) return 'linearizable: yes';
  if (v.linearizable === null) return `linearizable: unknown (${unknown})`;
  const bad = `${count(v.anomalies.length)} of ${count(v.keys)} ${v.keys === 1 ? 'key' : 'keys'} ${v.anomalies.length === 1 ? 'has an anomaly' : 'have anomalies'}`;
  return `linearizable: NO (${bad}${unknown === '' ? '' : `; ${unknown}`})`;
}

function unknownKeys(v: HistoryVerdict): string {
  const named = v.unknown.slice(0, UNKNOWN_KEYS_SHOWN).map((u) => `${JSON.stringify(u.key)} (${u.reason}, ${count(u.keyOps)} ops)`);
  const more = v.unknown.length - named.length;
  return named.join(', ') + (more > 0 ? ` and ${more} more` : '');
}

/** One anomaly: what failed, then one line per op of its witness with a bar of its interval. */
export function renderAnomaly(a: Anomaly, originNs: bigint): string[] {
  const head = `anomaly on key ${JSON.stringify(a.key)}: no order of these ${a.ops.length} ops (of ${count(a.keyOps)} on the key) respects both their real-time order and a register's reads, writes and cas (initial value null)`;
  const lines = [a.shrunk ? head : `${head}; the shrink ran out of budget, so a smaller witness may exist`];
  const times = a.ops.flatMap((o) => (o.completeNs === null ? [o.invokeNs] : [o.invokeNs, o.completeNs]));
  const first = times.reduce((m, t) => (t < m ? t : m), times[0] ?? originNs);
  const last = times.reduce((m, t) => (t > m ? t : m), first);
  const decimals = finestGapNs(times) < 1_000n ? 6 : 3;
  const rows = a.ops.slice(0, WITNESS_ROWS_MAX).map((o) => [
    `p${o.process}`,
    describeOp(o),
    `${ms(o.invokeNs - originNs, decimals)} → ${o.completeNs === null ? 'open' : ms(o.completeNs - originNs, decimals)}`,
    bar(o, first, last),
    `lines ${o.invokeLine}/${o.completeLine ?? '-'}`,
  ]);
  const header = ['process', 'op', 'ms from start: invoke → complete', 'timeline'.padEnd(BAR_COLUMNS), 'file'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  for (const r of [header, ...rows]) lines.push(`  ${r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()}`);
  if (a.ops.length > rows.length) lines.push(`  ... and ${a.ops.length - rows.length} more ops (all of them with --json)`);
  return lines;
}

/** `write 3`, `read → 3`, `cas 3 → 4`, with the outcome when it is not ok. */
export function describeOp(o: Op): string {
  const outcome = o.outcome === 'ok' ? '' : ` (${o.outcome})`;
  switch (o.f) {
    case 'read':
      return `read${o.outcome === 'ok' ? ` → ${value(o.value)}` : ''}${outcome}`;
    case 'write':
      return `write ${value(o.value)}${outcome}`;
    case 'cas': {
      const [expected, next] = o.value as [HistoryValue, HistoryValue];
      return `cas ${value(expected)} → ${value(next)}${outcome}`;
    }
  }
}

/** An op's interval on a BAR_COLUMNS-wide axis from `first` to `last`; an open op runs off the end. */
function bar(o: Op, first: bigint, last: bigint): string {
  const span = last - first;
  const col = (t: bigint): number => (span === 0n ? 0 : Number(((t - first) * BigInt(BAR_COLUMNS - 1)) / span));
  const from = col(o.invokeNs);
  const to = o.completeNs === null ? BAR_COLUMNS - 1 : Math.max(from, col(o.completeNs));
  const body = o.completeNs === null ? '='.repeat(to - from) + '>' : to === from ? '|' : `[${'='.repeat(Math.max(0, to - from - 1))}]`;
  return (' '.repeat(from) + body).padEnd(BAR_COLUMNS);
}

function finestGapNs(times: readonly bigint[]): bigint {
  const sorted = [...new Set(times)].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  let gap = 1_000_000n;
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i]! - sorted[i - 1]!;
    if (d < gap) gap = d;
  }
  return gap;
}

function ms(ns: bigint, decimals: number): string {
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  const whole = abs / 1_000_000n;
  const frac = (abs % 1_000_000n).toString().padStart(6, '0').slice(0, decimals);
  return `${sign}${whole}.${frac}`;
}

function value(v: HistoryValue | undefined): string {
  const s = JSON.stringify(v ?? null);
  return s.length > VALUE_CHARS_MAX ? `${s.slice(0, VALUE_CHARS_MAX - 3)}...` : s;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** The verdict as plain JSON: bigint times become strings of digits, as the history format allows. */
export function verdictToJson<T extends HistoryVerdict>(v: T): string {
  return JSON.stringify(v, (_key, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2);
}

/** The earliest invoke of a history (the origin of rendered times), or 0 for an empty one. */
export function historyOriginNs(ops: readonly Op[]): bigint {
  let origin: bigint | null = null;
  for (const o of ops) if (origin === null || o.invokeNs < origin) origin = o.invokeNs;
  return origin ?? 0n;
}
