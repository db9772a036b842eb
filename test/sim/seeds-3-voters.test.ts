/** 3 voters with 0–3 observers: seeded runs with crashes, partitions, delays and storage faults, then liveness. */
import { describe, expect, it } from 'vitest';
import { BLOCK_TIMEOUT_MS, SEEDS_PER_SIZE, runSeedBlock } from './seeds.js';

describe('seeded simulation, 3 voters', () => {
  it.each([0, 1, 2, 3])(`${SEEDS_PER_SIZE} seeds with %i observers hold every invariant and converge`, async (observers) => {
    expect(await runSeedBlock(3, observers)).toBe(SEEDS_PER_SIZE);
  }, BLOCK_TIMEOUT_MS);
});
