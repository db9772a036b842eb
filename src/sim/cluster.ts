/**
 * A simulated ensemble: N voters and M observers, each a ZAB `Peer` on a simulated host, the
 * network between them, their disks, and the clients' writes. The cluster performs one input
 * at a time (deliver a message, tick a server, finish an fsync, crash, restart, partition...)
 * and runs the host loop after it, exactly as the Ready contract in src/zab/peer.ts says:
 *
 *   takeMessages() → network;  ready() → disk (un-fsynced);  fsync done → install snapshot,
 *   apply txns, record events → advance(ready).
 *
 * Who decides *when* things happen (message delays, fsync latency, faults) is the driver: the
 * seeded runner (runner.ts) or a scripted scenario (scenario.ts).
 */
import type { Envelope, PeerConfig, PeerEvent, PeerTicks, PersistOp, ServerId, Txn } from '../zab/index.js';
import { QuorumVerifier, zxidHex } from '../zab/index.js';
import { Checkers, type CheckerView } from './checkers.js';
import { SimDisk, SimDiskError } from './disk.js';
import { SimServer, type ServerRole } from './host.js';
import { Network, type InFlight } from './network.js';
import { Prng } from './prng.js';
import {
  decodeSnapshot,
  decodeSync,
  decodeWrite,
  encodeSnapshot,
  encodeSync,
  encodeWrite,
  SimStateError,
  type AppliedEntry,
} from './state.js';

export interface ClusterConfig {
  voters: number;
  observers: number;
  ticks: PeerTicks;
  committedLogMax: number;
  /** The host snapshots after a random number of applied txns in [snapCount/2+1, snapCount]; 0 never. */
  snapCount: number;
  /**
   * Apply a Ready's committed txns before its fsync completes (as src/server does) unless it
   * truncates or installs a snapshot; false: apply after the fsync.
   */
  applyBeforeFsync?: boolean;
  /** Seed for the hosts' own choices (snapshot points). */
  hostSeed?: number;
  /** Initial durable disks by server id (scripted scenarios); the others start empty. */
  disks?: ReadonlyMap<ServerId, SimDisk>;
  /** Servers that start crashed (scripted scenarios). */
  startDown?: readonly ServerId[];
}

/** Decides timing: the seeded runner or a scenario script. */
export interface ClusterDriver {
  /** Virtual-time delay for a message about to be sent from → to. */
  messageDelay(from: ServerId, to: ServerId): number;
  messageSent(m: InFlight): void;
  /** Server `s` wrote a Ready to its disk and waits for the fsync; call `completeFsync(s.id)` later. */
  fsyncStarted(s: SimServer): void;
}

export interface SimStats {
  ticks: number;
  elections: number;
  establishments: number;
  commits: number;
  applied: number;
  crashes: number;
  restarts: number;
  partitions: number;
  connectionDrops: number;
  pauses: number;
  writesSubmitted: number;
  writesAcked: number;
  syncsAnswered: number;
  diffSyncs: number;
  truncSyncs: number;
  snapSyncs: number;
  messagesSent: number;
  messagesDelivered: number;
  messagesLost: number;
  fsyncs: number;
  tornTails: number;
  hostSnapshots: number;
  /** Servers left out at the end: accepted epoch above the leader's (see runner.ts). */
  excludedByEpoch: number;
}

export function emptyStats(): SimStats {
  return {
    ticks: 0,
    elections: 0,
    establishments: 0,
    commits: 0,
    applied: 0,
    crashes: 0,
    restarts: 0,
    partitions: 0,
    connectionDrops: 0,
    pauses: 0,
    writesSubmitted: 0,
    writesAcked: 0,
    syncsAnswered: 0,
    diffSyncs: 0,
    truncSyncs: 0,
    snapSyncs: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    messagesLost: 0,
    fsyncs: 0,
    tornTails: 0,
    hostSnapshots: 0,
    excludedByEpoch: 0,
  };
}

interface WriteRecord {
  readonly id: number;
  /** The server that took the write from the client, and its session there. */
  readonly server: ServerId;
  readonly session: number;
  readonly submittedAt: number;
  ackedAt: number | null;
}

