/**
 * A ZAB peer as a pure state machine (etcd raft's RawNode shape, ZooKeeper's ZAB 1.0
 * behaviour). No I/O, no clock, no randomness: inputs are step(), tick(), disconnected(),
 * peerDown()/peerUp(), propose(); outputs are taken with takeMessages() and ready()/advance().
 *
 * The Ready contract (the host must follow it exactly):
 *  1. `ready.persist` ops are performed in order and made durable (fsync) before
 *     advance(ready) is called.
 *  2. `ready.apply` txns are committed; apply them to the state machine in order. They may
 *     be applied before this Ready's persist ops complete, except when `persist` holds a
 *     truncate or installSnapshot: then after (the snapshot is the state they apply to).
 *  3. takeMessages() may be called at any time; it returns only messages whose
 *     persistence requirements are already met (acknowledged by advance), in FIFO order,
 *     except that a PINGREPLY (which claims nothing about our log) overtakes messages still
 *     waiting on persistence. Every message is sent in the order returned.
 *  4. Only one Ready is outstanding at a time: call advance(rd) before the next ready().
 */
import { History } from './history.js';
import type { Envelope, Message, Notification, PeerState, QuorumMessage, SnapshotBytes, Txn } from './messages.js';
import { QuorumVerifier, type ServerId } from './quorum.js';
import { sameVote, totalOrderPredicate, supporters, type Vote } from './vote.js';
import { COUNTER_MAX, counterOf, epochOf, makeZxid, zxidHex, type Zxid } from './zxid.js';

export interface PeerTicks {
  /** FLE: how long to wait for a better vote once a vote has a quorum (ZooKeeper: 200 ms). */
  finalizeWait: number;
  /** FLE: first resend interval of notifications; doubles up to notificationMax. */
  notificationMin: number;
  notificationMax: number;
  /** Leader → learner ping interval (ZooKeeper: every tick). */
  ping: number;
  /** syncLimit × tickTime: a learner silent this long is dropped; a leader without a synced quorum steps down. */
  syncLimit: number;
  /** initLimit × tickTime: bound on discovery + synchronization. */
  initLimit: number;
}

export interface PeerConfig {
  id: ServerId;
  quorum: QuorumVerifier;
  ticks: PeerTicks;
  /** Applied txns kept in memory so that lagging learners get a DIFF instead of a SNAP. */
  committedLogMax: number;
  /**
   * A learner behind the txns in memory: ask the host for the txns from its log
   * (takeLogReads → logRead) and DIFF when it has them, before falling back to a SNAP
   * (ZooKeeper's txnlog sync). Off: such a learner gets a SNAP.
   */
  diffFromLog?: boolean;
}

/**
 * Leader: the txns in (after, upTo] wanted from the host's log for `learner`'s DIFF. The
 * host answers with logRead(token, ...) once, whatever happens; until then the txns in
 * memory are not trimmed, so that they go on from upTo.
 */
export interface LogRead {
  token: number;
  learner: ServerId;
  after: Zxid;
  upTo: Zxid;
}

/** What a server restores from disk before it starts its peer. */
export interface PeerDisk {
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  /** zxid of the state the host has applied (its snapshot). */
  appliedZxid: Zxid;
  /** Logged txns after appliedZxid (not applied: they are applied once known committed). */
  log: Txn[];
  /**
   * The server found damage to history it may have acknowledged and kept only the valid
   * prefix: until it has synced the leader's history (NEWLEADER) it must not vote, lead, or
   * count toward any quorum — its shortened log could elect a leader missing committed txns.
   */
  recovering?: boolean;
}

export type PersistOp =
  | { kind: 'append'; txns: Txn[] }
  | { kind: 'truncate'; zxid: Zxid }
  | { kind: 'installSnapshot'; zxid: Zxid; snapshot: SnapshotBytes }
  | { kind: 'acceptedEpoch'; epoch: bigint }
  | { kind: 'currentEpoch'; epoch: bigint }
  /** The recovering server now holds the leader's history durably: it may vote again. */
  | { kind: 'recovered' };

export type SyncMode = 'DIFF' | 'TRUNC' | 'SNAP';

export type PeerEvent =
  | { kind: 'looking'; electionEpoch: bigint; reason: string }
  | { kind: 'elected'; leader: ServerId; electionEpoch: bigint; state: PeerState; votesReceived: number; ticks: number }
  | { kind: 'discovered'; epoch: bigint; leader: ServerId }
  | { kind: 'synced'; epoch: bigint; leader: ServerId; mode: SyncMode | null }
  /** In broadcast: the server may serve clients. */
  | { kind: 'serving'; epoch: bigint; leader: ServerId; state: PeerState }
  /** `fromLog`: a DIFF that reached past the txns in memory into the txn log. */
  | { kind: 'learnerSynced'; learner: ServerId; mode: SyncMode; txns: number; observer: boolean; fromLog: boolean }
  | { kind: 'learnerLost'; learner: ServerId; reason: string }
  | { kind: 'app'; from: ServerId; payload: Uint8Array }
  | { kind: 'committed'; zxid: Zxid; acks: ServerId[] }
  /**
   * No leader can be elected: the voters known to be recovering from storage damage leave
   * fewer than a quorum of the others (damage on a majority). Emitted when that set changes.
   */
  | { kind: 'stalled'; recovering: ServerId[] };

export interface Ready {
  persist: PersistOp[];
  apply: Txn[];
  events: PeerEvent[];
  /** Internal: the persist sequence this Ready covers. */
  readonly seq: number;
}

interface QueuedMessage {
  env: Envelope;
  /** Released once persistence up to this sequence is acknowledged. */
  afterSeq: number;
  /** Released once the host has applied up to this zxid (a SNAP carries the applied state). */
  afterApplied?: Zxid;
  /**
   * May leave before messages queued ahead of it that wait on persistence: a learner's
   * PINGREPLY, so that a slow fsync does not make the leader drop a live learner (ZooKeeper's
   * Follower answers pings off the sync path too). The leader reads nothing from it.
   */
  overtakes?: true;
}

// ---------- role state ----------

interface ElectionState {
  logicalClock: bigint;
  proposal: Vote;
  recv: Map<ServerId, Vote>;
  outOfElection: Map<ServerId, Vote>;
  /** Tick at which a quorum-backed proposal becomes final; null when not finalizing. */
  finalizeAt: number | null;
  notifyAt: number;
  notifyInterval: number;
  startedTick: number;
  votesReceived: number;
  /** Voters told our proposal because they sent a worse one (once per proposal, so two views never ping-pong). */
  answered: Set<ServerId>;
}

type LearnerStage = 'info' | 'epochSent' | 'epochAcked' | 'readingLog' | 'syncing' | 'newleaderAcked' | 'uptodate';

interface LearnerHandler {
  id: ServerId;
  observer: boolean;
  /** It said so in FOLLOWERINFO: it does not count toward the epoch quorums. */
  recovering: boolean;
  stage: LearnerStage;
  acceptedEpoch: bigint;
  lastZxid: Zxid;
  currentEpoch: bigint;
  lastHeardTick: number;
  /** Receives new proposals / informs (set when its sync starts, so nothing is missed). */
  forwarding: boolean;
  syncMode: SyncMode | null;
  syncTxns: number;
  /** The log read its sync waits for (stage readingLog), or whose answer it had. */
  logToken?: number;
  /** Its DIFF holds txns read from the log. */
  fromLog?: boolean;
}

interface Outstanding {
  zxid: Zxid;
  acks: Set<ServerId>;
}

