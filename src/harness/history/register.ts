/**
 * The register: its sequential specification (read, write, compare-and-set on one value that
 * starts at null) and one key's ops encoded as small integers for the search.
 */
import type { HistoryValue, Op } from './types.js';

export const READ = 0;
export const WRITE = 1;
export const CAS = 2;
export type RegisterKind = typeof READ | typeof WRITE | typeof CAS;

/** The id of null, the register's initial value. */
export const NULL_VALUE = 0;
/** What step() answers for an op that cannot take effect in the given state. */
export const ILLEGAL = -1;

/** An op of one register, values replaced by ids (equal JSON, equal id). */
export interface RegisterOp {
  /** The history's op, for witnesses. */
  op: Op;
  kind: RegisterKind;
  /** read: the value seen; write: the value written; cas: the expected value. */
  a: number;
  /** cas: the new value; otherwise ILLEGAL. */
  b: number;
  /** Indeterminate: may take effect at any time after its invoke, or never. */
  open: boolean;
}

/** Gives each distinct value (by its JSON text) a small integer id; null is NULL_VALUE. */
export class ValueIds {
  private readonly ids = new Map<string, number>([['null', NULL_VALUE]]);

  id(v: HistoryValue | undefined): number {
    const text = JSON.stringify(v ?? null);
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(text, id);
    }
    return id;
  }
}

/** The register's sequential specification: the state after `op` from `state`, or ILLEGAL. */
export function step(state: number, kind: RegisterKind, a: number, b: number): number {
  switch (kind) {
    case READ:
      return state === a ? state : ILLEGAL;
    case WRITE:
      return a;
    case CAS:
      return state === a ? b : ILLEGAL;
  }
}

/** The value an op leaves in the register, or ILLEGAL for a read. */
export function writtenValue(r: RegisterOp): number {
  return r.kind === WRITE ? r.a : r.kind === CAS ? r.b : ILLEGAL;
}

/** Values some op observes: a read's result or a cas's expected value. */
export function observedValues(ops: readonly RegisterOp[]): Set<number> {
  const seen = new Set<number>();
  for (const r of ops) if (r.kind !== WRITE) seen.add(r.a);
  return seen;
}

/**
 * One key's ops for the search. Failed ops did not happen and indeterminate reads change
 * nothing, so both go. So does an indeterminate write or cas whose value no op observes:
 * it may never have happened, and had it happened no op could tell, so the verdict is the
 * same without it (this keeps connection losses from multiplying the search).
 */
export function registerOps(ops: readonly Op[], values: ValueIds): RegisterOp[] {
  let out: RegisterOp[] = [];
  // Invocation order by time (lines of processes may interleave out of it): the memo's compact sets rely on it.
  const byInvoke = [...ops].sort((x, y) => (x.invokeNs < y.invokeNs ? -1 : x.invokeNs > y.invokeNs ? 1 : x.index - y.index));
  for (const op of byInvoke) {
    if (op.outcome === 'fail') continue;
    const open = op.outcome === 'info';
    if (op.f === 'read') {
      if (!open) out.push({ op, kind: READ, a: values.id(op.value), b: ILLEGAL, open });
    } else if (op.f === 'write') {
      out.push({ op, kind: WRITE, a: values.id(op.value), b: ILLEGAL, open });
    } else {
      const [expected, next] = op.value as [HistoryValue, HistoryValue];
      out.push({ op, kind: CAS, a: values.id(expected), b: values.id(next), open });
    }
  }
  // Dropping an open cas drops what it observed: repeat until nothing more goes.
  for (;;) {
    const seen = observedValues(out);
    const kept = out.filter((r) => !r.open || seen.has(writtenValue(r)));
    if (kept.length === out.length) return out;
    out = kept;
  }
}
