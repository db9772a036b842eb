/**
 * Votes of Fast Leader Election. A vote proposes (leader, zxid, peerEpoch) in an election
 * epoch; votes are ordered by peer epoch, then zxid, then server id (totalOrderPredicate).
 */
import type { PeerState } from './messages.js';
import type { ServerId } from './quorum.js';
import type { Zxid } from './zxid.js';

export interface Vote {
  leader: ServerId;
  zxid: Zxid;
  electionEpoch: bigint;
  peerEpoch: bigint;
  state: PeerState;
}

/** Is the new vote (newId, newZxid, newEpoch) better than the current one? */
export function totalOrderPredicate(
  newId: ServerId,
  newZxid: Zxid,
  newEpoch: bigint,
  curId: ServerId,
  curZxid: Zxid,
  curEpoch: bigint,
): boolean {
  if (newEpoch !== curEpoch) return newEpoch > curEpoch;
  if (newZxid !== curZxid) return newZxid > curZxid;
  return newId > curId;
}

/**
 * Vote.equals: while either side is LOOKING every field must match; between settled peers
 * only the leader and its epoch matter.
 */
export function sameVote(a: Vote, b: Vote): boolean {
  if (a.state === 'LOOKING' || b.state === 'LOOKING') {
    return a.leader === b.leader && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch && a.peerEpoch === b.peerEpoch;
  }
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}

/** Ids whose vote equals `v`. */
export function supporters(votes: ReadonlyMap<ServerId, Vote>, v: Vote): ServerId[] {
  const out: ServerId[] = [];
  for (const [id, vote] of votes) if (sameVote(vote, v)) out.push(id);
  return out;
}
