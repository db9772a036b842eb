/** harness/nemesis: the shapes partitions by mode cut the network into, and the seeds of the faults' random choices. */
export { bridge, checkSides, cutFor, grudgeOf, isolateLeader, leaderKeepsQuorum, MIN_PARTITION_VOTERS, quorumSize, randomHalves, sameSide, shuffled, sidesText } from './sides.js';
export type { Cut, SideMembers, Sides } from './sides.js';
export { drawSeed, firingRandom } from './seed.js';
