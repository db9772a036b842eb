/**
 * Jepsen's "set" check: clients add distinct elements (e.g. create znodes under one parent),
 * then one final read lists what is there. Every acknowledged add must be present.
 *
 *   lost           acknowledged (ok) and missing: the anomaly the check exists for
 *   invented       present but never attempted
 *   failedPresent  present although its add failed (fail means known not to have happened)
 *   duplicated     listed more than once by the final read
 *   recovered      present after an indeterminate (info) add: fine, it happened
 *
 * An element added several times counts by its best outcome (ok over info over fail).
 */
import { HistoryError } from './errors.js';
import type { HistoryValue, Outcome } from './types.js';

export interface SetAdd {
  element: HistoryValue;
  outcome: Outcome;
}

export interface SetHistory {
  adds: SetAdd[];
  /** What the final read returned, after the adds stopped (and faults healed). */
  finalRead: HistoryValue[];
}

export interface SetVerdict {
  valid: boolean;
  attempted: number;
  acknowledged: number;
  present: number;
  lost: HistoryValue[];
  invented: HistoryValue[];
  failedPresent: HistoryValue[];
  duplicated: HistoryValue[];
  recovered: HistoryValue[];
}

const RANK: Record<Outcome, number> = { fail: 0, info: 1, ok: 2 };

export function checkSet(history: SetHistory): SetVerdict {
  if (!Array.isArray(history.adds) || !Array.isArray(history.finalRead)) {
    throw new HistoryError('ZABLAB_HISTORY_INPUT', 'a set history needs adds (an array of {element, outcome}) and finalRead (an array)');
  }
  const attempts = new Map<string, SetAdd>();
  history.adds.forEach((add, i) => {
    if (!(add.outcome in RANK)) throw new HistoryError('ZABLAB_HISTORY_INPUT', `adds[${i}].outcome must be ok, fail or info, got ${JSON.stringify(add.outcome)}`);
    const id = JSON.stringify(add.element ?? null);
    const before = attempts.get(id);
    if (before === undefined || RANK[add.outcome] > RANK[before.outcome]) attempts.set(id, add);
  });
  const present = new Map<string, HistoryValue>();
  const duplicated: HistoryValue[] = [];
  for (const element of history.finalRead) {
    const id = JSON.stringify(element ?? null);
    if (present.has(id)) duplicated.push(element);
    else present.set(id, element);
  }

  const lost: HistoryValue[] = [];
  const recovered: HistoryValue[] = [];
  const failedPresent: HistoryValue[] = [];
  let acknowledged = 0;
  for (const [id, add] of attempts) {
    const there = present.has(id);
    if (add.outcome === 'ok') {
      acknowledged++;
      if (!there) lost.push(add.element);
    } else if (there) {
      (add.outcome === 'info' ? recovered : failedPresent).push(add.element);
    }
  }
  const invented = [...present].filter(([id]) => !attempts.has(id)).map(([, element]) => element);
  return {
    valid: lost.length === 0 && invented.length === 0 && failedPresent.length === 0 && duplicated.length === 0,
    attempted: attempts.size,
    acknowledged,
    present: present.size,
    lost,
    invented,
    failedPresent,
    duplicated,
    recovered,
  };
}