/** How much of the un-fsynced data survives a crash. */
export type CrashKeep = 'none' | 'all' | number | ((pending: readonly PersistOp[]) => number);

export interface CrashOptions {
  keep?: CrashKeep;
  /** The op after the kept ones, if an append, leaves a torn record behind. */
  torn?: boolean;
  /** The process died (its kernel resets the connections); false: a power loss or a hang. */
  reset?: boolean;
}

/** Bound on host-loop rounds after one input (each round takes messages and at most one Ready). */
const PUMP_ROUNDS_MAX = 10_000;
/** Bound on writes tracked in one run. */
export const WRITES_MAX = 1_000_000;

export class Cluster implements CheckerView {
  readonly servers = new Map<ServerId, SimServer>();
  readonly ids: ServerId[];
  readonly voterIds: ServerId[];
  readonly observerIds: ServerId[];
  readonly quorum: QuorumVerifier;
  readonly network: Network;
  readonly checkers: Checkers;
  readonly stats: SimStats = emptyStats();
  now = 0;
  /** Optional transcript of what happens (scenarios and --trace). */
  trace: ((line: string) => void) | null = null;
  private readonly writes = new Map<number, WriteRecord>();
  private nextWriteId = 1;
  /** Outstanding SYNCs: id → the learner that forwarded it and what was acknowledged by then. */
  private readonly syncs = new Map<number, { server: ServerId; session: number; ackedBefore: number }>();
  private nextSyncId = 1;
  private readonly hostRng: Prng;

  constructor(
    readonly config: ClusterConfig,
    private readonly driver: ClusterDriver,
  ) {
    if (config.voters < 1) throw new RangeError('a cluster needs at least one voter');
    this.voterIds = Array.from({ length: config.voters }, (_, i) => i + 1);
    this.observerIds = Array.from({ length: config.observers }, (_, i) => config.voters + i + 1);
    this.ids = [...this.voterIds, ...this.observerIds];
    this.quorum = new QuorumVerifier(this.voterIds, this.observerIds);
    this.network = new Network(this.ids);
    this.checkers = new Checkers(this);
    this.hostRng = new Prng(config.hostSeed ?? 1);
    for (const id of this.ids) {
      const role: ServerRole = this.quorum.isVoter(id) ? 'voter' : 'observer';
      this.servers.set(id, new SimServer(id, role, config.disks?.get(id) ?? new SimDisk()));
    }
    for (const s of this.servers.values()) this.scheduleSnapshot(s);
  }

  /** Start every server not listed in `config.startDown` (after the driver is ready). */
  boot(): void {
    const down = new Set(this.config.startDown ?? []);
    for (const id of this.ids) {
      const s = this.server(id);
      if (!down.has(id) && !s.up) this.guard(() => this.startServer(s));
    }
  }

  // ---------- CheckerView ----------

  get quorumSize(): number {
    return this.quorum.quorumSize;
  }

  disk(id: ServerId): SimDisk {
    return this.server(id).disk;
  }

  // ---------- queries ----------

  server(id: ServerId): SimServer {
    const s = this.servers.get(id);
    if (!s) throw new RangeError(`no server ${id} in this cluster`);
    return s;
  }

  get ok(): boolean {
    return this.checkers.ok;
  }

  /** Leaders in broadcast phase. */
  servingLeaders(): ServerId[] {
    const out: ServerId[] = [];
    for (const s of this.servers.values()) if (s.peer?.serving && s.peer.state === 'LEADING') out.push(s.id);
    return out;
  }

  upIds(): ServerId[] {
    return this.ids.filter((id) => this.server(id).up);
  }

  downIds(): ServerId[] {
    return this.ids.filter((id) => !this.server(id).up);
  }

  isAcked(writeId: number): boolean {
    return (this.writes.get(writeId)?.ackedAt ?? null) !== null;
  }

  // ---------- inputs ----------