interface LeaderState {
  role: 'leader';
  phase: 'discovery' | 'epochAck' | 'sync' | 'broadcast';
  newEpoch: bigint;
  phaseDeadline: number;
  learners: Map<ServerId, LearnerHandler>;
  connecting: Set<ServerId>;
  electing: Set<ServerId>;
  newLeaderAcks: Set<ServerId>;
  outstanding: Outstanding[];
  lastProposed: Zxid;
  nextPingTick: number;
  /** App payloads held until everything proposed before them is committed (SYNC replies). */
  afterCommit: { barrier: Zxid; to: ServerId; payload: Uint8Array }[];
  /** Log reads asked of the host and not yet answered, by token. */
  logReads: Map<number, LogRead>;
}

interface LearnerState {
  role: 'learner';
  leader: ServerId;
  observer: boolean;
  stage: 'connecting' | 'epoch' | 'syncing' | 'newleaderAcked' | 'uptodate';
  newEpoch: bigint;
  lastHeardTick: number;
  syncMode: SyncMode | null;
  /** New-epoch proposals logged during sync, acked after NEWLEADER. */
  unacked: Zxid[];
  committedUpTo: Zxid;
  /** While connecting: when to resend FOLLOWERINFO. */
  nextInfoTick: number;
}

interface LookingState {
  role: 'looking';
  election: ElectionState;
}

type RoleState = LookingState | LeaderState | LearnerState;

/** A protocol violation by a peer: we leave the role (like ZooKeeper's IOException paths). */
class ProtocolError extends Error {}
/** A learner broke the protocol: the leader drops that learner only. */
class LearnerError extends Error {}

export class Peer {
  readonly id: ServerId;
  readonly quorum: QuorumVerifier;
  private readonly ticks: PeerTicks;
  private readonly committedLogMax: number;
  private readonly diffFromLog: boolean;
  private now = 0;

  private acceptedEpoch: bigint;
  private currentEpoch: bigint;
  /** See PeerDisk.recovering. */
  private recovering: boolean;
  /** Voters whose last notification said they are recovering (for the 'stalled' event). */
  private readonly recoveringVoters = new Set<ServerId>();
  /**
   * Members the transport knows are not running (their connection was reset or refused),
   * until they are heard from or reconnect. An election waits finalizeWait for nobody here.
   */
  private readonly downPeers = new Set<ServerId>();
  private stalledReported = '';
  readonly history: History;
  private lastApplied: Zxid;
  /** Highest zxid whose append the host has made durable. */
  private persistedZxid: Zxid;
  /** Highest zxid the host has applied (from advanced Readies). */
  private hostApplied: Zxid;
  /**
   * While a SNAP waits to leave, applying is held at its zxid so that the host's state is
   * exactly the snapshot's when the message is taken; later commits are applied after.
   */
  private snapsPending = 0;
  private deferredApplyTo: Zxid | null = null;

  private role!: RoleState;
  private currentVote: Vote;

  private persistQ: PersistOp[] = [];
  private persistSeq = 0;
  private ackedSeq = 0;
  private readyOutstanding: Ready | null = null;
  private lastAppendSeq: { seq: number; zxid: Zxid }[] = [];
  private applyQ: Txn[] = [];
  private eventQ: PeerEvent[] = [];
  private msgQ: QueuedMessage[] = [];
  private logReadQ: LogRead[] = [];
  private nextLogToken = 1;

  constructor(cfg: PeerConfig, disk: PeerDisk) {
    this.id = cfg.id;
    this.quorum = cfg.quorum;
    this.ticks = cfg.ticks;
    this.committedLogMax = cfg.committedLogMax;
    this.diffFromLog = cfg.diffFromLog ?? false;
    if (!this.quorum.isMember(this.id)) throw new Error(`server ${this.id} is not in the ensemble`);
    this.acceptedEpoch = disk.acceptedEpoch;
    this.currentEpoch = disk.currentEpoch;
    this.recovering = disk.recovering ?? false;
    this.history = new History(disk.appliedZxid, disk.log);
    this.lastApplied = disk.appliedZxid;
    this.persistedZxid = this.history.lastZxid;
    this.hostApplied = disk.appliedZxid;
    this.currentVote = this.initialVote(0n);
    this.becomeLooking('startup');
  }

  // ---------- queries ----------

  get state(): PeerState {
    switch (this.role.role) {
      case 'looking':
        return 'LOOKING';
      case 'leader':
        return 'LEADING';
      case 'learner':
        return this.role.observer ? 'OBSERVING' : 'FOLLOWING';
    }
  }

  get leaderId(): ServerId | null {
    switch (this.role.role) {
      case 'looking':
        return null;
      case 'leader':
        return this.id;
      case 'learner':
        return this.role.leader;
    }
  }

  /** True when this peer may serve clients (broadcast phase). */
  get serving(): boolean {
    if (this.role.role === 'leader') return this.role.phase === 'broadcast';
    if (this.role.role === 'learner') return this.role.stage === 'uptodate';
    return false;
  }

  get epochs(): { accepted: bigint; current: bigint } {
    return { accepted: this.acceptedEpoch, current: this.currentEpoch };
  }

  get lastLoggedZxid(): Zxid {
    return this.history.lastZxid;
  }

  get lastAppliedZxid(): Zxid {
    return this.lastApplied;
  }

  /** Recovering from storage damage (see PeerDisk.recovering): not a vote until synced. */
  get isRecovering(): boolean {
    return this.recovering;
  }

  /** Does this peer's vote count: a voter not recovering from storage damage. */
  private get votes(): boolean {
    return this.quorum.isVoter(this.id) && !this.recovering;
  }

  get vote(): Vote {
    return this.currentVote;
  }

  /** Leader only: learners by id with their stage, for metrics. */
  learnerStages(): { id: ServerId; observer: boolean; synced: boolean }[] {
    if (this.role.role !== 'leader') return [];
    return [...this.role.learners.values()].map((h) => ({ id: h.id, observer: h.observer, synced: h.stage === 'uptodate' }));
  }

  /** Leader only: the last zxid handed out (epoch<<32 right after establishment), else null. */
  get lastProposedZxid(): Zxid | null {
    return this.role.role === 'leader' && this.role.phase === 'broadcast' ? this.role.lastProposed : null;
  }

  /** Leader only: proposals waiting for a quorum. */
  get outstandingProposals(): number {
    return this.role.role === 'leader' ? this.role.outstanding.length : 0;
  }

  // ---------- inputs ----------

  tick(): void {
    this.now++;
    try {
      switch (this.role.role) {
        case 'looking':
          this.tickLooking(this.role);
          return;
        case 'leader':
          this.tickLeader(this.role);
          return;
        case 'learner':
          this.tickLearner(this.role);
          return;
      }
    } catch (e) {
      this.onProtocolError(e);
    }
  }

  step(from: ServerId, msg: Message): void {
    if (!this.quorum.isMember(from) || from === this.id) return;
    this.downPeers.delete(from);
    try {
      if (msg.kind === 'notification') {
        this.stepNotification(from, msg);
        return;
      }
      switch (this.role.role) {
        case 'looking':
          return; // Quorum messages from an older role: the sender will notice via timeouts.
        case 'leader':
          this.stepLeader(this.role, from, msg);
          return;
        case 'learner':
          if (from === this.role.leader) this.stepLearner(this.role, msg);
          return;
      }
    } catch (e) {
      this.onProtocolError(e);
    }
  }

