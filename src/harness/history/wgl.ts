/**
 * Wing & Gong's linearizability search with Lowe's just-in-time linearization and
 * memoization of configurations, as Knossos's `wgl` and Porcupine do, for one register.
 *
 * The history becomes a doubly linked list of call and return entries in time order (a call
 * before a return at equal times: touching ops count as concurrent). The search walks the
 * list from its head: at a call it tries to take that op's linearization point now (the
 * register's step must allow it); at a return it has met an op that should already have
 * been linearized, so it backtracks. A linearized op's entries are lifted out of the list
 * and put back on backtracking (dancing links). A configuration (set of linearized ops,
 * register value) seen once is never explored again: that memo is what keeps the search
 * polynomial on ordinary histories, and also what costs memory, so it has a budget.
 *
 * Indeterminate (open) ops have a call and no return: nothing forces them in, and the search
 * succeeds once every ok op is linearized, whether or not the open ones took effect.
 *
 * One reduction of ours on top: a read that can take its point now does so without
 * branching (see keepsState below), which cuts the configurations of read-heavy histories.
 */
import { Memo, MemoAdd } from './memo.js';
import { CAS, NULL_VALUE, READ, step, type RegisterOp } from './register.js';
import type { BudgetReason } from './types.js';

export interface SearchBudget {
  /** Clock reading (ms) after which the search gives up. */
  deadlineMs: number;
  /** Bytes the memo of configurations may take (estimated). */
  memoBytesMax: number;
  /** A monotonic clock in ms. */
  clock: () => number;
}

export type SearchResult =
  | { linearizable: true; states: number }
  | { linearizable: false; states: number }
  | { linearizable: null; states: number; reason: BudgetReason };

const HEAD = 0;
const NIL = -1;
/** match[] of a return entry. */
const RETURN = -2;
/** Look at the clock once every this many steps (a power of two). */
const CLOCK_EVERY_STEPS = 4096;

/** Decides whether one register's ops are linearizable (or gives up within the budget). */
export function searchLinearization(ops: readonly RegisterOp[], budget: SearchBudget): SearchResult {
  const n = ops.length;
  let okLeft = 0;
  for (const r of ops) if (!r.open) okLeft++;
  if (okLeft === 0) return { linearizable: true, states: 0 };

  const list = buildEntries(ops);
  const { next, prev, match, entryOp } = list;
  const memo = new Memo(ops, budget.memoBytesMax);
  const stackEntry = new Int32Array(n);
  const stackState = new Int32Array(n);
  /** 1: the linearization point at this depth was forced (see keepsState), not a choice. */
  const forced = new Uint8Array(n);
  let depth = 0;
  let state = NULL_VALUE;
  let entry = next[HEAD]!;
  let steps = 0;

  const lift = (e: number): void => {
    unlink(next, prev, e);
    const m = match[e]!;
    if (m >= 0) unlink(next, prev, m);
  };
  const unlift = (e: number): void => {
    const m = match[e]!;
    if (m >= 0) relink(next, prev, m);
    relink(next, prev, e);
  };

  /** Takes back linearization points until one that was a choice; false when none is left. */
  const backtrack = (): boolean => {
    for (;;) {
      if (depth === 0) return false;
      depth--;
      const e = stackEntry[depth]!;
      const i = entryOp[e]!;
      state = stackState[depth]!;
      memo.unset(i);
      unlift(e);
      if (!ops[i]!.open) okLeft++;
      entry = next[e]!;
      if (!forced[depth]) return true;
    }
  };

  for (;;) {
    if (okLeft === 0) return { linearizable: true, states: memo.size };
    if ((++steps & (CLOCK_EVERY_STEPS - 1)) === 0 && budget.clock() > budget.deadlineMs) {
      return { linearizable: null, states: memo.size, reason: 'time' };
    }
    // An ok op not yet linearized still has its return in the list, so the walk meets it first.
    if (entry === NIL) throw new Error('wgl: walked past the last return with ok ops left');
    if (match[entry] === RETURN) {
      if (!backtrack()) return { linearizable: false, states: memo.size };
      continue;
    }
    const i = entryOp[entry]!;
    const r = ops[i]!;
    const after = step(state, r.kind, r.a, r.b);
    if (after < 0) {
      entry = next[entry]!;
      continue;
    }
    const added = memo.add(i, after);
    if (added === MemoAdd.Full) return { linearizable: null, states: memo.size, reason: 'memory' };
    // An op that can never change the register (a read, a cas from v to v) and can take its
    // point now may as well: any linearization from here can move it to the front, since
    // every op that must precede it is already linearized and it changes no op's view. So
    // not taking it now is no alternative to explore. (A write of the current value is no
    // such op: at its place in a linearization it may well change the register.)
    const keepsState = r.kind === READ || (r.kind === CAS && r.a === r.b);
    if (added === MemoAdd.Seen) {
      if (!keepsState) entry = next[entry]!;
      else if (!backtrack()) return { linearizable: false, states: memo.size };
      continue;
    }
    stackEntry[depth] = entry;
    stackState[depth] = state;
    forced[depth] = keepsState ? 1 : 0;
    depth++;
    state = after;
    lift(entry);
    if (!r.open) okLeft--;
    entry = next[HEAD]!;
  }
}

interface Entries {
  next: Int32Array;
  prev: Int32Array;
  /** A call's return entry (NIL for an open op); RETURN for a return entry. */
  match: Int32Array;
  entryOp: Int32Array;
}

/** The list of calls and returns in time order; entry 0 is the head. */
function buildEntries(ops: readonly RegisterOp[]): Entries {
  const events: { op: number; isReturn: boolean; timeNs: bigint }[] = [];
  ops.forEach((r, op) => {
    events.push({ op, isReturn: false, timeNs: r.op.invokeNs });
    if (!r.open && r.op.completeNs !== null) events.push({ op, isReturn: true, timeNs: r.op.completeNs });
  });
  events.sort((x, y) => (x.timeNs < y.timeNs ? -1 : x.timeNs > y.timeNs ? 1 : Number(x.isReturn) - Number(y.isReturn)));
  const size = events.length + 1;
  const next = new Int32Array(size);
  const prev = new Int32Array(size);
  const match = new Int32Array(size).fill(NIL);
  const entryOp = new Int32Array(size).fill(NIL);
  const callOf = new Int32Array(ops.length).fill(NIL);
  events.forEach((ev, k) => {
    const e = k + 1;
    prev[e] = e - 1;
    next[e] = e + 1 < size ? e + 1 : NIL;
    entryOp[e] = ev.op;
    if (ev.isReturn) {
      match[e] = RETURN;
      match[callOf[ev.op]!] = e;
    } else {
      callOf[ev.op] = e;
    }
  });
  prev[HEAD] = NIL;
  next[HEAD] = size > 1 ? 1 : NIL;
  return { next, prev, match, entryOp };
}

function unlink(next: Int32Array, prev: Int32Array, e: number): void {
  const p = prev[e]!;
  const q = next[e]!;
  next[p] = q;
  if (q !== NIL) prev[q] = p;
}

/** Puts e back where it was; entries must come back in the reverse order they left. */
function relink(next: Int32Array, prev: Int32Array, e: number): void {
  const p = prev[e]!;
  const q = next[e]!;
  next[p] = e;
  if (q !== NIL) prev[q] = e;
}