  /** Deliver the head message of its pair (FIFO); it must be `m`. */
  deliver(m: InFlight): void {
    const head = this.network.head(m.from, m.to);
    if (head !== m) throw new Error(`deliver: message #${m.seq} ${m.from}→${m.to} is not the head of its connection`);
    this.network.shift(m.from, m.to);
    this.stats.messagesDelivered++;
    const s = this.server(m.to);
    const peer = s.peer;
    if (!peer) return; // Nobody listens: lost.
    if (this.trace) this.traceLine(() => `${m.from}→${m.to} ${describeMessage(m.msg)}`);
    this.guard(() => {
      peer.step(m.from, m.msg);
      this.pump(s);
    });
  }

  /**
   * Deliver several messages (each the head of its connection when its turn comes) and run
   * the host loop once per receiver afterwards, as a host that read them in one go would:
   * their persist ops then land in one Ready.
   */
  deliverBatch(ms: readonly InFlight[]): void {
    const touched = new Set<SimServer>();
    this.guard(() => {
      for (const m of ms) {
        if (this.network.head(m.from, m.to) !== m) throw new Error(`deliverBatch: message #${m.seq} is not the head of its connection`);
        this.network.shift(m.from, m.to);
        this.stats.messagesDelivered++;
        const s = this.server(m.to);
        if (!s.peer) continue;
        if (this.trace) this.traceLine(() => `${m.from}→${m.to} ${describeMessage(m.msg)} (batch)`);
        s.peer.step(m.from, m.msg);
        touched.add(s);
      }
      for (const s of touched) this.pump(s);
    });
  }

  tick(id: ServerId): void {
    const s = this.server(id);
    const peer = s.peer;
    if (!peer) return;
    this.guard(() => {
      peer.tick();
      this.pump(s);
    });
  }

  completeFsync(id: ServerId): void {
    const s = this.server(id);
    if (!s.peer || !s.ready) throw new Error(`completeFsync: server ${id} has no fsync outstanding`);
    this.guard(() => {
      s.disk.fsync();
      this.stats.fsyncs++;
      this.finishReady(s);
      this.pump(s);
    });
  }

  crash(id: ServerId, opts: CrashOptions = {}): void {
    const s = this.server(id);
    if (!s.peer) return;
    const pending = s.disk.pending;
    const keep = opts.keep ?? 'none';
    const k =
      keep === 'none' ? 0 : keep === 'all' ? pending.length : typeof keep === 'number' ? keep : keep(pending);
    s.crash(k, opts.torn ?? false);
    this.stats.crashes++;
    if (this.trace) this.traceLine(() => `crash ${id} (kept ${k} of ${pending.length} un-fsynced ops${opts.torn ? ', torn tail' : ''})`);
    for (const o of this.ids) if (o !== id) this.network.dropPair(id, o);
    if (opts.reset ?? true) this.resetPeersOf(id);
  }

  restart(id: ServerId): void {
    const s = this.server(id);
    if (s.peer) return;
    this.guard(() => {
      // The new process's kernel resets whatever connections the peers still believe in.
      for (const o of this.ids) if (o !== id) this.network.dropPair(id, o);
      this.resetPeersOf(id);
      this.startServer(s);
      this.stats.restarts++;
    });
  }

  /** Cut `side` off from the rest; every connection across is reset. */
  partition(side: readonly ServerId[]): void {
    const pairs = this.network.partition(side);
    this.stats.partitions++;
    if (this.trace) this.traceLine(() => `partition [${side.join(',')}] | rest`);
    this.guard(() => {
      for (const [a, b] of pairs) this.disconnectPair(a, b);
    });
  }

  heal(): void {
    if (!this.network.partitioned) return;
    this.network.heal();
    if (this.trace) this.traceLine(() => 'heal');
  }

  /** Reset the connection between a and b: in-flight messages are lost, both sides notice. */
  dropConnection(a: ServerId, b: ServerId): void {
    this.network.dropPair(a, b);
    this.stats.connectionDrops++;
    if (this.trace) this.traceLine(() => `drop connection ${a}-${b}`);
    this.guard(() => this.disconnectPair(a, b));
  }

