/**
 * History files (JSON lines) into ops: each line validated, each invocation paired with its
 * process's next completion. Takes text line by line so that a caller can stream a file;
 * reads nothing itself.
 */
import { HistoryError } from './errors.js';
import { OP_FS, type History, type HistoryEvent, type HistoryValue, type Op, type OpF, type Outcome } from './types.js';

/** Longest line accepted: a history line is a small record; a huge one is a damaged file. */
export const HISTORY_LINE_BYTES_MAX = 1 << 20;
/** Most invocations in one history (each costs memory while the check runs). */
export const HISTORY_OPS_MAX = 10_000_000;

const TYPES: readonly HistoryEvent['type'][] = ['invoke', 'ok', 'fail', 'info'];
const FIELDS = new Set(['process', 'type', 'f', 'key', 'value', 'time']);

/** Builds a History from lines fed in order; `finish()` closes ops that never completed as info. */
export class HistoryBuilder {
  private readonly ops: Op[] = [];
  /** The op each process has in flight (an op that ended in info frees its process). */
  private readonly inFlight = new Map<number, Op>();
  private lineNo = 0;

  /** Feeds the next line of the file (blank lines are skipped but counted). */
  addLine(text: string): void {
    this.lineNo++;
    if (text.trim() === '') return;
    this.addEvent(parseEvent(text, this.lineNo));
  }

  addEvent(e: HistoryEvent): void {
    const open = this.inFlight.get(e.process);
    if (e.type === 'invoke') {
      if (open !== undefined) {
        throw formatError(e.line, `process ${e.process} invokes again before its ${open.f} from line ${open.invokeLine} completed (give it an ok, fail or info line first)`);
      }
      if (this.ops.length >= HISTORY_OPS_MAX) throw formatError(e.line, `more than ${HISTORY_OPS_MAX} ops; check a shorter history`);
      if (e.f === 'cas' && !isCasPair(e.value)) throw formatError(e.line, `a cas invoke's "value" must be [expected, new], got ${show(e.value)}`);
      const op: Op = {
        index: this.ops.length,
        process: e.process,
        f: e.f,
        key: e.key,
        value: e.f === 'read' ? null : e.value,
        outcome: 'info',
        invokeNs: e.timeNs,
        completeNs: null,
        invokeLine: e.line,
        completeLine: null,
      };
      this.ops.push(op);
      this.inFlight.set(e.process, op);
      return;
    }
    if (open === undefined) throw formatError(e.line, `process ${e.process} completes an op it has not invoked (no invoke line before it is in flight)`);
    if (open.f !== e.f || open.key !== e.key) {
      throw formatError(e.line, `process ${e.process} completes ${e.f} on ${show(e.key)} but invoked ${open.f} on ${show(open.key)} (line ${open.invokeLine})`);
    }
    if (e.timeNs < open.invokeNs) throw formatError(e.line, `completes at ${e.timeNs} ns, before its invoke at ${open.invokeNs} ns (line ${open.invokeLine})`);
    if (e.type === 'ok' && open.f !== 'read' && e.value !== null && show(e.value) !== show(open.value)) {
      throw formatError(e.line, `the ok ${open.f}'s value ${show(e.value)} differs from its invoke's ${show(open.value)} (line ${open.invokeLine})`);
    }
    this.inFlight.delete(e.process);
    complete(open, e.type, e);
  }

  /** The history so far; ops still in flight stay open (info) to its end. */
  finish(): History {
    this.inFlight.clear();
    return { ops: this.ops };
  }
}

function complete(op: Op, outcome: Outcome, e: HistoryEvent): void {
  op.outcome = outcome;
  op.completeLine = e.line;
  // An info op's effect, if any, may land at any time until the end: it stays open.
  if (outcome !== 'info') op.completeNs = e.timeNs;
  if (op.f === 'read') op.value = outcome === 'ok' ? e.value : null;
}

/** A whole history from text (one JSON object a line). */
export function parseHistory(text: string): History {
  const b = new HistoryBuilder();
  for (const line of text.split('\n')) b.addLine(line);
  return b.finish();
}

/** One line, validated: every field present and of its type; names the line on a mistake. */
export function parseEvent(text: string, line: number): HistoryEvent {
  if (text.length > HISTORY_LINE_BYTES_MAX) throw formatError(line, `longer than ${HISTORY_LINE_BYTES_MAX} characters`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw formatError(line, `not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw formatError(line, 'must be a JSON object {"process","type","f","key","value","time"}');
  const o = raw as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => !FIELDS.has(k));
  if (extra !== undefined) throw formatError(line, `unknown field "${extra}" (fields: ${[...FIELDS].join(', ')})`);

  const process = o['process'];
  if (typeof process !== 'number' || !Number.isSafeInteger(process) || process < 0) throw formatError(line, `"process" must be an integer >= 0, got ${show(o['process'])}`);
  const type = o['type'];
  if (!TYPES.includes(type as HistoryEvent['type'])) throw formatError(line, `"type" must be one of ${TYPES.join(', ')}, got ${show(type)}`);
  const f = o['f'];
  if (!OP_FS.includes(f as OpF)) throw formatError(line, `"f" must be one of ${OP_FS.join(', ')}, got ${show(f)}`);
  const key = o['key'];
  if (typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) throw formatError(line, `"key" must be a string or a number, got ${show(key)}`);
  if (!('value' in o)) throw formatError(line, '"value" is missing (null for a read\'s invoke)');
  return { process, type: type as HistoryEvent['type'], f: f as OpF, key, value: o['value'] as HistoryValue, timeNs: parseTime(o['time'], line), line };
}

/** Nanoseconds as a number (exact only up to 2^53) or a string of digits (any size). */
function parseTime(t: unknown, line: number): bigint {
  if (typeof t === 'number') {
    if (!Number.isInteger(t) || t < 0) throw formatError(line, `"time" must be a whole number of nanoseconds >= 0, got ${show(t)}`);
    if (!Number.isSafeInteger(t)) throw formatError(line, `"time" ${t} is past 2^53 and lost precision as a JSON number; write it as a string of digits ("time":"1700000000000000000")`);
    return BigInt(t);
  }
  if (typeof t === 'string' && /^\d{1,30}$/.test(t)) return BigInt(t);
  throw formatError(line, `"time" must be nanoseconds as a number or a string of digits, got ${show(t)}`);
}

function isCasPair(v: HistoryValue): boolean {
  return Array.isArray(v) && v.length === 2;
}

function show(v: unknown): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function formatError(line: number, message: string): HistoryError {
  return new HistoryError('ZABLAB_HISTORY_FORMAT', `line ${line}: ${message}`);
}
