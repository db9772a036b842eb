/**
 * Partitions under docker compose, made of networks: Docker cannot drop traffic between two
 * containers of one network without privileges in them, but containers on different networks
 * cannot reach each other at all (the peers network is internal, and a peer's name resolves
 * only on networks both are on). So every side of two or more members becomes one network of
 * its own, the first of them the project's `peers`; a member on two sides (a bridge) is on two
 * networks; a member alone on its side, or partitioned by itself, is on none. This makes every
 * shape a partition by mode cuts (sides that are cliques) a real network partition.
 */
import type { Sides } from '../nemesis/sides.js';

/** Network k of the plan: 0 is the project's `peers`, k > 0 an extra network the driver makes. */
export type PeerNetworkIndex = number;

/**
 * The peer networks each member must be on: sides of two or more members get networks 0, 1, ...
 * in their order; without sides every member is on `peers` (0); a partitioned member on none.
 */
export function peerNetworksFor(ids: readonly number[], partitioned: ReadonlySet<number>, sides: Sides | null): Map<number, Set<PeerNetworkIndex>> {
  const plan = new Map<number, Set<PeerNetworkIndex>>(ids.map((id) => [id, new Set<PeerNetworkIndex>()]));
  const groups = sides === null ? [ids] : sides.filter((s) => s.length >= 2);
  groups.forEach((group, k) => {
    for (const id of group) plan.get(id)?.add(k);
  });
  for (const id of partitioned) plan.get(id)?.clear();
  return plan;
}

/** How many peer networks a plan uses (the highest index + 1). */
export function networksNeeded(plan: ReadonlyMap<number, ReadonlySet<PeerNetworkIndex>>): number {
  let n = 0;
  for (const nets of plan.values()) for (const k of nets) n = Math.max(n, k + 1);
  return n;
}

/**
 * Links that a move between networks left stale: a container that leaves a network loses its
 * address there, and a connection made over that address can never carry a packet again (a
 * new address on the same network does not revive it). For each member, the peers it can talk
 * to now but shares no network with that it stayed on all along: those connections must be
 * made anew. A member's address on a network it never left still works, as TCP resumes there.
 */
export function staleLinks(before: ReadonlyMap<number, ReadonlySet<PeerNetworkIndex>>, after: ReadonlyMap<number, ReadonlySet<PeerNetworkIndex>>): Map<number, Set<number>> {
  const stale = new Map<number, Set<number>>();
  const ids = [...after.keys()];
  const shares = (a: ReadonlySet<PeerNetworkIndex>, b: ReadonlySet<PeerNetworkIndex>): PeerNetworkIndex[] => [...a].filter((k) => b.has(k));
  for (const a of ids) {
    for (const b of ids) {
      if (a === b) continue;
      const now = shares(after.get(a)!, after.get(b)!);
      if (now.length === 0) continue;
      const kept = now.filter((k) => before.get(a)?.has(k) === true && before.get(b)?.has(k) === true);
      if (kept.length > 0) continue;
      if (!stale.has(a)) stale.set(a, new Set());
      stale.get(a)!.add(b);
    }
  }
  return stale;
}