  /** The transport lost the connection to `peer` (in-flight messages to/from it are gone). */
  disconnected(peer: ServerId): void {
    if (this.role.role === 'learner' && peer === this.role.leader) {
      this.becomeLooking(`lost connection to leader ${peer}`);
    } else if (this.role.role === 'leader' && this.role.learners.has(peer)) {
      this.dropLearner(this.role, peer, 'connection lost');
    }
  }

  /**
   * The transport knows `peer` is not running: its connection was reset or refused (a
   * killed process), not merely silent (a pause or partition says nothing). A vote from it
   * cannot arrive, so an election need not wait finalizeWait for one. Only the election's
   * timing depends on this, never its safety: any quorum of votes elects a safe leader.
   */
  peerDown(peer: ServerId): void {
    if (!this.quorum.isMember(peer) || peer === this.id || this.downPeers.has(peer)) return;
    this.downPeers.add(peer);
    try {
      if (this.role.role === 'looking') this.checkElectionQuorum(this.role.election);
    } catch (e) {
      this.onProtocolError(e);
    }
  }

  /** A connection to `peer` is up again: it may be running. */
  peerUp(peer: ServerId): void {
    this.downPeers.delete(peer);
  }

  /**
   * Leader in broadcast: propose a txn. `make` receives the zxid and returns the txn bytes
   * (the host builds its txn header with it). Returns the zxid, or null when not leading.
   */
  propose(make: (zxid: Zxid) => Uint8Array, trace?: string): Zxid | null {
    const r = this.role;
    if (r.role !== 'leader' || r.phase !== 'broadcast') return null;
    if (counterOf(r.lastProposed) >= COUNTER_MAX) {
      // ZooKeeper forces a new epoch before the counter rolls over.
      this.becomeLooking('zxid counter exhausted, forcing a new epoch');
      return null;
    }
    const zxid = r.lastProposed + 1n;
    r.lastProposed = zxid;
    const txn: Txn = trace === undefined ? { zxid, data: make(zxid) } : { zxid, data: make(zxid), trace };
    this.history.append(txn);
    this.persist({ kind: 'append', txns: [txn] });
    r.outstanding.push({ zxid, acks: new Set() });
    for (const h of r.learners.values()) {
      if (h.forwarding && !h.observer) this.send(h.id, { kind: 'proposal', txn });
    }
    this.tryCommit(r);
    return zxid;
  }

  /** Send a server-level payload to `to` on the quorum channel (learner ⇄ leader only). */
  sendApp(to: ServerId, payload: Uint8Array): boolean {
    if (this.role.role === 'learner' && to === this.role.leader && this.role.stage !== 'connecting') {
      this.send(to, { kind: 'app', payload });
      return true;
    }
    if (this.role.role === 'leader' && this.role.learners.get(to)?.forwarding) {
      this.send(to, { kind: 'app', payload });
      return true;
    }
    return false;
  }

  /** Leader: send `payload` to `to` once everything proposed so far is committed (ZooKeeper's SYNC). */
  sendAppAfterCommit(to: ServerId, payload: Uint8Array): boolean {
    const r = this.role;
    if (r.role !== 'leader' || r.phase !== 'broadcast') return false;
    const lastOutstanding = r.outstanding.at(-1);
    if (!lastOutstanding) return this.sendApp(to, payload);
    r.afterCommit.push({ barrier: lastOutstanding.zxid, to, payload });
    return true;
  }

  // ---------- outputs ----------

  takeMessages(): Envelope[] {
    let n = 0;
    while (n < this.msgQ.length) {
      const q = this.msgQ[n]!;
      if (q.afterSeq > this.ackedSeq) break;
      if (q.afterApplied !== undefined && q.afterApplied > this.hostApplied) break;
      n++;
    }
    const out = this.msgQ.splice(0, n);
    if (this.msgQ.some((q) => q.overtakes === true)) {
      out.push(...this.msgQ.filter((q) => q.overtakes === true));
      this.msgQ = this.msgQ.filter((q) => q.overtakes !== true);
    }
    if (out.length === 0) return [];
    for (const q of out) {
      if (q.afterApplied === undefined) continue;
      this.snapsPending--;
      if (this.snapsPending === 0 && this.deferredApplyTo !== null) {
        const z = this.deferredApplyTo;
        this.deferredApplyTo = null;
        this.applyUpTo(z);
      }
    }
    return out.map((q) => q.env);
  }

  /** Log reads the host is to carry out (see LogRead). */
  takeLogReads(): LogRead[] {
    const out = this.logReadQ;
    this.logReadQ = [];
    return out;
  }

  /**
   * The host's answer to a LogRead: the txns in (after, upTo] from its log, in order, or
   * null when its log does not hold them (the learner then gets a SNAP).
   */
  logRead(token: number, txns: Txn[] | null): void {
    const r = this.role;
    if (r.role !== 'leader') return;
    const read = r.logReads.get(token);
    if (read === undefined) return;
    r.logReads.delete(token);
    const h = r.learners.get(read.learner);
    // The learner reconnected or was dropped meanwhile: that session is over.
    if (h === undefined || h.stage !== 'readingLog' || h.logToken !== token) return;
    h.stage = 'epochAcked';
    try {
      this.startSync(r, h, txns !== null && this.continuesHistory(read, txns) ? txns : null);
    } catch (e) {
      this.onProtocolError(e);
    }
  }

  /** Do `txns` run from just after read.after to read.upTo, where the txns in memory go on? */
  private continuesHistory(read: LogRead, txns: Txn[]): boolean {
    if (txns.length === 0 || txns[0]!.zxid <= read.after || txns.at(-1)!.zxid !== read.upTo) return false;
    for (let i = 1; i < txns.length; i++) if (txns[i]!.zxid <= txns[i - 1]!.zxid) return false;
    return this.history.contains(read.upTo);
  }

  /** Whether an op not yet taken by ready() installs `snapshot` (a host that began on a SNAP's pieces asks, once it delivered it). */
  installs(snapshot: SnapshotBytes): boolean {
    return this.persistQ.some((op) => op.kind === 'installSnapshot' && op.snapshot === snapshot);
  }

  hasReady(): boolean {
    return this.readyOutstanding === null && (this.persistQ.length > 0 || this.applyQ.length > 0 || this.eventQ.length > 0);
  }

  ready(): Ready {
    if (this.readyOutstanding) throw new Error('ready() called before advance() of the previous Ready');
    const rd: Ready = { persist: this.persistQ, apply: this.applyQ, events: this.eventQ, seq: this.persistSeq };
    this.persistQ = [];
    this.applyQ = [];
    this.eventQ = [];
    this.readyOutstanding = rd;
    return rd;
  }

  advance(rd: Ready): void {
    if (this.readyOutstanding !== rd) throw new Error('advance() with a Ready that is not the outstanding one');
    this.readyOutstanding = null;
    this.ackedSeq = rd.seq;
    const lastApply = rd.apply[rd.apply.length - 1];
    if (lastApply && lastApply.zxid > this.hostApplied) this.hostApplied = lastApply.zxid;
    for (const op of rd.persist) {
      if (op.kind === 'installSnapshot') this.hostApplied = op.zxid;
    }
    // One splice, not a shift per append: a DIFF of 14,000 txns made this loop quadratic (0.3 s).
    const done = this.lastAppendSeq;
    let n = 0;
    while (n < done.length && done[n]!.seq <= rd.seq) n++;
    if (n > 0) {
      const appended = done[n - 1]!.zxid;
      done.splice(0, n);
      if (appended > this.persistedZxid) this.persistedZxid = appended;
    }
    if (this.role.role === 'leader') {
      try {
        this.tryCommit(this.role);
      } catch (e) {
        this.onProtocolError(e);
      }
    }
    // A log read in flight returns txns up to the base it saw: the ones after it stay.
    if (this.role.role !== 'leader' || this.role.logReads.size === 0) this.history.trim(this.lastApplied, this.committedLogMax);
  }

