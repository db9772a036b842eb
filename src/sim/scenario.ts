/**
 * Scripted scenarios (etcd raft's interaction tests, as a TypeScript builder): every step is
 * explicit — deliver these messages, hold that server's fsyncs, crash it at exactly this
 * point of its persisting, restart, partition — and the same checkers as the seeded runs
 * watch every step. Nothing happens unless the script says so: messages wait in the network
 * until delivered, fsyncs finish only in stabilize()/fsync(), peers tick only in tick().
 * The servers are the ZabHost of src/server on simulated disks, so every step is async.
 *
 *   const s = await Scenario.start({ voters: 3 });
 *   await s.runUntil(() => s.leader() === 3);
 *   const w = await s.write(3);
 *   await s.stabilize();
 *   s.expectOk();
 */
import { decodeLoggedTxn } from '../jute/index.js';
import { FileTxnLog, writeEpochFile } from '../storage/index.js';
import type { MessageKind, PeerTicks, ServerId } from '../zab/index.js';
import { makeZxid } from '../zab/index.js';
import { Cluster, type ClusterDriver, type CrashOptions } from './cluster.js';
import type { Violation } from './checkers.js';
import { serverDirs, type SimDisk } from './disk.js';
import type { SimServer } from './host.js';
import type { InFlight } from './network.js';
import { writeTxn, type AppliedEntry } from './state.js';

/** A server's durable state before the scenario starts. */
export interface DiskSpec {
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  /** Logged txns as [epoch, counter, writeId], in zxid order. */
  log?: [number, number, number][];
}

export interface ScenarioOptions {
  voters: number;
  observers?: number;
  ticks?: Partial<PeerTicks>;
  committedLogMax?: number;
  /** See ClusterConfig.logSyncFactor (default: off, every learner behind memory gets a SNAP). */
  logSyncFactor?: number | Readonly<Record<number, number>>;
  /** Hosts snapshot every [snapCount/2+1, snapCount] logged txns; 0 (default) never. */
  snapCount?: number;
  disks?: Record<number, DiskSpec>;
  /** Servers that start crashed. */
  down?: ServerId[];
}

export interface MessageFilter {
  from?: ServerId;
  to?: ServerId;
  kind?: MessageKind | readonly MessageKind[];
}

/** Default ticks: finalizeWait 0 makes elections depend on message order only. */
export const SCENARIO_TICKS: PeerTicks = {
  finalizeWait: 0,
  notificationMin: 1,
  notificationMax: 4,
  ping: 1,
  syncLimit: 5,
  initLimit: 10,
};

/** Bound on rounds in one stabilize() (or while waiting for a server's disk). */
const STABILIZE_ROUNDS_MAX = 100_000;

export class ScenarioError extends Error {
  readonly code = 'ZABLAB_SIM_SCENARIO';
}

interface PendingIo {
  id: ServerId;
  kind: 'sync' | 'yield';
  release: () => void;
}

export class Scenario implements ClusterDriver {
  readonly cluster: Cluster;
  /** Everything that happened, one line per step (print it when a scenario fails). */
  readonly transcript: string[] = [];
  /** fsyncs and yields waiting to finish, in the order they began. */
  private io: PendingIo[] = [];
  /** Messages that stabilize()/deliver() leave in flight (and, FIFO, whatever follows them). */
  private held: MessageFilter[] = [];
  private readonly exited: ServerId[] = [];

  private constructor(opts: ScenarioOptions) {
    this.cluster = new Cluster(
      {
        voters: opts.voters,
        observers: opts.observers ?? 0,
        ticks: { ...SCENARIO_TICKS, ...opts.ticks },
        committedLogMax: opts.committedLogMax ?? 1000,
        logSyncFactor: opts.logSyncFactor ?? -1,
        snapCount: opts.snapCount ?? 0,
        startDown: opts.down ?? [],
      },
      this,
    );
    this.cluster.trace = (line) => this.transcript.push(line);
  }

