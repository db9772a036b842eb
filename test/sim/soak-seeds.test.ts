/**
 * Seeds the long soaks (bench/sim-soak.ts) found failing, each fixed since: replayed in CI so
 * that none comes back. Each names what it found.
 */
import { describe, expect, it } from 'vitest';
import { formatFailure, runSeed } from '../../src/sim/index.js';

const FOUND: [seed: number, voters: number, observers: number, what: string][] = [
  [2000848, 3, 2, 'a damaged snapshot installed by SNAP was judged harmless though the log did not reach past it'],
  [2009777, 5, 0, 'an acceptedEpoch below currentEpoch (damage) was trusted'],
  [2014210, 4, 3, "the quorum check ran after a voter's copy was damaged at rest (a checker false positive)"],
  [2017969, 3, 3, 'a removed empty newest log file no longer bounded the damage in the file before it'],
  [2023480, 6, 3, 'the leader dropped a syncing learner after initLimit of silence (ZooKeeper allows initLimit + syncLimit): learners churned past the liveness bound'],
  [2030358, 4, 2, 'a recovering voter was elected leader through a stale vote, and the others would not follow it'],
  [2047385, 3, 0, "a TRUNC to a new epoch's <e,0> linked the next log file to that zxid: the next start saw a gap and called the log damaged"],
  [1050009, 5, 2, 'an earlier try at faster elections (votes sent before their persistence was acknowledged) lost an acknowledged write'],
  [1050009, 7, 3, 'the same seed with a larger ensemble'],
  [3011480, 3, 0, "a learner that rejoined the same leader sent its earlier session's ACKEPOCH (for an older epoch) and the leader counted it as a promise for the new one"],
  [2074788, 6, 3, 'follower PINGREPLYs waited behind ACKs on a slow fsync: the leader dropped live followers past syncLimit and lost its quorum, again and again'],
  [3347985, 7, 3, 'a snapshot asked for while one was written followed it while a TRUNC was cutting the log: rolling the log then stopped the server (ZABLAB_STORAGE_BUSY)'],
];

describe('seeds the soaks found', () => {
  it.each(FOUND)('seed %i (%i voters, %i observers): %s', async (seed, voters, observers) => {
    const r = await runSeed(seed, { voters, observers, steps: 300 });
    if (!r.ok) expect.fail(formatFailure(r));
  }, 60_000);
});