  /**
   * A client sends a write to server `id`. The leader proposes it; a learner forwards it to
   * the leader. Returns the write id, or null when the server does not serve.
   */
  submitWrite(id: ServerId): number | null {
    const s = this.server(id);
    const peer = s.peer;
    if (!peer?.serving || s.pausedUntil > this.now) return null;
    if (this.writes.size >= WRITES_MAX) throw new Error(`more than ${WRITES_MAX} writes in one run`);
    const writeId = this.nextWriteId++;
    const payload = encodeWrite(writeId);
    let taken = false;
    this.guard(() => {
      if (peer.state === 'LEADING') taken = peer.propose(() => payload) !== null;
      else taken = peer.leaderId !== null && peer.sendApp(peer.leaderId, payload);
      this.pump(s);
    });
    if (!taken) return null;
    this.writes.set(writeId, { id: writeId, server: id, session: s.session, submittedAt: this.now, ackedAt: null });
    this.stats.writesSubmitted++;
    if (this.trace) this.traceLine(() => `client write w${writeId} at ${id}`);
    return writeId;
  }

  /**
   * A client's SYNC at learner `id` (ZooKeeper's sync()): forwarded to the leader, answered
   * once everything the leader proposed before it is committed. When the answer arrives, the
   * learner must have applied every write acknowledged before the SYNC was sent.
   */
  submitSync(id: ServerId): number | null {
    const s = this.server(id);
    const peer = s.peer;
    if (!peer?.serving || peer.state === 'LEADING' || peer.leaderId === null || s.pausedUntil > this.now) return null;
    if (this.syncs.size >= WRITES_MAX) throw new Error(`more than ${WRITES_MAX} syncs outstanding`);
    const syncId = this.nextSyncId++;
    const leader = peer.leaderId;
    let taken = false;
    this.guard(() => {
      taken = peer.sendApp(leader, encodeSync(syncId));
      this.pump(s);
    });
    if (!taken) return null;
    this.syncs.set(syncId, { server: id, session: s.session, ackedBefore: this.checkers.acked.length });
    if (this.trace) this.traceLine(() => `client sync #${syncId} at ${id}`);
    return syncId;
  }

  /** Run `fn`; an exception from the core (or the host) is a violation, not a crash of the simulator. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const where = err.stack?.split('\n').slice(1, 3).join(' ').trim() ?? '';
      const hostError = e instanceof SimDiskError || e instanceof SimStateError;
      this.checkers.fail(hostError ? 'host' : 'core', `${err.message} ${where}`);
    }
  }

  // ---------- host loop ----------

  private startServer(s: SimServer): void {
    const cfg: PeerConfig = {
      id: s.id,
      quorum: this.quorum,
      ticks: this.config.ticks,
      committedLogMax: this.config.committedLogMax,
    };
    const { tornDropped } = s.start(cfg);
    if (tornDropped) this.stats.tornTails++;
    this.checkers.onRestore(s.id, s.applied);
    if (this.trace) this.traceLine(() => `start ${s.id} (applied ${s.applied.length}, log ${s.disk.log.length}, epochs ${s.disk.acceptedEpoch}/${s.disk.currentEpoch})`);
    this.pump(s);
  }

  private resetPeersOf(id: ServerId): void {
    for (const o of this.ids) {
      const peer = this.server(o).peer;
      if (o === id || !peer) continue;
      peer.disconnected(id);
      this.pump(this.server(o));
    }
  }

  private disconnectPair(a: ServerId, b: ServerId): void {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const s = this.server(x);
      if (!s.peer || !this.server(y).up) continue;
      s.peer.disconnected(y);
      this.pump(s);
    }
  }

  /** After an input: send what may be sent, hand the next Ready to the disk. */
  private pump(s: SimServer): void {
    for (let round = 0; round < PUMP_ROUNDS_MAX; round++) {
      const peer = s.peer;
      if (!peer) return;
      for (const env of peer.takeMessages()) this.transmit(s, env);
      if (s.ready !== null || !peer.hasReady()) return;
      const rd = peer.ready();
      s.ready = rd;
      s.readyApplied = false;
      this.writeReady(s, rd.persist);
      // Committed txns may be applied before the fsync (Ready contract 2), unless the Ready
      // rewrites history: the host of src/server does so, and so may ours.
      if (this.config.applyBeforeFsync && !rd.persist.some((op) => op.kind === 'truncate' || op.kind === 'installSnapshot')) {
        this.applyAll(s, rd.apply);
        s.readyApplied = true;
      }
      if (rd.persist.length === 0) {
        this.finishReady(s);
        continue;
      }
      this.driver.fsyncStarted(s);
      return;
    }
    throw new Error(`server ${s.id}: host loop did not settle after ${PUMP_ROUNDS_MAX} rounds`);
  }

