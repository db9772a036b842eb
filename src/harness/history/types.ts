/** The shapes a history and a verdict take (see index.ts for the file format). */

/** A value as the history file holds it: any JSON value; a register starts at null. */
export type HistoryValue = null | boolean | number | string | HistoryValue[] | { [field: string]: HistoryValue };

/** A register's name: the znode path, or any string or number the load driver uses. */
export type HistoryKey = string | number;

/** The register operations: read, write, and compare-and-set ([expected, new]). */
export type OpF = 'read' | 'write' | 'cas';
export const OP_FS: readonly OpF[] = ['read', 'write', 'cas'];

/** How an op ended: ok (took effect), fail (did not), info (unknown: may have, at any later time). */
export type Outcome = 'ok' | 'fail' | 'info';

/** One line of a history file, validated. */
export interface HistoryEvent {
  process: number;
  type: 'invoke' | Outcome;
  f: OpF;
  key: HistoryKey;
  value: HistoryValue;
  timeNs: bigint;
  /** 1-based line of the file, for messages. */
  line: number;
}

/** An invocation paired with its completion. */
export interface Op {
  /** Position among the history's invocations, from 0. */
  index: number;
  process: number;
  f: OpF;
  key: HistoryKey;
  /** write: the value written; cas: [expected, new]; read: the value read (null when not ok). */
  value: HistoryValue;
  /** A history that ends before an op completes leaves it info: it may or may not have happened. */
  outcome: Outcome;
  invokeNs: bigint;
  /** null: the op is open to the end of the history (info, or never completed). */
  completeNs: bigint | null;
  invokeLine: number;
  completeLine: number | null;
}

export interface History {
  ops: Op[];
}

/** Why a key's check gave up: its time budget or its memory budget ran out. */
export type BudgetReason = 'time' | 'memory';

/** A key whose sub-history is not linearizable, with the smallest failing sub-history found. */
export interface Anomaly {
  key: HistoryKey;
  /** The key's ops the search saw: without failed ops, indeterminate reads, and indeterminate writes no op observes. */
  keyOps: number;
  /** The witness: a sub-history, non-linearizable on its own, in invocation order. */
  ops: Op[];
  /** false when the shrink ran out of budget: the witness may not be the smallest. */
  shrunk: boolean;
}

export interface UnknownKey {
  key: HistoryKey;
  keyOps: number;
  reason: BudgetReason;
}

export interface HistoryVerdict {
  /** Every invoked op, including failed and indeterminate ones. */
  ops: number;
  /** Ops that ended in info or never completed. */
  indeterminate: number;
  /** Ops that ended in fail (known not to have taken effect; left out of the check). */
  failed: number;
  keys: number;
  /** true: every key's sub-history is linearizable; false: one is not; null: no answer within budget. */
  linearizable: boolean | null;
  anomalies: Anomaly[];
  /** Keys the budget ran out on (linearizable is null unless an anomaly was found elsewhere). */
  unknown: UnknownKey[];
  /** Configurations (linearized set, register value) the search memoized, over all keys. */
  statesExplored: number;
}