  // ---------- plumbing ----------

  private persist(op: PersistOp): void {
    this.persistQ.push(op);
    this.persistSeq++;
    if (op.kind === 'append') this.lastAppendSeq.push({ seq: this.persistSeq, zxid: op.txns[op.txns.length - 1]!.zxid });
    if (op.kind === 'truncate' || op.kind === 'installSnapshot') {
      this.lastAppendSeq = this.lastAppendSeq.filter((a) => a.zxid <= op.zxid);
      if (this.persistedZxid > op.zxid) this.persistedZxid = op.zxid;
    }
  }

  private send(to: ServerId, msg: Message, afterPersist = false): void {
    const q: QueuedMessage = { env: { from: this.id, to, msg }, afterSeq: afterPersist ? this.persistSeq : 0 };
    if (msg.kind === 'pingreply') q.overtakes = true;
    this.msgQ.push(q);
  }

  private emit(e: PeerEvent): void {
    this.eventQ.push(e);
  }

  /** Queue committed txns up to z (in our log) for the host to apply. */
  private applyUpTo(z: Zxid): void {
    if (this.snapsPending > 0) {
      if (this.deferredApplyTo === null || z > this.deferredApplyTo) this.deferredApplyTo = z;
      return;
    }
    if (z <= this.lastApplied) return;
    const txns = this.history.range(this.lastApplied, z);
    if (txns.length === 0) return;
    for (const t of txns) this.applyQ.push(t);
    this.lastApplied = txns[txns.length - 1]!.zxid;
  }

  private onProtocolError(e: unknown): void {
    if (!(e instanceof ProtocolError)) throw e;
    this.becomeLooking(e.message);
  }

  // ---------- election (FastLeaderElection) ----------

  private initialVote(electionEpoch: bigint): Vote {
    if (!this.votes) {
      // Observers (and recovering voters) propose nobody (ZooKeeper uses Long.MIN_VALUE): they only learn the leader.
      return { leader: -1, zxid: -1n, electionEpoch, peerEpoch: -1n, state: 'LOOKING' };
    }
    return { leader: this.id, zxid: this.history.lastZxid, electionEpoch, peerEpoch: this.currentEpoch, state: 'LOOKING' };
  }

  private becomeLooking(reason: string): void {
    const prev = this.role as RoleState | undefined;
    const clock = prev?.role === 'looking' ? prev.election.logicalClock : this.currentVote.electionEpoch;
    const logicalClock = clock + 1n;
    const proposal = this.initialVote(logicalClock);
    const election: ElectionState = {
      logicalClock,
      proposal,
      recv: new Map(),
      outOfElection: new Map(),
      finalizeAt: null,
      notifyAt: this.now + this.ticks.notificationMin,
      notifyInterval: this.ticks.notificationMin,
      startedTick: this.now,
      votesReceived: 0,
      answered: new Set(),
    };
    this.role = { role: 'looking', election };
    this.currentVote = proposal;
    if (this.votes) election.recv.set(this.id, proposal);
    this.emit({ kind: 'looking', electionEpoch: logicalClock, reason });
    this.sendNotifications(election);
    this.checkElectionQuorum(election);
  }

  private notification(v: Vote, state: PeerState): Notification {
    return {
      kind: 'notification',
      state,
      leader: v.leader,
      zxid: v.zxid,
      electionEpoch: v.electionEpoch,
      peerEpoch: v.peerEpoch,
      recovering: this.recovering,
    };
  }

  private sendNotifications(e: ElectionState): void {
    for (const id of this.quorum.voters) {
      if (id !== this.id) this.send(id, this.notification(e.proposal, 'LOOKING'));
    }
  }

  private tickLooking(r: LookingState): void {
    const e = r.election;
    if (e.finalizeAt !== null && this.now >= e.finalizeAt) {
      // The proposed leader may have said since that it is recovering: then wait on.
      if (this.mayLead(e.proposal.leader)) {
        this.finishElection(e, e.proposal.leader);
        return;
      }
      e.finalizeAt = null;
    }
    if (this.now >= e.notifyAt) {
      // Nothing decided yet: resend, backing off like ZooKeeper's notTimeout.
      this.sendNotifications(e);
      e.notifyInterval = Math.min(e.notifyInterval * 2, this.ticks.notificationMax);
      e.notifyAt = this.now + e.notifyInterval;
    }
  }

  private stepNotification(from: ServerId, n: Notification): void {
    const r = this.role;
    if (this.quorum.isVoter(from)) this.noteRecovering(from, n.recovering);
    // A recovering voter's vote does not count: its log may lack committed txns.
    const fromVoter = this.quorum.isVoter(from) && !n.recovering;
    if (r.role !== 'looking') {
      // Settled peers answer LOOKING peers with the vote that elected the current leader.
      if (n.state === 'LOOKING') this.send(from, this.notification(this.currentVote, this.state));
      // Our leader now leads: the FOLLOWERINFO we sent while it was LOOKING was dropped.
      else if (n.state === 'LEADING' && r.role === 'learner' && r.leader === from && r.stage === 'connecting') this.sendFollowerInfo(r);
      return;
    }
    const e = r.election;
    if (!fromVoter) {
      // A non-voter's vote never counts; a voter tells a LOOKING one what it thinks. Not a
      // settled one (it answered our own notification), nor one non-voter another: both
      // would answer back forever.
      if (n.state === 'LOOKING' && this.votes) this.send(from, this.notification(e.proposal, 'LOOKING'));
      this.reportStalled();
      return;
    }
    e.votesReceived++;
    const vote: Vote = { leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: n.state };
    if (n.state === 'LOOKING') {
      if (n.electionEpoch > e.logicalClock) {
        e.logicalClock = n.electionEpoch;
        e.recv.clear();
        e.answered.clear();
        const mine = this.initialVote(e.logicalClock);
        e.proposal =
          this.mayLead(n.leader) && totalOrderPredicate(n.leader, n.zxid, n.peerEpoch, mine.leader, mine.zxid, mine.peerEpoch)
            ? { ...vote, electionEpoch: e.logicalClock, state: 'LOOKING' }
            : mine;
        if (this.votes) e.recv.set(this.id, e.proposal);
        this.currentVote = e.proposal;
        this.sendNotifications(e);
      } else if (n.electionEpoch < e.logicalClock) {
        // A peer in an older round: bring it up to date.
        this.send(from, this.notification(e.proposal, 'LOOKING'));
        return;
      } else if (
        this.mayLead(n.leader) &&
        (!this.mayLead(e.proposal.leader) ||
          totalOrderPredicate(n.leader, n.zxid, n.peerEpoch, e.proposal.leader, e.proposal.zxid, e.proposal.peerEpoch))
      ) {
        e.proposal = { ...vote, electionEpoch: e.logicalClock, state: 'LOOKING' };
        if (this.votes) e.recv.set(this.id, e.proposal);
        this.currentVote = e.proposal;
        this.sendNotifications(e);
        e.finalizeAt = null;
        e.answered.clear();
      } else if (this.votes && !sameVote(vote, e.proposal) && !e.answered.has(from)) {
        // It proposes worse than we do and may not have our vote (it sent its own before it
        // heard ours, or ours went out while it was settled): tell it now rather than when
        // the notification timer fires (ZooKeeper waits for that timer).
        e.answered.add(from);
        this.send(from, this.notification(e.proposal, 'LOOKING'));
      }
      e.recv.set(from, vote);
      this.checkElectionQuorum(e);
      return;
    }
    // FOLLOWING / LEADING: a leader may already exist; join it if a quorum says so.
    if (!this.mayLead(n.leader)) return;
    if (n.electionEpoch === e.logicalClock) {
      e.recv.set(from, vote);
      if (this.quorum.containsQuorum(supporters(e.recv, vote)) && this.checkLeader(e.recv, n.leader, n.electionEpoch, e)) {
        this.finishElection(e, n.leader, vote);
        return;
      }
    }
    e.outOfElection.set(from, vote);
    if (
      this.quorum.containsQuorum(supporters(e.outOfElection, vote)) &&
      this.checkLeader(e.outOfElection, n.leader, n.electionEpoch, e)
    ) {
      e.logicalClock = n.electionEpoch;
      this.finishElection(e, n.leader, vote);
    }
  }