  private writeReady(s: SimServer, ops: readonly PersistOp[]): void {
    for (const op of ops) {
      if (op.kind === 'append') for (const t of op.txns) this.checkers.onLogAppend(s.id, t);
      else if (op.kind === 'truncate') this.checkers.onTruncate(s.id, op.zxid, s.applied);
    }
    s.disk.write(ops);
  }

  /** The Ready's persist ops are durable: install, apply, record events, advance. */
  private finishReady(s: SimServer): void {
    const rd = s.ready;
    const peer = s.peer;
    if (!rd || !peer) throw new Error(`server ${s.id}: finishReady without an outstanding Ready`);
    for (const op of rd.persist) if (op.kind === 'installSnapshot') this.installSnapshot(s, op.snapshot);
    if (!s.readyApplied) this.applyAll(s, rd.apply);
    s.ready = null;
    peer.advance(rd);
    const forwarded: Uint8Array[] = [];
    for (const e of rd.events) this.onEvent(s, e, forwarded);
    // Writes forwarded by learners: the leader's request pipeline proposes them.
    for (const payload of forwarded) {
      if (peer.propose(() => payload) === null && this.trace) this.traceLine(() => `${s.id} drops a forwarded write`);
    }
  }

  private applyAll(s: SimServer, txns: readonly Txn[]): void {
    for (const t of txns) this.apply(s, { zxid: t.zxid, writeId: decodeWrite(t.data) });
    if (txns.length > 0) this.maybeSnapshot(s);
  }

  /** A server-level payload: a forwarded write or SYNC at the leader, a SYNC answer at a learner. */
  private onApp(s: SimServer, from: ServerId, payload: Uint8Array, forwarded: Uint8Array[]): void {
    const peer = s.peer;
    if (!peer) return;
    const syncId = decodeSync(payload);
    if (peer.state === 'LEADING') {
      if (syncId === null) forwarded.push(payload);
      else peer.sendAppAfterCommit(from, payload);
      return;
    }
    if (syncId === null) return;
    const sync = this.syncs.get(syncId);
    if (!sync || sync.server !== s.id || sync.session !== s.session) return;
    this.syncs.delete(syncId);
    this.stats.syncsAnswered++;
    this.checkers.onSyncAnswered(s.id, syncId, sync.ackedBefore, s.applied);
  }

  private installSnapshot(s: SimServer, bytes: Uint8Array): void {
    const before = s.applied;
    const after = decodeSnapshot(bytes);
    this.checkers.onInstallSnapshot(s.id, before, after);
    s.applied = after;
    if (this.trace) this.traceLine(() => `${s.id} installs a snapshot of ${after.length} txns`);
  }

  private apply(s: SimServer, e: AppliedEntry): void {
    s.applied.push(e);
    this.stats.applied++;
    this.checkers.onApply(s.id, s.applied);
    const w = this.writes.get(e.writeId);
    if (w && w.ackedAt === null && w.server === s.id && w.session === s.session) {
      w.ackedAt = this.now;
      this.stats.writesAcked++;
      this.checkers.onWriteAcked({ writeId: w.id, zxid: e.zxid, index: s.applied.length - 1, server: s.id, time: this.now });
    }
  }

