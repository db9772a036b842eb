/**
 * Scripted scenarios (etcd raft's interaction tests, as a TypeScript builder): every step is
 * explicit — deliver these messages, hold that server's fsync, crash it keeping exactly these
 * un-fsynced writes, restart, partition — and the same checkers as the seeded runs watch every
 * step. Nothing happens unless the script says so: messages wait in the network until
 * delivered, fsyncs complete only in stabilize()/fsync(), peers tick only in tick().
 *
 *   const s = new Scenario({ voters: 3 });
 *   s.runUntil(() => s.leader() === 3);
 *   const w = s.write(3);
 *   s.stabilize();
 *   s.expectOk();
 */
import type { MessageKind, PeerTicks, PersistOp, ServerId, Txn } from '../zab/index.js';
import { makeZxid } from '../zab/index.js';
import { Cluster, type ClusterDriver, type CrashOptions } from './cluster.js';
import type { Violation } from './checkers.js';
import { SimDisk } from './disk.js';
import type { SimServer } from './host.js';
import type { InFlight } from './network.js';
import { encodeWrite, type AppliedEntry } from './state.js';

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
  /** Host snapshots every [snapCount/2+1, snapCount] applied txns; 0 (default) never. */
  snapCount?: number;
  disks?: Record<number, DiskSpec>;
  /** Servers that start crashed. */
  down?: ServerId[];
  /** Hosts apply committed txns before the fsync of their Ready (as src/server does). */
  applyBeforeFsync?: boolean;
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

/** Bound on delivery rounds in one stabilize(). */
const STABILIZE_ROUNDS_MAX = 100_000;

export class ScenarioError extends Error {
  readonly code = 'ZABLAB_SIM_SCENARIO';
}

/** Crash option: keep the un-fsynced ops up to and including the first of this kind (none if absent). */
export function keepThrough(kind: PersistOp['kind']): (pending: readonly PersistOp[]) => number {
  return (pending) => pending.findIndex((op) => op.kind === kind) + 1;
}

export function txn(epoch: number, counter: number, writeId: number): Txn {
  return { zxid: makeZxid(BigInt(epoch), BigInt(counter)), data: encodeWrite(writeId) };
}

export class Scenario implements ClusterDriver {
  readonly cluster: Cluster;
  /** Everything that happened, one line per step (print it when a scenario fails). */
  readonly transcript: string[] = [];
  private readonly fsyncWaiting = new Set<ServerId>();
  /** Messages that stabilize()/deliver() leave in flight (and, FIFO, whatever follows them). */
  private held: MessageFilter[] = [];

  constructor(opts: ScenarioOptions) {
    const disks = new Map<ServerId, SimDisk>();
    for (const [id, spec] of Object.entries(opts.disks ?? {})) {
      disks.set(Number(id), SimDisk.from({
        acceptedEpoch: spec.acceptedEpoch,
        currentEpoch: spec.currentEpoch,
        log: (spec.log ?? []).map(([e, c, w]) => txn(e, c, w)),
      }));
    }
    this.cluster = new Cluster(
      {
        voters: opts.voters,
        observers: opts.observers ?? 0,
        ticks: { ...SCENARIO_TICKS, ...opts.ticks },
        committedLogMax: opts.committedLogMax ?? 1000,
        snapCount: opts.snapCount ?? 0,
        applyBeforeFsync: opts.applyBeforeFsync ?? false,
        disks,
        startDown: opts.down ?? [],
      },
      this,
    );
    this.cluster.trace = (line) => this.transcript.push(line);
    this.cluster.boot();
  }

  // ---------- ClusterDriver ----------

  messageDelay(): number {
    return 0;
  }

  messageSent(): void {}

  fsyncStarted(s: SimServer): void {
    this.fsyncWaiting.add(s.id);
  }

  // ---------- steps ----------

