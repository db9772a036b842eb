/**
 * Seeded simulation runs for CI: each block runs consecutive seeds of one cluster size and
 * fails with the command that replays the first failing seed.
 */
import { expect } from 'vitest';
import { formatFailure, runSeed } from '../../src/sim/index.js';

/** Seeds per (voters, observers) pair: 5 voter counts × 4 observer counts × 80 = 1,600 runs. */
export const SEEDS_PER_SIZE = 80;
/** Ticks of the fault phase in CI runs (the soak runs longer). */
export const CI_STEPS = 250;
/** A seed block's budget: generous, for a loaded CI machine. */
export const BLOCK_TIMEOUT_MS = 240_000;

export function firstSeed(voters: number, observers: number): number {
  return 1_000_000 + voters * 10_000 + observers * 1_000;
}

/** Run the block; returns how many seeds ran (all of them, or the test fails). */
export async function runSeedBlock(voters: number, observers: number, count = SEEDS_PER_SIZE): Promise<number> {
  const start = firstSeed(voters, observers);
  for (let seed = start; seed < start + count; seed++) {
    const r = await runSeed(seed, { voters, observers, steps: CI_STEPS });
    if (!r.ok) expect.fail(formatFailure(r));
  }
  return count;
}