  private onEvent(s: SimServer, e: PeerEvent, forwarded: Uint8Array[]): void {
    switch (e.kind) {
      case 'serving':
        if (this.trace) this.traceLine(() => `${s.id} serving as ${e.state} in epoch ${e.epoch} (leader ${e.leader}, applied ${s.applied.length})`);
        if (e.state === 'LEADING') {
          this.stats.establishments++;
          this.checkers.onLeaderServing(s.id, e.epoch, s.applied);
        }
        return;
      case 'app':
        this.onApp(s, e.from, e.payload, forwarded);
        return;
      case 'elected':
        if (e.state === 'LEADING') this.stats.elections++;
        if (this.trace) this.traceLine(() => `${s.id} elected ${e.leader} (${e.state}) in election epoch ${e.electionEpoch}`);
        return;
      case 'committed':
        this.stats.commits++;
        return;
      case 'stalled':
        return;
      case 'learnerSynced':
        if (e.mode === 'DIFF') this.stats.diffSyncs++;
        else if (e.mode === 'TRUNC') this.stats.truncSyncs++;
        else this.stats.snapSyncs++;
        if (this.trace) this.traceLine(() => `${s.id} synced learner ${e.learner} by ${e.mode} (${e.txns} txns)`);
        return;
      case 'looking':
        s.session++;
        if (this.trace) this.traceLine(() => `${s.id} LOOKING (${e.reason})`);
        return;
      case 'discovered':
      case 'synced':
      case 'learnerLost':
        if (this.trace) this.traceLine(() => `${s.id} ${e.kind} ${JSON.stringify(e, bigintJson)}`);
        return;
    }
  }

  private transmit(s: SimServer, env: Envelope): void {
    let msg = env.msg;
    if (msg.kind === 'snap') {
      // The host ships its applied state; it must be exactly the state at the announced zxid.
      if (s.lastAppliedZxid !== msg.zxid) {
        this.checkers.fail(
          'host',
          `server ${s.id} must send a snapshot at ${zxidHex(msg.zxid)} but its state machine has applied up to ${zxidHex(s.lastAppliedZxid)}`,
        );
      }
      msg = { kind: 'snap', zxid: msg.zxid, snapshot: encodeSnapshot(s.applied) };
    }
    if (s.peer) this.checkers.onSend(s.id, env.to, msg, s.peer, s.disk);
    this.stats.messagesSent++;
    const target = this.servers.get(env.to);
    if (!target) return;
    const m = this.network.send(s.id, env.to, msg, this.now, this.now + this.driver.messageDelay(s.id, env.to));
    if (m === null) {
      this.stats.messagesLost++;
      return;
    }
    this.driver.messageSent(m);
  }

  private scheduleSnapshot(s: SimServer): void {
    const n = this.config.snapCount;
    s.nextSnapshotAt = n > 0 ? s.applied.length + this.hostRng.int(Math.floor(n / 2) + 1, n) : Number.POSITIVE_INFINITY;
  }

  private maybeSnapshot(s: SimServer): void {
    if (s.applied.length < s.nextSnapshotAt) return;
    const last = s.applied[s.applied.length - 1];
    if (!last) return;
    s.disk.saveSnapshot({ zxid: last.zxid, entries: s.applied.slice() });
    this.stats.hostSnapshots++;
    this.scheduleSnapshot(s);
  }

  private traceLine(make: () => string): void {
    if (this.trace) this.trace(`[t=${this.now}] ${make()}`);
  }
}

function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** One line for a message in a transcript. */
export function describeMessage(msg: Envelope['msg']): string {
  switch (msg.kind) {
    case 'notification':
      return `notification ${msg.state} leader=${msg.leader} zxid=${zxidHex(msg.zxid)} round=${msg.electionEpoch} epoch=${msg.peerEpoch}`;
    case 'followerinfo':
      return `${msg.observer ? 'observerinfo' : 'followerinfo'} accepted=${msg.acceptedEpoch} last=${zxidHex(msg.lastZxid)}`;
    case 'leaderinfo':
      return `leaderinfo epoch=${msg.newEpoch}`;
    case 'ackepoch':
      return `ackepoch current=${msg.currentEpoch} last=${zxidHex(msg.lastZxid)}`;
    case 'proposal':
    case 'inform':
      return `${msg.kind} ${zxidHex(msg.txn.zxid)} w${decodeWrite(msg.txn.data)}`;
    case 'snap':
      return `snap ${zxidHex(msg.zxid)}`;
    case 'app':
      return `app ${msg.payload.length} bytes`;
    case 'diff':
    case 'trunc':
    case 'commit':
    case 'newleader':
    case 'ack':
    case 'uptodate':
    case 'ping':
    case 'pingreply':
      return `${msg.kind} ${zxidHex(msg.zxid)}`;
  }
}
