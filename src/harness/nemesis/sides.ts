/**
 * The shapes a partition by mode cuts the network into, as Jepsen's nemeses name them, and what
 * a shape means for each pair of servers. A shape is a list of sides: servers on one side reach
 * each other; a server on two sides (the bridge) reaches both; two servers that share no side
 * cannot talk. Pure: the members, a seeded generator and the leader of the moment in, sides out.
 */
import type { PartitionMode } from '../scenario/types.js';

/** Each side lists server ids in ascending order; together they hold every member. */
export type Sides = number[][];

export interface SideMembers {
  voters: readonly number[];
  observers: readonly number[];
}

export interface Cut {
  sides: Sides;
  /** bridge: the voter on both sides. */
  bridge?: number;
}

/** Partitions by mode need a side that can hold a quorum and one that cannot: at least 3 voters. */
export const MIN_PARTITION_VOTERS = 3;

/** A copy of `items` in an order drawn from `random` (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const ascending = (ids: readonly number[]): number[] => [...ids].sort((a, b) => a - b);

/** The smallest number of voters that is a quorum: more than half. */
export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

function checkVoters(m: SideMembers, mode: PartitionMode): void {
  if (m.voters.length < MIN_PARTITION_VOTERS) {
    throw new RangeError(`${mode} needs at least ${MIN_PARTITION_VOTERS} voters (one side must hold a quorum, the other not), got ${m.voters.length}`);
  }
}

/**
 * random-halves: the voters in a random order, the first quorum of them on the majority side
 * and the rest on the minority side (so an even count gives 3|1, 4|2: never a tie); the
 * observers in a random order, half of them (rounded down) with the minority.
 */
export function randomHalves(m: SideMembers, random: () => number): Cut {
  checkVoters(m, 'random-halves');
  const voters = shuffled(m.voters, random);
  const observers = shuffled(m.observers, random);
  const majority = quorumSize(voters.length);
  const minorityObservers = Math.floor(observers.length / 2);
  return {
    sides: [
      ascending([...voters.slice(0, majority), ...observers.slice(minorityObservers)]),
      ascending([...voters.slice(majority), ...observers.slice(0, minorityObservers)]),
    ],
  };
}

/** isolate-leader: the leader alone on one side, every other member on the other. */
export function isolateLeader(m: SideMembers, leader: number): Cut {
  checkVoters(m, 'isolate-leader');
  if (!m.voters.includes(leader)) throw new RangeError(`isolate-leader: server ${leader} is not a voter of this ensemble`);
  return { sides: [[leader], ascending([...m.voters, ...m.observers].filter((id) => id !== leader))] };
}

/**
 * bridge (Jepsen's): the voters in a random order, split at half (rounded down); the first
 * voter of the second half is the bridge and stays on both sides. With 5 voters {a,b} – c –
 * {d,e}; with 3 {a} – b – {c}; with 7 {a,b,c} – d – {e,f,g}. Neither side holds a quorum
 * without the bridge. Observers go half (rounded down) to the first side, the rest to the second.
 */
export function bridge(m: SideMembers, random: () => number): Cut {
  checkVoters(m, 'bridge');
  const voters = shuffled(m.voters, random);
  const observers = shuffled(m.observers, random);
  const half = Math.floor(voters.length / 2);
  const middle = voters[half]!;
  const leftObservers = Math.floor(observers.length / 2);
  return {
    sides: [
      ascending([...voters.slice(0, half), middle, ...observers.slice(0, leftObservers)]),
      ascending([middle, ...voters.slice(half + 1), ...observers.slice(leftObservers)]),
    ],
    bridge: middle,
  };
}

/** The cut of a partition mode: random-halves and bridge draw from `random`, isolate-leader needs the leader. */
export function cutFor(mode: PartitionMode, m: SideMembers, random: () => number, leader: number | null): Cut {
  switch (mode) {
    case 'random-halves':
      return randomHalves(m, random);
    case 'bridge':
      return bridge(m, random);
    case 'isolate-leader':
      if (leader === null) throw new RangeError('isolate-leader: no server reports itself leader now');
      return isolateLeader(m, leader);
  }
}

/** True when a and b share a side (they can talk). */
export function sameSide(sides: Sides, a: number, b: number): boolean {
  return sides.some((s) => s.includes(a) && s.includes(b));
}

/**
 * Jepsen's grudge: for each member, the peers it must not hear from (those it shares no side
 * with). Symmetric: b is in a's grudge exactly when a is in b's.
 */
export function grudgeOf(ids: readonly number[], sides: Sides): Map<number, Set<number>> {
  return new Map(ids.map((a) => [a, new Set(ids.filter((b) => b !== a && !sameSide(sides, a, b)))]));
}

/** Throws when a side names a server that is not a member, or a member is on no side. */
export function checkSides(ids: readonly number[], sides: Sides): void {
  const members = new Set(ids);
  for (const side of sides) {
    for (const id of side) if (!members.has(id)) throw new RangeError(`the sides name server ${id}, which is not a member (ids: ${ids.join(', ')})`);
  }
  const placed = new Set(sides.flat());
  const missing = ids.filter((id) => !placed.has(id));
  if (missing.length > 0) throw new RangeError(`servers ${missing.join(', ')} are on no side: every member must be on a side (alone, if cut off)`);
}

/** True when some side holding `leader` holds a quorum of `voters`: it can keep leading. */
export function leaderKeepsQuorum(sides: Sides, voters: readonly number[], leader: number): boolean {
  const need = quorumSize(voters.length);
  return sides.some((s) => s.includes(leader) && s.filter((id) => voters.includes(id)).length >= need);
}

/** `{1,2,5} | {3,4}`: sides as messages and reports show them. */
export function sidesText(sides: Sides): string {
  return sides.map((s) => `{${s.join(',')}}`).join(' | ');
}
