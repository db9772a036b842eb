/**
 * QuorumVerifier: majority of voters. Observers are members but never count toward a
 * quorum, in elections or on proposals.
 */
export type ServerId = number;

export class QuorumVerifier {
  readonly voters: ReadonlySet<ServerId>;
  readonly observers: ReadonlySet<ServerId>;

  constructor(voters: Iterable<ServerId>, observers: Iterable<ServerId> = []) {
    this.voters = new Set(voters);
    this.observers = new Set(observers);
    for (const o of this.observers) {
      if (this.voters.has(o)) throw new Error(`server ${o} cannot be both a voter and an observer`);
    }
    if (this.voters.size === 0) throw new Error('an ensemble needs at least one voter');
  }

  /** Voters needed for a quorum: more than half. */
  get quorumSize(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  isVoter(id: ServerId): boolean {
    return this.voters.has(id);
  }

  isObserver(id: ServerId): boolean {
    return this.observers.has(id);
  }

  isMember(id: ServerId): boolean {
    return this.voters.has(id) || this.observers.has(id);
  }

  /** Do these ids contain a quorum of voters? Non-voters in the set are ignored. */
  containsQuorum(ids: Iterable<ServerId>): boolean {
    let n = 0;
    for (const id of ids) if (this.voters.has(id)) n++;
    return n >= this.quorumSize;
  }

  members(): ServerId[] {
    return [...this.voters, ...this.observers].sort((a, b) => a - b);
  }
}
