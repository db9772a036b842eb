/**
 * harness/history: checks what clients saw, as Jepsen does for ZooKeeper. No I/O: a history
 * in, a verdict out, so `zablab history check FILE` and the bench runner share it.
 *
 * Registers (linearizability). The history is JSON lines, one event a line, written by the
 * load drivers:
 *
 *   {"process":N,"type":"invoke"|"ok"|"fail"|"info","f":"read"|"write"|"cas","key":K,"value":V,"time":NS}
 *
 * - process: an integer; a process has at most one op in flight: its invoke line, then that
 *   op's completion (ok, fail or info) on a later line. Lines of different processes
 *   interleave freely; times order them, not lines.
 * - key: a string or number naming one register (a znode). Each key is checked on its own.
 * - value: write: the value written; cas: [expected, new]; read: null on the invoke, the value
 *   read on the ok (null for a missing key: every register starts at null). Any JSON value.
 * - time: nanoseconds, a number (exact up to 2^53) or a string of digits (any size).
 * - ok: took effect between invoke and completion. fail: known not to have taken effect (left
 *   out). info: indeterminate, e.g. connection loss: may have taken effect, at any time from
 *   the invoke to the end of the history; the process may invoke again. An op with no
 *   completion by the end of the file is info too.
 *
 * The verdict (checkHistory) says per key linearizable, not, or unknown (a key's time or
 * memory budget ran out), and for each key that is not, a small witness: a sub-history that
 * is non-linearizable on its own (see shrink.ts for why it is honest).
 *
 * Sets (checkSet, Jepsen's "set"): `{ adds: [{element, outcome}], finalRead: [element...] }`,
 * outcome ok | fail | info. Acknowledged adds missing from the final read are lost; elements
 * never attempted are invented; indeterminate adds may be either way.
 *
 * Counters (checkCounter, Jepsen's "counter"): `{ initial?, deltas: [{delta, outcome}],
 * finalValue }`. The final value must lie within initial + the acknowledged deltas, widened
 * by the indeterminate ones (negative ones lower the floor, positive ones raise the ceiling).
 */
export { HistoryError } from './errors.js';
export type { HistoryErrorCode } from './errors.js';
export { HistoryBuilder, parseEvent, parseHistory, HISTORY_LINE_BYTES_MAX, HISTORY_OPS_MAX } from './parse.js';
export { checkHistory, CHECK_DEFAULTS } from './check.js';
export type { CheckOptions } from './check.js';
export { checkSet } from './set.js';
export type { SetAdd, SetHistory, SetVerdict } from './set.js';
export { checkCounter } from './counter.js';
export type { CounterDelta, CounterHistory, CounterVerdict } from './counter.js';
export { describeOp, historyOriginNs, renderAnomaly, renderVerdict, verdictToJson } from './render.js';
export type { Anomaly, BudgetReason, History, HistoryEvent, HistoryKey, HistoryValue, HistoryVerdict, Op, OpF, Outcome, UnknownKey } from './types.js';
