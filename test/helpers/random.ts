/** A seeded PRNG returning [0, 1): a failing case replays from its seed (the load's mulberry32). */
export { mulberry32 as seededRandom } from '../../src/harness/load/ops.js';
