/**
 * What a quorum server adds to ServerView, read from the ZAB core: the ZAB phase (mntr's
 * zk_peer_state, zabstate), the quorum size, the master of an observer, and a leader's view
 * of its learners. The view built by server-view.ts leaves these out; a view that has them
 * keeps its own.
 */
import type { Peer } from '../../zab/index.js';
import type { LeaderStatsView, ServerView, ZabPhase } from '../four-letter.js';
import type { FaultController } from '../quorum/faults.js';

/** The quorum parts of a running server (QuorumServer's `peer` and `faults`). */
export interface QuorumDeps {
  readonly peer: Peer;
  readonly faults: FaultController;
}

/**
 * ZooKeeper's ZabState of a peer. The core does not expose its sub-phase, so a peer that
 * has chosen a leader but is not yet in broadcast is in discovery until it accepts the new
 * epoch (acceptedEpoch > currentEpoch), then in synchronization until NEWLEADER sets
 * currentEpoch. A learner rejoining the epoch it already accepted shows as discovery
 * throughout its sync.
 */
export function zabPhase(peer: Peer): ZabPhase {
  if (peer.state === 'LOOKING') return 'election';
  if (peer.serving) return 'broadcast';
  const { accepted, current } = peer.epochs;
  return accepted > current ? 'synchronization' : 'discovery';
}

/** When this server started leading (ZooKeeper's leader_uptime counts from there). Sampled, so ±one sample period. */
export class LeaderClock {
  private leadingSinceMs: number | null = null;

  constructor(
    private readonly peer: Peer,
    private readonly now: () => number = Date.now,
  ) {}

  sample(): void {
    if (this.peer.state !== 'LEADING') this.leadingSinceMs = null;
    else this.leadingSinceMs ??= this.now();
  }

  uptimeMs(): number {
    this.sample();
    return this.leadingSinceMs === null ? 0 : this.now() - this.leadingSinceMs;
  }
}

function leaderStats(peer: Peer, clock: LeaderClock): LeaderStatsView | undefined {
  if (peer.state !== 'LEADING') return undefined;
  const learners = peer.learnerStages();
  return {
    learners: learners.length,
    syncedFollowers: learners.filter((l) => l.synced && !l.observer).length,
    syncedNonVotingFollowers: 0,
    syncedObservers: learners.filter((l) => l.synced && l.observer).length,
    pendingSyncs: 0,
    leaderUptimeMs: clock.uptimeMs(),
    lastProposalSize: -1,
    minProposalSize: -1,
    maxProposalSize: -1,
  };
}

/** `view` with the quorum answers it lacks filled in from `peer`. */
export function withQuorum(view: ServerView, peer: Peer, clock: LeaderClock): ServerView {
  // Inherit from `view` (an object literal or a class instance alike) and add what it lacks.
  const extra: Partial<ServerView> = {
    zabState: view.zabState ?? (() => ({ phase: zabPhase(peer), syncMode: 'none' })),
    quorumSize: view.quorumSize ?? (() => peer.quorum.quorumSize),
    observerMasterId: view.observerMasterId ?? (() => (peer.state === 'OBSERVING' ? (peer.leaderId ?? undefined) : undefined)),
    leaderStats: view.leaderStats ?? (() => leaderStats(peer, clock)),
  };
  return Object.assign(Object.create(view) as ServerView, extra);
}
