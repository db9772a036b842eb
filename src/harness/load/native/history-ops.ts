/**
 * Sending the history workload's ops (register.ts) over a ZkClient, and the znodes they use:
 * under the history root, the keys (`k000000`, ... as the usual load names them), the set's
 * parent `set` and the counter `counter`.
 */
import { ZkError, type ZkClient } from '../../../client/index.js';
import type { OpKind } from '../../scenario/types.js';
import { keyPath } from '../ops.js';
import { outcomeOf, registerValue, type HistoryOp, type OpResult } from './register.js';

/** A counter increment tries its getData / setData-at-version loop this often before it gives up (fail). */
export const INCREMENT_ATTEMPTS_MAX = 20;

export function setParentPath(root: string): string {
  return `${root}/set`;
}

export function counterPath(root: string): string {
  return `${root}/counter`;
}

/** What the load's recorder counts an op as (latency and errors per op kind). */
export function recordedKind(op: HistoryOp): OpKind {
  switch (op.f) {
    case 'read':
      return 'getData';
    case 'write':
    case 'cas':
    case 'increment':
      return 'setData';
    case 'add':
      return 'create';
  }
}

/** Versioned setData outcomes of counter increments: each ok is an acknowledged +1, each info may have been. */
export interface CounterTally {
  ok: number;
  info: number;
  fail: number;
}

function failed(err: unknown): OpResult {
  return { outcome: outcomeOf(err), code: codeOf(err) };
}

function codeOf(err: unknown): string {
  if (err instanceof ZkError) return err.codeName;
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'CLIENT_ERROR';
}

/** Sends op under `root`; never rejects: an error becomes its outcome. */
export async function sendHistoryOp(c: ZkClient, op: HistoryOp, root: string, tally: CounterTally): Promise<OpResult> {
  try {
    switch (op.f) {
      case 'read':
        return await read(c, keyPath(root, op.key));
      case 'write': {
        const stat = await c.setData(keyPath(root, op.key), Buffer.from(op.value), -1);
        return { outcome: 'ok', code: null, version: stat.version };
      }
      case 'cas': {
        const stat = await c.setData(keyPath(root, op.key), Buffer.from(op.value), op.version);
        return { outcome: 'ok', code: null, version: stat.version };
      }
      case 'add':
        await c.create(`${setParentPath(root)}/${op.element}`, null);
        return { outcome: 'ok', code: null };
      case 'increment':
        return await increment(c, counterPath(root), tally);
    }
  } catch (err) {
    return failed(err);
  }
}

/** sync, then getData. A key that is missing reads as null (the keys are never deleted: a lost one is an anomaly the checker should see). */
async function read(c: ZkClient, path: string): Promise<OpResult> {
  await c.sync(path);
  try {
    const { data, stat } = await c.getData(path);
    return { outcome: 'ok', code: null, value: registerValue(data), version: stat.version };
  } catch (err) {
    if (err instanceof ZkError && err.codeName === 'NONODE') return { outcome: 'ok', code: null, value: null };
    throw err;
  }
}

/** +1 by read-modify-write: getData, then setData at the version read; BADVERSION (someone else's +1 came first) tries again. */
async function increment(c: ZkClient, path: string, tally: CounterTally): Promise<OpResult> {
  for (let attempt = 0; attempt < INCREMENT_ATTEMPTS_MAX; attempt++) {
    let read;
    try {
      read = await c.getData(path);
    } catch (err) {
      // Nothing was written yet: this increment did not happen.
      return { outcome: 'fail', code: codeOf(err) };
    }
    const current = Number(registerValue(read.data) ?? '0');
    if (!Number.isSafeInteger(current)) return { outcome: 'fail', code: 'COUNTER_NOT_AN_INTEGER' };
    try {
      await c.setData(path, Buffer.from(String(current + 1)), read.stat.version);
      tally.ok++;
      return { outcome: 'ok', code: null };
    } catch (err) {
      const r = failed(err);
      if (r.outcome === 'info') {
        tally.info++;
        return r;
      }
      tally.fail++;
      if (!(err instanceof ZkError && err.codeName === 'BADVERSION')) return r;
    }
  }
  return { outcome: 'fail', code: 'BADVERSION' };
}