  /**
   * Deliver every message and complete every fsync that is not held, round-robin over the
   * connections, until nothing moves.
   */
  stabilize(): this {
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      let moved = this.completeFsyncs();
      for (const m of this.heads()) {
        if (this.cluster.network.head(m.from, m.to) !== m) continue;
        this.cluster.deliver(m);
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
    const key = (f: MessageFilter) => JSON.stringify(f);
    this.held = filter === undefined ? [] : this.held.filter((f) => key(f) !== key(filter));
    this.note(`release held messages${filter === undefined ? '' : ' ' + key(filter)}`);
    return this;
  }

  /** Deliver, in FIFO order per connection, the messages at the head of their connection that match. */
  deliver(filter: MessageFilter = {}): number {
    let n = 0;
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      const heads = this.heads().filter((m) => matches(m, filter));
      if (heads.length === 0) return n;
      for (const m of heads) {
        if (this.cluster.network.head(m.from, m.to) !== m) continue;
        this.cluster.deliver(m);
        n++;
      }
    }
    throw new ScenarioError('deliver() did not settle');
  }

  /**
   * Deliver every message now in flight from → to, in order, in one batch: the receiver
   * steps them all before its host takes the next Ready (so their persist ops share a Ready).
   */
  deliverBatch(from: ServerId, to: ServerId): number {
    const ms = this.cluster.network.pending(from, to);
    this.cluster.deliverBatch(ms);
    return ms.length;
  }

  /** Lose the matching in-flight messages (and everything behind them on their connection: FIFO). */
  dropMessages(filter: MessageFilter): number {
    const pairs = new Set<string>();
    for (const m of this.pending(filter)) pairs.add(`${m.from}:${m.to}`);
    let n = 0;
    for (const p of pairs) {
      const [a, b] = p.split(':').map(Number) as [number, number];
      n += this.cluster.network.pending(a, b).length;
      this.cluster.dropConnection(a, b);
    }
    return n;
  }

  pending(filter: MessageFilter = {}): InFlight[] {
    return this.cluster.network.pending().filter((m) => matches(m, filter));
  }

  /** Complete the outstanding fsync of server `id` (even if held). */
  fsync(id: ServerId): this {
    if (!this.fsyncWaiting.delete(id)) throw new ScenarioError(`server ${id} has no fsync outstanding`);
    this.cluster.completeFsync(id);
    return this;
  }

  hasFsyncPending(id: ServerId): boolean {
    return this.fsyncWaiting.has(id);
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
  tick(n = 1): this {
    for (let i = 0; i < n; i++) {
      this.cluster.now += 10;
      this.cluster.stats.ticks++;
      for (const id of this.cluster.upIds()) this.cluster.tick(id);
    }
    return this;
  }

  /** stabilize, then tick and stabilize until `done()` holds; fails after maxTicks. */
  runUntil(done: () => boolean, maxTicks = 200): this {
    this.stabilize();
    for (let t = 0; t <= maxTicks; t++) {
      if (done()) return this;
      if (!this.cluster.ok) break;
      this.tick().stabilize();
    }
    throw new ScenarioError(`condition not reached within ${maxTicks} ticks${this.violationText()}\n${this.tail()}`);
  }

  /** Run until `id` leads and every server that is up and reachable from it serves under it. */
  electLeader(id: ServerId, maxTicks = 200): this {
    return this.runUntil(() => this.leader() === id && this.allServing(), maxTicks);
  }

  crash(id: ServerId, opts: CrashOptions = {}): this {
    this.fsyncWaiting.delete(id);
    this.cluster.crash(id, opts);
    return this;
  }

  restart(id: ServerId): this {
    this.cluster.restart(id);
    return this;
  }

  partition(side: ServerId[]): this {
    this.cluster.partition(side);
    return this;
  }

  heal(): this {
    this.cluster.heal();
    return this;
  }

  /** A client write at server `id`; the write must be taken (the server serves). */
  write(id: ServerId): number {
    const w = this.cluster.submitWrite(id);
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

  disk(id: ServerId): SimDisk {
    return this.cluster.disk(id);
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

  private completeFsyncs(): boolean {
    let moved = false;
    for (const id of [...this.fsyncWaiting].sort((a, b) => a - b)) {
      const s = this.cluster.server(id);
      if (s.fsyncHeld) continue;
      this.fsyncWaiting.delete(id);
      if (!s.ready) continue;
      this.cluster.completeFsync(id);
      moved = true;
    }
    return moved;
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

function matches(m: InFlight, f: MessageFilter): boolean {
  if (f.from !== undefined && m.from !== f.from) return false;
  if (f.to !== undefined && m.to !== f.to) return false;
  if (f.kind === undefined) return true;
  return typeof f.kind === 'string' ? m.msg.kind === f.kind : f.kind.includes(m.msg.kind);
}