  /**
   * May `id` be elected: a voter not known to be recovering from storage damage. Its history
   * may lack committed txns, so a vote for it (a stale one, adopted from a peer that followed
   * it before) is not adopted, and it never finalizes an election for itself.
   */
  private mayLead(id: ServerId): boolean {
    if (!this.quorum.isVoter(id)) return false;
    return id === this.id ? !this.recovering : !this.recoveringVoters.has(id);
  }

  private noteRecovering(voter: ServerId, recovering: boolean): void {
    if (!recovering) {
      this.recoveringVoters.delete(voter);
      return;
    }
    this.recoveringVoters.add(voter);
    const r = this.role;
    if (r.role !== 'looking' || r.election.proposal.leader !== voter) return;
    // Our proposal names a server that cannot lead: start from our own vote again.
    const e = r.election;
    e.proposal = this.initialVote(e.logicalClock);
    e.finalizeAt = null;
    e.answered.clear();
    if (this.votes) e.recv.set(this.id, e.proposal);
    this.currentVote = e.proposal;
    this.sendNotifications(e);
  }

  /** Say once per change when the recovering voters we know of leave no quorum to elect a leader. */
  private reportStalled(): void {
    const recovering = [...this.recoveringVoters];
    if (this.quorum.isVoter(this.id) && this.recovering) recovering.push(this.id);
    const others = [...this.quorum.voters].filter((v) => !recovering.includes(v));
    const key = this.quorum.containsQuorum(others) ? '' : recovering.sort((a, b) => a - b).join(',');
    if (key === this.stalledReported) return;
    this.stalledReported = key;
    if (key !== '') this.emit({ kind: 'stalled', recovering: recovering.sort((a, b) => a - b) });
  }

  /** The proposed leader must itself say LEADING (or be us, in this very election round). */
  private checkLeader(votes: ReadonlyMap<ServerId, Vote>, leader: ServerId, electionEpoch: bigint, e: ElectionState): boolean {
    if (leader === this.id) return e.logicalClock === electionEpoch;
    return votes.get(leader)?.state === 'LEADING';
  }

  /**
   * Once established in an epoch, report that epoch in our vote (ZOOKEEPER-1732): settled
   * votes are compared by (leader, peer epoch), and a member still reporting the epoch it was
   * elected with keeps a restarted server from counting a quorum for the current leader.
   */
  private updateElectionVote(epoch: bigint): void {
    this.currentVote = { ...this.currentVote, peerEpoch: epoch };
  }

  private checkElectionQuorum(e: ElectionState): void {
    if (e.proposal.leader === -1 || !this.mayLead(e.proposal.leader)) return;
    if (e.finalizeAt === null) {
      if (!this.quorum.containsQuorum(supporters(e.recv, e.proposal))) return;
      e.finalizeAt = this.now + this.ticks.finalizeWait;
    }
    if (this.ticks.finalizeWait === 0 || this.electionSettled(e)) this.finishElection(e, e.proposal.leader);
  }

  /**
   * No vote can still change this election: every voter backs the proposal in this round,
   * or is known down. finalizeWait exists to hear a better vote; from these none can come.
   * A voter that is silent but not known down (paused, partitioned, slow) keeps the wait.
   */
  private electionSettled(e: ElectionState): boolean {
    const leader = e.proposal.leader;
    if (leader !== this.id && this.downPeers.has(leader)) return false;
    for (const v of this.quorum.voters) {
      if (this.downPeers.has(v) || (v === this.id && !this.votes)) continue;
      const vote = e.recv.get(v);
      if (vote === undefined || !sameVote(vote, e.proposal)) return false;
    }
    return this.quorum.containsQuorum(supporters(e.recv, e.proposal));
  }

  private finishElection(e: ElectionState, leader: ServerId, settled?: Vote): void {
    const base = settled ?? e.proposal;
    this.currentVote = { ...base, electionEpoch: e.logicalClock, state: 'LOOKING' };
    const ticks = this.now - e.startedTick;
    if (leader === this.id) {
      this.currentVote.state = 'LEADING';
      this.emit({ kind: 'elected', leader, electionEpoch: e.logicalClock, state: 'LEADING', votesReceived: e.votesReceived, ticks });
      // Say so at once: a learner that finished first sent its FOLLOWERINFO while we were
      // still LOOKING (dropped), and would otherwise resend it only after notificationMin.
      const leading = this.notification(this.currentVote, 'LEADING');
      for (const id of this.quorum.members()) if (id !== this.id) this.send(id, leading);
      this.becomeLeader();
    } else {
      const observer = !this.quorum.isVoter(this.id);
      this.currentVote.state = observer ? 'OBSERVING' : 'FOLLOWING';
      this.emit({
        kind: 'elected',
        leader,
        electionEpoch: e.logicalClock,
        state: observer ? 'OBSERVING' : 'FOLLOWING',
        votesReceived: e.votesReceived,
        ticks,
      });
      this.becomeLearner(leader, observer);
    }
  }

  // ---------- leader ----------

  private becomeLeader(): void {
    const r: LeaderState = {
      role: 'leader',
      phase: 'discovery',
      newEpoch: -1n,
      phaseDeadline: this.now + this.ticks.initLimit,
      learners: new Map(),
      connecting: new Set([this.id]),
      electing: new Set(),
      newLeaderAcks: new Set(),
      outstanding: [],
      lastProposed: 0n,
      nextPingTick: this.now + this.ticks.ping,
      afterCommit: [],
      logReads: new Map(),
    };
    this.role = r;
    this.maybeDecideEpoch(r);
  }

  private maybeDecideEpoch(r: LeaderState): void {
    if (r.phase !== 'discovery' || !this.quorum.containsQuorum(r.connecting)) return;
    let max = this.acceptedEpoch;
    for (const id of r.connecting) {
      const h = r.learners.get(id);
      if (h && h.acceptedEpoch > max) max = h.acceptedEpoch;
    }
    r.newEpoch = max + 1n;
    this.acceptedEpoch = r.newEpoch;
    this.persist({ kind: 'acceptedEpoch', epoch: r.newEpoch });
    r.phase = 'epochAck';
    r.phaseDeadline = this.now + this.ticks.initLimit;
    r.electing.add(this.id);
    for (const h of r.learners.values()) this.sendLeaderInfo(h);
    this.maybeEstablishEpoch(r);
  }

  private sendLeaderInfo(h: LearnerHandler): void {
    const r = this.role as LeaderState;
    this.send(h.id, { kind: 'leaderinfo', newEpoch: r.newEpoch }, true);
    h.stage = 'epochSent';
  }

