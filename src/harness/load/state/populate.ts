/**
 * workload.populate: creates N znodes of valueSize bytes under /zablab-populate with multi
 * batches of creates, several batches in flight over a few sessions, so that a million znodes
 * take seconds, not the minutes one create at a time would. A batch that finds one of its
 * znodes already there (an ensemble that ran before) is created one by one instead, skipping
 * the ones that exist. Any other error ends the populate: a run on half its state would mislead.
 */
import { performance } from 'node:perf_hooks';
import { ZkError, ZkMultiError, type MultiOp, type ZkClient } from '../../../client/index.js';
import type { PopulateResult } from '../../report/results-state.js';
import { windowed } from './windowed.js';
import { bucketPath, bucketsFor, opsPerMulti, POPULATE_ROOT, populatePath } from './paths.js';

/** Multis in flight per session: enough to keep the leader's pipeline busy, few enough to stay under globalOutstandingLimit. */
const MULTIS_IN_FLIGHT_PER_SESSION = 2;
/** Bucket parents created at once. */
const PARENTS_WINDOW = 64;

function isNodeExists(err: unknown): boolean {
  return err instanceof ZkError && err.codeName === 'NODEEXISTS';
}

/** Creates path; false when it was there already. */
async function createIfAbsent(client: ZkClient, path: string, data: Buffer | null): Promise<boolean> {
  try {
    await client.create(path, data);
    return true;
  } catch (err) {
    if (isNodeExists(err)) return false;
    throw err;
  }
}

export async function populate(clients: readonly ZkClient[], znodes: number, valueSize: number): Promise<PopulateResult> {
  if (clients.length === 0) throw new Error('populate needs at least one session');
  const started = performance.now();
  const value = Buffer.alloc(valueSize, 0x70);
  const first = clients[0]!;
  await createIfAbsent(first, POPULATE_ROOT, null);
  await windowed(bucketsFor(znodes), PARENTS_WINDOW, async (b, l) => void (await createIfAbsent(clients[l % clients.length]!, bucketPath(b), null)));
  const perMulti = opsPerMulti(valueSize, znodes);
  const batches = Math.ceil(znodes / perMulti);
  let created = 0;
  let existing = 0;
  const batch = async (k: number, lane: number): Promise<void> => {
    const client = clients[lane % clients.length]!;
    const from = k * perMulti;
    const to = Math.min(znodes, from + perMulti);
    const ops: MultiOp[] = [];
    for (let i = from; i < to; i++) ops.push({ op: 'create', path: populatePath(i), data: value });
    try {
      await client.multi(ops);
      created += ops.length;
    } catch (err) {
      if (!(err instanceof ZkMultiError && isNodeExists(err))) throw err;
      for (const op of ops) {
        if (await createIfAbsent(client, op.path, value)) created++;
        else existing++;
      }
    }
  };
  await windowed(batches, clients.length * MULTIS_IN_FLIGHT_PER_SESSION, batch);
  const durationMs = performance.now() - started;
  return {
    znodes,
    created,
    existing,
    root: POPULATE_ROOT,
    opsPerMulti: perMulti,
    multis: batches,
    durationMs: Math.round(durationMs),
    createsPerSec: durationMs > 0 ? Math.round((created / durationMs) * 1_000) : 0,
  };
}