  /** Write the given disks, then start every server not listed as down. */
  static async start(opts: ScenarioOptions): Promise<Scenario> {
    const s = new Scenario(opts);
    for (const [id, spec] of Object.entries(opts.disks ?? {})) await s.drive(writeDisk(s.cluster.server(Number(id)), spec));
    await s.drive(s.cluster.boot());
    return s;
  }

  // ---------- ClusterDriver ----------

  messageDelay(): number {
    return 0;
  }

  messageSent(): void {}

  gate(s: SimServer, kind: 'sync' | 'yield', release: () => void): void {
    this.io.push({ id: s.id, kind, release });
  }

  serverExited(s: SimServer): void {
    this.exited.push(s.id);
    this.note(`server ${s.id} exited on its own`);
  }

  // ---------- steps ----------

  /**
   * Deliver every message and finish every fsync that is not held, round-robin over the
   * connections, until nothing moves.
   */
  async stabilize(): Promise<this> {
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      let moved = await this.releaseIo((io) => io.kind === 'yield' || !this.cluster.server(io.id).fsyncHeld);
      for (const m of this.heads()) {
        if (this.cluster.network.head(m.from, m.to) !== m) continue;
        await this.cluster.deliver(m);
        moved = true;
      }
      if (!moved) return this;
    }
    throw new ScenarioError(`stabilize() did not settle after ${STABILIZE_ROUNDS_MAX} rounds`);
  }

  /** Keep matching messages in flight until releaseMessages(); deliverBatch() ignores holds. */
  holdMessages(filter: MessageFilter): this {
    this.held.push(filter);
    this.note(`hold messages ${JSON.stringify(filter)}`);
    return this;
  }

  /** Release every hold, or only the holds made with an equal filter. */
  releaseMessages(filter?: MessageFilter): this {
    const key = (f: MessageFilter): string => JSON.stringify(f);
    this.held = filter === undefined ? [] : this.held.filter((f) => key(f) !== key(filter));
    this.note(`release held messages${filter === undefined ? '' : ' ' + key(filter)}`);
    return this;
  }

  /** Deliver, in FIFO order per connection, the messages at the head of their connection that match. */
  async deliver(filter: MessageFilter = {}): Promise<number> {
    let n = 0;
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      const heads = this.heads().filter((m) => matches(m, filter));
      if (heads.length === 0) return n;
      for (const m of heads) {
        if (this.cluster.network.head(m.from, m.to) !== m) continue;
        await this.cluster.deliver(m);
        n++;
      }
    }
    throw new ScenarioError('deliver() did not settle');
  }

  /**
   * Deliver every message now in flight from → to, in order, in one batch: the receiver
   * steps them all before its host takes the next Ready (so their persist ops share a Ready).
   */
  async deliverBatch(from: ServerId, to: ServerId): Promise<number> {
    const ms = this.cluster.network.pending(from, to);
    await this.cluster.deliverBatch(ms);
    return ms.length;
  }

  /** Lose the matching in-flight messages (and everything behind them on their connection: FIFO). */
  async dropMessages(filter: MessageFilter): Promise<number> {
    const pairs = new Set<string>();
    for (const m of this.pending(filter)) pairs.add(`${m.from}:${m.to}`);
    let n = 0;
    for (const p of pairs) {
      const [a, b] = p.split(':').map(Number) as [number, number];
      n += this.cluster.network.pending(a, b).length;
      await this.cluster.dropConnection(a, b);
    }
    return n;
  }

  pending(filter: MessageFilter = {}): InFlight[] {
    return this.cluster.network.pending().filter((m) => matches(m, filter));
  }

  /** Let server `id`'s disk finish everything it waits on (even if held), until it waits on nothing. */
  async fsync(id: ServerId): Promise<this> {
    if (!this.io.some((io) => io.id === id)) throw new ScenarioError(`server ${id} has no fsync outstanding`);
    for (let i = 0; i < STABILIZE_ROUNDS_MAX && this.io.some((io) => io.id === id); i++) {
      await this.releaseIo((io) => io.id === id, 1);
    }
    return this;
  }

  /**
   * Let server `id`'s disk finish, one fsync at a time, until the next persist op of `kind`
   * is done (a crash right after it keeps exactly what was persisted up to it).
   */
  async fsyncThrough(id: ServerId, kind: string): Promise<this> {
    const s = this.cluster.server(id);
    const target = (s.opsDone.get(kind) ?? 0) + 1;
    for (let i = 0; i < STABILIZE_ROUNDS_MAX && (s.opsDone.get(kind) ?? 0) < target; i++) {
      if (!(await this.releaseIo((io) => io.id === id, 1))) throw new ScenarioError(`server ${id} waits on no fsync before its next ${kind} is done`);
    }
    this.note(`fsync ${id} through its ${kind}`);
    return this;
  }

  /** Kinds of the persist ops server `id` has started and not finished, in order. */
  pendingOps(id: ServerId): string[] {
    return this.cluster.server(id).pendingOps;
  }

  hasFsyncPending(id: ServerId): boolean {
    return this.io.some((io) => io.id === id && io.kind === 'sync');
  }

  holdFsync(id: ServerId): this {
    this.cluster.server(id).fsyncHeld = true;
    this.note(`hold fsync of ${id}`);
    return this;
  }

  releaseFsync(id: ServerId): this {
    this.cluster.server(id).fsyncHeld = false;
    this.note(`release fsync of ${id}`);
    return this;
  }

  /** Advance every running server by n ticks (without delivering anything). */
  async tick(n = 1): Promise<this> {
    for (let i = 0; i < n; i++) {
      this.cluster.now += 10;
      this.cluster.stats.ticks++;
      for (const id of this.cluster.upIds()) await this.cluster.tick(id);
    }
    return this;
  }

  /** stabilize, then tick and stabilize until `done()` holds; fails after maxTicks. */
  async runUntil(done: () => boolean, maxTicks = 200): Promise<this> {
    await this.stabilize();
    for (let t = 0; t <= maxTicks; t++) {
      if (done()) return this;
      if (!this.cluster.ok) break;
      await this.tick();
      await this.stabilize();
    }
    throw new ScenarioError(`condition not reached within ${maxTicks} ticks${this.violationText()}\n${this.tail()}`);
  }

  /** Run until `id` leads and every server that is up and reachable from it serves under it. */
  electLeader(id: ServerId, maxTicks = 200): Promise<this> {
    return this.runUntil(() => this.leader() === id && this.allServing(), maxTicks);
  }

  /** Stop server `id` (by default a power loss: what it had not fsynced is gone). */
  async crash(id: ServerId, opts: CrashOptions = {}): Promise<this> {
    this.io = this.io.filter((io) => io.id !== id);
    await this.cluster.crash(id, opts);
    return this;
  }

  /** Start server `id` from its disk; resolves once it runs. */
  async restart(id: ServerId): Promise<this> {
    await this.drive(this.cluster.restart(id));
    return this;
  }

  async partition(side: ServerId[]): Promise<this> {
    await this.cluster.partition(side);
    return this;
  }

  heal(): this {
    this.cluster.heal();
    return this;
  }

  /** A client write at server `id`; the write must be taken (the server serves). */
  async write(id: ServerId): Promise<number> {
    const w = await this.cluster.submitWrite(id);
    if (w === null) throw new ScenarioError(`server ${id} does not take writes (state ${this.state(id)})`);
    return w;
  }

  // ---------- queries ----------

  /** The serving leader, if exactly one. */
  leader(): ServerId | null {
    const l = this.cluster.servingLeaders();
    return l.length === 1 ? l[0]! : null;
  }

  state(id: ServerId): string {
    const p = this.cluster.server(id).peer;
    return p ? `${p.state}${p.serving ? '(serving)' : ''}` : 'DOWN';
  }

  serving(id: ServerId): boolean {
    return this.cluster.server(id).peer?.serving ?? false;
  }

  /** Every running server serves under one leader (partitioned-off ones excepted). */
  allServing(): boolean {
    const leader = this.leader();
    if (leader === null) return false;
    for (const id of this.cluster.upIds()) {
      if (this.cluster.network.isCut(id, leader)) continue;
      const p = this.cluster.server(id).peer!;
      if (!p.serving || p.leaderId !== leader) return false;
    }
    return true;
  }

  applied(id: ServerId): readonly AppliedEntry[] {
    return this.cluster.server(id).applied;
  }

  /** Write ids applied by server `id`, in order. */
  appliedWrites(id: ServerId): number[] {
    return this.applied(id).map((e) => e.writeId);
  }

  acked(writeId: number): boolean {
    return this.cluster.isAcked(writeId);
  }

  /** What server `id`'s disk holds durably (what a restart would read). */
  disk(id: ServerId): SimDisk {
    return this.cluster.disk(id);
  }

  /** Servers that stopped on their own (a fatal storage error), in order. */
  get exits(): readonly ServerId[] {
    return this.exited;
  }

  get violations(): Violation[] {
    return this.cluster.checkers.violations;
  }

  /** Throw with the violations and the end of the transcript when a checker failed. */
  expectOk(): this {
    if (!this.cluster.ok) throw new ScenarioError(`invariants broken:${this.violationText()}\n${this.tail()}`);
    return this;
  }

  note(line: string): void {
    this.transcript.push(`[t=${this.cluster.now}] -- ${line}`);
  }

  tail(lines = 60): string {
    return this.transcript.slice(-lines).join('\n');
  }

  private violationText(): string {
    return this.violations.map((v) => `\n  [${v.check}] ${v.message}`).join('');
  }

  /** Release waiting disk operations that `pick` accepts (at most `max`), letting the hosts run after each. */
  private async releaseIo(pick: (io: PendingIo) => boolean, max = Number.POSITIVE_INFINITY): Promise<boolean> {
    let released = 0;
    for (;;) {
      const i = this.io.findIndex(pick);
      if (i < 0 || released >= max) return released > 0;
      const [io] = this.io.splice(i, 1);
      io!.release();
      released++;
      await this.cluster.settle();
    }
  }

  /** Wait for `p`, finishing every disk operation it waits on (held or not). */
  private async drive<T>(p: Promise<T>): Promise<T> {
    let done = false;
    const watched = p.finally(() => {
      done = true;
    });
    await this.cluster.settle();
    for (let i = 0; i < STABILIZE_ROUNDS_MAX && !done; i++) {
      if (!(await this.releaseIo(() => true, 1))) await this.cluster.settle();
    }
    return watched;
  }

  /** The head message of every connection, in a fixed order. */
  private heads(): InFlight[] {
    const out: InFlight[] = [];
    const ids = this.cluster.ids;
    for (const a of ids) {
      for (const b of ids) {
        if (a === b) continue;
        const m = this.cluster.network.head(a, b);
        if (m && !this.held.some((f) => matches(m, f))) out.push(m);
      }
    }
    return out;
  }
}

/** Write a server's disk as `spec` says, with the storage code itself. */
async function writeDisk(s: SimServer, spec: DiskSpec): Promise<void> {
  const { versionDir } = serverDirs(s.id);
  const fs = s.disk.fs;
  await fs.mkdir(versionDir);
  const log = await FileTxnLog.open({ fs, dir: versionDir, preAllocSize: 0, log: () => undefined });
  for (const [e, c, w] of spec.log ?? []) log.append(decodeLoggedTxn(Buffer.from(writeTxn(makeZxid(BigInt(e), BigInt(c)), w))));
  await log.close();
  await writeEpochFile(fs, versionDir, 'acceptedEpoch', spec.acceptedEpoch);
  await writeEpochFile(fs, versionDir, 'currentEpoch', spec.currentEpoch);
}

function matches(m: InFlight, f: MessageFilter): boolean {
  if (f.from !== undefined && m.from !== f.from) return false;
  if (f.to !== undefined && m.to !== f.to) return false;
  if (f.kind === undefined) return true;
  return typeof f.kind === 'string' ? m.msg.kind === f.kind : f.kind.includes(m.msg.kind);
}