  private maybeEstablishEpoch(r: LeaderState): void {
    if (r.phase !== 'epochAck' || !this.quorum.containsQuorum(r.electing)) return;
    this.currentEpoch = r.newEpoch;
    this.persist({ kind: 'currentEpoch', epoch: r.newEpoch });
    r.lastProposed = makeZxid(r.newEpoch, 0n);
    r.phase = 'sync';
    r.phaseDeadline = this.now + this.ticks.initLimit;
    r.newLeaderAcks.add(this.id);
    this.emit({ kind: 'discovered', epoch: r.newEpoch, leader: this.id });
    for (const h of r.learners.values()) if (h.stage === 'epochAcked') this.startSync(r, h);
    this.maybeEstablish(r);
  }

  private stepLeader(r: LeaderState, from: ServerId, msg: QuorumMessage): void {
    if (msg.kind === 'followerinfo') {
      this.onFollowerInfo(r, from, msg);
      return;
    }
    const h = r.learners.get(from);
    if (!h) return; // Not (or no longer) a learner of ours; it will time out and re-register.
    h.lastHeardTick = this.now;
    try {
      this.stepLearnerHandler(r, h, msg);
    } catch (e) {
      // A misbehaving learner is dropped; the leader keeps leading.
      if (!(e instanceof LearnerError)) throw e;
      this.dropLearner(r, h.id, e.message);
    }
  }

  private stepLearnerHandler(r: LeaderState, h: LearnerHandler, msg: QuorumMessage): void {
    const from = h.id;
    switch (msg.kind) {
      case 'ackepoch':
        // An answer to an earlier term's LEADERINFO (sent before this learner's new session):
        // its promise is about another epoch, and its zxid may be stale.
        if (msg.epoch !== r.newEpoch) return;
        this.onAckEpoch(r, h, msg.currentEpoch, msg.lastZxid);
        return;
      case 'ack':
        this.onAck(r, h, msg.zxid);
        return;
      case 'pingreply':
      case 'followerinfo': // handled before a handler exists
        return;
      case 'app':
        if (h.forwarding) this.emit({ kind: 'app', from, payload: msg.payload });
        return;
      case 'leaderinfo':
      case 'diff':
      case 'trunc':
      case 'snap':
      case 'proposal':
      case 'commit':
      case 'inform':
      case 'newleader':
      case 'uptodate':
      case 'ping':
        throw new LearnerError(`sent ${msg.kind}, which only a leader sends`);
    }
  }

  private onFollowerInfo(r: LeaderState, from: ServerId, msg: Extract<QuorumMessage, { kind: 'followerinfo' }>): void {
    const observer = !this.quorum.isVoter(from);
    if (msg.observer !== observer) {
      this.emit({ kind: 'learnerLost', learner: from, reason: `role mismatch: it says ${msg.observer ? 'observer' : 'follower'}` });
      return;
    }
    const known = r.learners.get(from);
    const unanswered = known?.stage === 'info' || known?.stage === 'epochSent';
    if (known && unanswered && known.acceptedEpoch === msg.acceptedEpoch && known.lastZxid === msg.lastZxid) {
      // A resent FOLLOWERINFO (the learner asks again until LEADERINFO arrives). Our LEADERINFO
      // may have been lost (the learner was still LOOKING): answer again; the learner ignores a
      // second LEADERINFO of the same epoch. Past LEADERINFO, a FOLLOWERINFO is a new session.
      known.lastHeardTick = this.now;
      if (known.stage === 'epochSent') this.sendLeaderInfo(known);
      return;
    }
    // A new FOLLOWERINFO starts the learner over (it reconnected).
    const h: LearnerHandler = {
      id: from,
      observer,
      recovering: msg.recovering,
      stage: 'info',
      acceptedEpoch: msg.acceptedEpoch,
      lastZxid: msg.lastZxid,
      currentEpoch: -1n,
      lastHeardTick: this.now,
      forwarding: false,
      syncMode: null,
      syncTxns: 0,
    };
    r.learners.set(from, h);
    r.newLeaderAcks.delete(from);
    r.electing.delete(from);
    r.connecting.delete(from);
    if (r.phase === 'discovery') {
      // A recovering follower may have lost the accepted epoch it promised: it joins, but the
      // epoch is decided by a quorum of the others (their promises cover any epoch it accepted).
      if (!observer && !msg.recovering) r.connecting.add(from);
      this.maybeDecideEpoch(r);
    } else {
      this.sendLeaderInfo(h);
    }
  }

  private onAckEpoch(r: LeaderState, h: LearnerHandler, currentEpoch: bigint, lastZxid: Zxid): void {
    if (h.stage !== 'epochSent') throw new LearnerError(`unexpected ACKEPOCH in stage ${h.stage}`);
    h.currentEpoch = currentEpoch;
    h.lastZxid = lastZxid;
    h.stage = 'epochAcked';
    if (r.phase === 'epochAck') {
      if (!h.observer && !h.recovering) {
        const ahead =
          currentEpoch > this.currentEpoch || (currentEpoch === this.currentEpoch && lastZxid > this.history.lastZxid);
        if (ahead) {
          throw new ProtocolError(
            `follower ${h.id} is ahead of the leader (epoch ${currentEpoch}, zxid ${zxidHex(lastZxid)})`,
          );
        }
        r.electing.add(h.id);
      }
      this.maybeEstablishEpoch(r);
      return;
    }
    this.startSync(r, h);
  }

  /**
   * Choose DIFF, TRUNC+DIFF or SNAP for a learner (LearnerHandler.syncFollower). `logged`:
   * the txns after the learner's last zxid up to the history's base, read from our log.
   */
  private startSync(r: LeaderState, h: LearnerHandler, logged: Txn[] | null = null): void {
    const peer = h.lastZxid;
    const hist = this.history;
    const last = hist.lastZxid;
    const committed = r.phase === 'broadcast' ? this.lastCommittedZxid(r) : -1n;
    let from: Zxid;
    if (committed >= 0n && peer > committed && peer <= last && hist.contains(peer)) {
      // The learner logged proposals that are still outstanding, and the ACKs it sent for them
      // in its last session are gone: as ZooKeeper does (TRUNC to maxCommittedLog), cut it back
      // to what is committed and propose them again, so that its ACKs count this time.
      h.syncMode = 'TRUNC';
      this.send(h.id, { kind: 'trunc', zxid: committed }, true);
      from = committed;
    } else if (peer === last) {
      h.syncMode = 'DIFF';
      this.send(h.id, { kind: 'diff', zxid: last }, true);
      from = last;
    } else if (peer > last) {
      h.syncMode = 'TRUNC';
      this.send(h.id, { kind: 'trunc', zxid: last }, true);
      from = last;
    } else if (hist.contains(peer)) {
      h.syncMode = 'DIFF';
      this.send(h.id, { kind: 'diff', zxid: peer }, true);
      from = peer;
    } else {
      const common = hist.floor(peer);
      if (common !== null && common !== peer && peer >= hist.base) {
        // The learner logged txns we never had: cut them off, then send ours.
        h.syncMode = 'TRUNC';
        this.send(h.id, { kind: 'trunc', zxid: common }, true);
        from = common;
      } else if (logged !== null) {
        // Behind the txns in memory, but our log holds every txn after its last.
        h.syncMode = 'DIFF';
        h.fromLog = true;
        this.send(h.id, { kind: 'diff', zxid: peer }, true);
        from = peer;
      } else if (this.diffFromLog && peer > 0n && h.logToken === undefined) {
        const read: LogRead = { token: this.nextLogToken++, learner: h.id, after: peer, upTo: hist.base };
        r.logReads.set(read.token, read);
        this.logReadQ.push(read);
        h.logToken = read.token;
        h.stage = 'readingLog';
        return;
      } else {
        h.syncMode = 'SNAP';
        // The snapshot is our applied state; every later txn follows as a proposal. It leaves
        // only once the host has applied that far, so the host's state is exactly at zxid.
        this.send(h.id, { kind: 'snap', zxid: this.lastApplied }, true);
        this.msgQ[this.msgQ.length - 1]!.afterApplied = this.lastApplied;
        this.snapsPending++;
        from = this.lastApplied;
      }
    }
    // Its log after `from` is rewritten by this sync: ACKs from an earlier session no longer vouch
    // for anything durable there. They come again once the proposals below are logged.
    for (const p of r.outstanding) if (p.zxid > from) p.acks.delete(h.id);
    const txns = logged === null ? hist.range(from) : [...logged, ...hist.range(hist.base)];
    h.syncTxns = txns.length;
    for (const t of txns) {
      if (h.observer && r.phase === 'broadcast' && t.zxid > committed) continue; // informed when committed
      this.send(h.id, { kind: 'proposal', txn: t }, true);
      if (r.phase === 'broadcast' && t.zxid <= committed) this.send(h.id, { kind: 'commit', zxid: t.zxid }, true);
    }
    h.forwarding = true;
    h.stage = 'syncing';
    this.send(h.id, { kind: 'newleader', zxid: makeZxid(r.newEpoch, 0n) }, true);
  }

