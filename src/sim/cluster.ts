/**
 * A simulated ensemble: N voters and M observers, each the ZabHost of src/server (the Ready
 * loop, recovery and storage code of `zablab server`) on a simulated disk, the network
 * between them, and the clients' writes. The cluster performs one input at a time (deliver a
 * message, tick a server, crash, restart, partition...) and then lets the hosts run until
 * they wait on something only the driver decides: an fsync, a turn of a snapshot write, a
 * message. Hosts schedule their work as microtasks and their disks never touch a real file,
 * timer or clock, so draining microtasks after each input makes every run exact: one seed,
 * one run.
 *
 * Who decides *when* things happen (message delays, fsync latency, faults) is the driver: the
 * seeded runner (runner.ts) or a scripted scenario (scenario.ts).
 */
import { zxidHex, type LoggedTxn } from '../jute/index.js';
import { StorageError } from '../storage/index.js';
import { ZabHost } from '../server/quorum/zab-host.js';
import type { FatalError } from '../server/fatal.js';
import type { Logger } from '../server/log.js';
import type { Envelope, Message, PeerEvent, PeerTicks, PersistOp, ServerId } from '../zab/index.js';
import { QuorumVerifier } from '../zab/index.js';
import { Checkers, type CheckerView } from './checkers.js';
import { serverDirs, type SimDisk } from './disk.js';
import { SimServer, type ServerRole } from './host.js';
import { Network, type InFlight } from './network.js';
import { Prng } from './prng.js';
import { appliedFromTree, decodeSync, decodeWrite, encodeSync, encodeWrite, writeIdOf, writeTxn } from './state.js';

export interface ClusterConfig {
  voters: number;
  observers: number;
  ticks: PeerTicks;
  committedLogMax: number;
  /**
   * A learner behind the txns in memory gets a DIFF from the txn log up to this × the
   * snapshot's size (ZabHostOptions.diffFromLog); negative or unset: a SNAP. Per server id, or one for all.
   */
  logSyncFactor?: number | Readonly<Record<number, number>>;
  /** The hosts snapshot after a random number of logged txns in [snapCount/2+1, snapCount]; 0 never. */
  snapCount: number;
  /** Txn log pre-allocation step in bytes (0: none). */
  preAllocSize?: number;
  /** Seed for the hosts' own choices (snapshot points). */
  hostSeed?: number;
  /** Servers that start down (scripted scenarios). */
  startDown?: readonly ServerId[];
}