  private lastCommittedZxid(r: LeaderState): Zxid {
    const head = r.outstanding[0];
    return head ? head.zxid - 1n : r.lastProposed;
  }

  private onAck(r: LeaderState, h: LearnerHandler, zxid: Zxid): void {
    if (counterOf(zxid) === 0n) {
      if (epochOf(zxid) !== r.newEpoch || h.stage !== 'syncing') {
        throw new LearnerError(`unexpected NEWLEADER ack ${zxidHex(zxid)} in stage ${h.stage}`);
      }
      h.stage = 'newleaderAcked';
      if (r.phase === 'sync') {
        if (!h.observer) r.newLeaderAcks.add(h.id);
        this.maybeEstablish(r);
      } else if (r.phase === 'broadcast') {
        this.sendUpToDate(r, h);
      }
      return;
    }
    if (r.phase !== 'broadcast' || h.observer) return;
    for (const p of r.outstanding) {
      if (p.zxid === zxid) {
        p.acks.add(h.id);
        break;
      }
    }
    this.tryCommit(r);
  }

  private maybeEstablish(r: LeaderState): void {
    if (r.phase !== 'sync' || !this.quorum.containsQuorum(r.newLeaderAcks)) return;
    r.phase = 'broadcast';
    this.updateElectionVote(r.newEpoch);
    // The initial history of the new epoch (our whole log) is now committed.
    this.applyUpTo(this.history.lastZxid);
    this.emit({ kind: 'synced', epoch: r.newEpoch, leader: this.id, mode: null });
    for (const h of r.learners.values()) if (h.stage === 'newleaderAcked') this.sendUpToDate(r, h);
    this.emit({ kind: 'serving', epoch: r.newEpoch, leader: this.id, state: 'LEADING' });
  }

  private sendUpToDate(r: LeaderState, h: LearnerHandler): void {
    h.stage = 'uptodate';
    this.send(h.id, { kind: 'uptodate', zxid: this.lastCommittedZxid(r) });
    const mode = h.syncMode ?? 'DIFF';
    this.emit({ kind: 'learnerSynced', learner: h.id, mode, txns: h.syncTxns, observer: h.observer, fromLog: h.fromLog === true });
  }

  /** Commit outstanding proposals in zxid order while the oldest has a quorum of durable acks. */
  private tryCommit(r: LeaderState): void {
    if (r.phase !== 'broadcast') return;
    while (r.outstanding.length > 0) {
      const p = r.outstanding[0]!;
      if (this.persistedZxid >= p.zxid) p.acks.add(this.id);
      if (!this.quorum.containsQuorum(p.acks)) break;
      r.outstanding.shift();
      this.applyUpTo(p.zxid);
      const txn = this.history.get(p.zxid)!;
      for (const h of r.learners.values()) {
        if (!h.forwarding) continue;
        if (h.observer) this.send(h.id, { kind: 'inform', txn });
        else this.send(h.id, { kind: 'commit', zxid: p.zxid });
      }
      this.emit({ kind: 'committed', zxid: p.zxid, acks: [...p.acks] });
    }
    const committed = this.lastCommittedZxid(r);
    while (r.afterCommit.length > 0 && r.afterCommit[0]!.barrier <= committed) {
      const a = r.afterCommit.shift()!;
      this.sendApp(a.to, a.payload);
    }
  }

  private dropLearner(r: LeaderState, id: ServerId, reason: string): void {
    r.learners.delete(id);
    r.connecting.delete(id);
    r.electing.delete(id);
    r.newLeaderAcks.delete(id);
    this.emit({ kind: 'learnerLost', learner: id, reason });
  }

  private tickLeader(r: LeaderState): void {
    if (r.phase !== 'broadcast') {
      if (this.now >= r.phaseDeadline) throw new ProtocolError(`no quorum within initLimit in phase ${r.phase}`);
    }
    for (const h of [...r.learners.values()]) {
      // ZooKeeper's LearnerHandler: initLimit + syncLimit until the learner is synced (it is
      // silent while it persists what it was sent, and may wait on other learners first), then syncLimit.
      const limit = h.stage === 'uptodate' ? this.ticks.syncLimit : this.ticks.initLimit + this.ticks.syncLimit;
      if (this.now - h.lastHeardTick > limit) this.dropLearner(r, h.id, `silent for ${this.now - h.lastHeardTick} ticks`);
    }
    if (this.now >= r.nextPingTick) {
      r.nextPingTick = this.now + this.ticks.ping;
      const z = r.phase === 'broadcast' ? this.lastCommittedZxid(r) : this.history.lastZxid;
      for (const h of r.learners.values()) if (h.forwarding) this.send(h.id, { kind: 'ping', zxid: z });
    }
    if (r.phase === 'broadcast') {
      const synced = [this.id];
      for (const h of r.learners.values()) if (h.stage === 'uptodate' && !h.observer) synced.push(h.id);
      if (!this.quorum.containsQuorum(synced)) throw new ProtocolError('not sufficient followers synced, only ' + synced.join(','));
    }
  }

  // ---------- learner (follower / observer) ----------

  private becomeLearner(leader: ServerId, observer: boolean): void {
    const r: LearnerState = {
      role: 'learner',
      leader,
      observer,
      stage: 'connecting',
      newEpoch: -1n,
      lastHeardTick: this.now,
      syncMode: null,
      unacked: [],
      committedUpTo: this.lastApplied,
      nextInfoTick: this.now + this.ticks.notificationMin,
    };
    this.role = r;
    this.sendFollowerInfo(r);
  }

  private sendFollowerInfo(r: LearnerState): void {
    this.send(r.leader, {
      kind: 'followerinfo',
      acceptedEpoch: this.acceptedEpoch,
      lastZxid: this.history.lastZxid,
      observer: r.observer,
      recovering: this.recovering,
    });
  }

  private stepLearner(r: LearnerState, msg: QuorumMessage): void {
    r.lastHeardTick = this.now;
    switch (msg.kind) {
      case 'leaderinfo':
        return this.onLeaderInfo(r, msg.newEpoch);
      case 'diff':
      case 'trunc':
      case 'snap':
        return this.onSyncStart(r, msg);
      case 'proposal':
        return this.onProposal(r, msg.txn);
      case 'commit':
        return this.onCommit(r, msg.zxid);
      case 'inform':
        if (!r.observer) throw new ProtocolError('INFORM sent to a follower');
        this.onProposal(r, msg.txn);
        return this.onCommit(r, msg.txn.zxid);
      case 'newleader':
        return this.onNewLeader(r, msg.zxid);
      case 'uptodate':
        return this.onUpToDate(r, msg.zxid);
      case 'ping':
        this.send(r.leader, { kind: 'pingreply', zxid: this.history.lastZxid });
        return;
      case 'app':
        this.emit({ kind: 'app', from: r.leader, payload: msg.payload });
        return;
      case 'followerinfo':
      case 'ackepoch':
      case 'ack':
      case 'pingreply':
        throw new ProtocolError(`leader ${r.leader} sent ${msg.kind}, which only a learner sends`);
    }
  }

  private onLeaderInfo(r: LearnerState, newEpoch: bigint): void {
    if (r.stage !== 'connecting') {
      // Our FOLLOWERINFO was resent and answered twice: the first answer stands.
      if (newEpoch === r.newEpoch) return;
      throw new ProtocolError(`second LEADERINFO with another epoch (${newEpoch}, had ${r.newEpoch})`);
    }
    if (newEpoch > this.acceptedEpoch) {
      this.acceptedEpoch = newEpoch;
      this.persist({ kind: 'acceptedEpoch', epoch: newEpoch });
    } else if (newEpoch < this.acceptedEpoch) {
      throw new ProtocolError(`leader's epoch ${newEpoch} is less than our accepted epoch ${this.acceptedEpoch}`);
    }
    r.newEpoch = newEpoch;
    r.stage = 'epoch';
    this.send(r.leader, { kind: 'ackepoch', epoch: newEpoch, currentEpoch: this.currentEpoch, lastZxid: this.history.lastZxid }, true);
    this.emit({ kind: 'discovered', epoch: newEpoch, leader: r.leader });
  }

  private onSyncStart(r: LearnerState, msg: Extract<QuorumMessage, { kind: 'diff' | 'trunc' | 'snap' }>): void {
    if (r.stage !== 'epoch') throw new ProtocolError(`${msg.kind.toUpperCase()} before ACKEPOCH`);
    r.stage = 'syncing';
    switch (msg.kind) {
      case 'diff':
        r.syncMode = 'DIFF';
        if (msg.zxid !== this.history.lastZxid && !(msg.zxid < this.history.lastZxid && this.history.contains(msg.zxid))) {
          throw new ProtocolError(`DIFF from ${zxidHex(msg.zxid)} does not match our log ending ${zxidHex(this.history.lastZxid)}`);
        }
        if (msg.zxid < this.history.lastZxid) this.truncateTo(msg.zxid);
        return;
      case 'trunc':
        r.syncMode = 'TRUNC';
        this.truncateTo(msg.zxid);
        return;
      case 'snap':
        r.syncMode = 'SNAP';
        if (!msg.snapshot) throw new ProtocolError('SNAP without snapshot data');
        this.history.reset(msg.zxid);
        this.lastApplied = msg.zxid;
        r.committedUpTo = msg.zxid;
        this.persist({ kind: 'installSnapshot', zxid: msg.zxid, snapshot: msg.snapshot });
        this.persistedZxid = msg.zxid;
        return;
    }
  }

  private truncateTo(z: Zxid): void {
    if (z < this.lastApplied) {
      // Committed txns are never truncated; a leader asking for it is broken.
      throw new Error(`invariant: TRUNC to ${zxidHex(z)} below applied ${zxidHex(this.lastApplied)}`);
    }
    if (z >= this.history.lastZxid) return;
    this.history.truncate(z);
    this.persist({ kind: 'truncate', zxid: z });
  }

  private onProposal(r: LearnerState, txn: Txn): void {
    if (r.stage === 'connecting' || r.stage === 'epoch') throw new ProtocolError('PROPOSAL before sync');
    if (txn.zxid <= this.history.lastZxid) {
      throw new ProtocolError(`proposal ${zxidHex(txn.zxid)} is not after our last ${zxidHex(this.history.lastZxid)}`);
    }
    this.history.append(txn);
    this.persist({ kind: 'append', txns: [txn] });
    if (r.observer) return;
    if (r.stage === 'syncing') {
      if (epochOf(txn.zxid) === r.newEpoch) r.unacked.push(txn.zxid);
      return;
    }
    this.send(r.leader, { kind: 'ack', zxid: txn.zxid }, true);
  }

  private onCommit(r: LearnerState, zxid: Zxid): void {
    if (zxid > r.committedUpTo) r.committedUpTo = zxid;
    if (r.stage === 'uptodate') this.applyUpTo(r.committedUpTo);
  }

  private onNewLeader(r: LearnerState, zxid: Zxid): void {
    if (r.stage !== 'syncing' || epochOf(zxid) !== r.newEpoch) throw new ProtocolError('unexpected NEWLEADER');
    // What was synced is persisted (appends queued before), then the epoch, then the ack.
    this.currentEpoch = r.newEpoch;
    this.persist({ kind: 'currentEpoch', epoch: r.newEpoch });
    if (this.recovering) {
      // The leader's history (every committed txn) is now ours, durable before the ack leaves:
      // a member again, whose acks and votes count.
      this.recovering = false;
      this.persist({ kind: 'recovered' });
    }
    r.stage = 'newleaderAcked';
    this.updateElectionVote(r.newEpoch);
    this.send(r.leader, { kind: 'ack', zxid }, true);
    if (!r.observer) for (const z of r.unacked) this.send(r.leader, { kind: 'ack', zxid: z }, true);
    r.unacked = [];
    this.emit({ kind: 'synced', epoch: r.newEpoch, leader: r.leader, mode: r.syncMode });
  }

  private onUpToDate(r: LearnerState, zxid: Zxid): void {
    if (r.stage !== 'newleaderAcked') throw new ProtocolError('UPTODATE before NEWLEADER');
    r.stage = 'uptodate';
    // Everything of earlier epochs in our log is the leader's initial history, now committed.
    let upTo = r.committedUpTo > zxid ? r.committedUpTo : zxid;
    const lastOld = this.history.floor(makeZxid(r.newEpoch, 0n));
    if (lastOld !== null && lastOld > upTo) upTo = lastOld;
    r.committedUpTo = upTo;
    this.applyUpTo(upTo);
    this.emit({ kind: 'serving', epoch: r.newEpoch, leader: r.leader, state: r.observer ? 'OBSERVING' : 'FOLLOWING' });
  }

  private tickLearner(r: LearnerState): void {
    if (r.stage === 'connecting' && this.now >= r.nextInfoTick) {
      // The leader may still have been LOOKING when our FOLLOWERINFO arrived (it drops it): ask again,
      // as ZooKeeper's learner retries its connection to the leader.
      r.nextInfoTick = this.now + this.ticks.notificationMin;
      this.sendFollowerInfo(r);
    }
    const limit = r.stage === 'uptodate' ? this.ticks.syncLimit : this.ticks.initLimit;
    if (this.now - r.lastHeardTick > limit) {
      throw new ProtocolError(`leader ${r.leader} silent for ${this.now - r.lastHeardTick} ticks`);
    }
  }
}