/** Decides timing: the seeded runner or a scenario script. */
export interface ClusterDriver {
  /** Virtual-time delay for a message about to be sent from → to. */
  messageDelay(from: ServerId, to: ServerId): number;
  messageSent(m: InFlight): void;
  /** Server `s`'s storage waits for an fsync or a turn of a long write: call release() when it is done. */
  gate(s: SimServer, kind: 'sync' | 'yield', release: () => void): void;
  /** Server `s` stopped on its own (a storage error made it exit, or it could not start): bring it back later. */
  serverExited(s: SimServer): void;
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
  /** DIFFs that reached into the leader's txn log (the learner was behind the txns in memory). */
  logDiffSyncs: number;
  truncSyncs: number;
  snapSyncs: number;
  messagesSent: number;
  messagesDelivered: number;
  messagesLost: number;
  fsyncs: number;
  tornTails: number;
  hostSnapshots: number;
  /** Storage faults injected: flipped bits and lost writes at rest, errno failures. */
  damageInjected: number;
  errnoFaults: number;
  /** A server stopped itself on a storage error (and was restarted). */
  fatalExits: number;
  /** A server found damage to its acknowledged history and recovered it from a leader. */
  recoveries: number;
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
    logDiffSyncs: 0,
    truncSyncs: 0,
    snapSyncs: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    messagesLost: 0,
    fsyncs: 0,
    tornTails: 0,
    hostSnapshots: 0,
    damageInjected: 0,
    errnoFaults: 0,
    fatalExits: 0,
    recoveries: 0,
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

/** What survives a crash of un-synced writes. */
export type CrashKeep =
  /** A power loss: only what was fsynced. */
  | 'none'
  /** The process died, the machine did not: everything written is in the page cache. */
  | 'all'
  /** A power loss part-way through writeback: a random prefix per file (the generator decides). */
  | Prng;

export interface CrashOptions {
  keep?: CrashKeep;
  /** With a random prefix: the next write may be torn (a prefix of its bytes reached the disk). */
  torn?: boolean;
  /** The process died (its kernel resets the connections); false: a power loss or a hang. */
  reset?: boolean;
}

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
  private clock = 0;
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
      const s: SimServer = new SimServer(id, role, () => (kind, release) => this.gate(s, kind, release));
      this.servers.set(id, s);
    }
  }

  /** Virtual time; the disks see it too (their faults last until a time). */
  get now(): number {
    return this.clock;
  }

  set now(t: number) {
    this.clock = t;
    for (const s of this.servers.values()) s.disk.now = t;
  }

  /** Start every server not listed in `config.startDown`; resolves once they all started. */
  async boot(): Promise<void> {
    const down = new Set(this.config.startDown ?? []);
    const starts = this.ids.filter((id) => !down.has(id)).map((id) => this.startServer(this.server(id)));
    await this.settle();
    await Promise.all(starts);
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
    return this.ids.filter((id) => !this.server(id).up && !this.server(id).starting);
  }

  isAcked(writeId: number): boolean {
    return (this.writes.get(writeId)?.ackedAt ?? null) !== null;
  }

  // ---------- inputs ----------

  /**
   * Let the hosts run until each waits on the driver (an fsync, a yield, a message): their
   * work is microtasks only, and every microtask runs before the next turn of the event loop.
   */
  settle(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Deliver the head message of its pair (FIFO); it must be `m`. */
  async deliver(m: InFlight): Promise<void> {
    const head = this.network.head(m.from, m.to);
    if (head !== m) throw new Error(`deliver: message #${m.seq} ${m.from}→${m.to} is not the head of its connection`);
    this.network.shift(m.from, m.to);
    this.stats.messagesDelivered++;
    const host = this.server(m.to).host;
    if (!host) return; // Nobody listens: lost.
    if (this.trace) this.traceLine(() => `${m.from}→${m.to} ${describeMessage(m.msg)}`);
    host.step(m.from, m.msg);
    await this.settle();
  }

  /**
   * Deliver several messages (each the head of its connection when its turn comes) before the
   * hosts run, as a host that read them in one go would: their persist ops then land in one Ready.
   */
  async deliverBatch(ms: readonly InFlight[]): Promise<void> {
    for (const m of ms) {
      if (this.network.head(m.from, m.to) !== m) throw new Error(`deliverBatch: message #${m.seq} is not the head of its connection`);
      this.network.shift(m.from, m.to);
      this.stats.messagesDelivered++;
      const host = this.server(m.to).host;
      if (!host) continue;
      if (this.trace) this.traceLine(() => `${m.from}→${m.to} ${describeMessage(m.msg)} (batch)`);
      host.step(m.from, m.msg);
    }
    await this.settle();
  }

  async tick(id: ServerId): Promise<void> {
    const host = this.server(id).host;
    if (!host) return;
    host.tick();
    await this.settle();
  }

  /** The process stops (see CrashOptions for what its disk keeps). Connections are lost. */
  async crash(id: ServerId, opts: CrashOptions = {}): Promise<void> {
    const s = this.server(id);
    if (!s.host && !s.starting) return;
    this.kill(s, opts);
    this.stats.crashes++;
    if (opts.reset ?? true) this.resetPeersOf(id, { down: true });
    await this.settle();
  }

  /** Start a down server from its disk; resolves when it runs (or could not start). */
  async restart(id: ServerId): Promise<void> {
    const s = this.server(id);
    if (s.host || s.starting) return;
    // The new process's kernel resets whatever connections the peers still believe in.
    for (const o of this.ids) if (o !== id) this.network.dropPair(id, o);
    this.resetPeersOf(id);
    this.stats.restarts++;
    await this.startServer(s);
  }

  /** Cut `side` off from the rest; every connection across is reset. */
  async partition(side: readonly ServerId[]): Promise<void> {
    const pairs = this.network.partition(side);
    this.stats.partitions++;
    if (this.trace) this.traceLine(() => `partition [${side.join(',')}] | rest`);
    for (const [a, b] of pairs) this.disconnectPair(a, b);
    await this.settle();
  }

  heal(): void {
    if (!this.network.partitioned) return;
    this.network.heal();
    if (this.trace) this.traceLine(() => 'heal');
  }

  /** Reset the connection between a and b: in-flight messages are lost, both sides notice. */
  async dropConnection(a: ServerId, b: ServerId): Promise<void> {
    this.network.dropPair(a, b);
    this.stats.connectionDrops++;
    if (this.trace) this.traceLine(() => `drop connection ${a}-${b}`);
    this.disconnectPair(a, b);
    await this.settle();
  }

  /**
   * A client sends a write to server `id`. The leader proposes it; a learner forwards it to
   * the leader. Returns the write id, or null when the server does not serve.
   */
  async submitWrite(id: ServerId): Promise<number | null> {
    const s = this.server(id);
    const host = s.host;
    const peer = host?.peer;
    if (!host || !peer?.serving || s.pausedUntil > this.now) return null;
    if (this.writes.size >= WRITES_MAX) throw new Error(`more than ${WRITES_MAX} writes in one run`);
    const writeId = this.nextWriteId++;
    let taken: boolean;
    if (peer.state === 'LEADING') taken = peer.propose((z) => writeTxn(z, writeId)) !== null;
    else taken = peer.leaderId !== null && peer.sendApp(peer.leaderId, encodeWrite(writeId));
    host.pump();
    if (taken) {
      this.writes.set(writeId, { id: writeId, server: id, session: s.session, submittedAt: this.now, ackedAt: null });
      this.stats.writesSubmitted++;
      if (this.trace) this.traceLine(() => `client write w${writeId} at ${id}`);
    }
    await this.settle();
    return taken ? writeId : null;
  }

  /**
   * A client's SYNC at learner `id` (ZooKeeper's sync()): forwarded to the leader, answered
   * once everything the leader proposed before it is committed. When the answer arrives, the
   * learner must have applied every write acknowledged before the SYNC was sent.
   */
  async submitSync(id: ServerId): Promise<number | null> {
    const s = this.server(id);
    const host = s.host;
    const peer = host?.peer;
    if (!host || !peer?.serving || peer.state === 'LEADING' || peer.leaderId === null || s.pausedUntil > this.now) return null;
    if (this.syncs.size >= WRITES_MAX) throw new Error(`more than ${WRITES_MAX} syncs outstanding`);
    const syncId = this.nextSyncId++;
    const taken = peer.sendApp(peer.leaderId, encodeSync(syncId));
    host.pump();
    if (taken) {
      this.syncs.set(syncId, { server: id, session: s.session, ackedBefore: this.checkers.acked.length });
      if (this.trace) this.traceLine(() => `client sync #${syncId} at ${id}`);
    }
    await this.settle();
    return taken ? syncId : null;
  }

  // ---------- the hosts ----------

  private gate(s: SimServer, kind: 'sync' | 'yield', release: () => void): void {
    const incarnation = s.incarnation;
    s.pendingIo++;
    this.driver.gate(s, kind, () => {
      if (s.incarnation !== incarnation) return; // The process that waited is gone.
      s.pendingIo--;
      if (kind === 'sync') this.stats.fsyncs++;
      release();
    });
  }

  private kill(s: SimServer, opts: CrashOptions): void {
    s.host?.kill();
    s.host = null;
    s.starting = false;
    s.incarnation++;
    s.pendingIo = 0;
    s.ops.length = 0;
    s.opsDone.clear();
    s.applied = [];
    s.pausedUntil = 0;
    s.fsyncHeld = false; // A new process: the scenario's hold was on the old one.
    const keep = opts.keep ?? 'none';
    s.disk.crash(
      keep === 'none'
        ? {}
        : keep === 'all'
          ? { keepFileOps: (_f, n) => n, keepDirOps: (_d, n) => n }
          : {
              keepFileOps: (_f, n) => keep.int(0, n),
              keepDirOps: (_d, n) => keep.int(0, n),
              ...(opts.torn ? { tornBytes: (_f: string, n: number) => keep.int(0, n) } : {}),
            },
    );
    for (const o of this.ids) if (o !== s.id) this.network.dropPair(s.id, o);
    if (this.trace) this.traceLine(() => `crash ${s.id} (keeping ${keep instanceof Prng ? 'a prefix' : keep} of what was not fsynced${opts.torn ? ', maybe torn' : ''})`);
  }

  private async startServer(s: SimServer): Promise<void> {
    s.starting = true;
    s.incarnation++;
    const incarnation = s.incarnation;
    const { dataDir, versionDir } = serverDirs(s.id);
    let host: ZabHost;
    try {
      host = await ZabHost.open({
        peer: { id: s.id, quorum: this.quorum, ticks: this.config.ticks, committedLogMax: this.config.committedLogMax },
        layout: {
          fs: s.disk.fs,
          dataDir,
          snapDir: versionDir,
          logDir: versionDir,
          preAllocSize: this.config.preAllocSize ?? 0,
          maxTxnSize: 64 * 1024,
        },
        snapCount: this.config.snapCount > 0 ? this.config.snapCount : Number.MAX_SAFE_INTEGER,
        diffFromLog: { sizeFactor: this.logSyncFactorOf(s.id), maxBytes: Number.MAX_SAFE_INTEGER },
        log: this.logger(s),
        random: () => this.hostRng.float(),
        schedule: (fn) => queueMicrotask(fn),
        send: (to, msg) => this.transmit(s, to, msg),
        apply: (txn) => this.apply(s, txn),
        onEvent: (e) => this.onEvent(s, e),
        onFatal: (err) => this.onFatal(s, err),
        observer: {
          persisting: (op) => this.persisting(s, op),
          persisted: (op) => {
            const o = s.ops.find((x) => x.op === op);
            if (o !== undefined) o.done = true;
            while (s.ops[0]?.done === true) s.ops.shift();
            s.opsDone.set(op.kind, (s.opsDone.get(op.kind) ?? 0) + 1);
          },
          snapshotInstalled: (zxid) => this.snapshotInstalled(s, zxid),
          snapshot: (taken) => {
            this.stats.hostSnapshots++;
            return taken;
          },
        },
      });
    } catch (err) {
      if (s.incarnation !== incarnation) return; // Crashed while starting.
      s.starting = false;
      if (isOperatingError(err)) {
        if (this.trace) this.traceLine(() => `${s.id} could not start: ${String(err)}`);
        this.driver.serverExited(s);
        return;
      }
      this.checkers.fail('host', `server ${s.id} failed to start from its disk: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return;
    }
    if (s.incarnation !== incarnation) {
      host.kill();
      return;
    }
    s.starting = false;
    s.host = host;
    s.session++;
    s.applied = appliedFromTree(host.db.tree, host.db.lastProcessedZxid);
    if (host.peer.isRecovering) this.stats.recoveries++;
    this.checkers.onRestore(s.id, s.applied);
    if (this.trace) {
      this.traceLine(
        () =>
          `start ${s.id} (applied ${s.applied.length}, logged to ${zxidHex(host.peer.lastLoggedZxid)}, epochs ${host.peer.epochs.accepted}/${host.peer.epochs.current}${host.peer.isRecovering ? ', RECOVERING' : ''})`,
      );
    }
    host.pump();
    await this.settle();
  }

  /** A fatal error stopped the host: a storage error is the process exiting (a supervisor restarts it); anything else is a bug. */
  private onFatal(s: SimServer, err: FatalError): void {
    if (!isOperatingError(err.cause ?? err)) {
      this.checkers.fail('host', `server ${s.id}: ${err.message}`);
      return;
    }
    this.stats.fatalExits++;
    if (this.trace) this.traceLine(() => `${s.id} exits: ${err.message.split('\n')[0]}`);
    this.kill(s, { keep: 'all' });
    this.resetPeersOf(s.id, { down: true });
    this.driver.serverExited(s);
  }

  /**
   * The peers' connections to `id` are reset. `down`: its process is gone, so they know it
   * is not running (a restart does not tell them it is back: they learn it from its messages,
   * which leaves a window where a running server is believed down).
   */
  private resetPeersOf(id: ServerId, how: { down?: boolean } = {}): void {
    for (const o of this.ids) {
      if (o === id) continue;
      this.server(o).host?.disconnected(id);
      if (how.down === true) this.server(o).host?.peerDown(id);
    }
  }

  private disconnectPair(a: ServerId, b: ServerId): void {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      if (this.server(y).up) this.server(x).host?.disconnected(y);
    }
  }

  private persisting(s: SimServer, op: PersistOp): void {
    if (op.kind === 'append') for (const t of op.txns) this.checkers.onLogAppend(s.id, t);
    else if (op.kind === 'truncate') this.checkers.onTruncate(s.id, op.zxid, s.applied);
    else if (op.kind === 'recovered') {
      if (this.trace) this.traceLine(() => `${s.id} recovered its history from the leader`);
    }
    s.ops.push({ op, done: false });
  }

  private snapshotInstalled(s: SimServer, zxid: bigint): void {
    const host = s.host;
    if (!host) return;
    const before = s.applied;
    const after = appliedFromTree(host.db.tree, zxid);
    this.checkers.onInstallSnapshot(s.id, before, after);
    s.applied = after;
    if (this.trace) this.traceLine(() => `${s.id} installs a snapshot of ${after.length} txns`);
  }

  private apply(s: SimServer, txn: LoggedTxn): void {
    const host = s.host;
    if (!host) return;
    host.db.applyTxn(txn);
    const writeId = writeIdOf(txn);
    if (writeId === null) return;
    const zxid = txn.hdr.zxid;
    s.applied.push({ zxid, writeId });
    this.stats.applied++;
    this.checkers.onApply(s.id, s.applied);
    const w = this.writes.get(writeId);
    if (w && w.ackedAt === null && w.server === s.id && w.session === s.session) {
      w.ackedAt = this.now;
      this.stats.writesAcked++;
      this.checkers.onWriteAcked({ writeId: w.id, zxid, index: s.applied.length - 1, server: s.id, time: this.now });
    }
  }

  /** A server-level payload: a forwarded write or SYNC at the leader, a SYNC answer at a learner. */
  private onApp(s: SimServer, from: ServerId, payload: Uint8Array): void {
    const host = s.host;
    if (!host) return;
    const peer = host.peer;
    const syncId = decodeSync(payload);
    if (peer.state === 'LEADING') {
      const writeId = decodeWrite(payload);
      // The leader's request pipeline: a forwarded write is proposed, a SYNC answered after the commits before it.
      if (writeId !== null) {
        if (peer.propose((z) => writeTxn(z, writeId)) === null && this.trace) this.traceLine(() => `${s.id} drops a forwarded write`);
      } else if (syncId !== null) {
        peer.sendAppAfterCommit(from, payload);
      }
      host.pump();
      return;
    }
    if (syncId === null) return;
    const sync = this.syncs.get(syncId);
    if (!sync || sync.server !== s.id || sync.session !== s.session) return;
    this.syncs.delete(syncId);
    this.stats.syncsAnswered++;
    this.checkers.onSyncAnswered(s.id, syncId, sync.ackedBefore, s.applied);
  }

  private onEvent(s: SimServer, e: PeerEvent): void {
    switch (e.kind) {
      case 'serving':
        if (this.trace) this.traceLine(() => `${s.id} serving as ${e.state} in epoch ${e.epoch} (leader ${e.leader}, applied ${s.applied.length})`);
        if (e.state === 'LEADING') {
          this.stats.establishments++;
          this.checkers.onLeaderServing(s.id, e.epoch, s.applied);
        }
        return;
      case 'app':
        this.onApp(s, e.from, e.payload);
        return;
      case 'elected':
        if (e.state === 'LEADING') this.stats.elections++;
        if (this.trace) this.traceLine(() => `${s.id} elected ${e.leader} (${e.state}) in election epoch ${e.electionEpoch}`);
        return;
      case 'committed':
        this.stats.commits++;
        return;
      case 'learnerSynced':
        if (e.mode === 'DIFF') this.stats.diffSyncs++;
        if (e.fromLog) this.stats.logDiffSyncs++;
        else if (e.mode === 'TRUNC') this.stats.truncSyncs++;
        else this.stats.snapSyncs++;
        if (this.trace) this.traceLine(() => `${s.id} synced learner ${e.learner} by ${e.mode}${e.fromLog ? ' from its log' : ''} (${e.txns} txns)`);
        return;
      case 'looking':
        s.session++;
        if (this.trace) this.traceLine(() => `${s.id} LOOKING (${e.reason})`);
        return;
      case 'stalled':
      case 'discovered':
      case 'synced':
      case 'learnerLost':
        if (this.trace) this.traceLine(() => `${s.id} ${e.kind} ${JSON.stringify(e, bigintJson)}`);
        return;
    }
  }

  private transmit(s: SimServer, to: ServerId, msg: Message): void {
    const host = s.host;
    if (!host) return;
    this.checkers.onSend(s.id, to, msg, host.peer, s.disk);
    this.stats.messagesSent++;
    if (!this.servers.has(to)) return;
    const m = this.network.send(s.id, to, msg, this.now, this.now + this.driver.messageDelay(s.id, to));
    if (m === null) {
      this.stats.messagesLost++;
      return;
    }
    this.driver.messageSent(m);
  }

  /** The hosts' log lines go to the transcript, without timings (they are the machine's, not the run's). */
  private logSyncFactorOf(id: ServerId): number {
    const f = this.config.logSyncFactor ?? -1;
    return typeof f === 'number' ? f : (f[id] ?? -1);
  }

  private logger(s: SimServer): Logger {
    const line = (level: string) => (msg: string, fields?: object) => {
      if (/torn tail/.test(msg)) this.stats.tornTails++;
      if (!this.trace) return;
      const kept = fields === undefined ? undefined : Object.fromEntries(Object.entries(fields).filter(([k]) => !/ms$/i.test(k)));
      this.traceLine(() => `${s.id} ${level} ${msg}${kept === undefined ? '' : ' ' + JSON.stringify(kept, bigintJson)}`);
    };
    return { debug: () => undefined, info: line('info'), warn: line('WARN'), error: line('ERROR') };
  }

  traceLine(make: () => string): void {
    if (this.trace) this.trace(`[t=${this.now}] ${make()}`);
  }
}

/** A storage error of the operating kind (an errno from the disk), as opposed to a bug. */
function isOperatingError(err: unknown): boolean {
  return err instanceof StorageError && (err.code === 'ZABLAB_STORAGE_IO' || err.code === 'ZABLAB_STORAGE_FAILED');
}

function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** One line for a message in a transcript. */
export function describeMessage(msg: Envelope['msg']): string {
  switch (msg.kind) {
    case 'notification':
      return `notification ${msg.state} leader=${msg.leader} zxid=${zxidHex(msg.zxid)} round=${msg.electionEpoch} epoch=${msg.peerEpoch}${msg.recovering ? ' recovering' : ''}`;
    case 'followerinfo':
      return `${msg.observer ? 'observerinfo' : 'followerinfo'} accepted=${msg.acceptedEpoch} last=${zxidHex(msg.lastZxid)}${msg.recovering ? ' recovering' : ''}`;
    case 'leaderinfo':
      return `leaderinfo epoch=${msg.newEpoch}`;
    case 'ackepoch':
      return `ackepoch epoch=${msg.epoch} current=${msg.currentEpoch} last=${zxidHex(msg.lastZxid)}`;
    case 'proposal':
    case 'inform':
      return `${msg.kind} ${zxidHex(msg.txn.zxid)}`;
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
