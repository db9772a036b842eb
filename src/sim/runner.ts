/**
 * One seeded run (TigerBeetle's VOPR shape): a fault phase of `steps` ticks with crashes,
 * partitions, dropped connections, delays, pauses, storage faults and client writes, then a
 * liveness phase on a healed cluster that must converge — one leader, every server serving,
 * every applied sequence and every data tree equal, fresh writes acknowledged — within a
 * bound of ticks. The seed decides everything, so a failing run replays exactly.
 */
import type { PeerTicks, ServerId } from '../zab/index.js';
import { Cluster, type ClusterDriver, type SimStats } from './cluster.js';
import type { Violation } from './checkers.js';
import { EventQueue } from './events.js';
import { Conditions, FaultInjector, randomFaultRates, TICK_UNITS, type FaultHost, type FaultRates } from './faults.js';
import type { SimServer } from './host.js';
import type { InFlight } from './network.js';
import { Prng } from './prng.js';

export interface RunOptions {
  /** Voters (3–7 when drawn from the seed). */
  voters?: number;
  /** Observers (0–3 when drawn from the seed). */
  observers?: number;
  /** Ticks of the fault phase. */
  steps?: number;
  /** Bound, in ticks, for the liveness phase to converge. */
  livenessTicks?: number;
  /** Receives a transcript of the run (slow; for replaying a failure). */
  trace?: (line: string) => void;
  /** The command that replays a run, before its options (default `npx zablab sim`). */
  replayPrefix?: string;
}

export interface RunResult {
  seed: number;
  ok: boolean;
  violations: Violation[];
  stats: SimStats;
  voters: number;
  observers: number;
  steps: number;
  /** One command that replays this run exactly. */
  replay: string;
  rates: FaultRates;
}

export const DEFAULT_STEPS = 300;
export const DEFAULT_LIVENESS_TICKS = 400;
/** Writes the liveness phase submits and waits for. */
const LIVENESS_WRITES = 5;
/** snapshotSizeFactor per seed: off, ZooKeeper's default, and one that lets every DIFF from the log through. */
const LOG_SYNC_FACTORS = [-1, 0.33, 1000];

type SimEvent =
  | { kind: 'deliver'; m: InFlight }
  | { kind: 'io'; id: ServerId; release: () => void }
  | { kind: 'tick'; id: ServerId }
  | { kind: 'control' }
  | { kind: 'call'; fn: () => unknown };

type Phase = 'faults' | 'stabilize' | 'converge' | 'done';

/** Ticks drawn from the seed: election and sync timeouts vary from run to run. */
function randomTicks(rng: Prng): PeerTicks {
  const notificationMin = rng.int(1, 2);
  const syncLimit = rng.int(3, 6);
  return {
    finalizeWait: rng.int(0, 2),
    notificationMin,
    notificationMax: notificationMin * rng.pick([2, 4, 8]),
    ping: 1,
    syncLimit,
    initLimit: syncLimit + rng.int(2, 6),
  };
}

class Run implements ClusterDriver, FaultHost {
  readonly cluster: Cluster;
  readonly conditions: Conditions;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly faults: FaultInjector;
  private phase: Phase = 'faults';
  private phaseEndsAt = 0;
  private livenessWrites: number[] = [];
  /** Servers the liveness phase cannot require to serve (see stable()). */
  private excluded: ServerId[] = [];
  private readonly tickPeriod = new Map<ServerId, number>();

  constructor(
    private readonly rng: Prng,
    voters: number,
    observers: number,
    private readonly steps: number,
    private readonly livenessTicks: number,
    trace: ((line: string) => void) | undefined,
  ) {
    const ticks = randomTicks(rng);
    const snapCount = rng.chance(0.3) ? 0 : rng.int(4, 40);
    const preAllocSize = rng.pick([0, 4096, 16384]);
    this.conditions = new Conditions(rng.fork(), voters + observers);
    const faultRng = rng.fork();
    const rates = randomFaultRates(faultRng);
    const committedLogMax = rng.int(1, 40);
    const hostSeed = rng.u32();
    this.cluster = new Cluster(
      {
        voters,
        observers,
        ticks,
        committedLogMax,
        snapCount,
        preAllocSize,
        hostSeed,
        // From the host seed, so that adding it left every other draw of a seed as it was.
        logSyncFactor: LOG_SYNC_FACTORS[hostSeed % LOG_SYNC_FACTORS.length]!,
      },
      this,
    );
    if (trace) this.cluster.trace = trace;
    this.faults = new FaultInjector(this, faultRng, rates);
    void this.cluster.boot();
    // Clocks drift: each server ticks at its own slightly different rate, from its own phase.
    for (const id of this.cluster.ids) {
      this.tickPeriod.set(id, TICK_UNITS + rng.int(-1, 1));
      this.queue.push(rng.int(0, TICK_UNITS - 1), { kind: 'tick', id });
    }
    this.queue.push(TICK_UNITS, { kind: 'control' });
  }

  get rates(): FaultRates {
    return this.faults.rates;
  }

  // ---------- ClusterDriver ----------

  messageDelay(from: ServerId, to: ServerId): number {
    return this.conditions.messageDelay(this.cluster.now, from, to);
  }

  messageSent(m: InFlight): void {
    this.queue.push(m.deliverAt, { kind: 'deliver', m });
  }

  gate(s: SimServer, kind: 'sync' | 'yield', release: () => void): void {
    const now = this.cluster.now;
    const delay = kind === 'sync' ? this.conditions.fsyncDelay(now, s.id) : this.conditions.yieldDelay();
    this.queue.push(now + delay, { kind: 'io', id: s.id, release });
  }

  serverExited(s: SimServer): void {
    this.faults.serverExited(s.id, this.cluster.now);
  }

  // ---------- FaultHost ----------

  at(time: number, fn: () => unknown): void {
    this.queue.push(time, { kind: 'call', fn });
  }

  get injecting(): boolean {
    return this.phase === 'faults';
  }

  // ---------- the loop ----------

  async run(): Promise<void> {
    const c = this.cluster;
    await c.settle();
    while (this.phase !== 'done' && c.ok) {
      const ev = this.queue.pop();
      if (!ev) throw new Error('event queue ran dry');
      c.now = ev.time;
      await this.handle(ev.value);
      await c.settle();
    }
  }

  private async handle(ev: SimEvent): Promise<void> {
    const c = this.cluster;
    switch (ev.kind) {
      case 'deliver': {
        const m = ev.m;
        if (m.dropped) return;
        const target = c.server(m.to);
        if (target.pausedUntil > c.now) {
          m.deliverAt = target.pausedUntil;
          this.queue.push(target.pausedUntil, ev);
          return;
        }
        const head = c.network.head(m.from, m.to);
        if (head !== m) {
          // An earlier message of this connection was postponed (pause): keep FIFO.
          this.queue.push(Math.max(c.now + 1, head?.deliverAt ?? c.now + 1), ev);
          return;
        }
        await c.deliver(m);
        return;
      }
      case 'io': {
        const s = c.server(ev.id);
        if (s.pausedUntil > c.now) {
          this.queue.push(s.pausedUntil, ev);
          return;
        }
        ev.release();
        return;
      }
      case 'tick': {
        const s = c.server(ev.id);
        if (s.up && s.pausedUntil <= c.now) await c.tick(ev.id);
        this.queue.push(c.now + (this.tickPeriod.get(ev.id) ?? TICK_UNITS), ev);
        return;
      }
      case 'control':
        c.stats.ticks++;
        await this.control();
        this.queue.push(c.now + TICK_UNITS, ev);
        return;
      case 'call':
        await ev.fn();
        return;
    }
  }

  /** Once per tick: faults and clients, and the phase changes. */
  private async control(): Promise<void> {
    const c = this.cluster;
    const tick = c.stats.ticks;
    switch (this.phase) {
      case 'faults':
        if (tick <= this.steps) {
          await this.faults.step(c.now);
          await this.faults.writes();
          return;
        }
        this.beginLiveness();
        return;
      case 'stabilize':
        if (this.stable()) {
          this.phase = 'converge';
          this.livenessWrites = [];
        } else if (c.now >= this.phaseEndsAt) {
          this.failLiveness('no single leader with every server serving');
        }
        return;
      case 'converge':
        await this.converge();
        return;
      case 'done':
        return;
    }
  }

  private beginLiveness(): void {
    const c = this.cluster;
    c.heal();
    this.conditions.calm();
    this.faults.calm();
    this.phase = 'stabilize';
    for (const id of c.ids) {
      const s = c.server(id);
      s.pausedUntil = 0;
      if (!s.up && !s.starting) void c.restart(id);
    }
    this.phaseEndsAt = c.now + this.livenessTicks * TICK_UNITS;
  }

  private async converge(): Promise<void> {
    const c = this.cluster;
    if (!this.stable()) {
      // Leftovers of the fault phase (a slow fsync, a delayed message) may still cost a
      // leader; writes in flight then may be lost, as for any client. Start over, same bound.
      this.phase = 'stabilize';
      return;
    }
    if (this.livenessWrites.length < LIVENESS_WRITES) {
      const id = this.rng.pick(c.ids);
      const w = await c.submitWrite(id);
      if (w !== null) this.livenessWrites.push(w);
    }
    const done =
      this.livenessWrites.length === LIVENESS_WRITES && this.livenessWrites.every((w) => c.isAcked(w)) && this.converged();
    if (done) {
      const included = c.ids.filter((id) => !this.excluded.includes(id));
      for (const id of included) c.checkers.checkHoldsAcked(id, c.server(id).applied);
      c.checkers.checkDigests(included.map((id) => [id, c.server(id).host!.db.tree.digest()]));
      c.stats.excludedByEpoch = this.excluded.length;
      this.phase = 'done';
    } else if (c.now >= this.phaseEndsAt) {
      const acked = this.livenessWrites.filter((w) => c.isAcked(w)).length;
      this.failLiveness(`not converged: ${acked}/${this.livenessWrites.length} liveness writes acknowledged`);
    }
  }

  /**
   * Exactly one serving leader, and every server serving under it — except a server whose
   * accepted epoch is above the leader's epoch: it acked LEADERINFO of a leader that never
   * established, so (as in ZooKeeper and the ZAB paper) it refuses this leader's older epoch
   * and can join only once a new epoch starts. Those are listed in `excluded`.
   */
  private stable(): boolean {
    const c = this.cluster;
    const leaders = c.servingLeaders();
    this.excluded = [];
    if (leaders.length !== 1) return false;
    const leader = c.server(leaders[0]!);
    const epoch = leader.peer!.epochs.current;
    for (const s of c.servers.values()) {
      if (s.peer?.serving && s.peer.leaderId === leader.id) continue;
      if (s.up && s.disk.acceptedEpoch > epoch) {
        this.excluded.push(s.id);
        continue;
      }
      return false;
    }
    return true;
  }

  /** Every server in the leader's epoch applied the same sequence, nothing in flight to the disk. */
  private converged(): boolean {
    const c = this.cluster;
    const n = c.checkers.canonLength;
    for (const s of c.servers.values()) {
      if (this.excluded.includes(s.id)) continue;
      if (s.applied.length !== n || s.busy) return false;
    }
    return true;
  }

  private failLiveness(what: string): void {
    const c = this.cluster;
    const states = c.ids
      .map((id) => {
        const s = c.server(id);
        const p = s.peer;
        if (!p) return `${id}:down`;
        return `${id}:${p.state}${p.serving ? '*' : ''}(leader ${p.leaderId ?? '-'}, applied ${s.applied.length})`;
      })
      .join(' ');
    c.checkers.fail('liveness', `${what} within ${this.livenessTicks} ticks: ${states}`);
    this.phase = 'done';
  }
}

/** Run one seed. Never throws for a protocol failure: the result lists the violations. */
export async function runSeed(seed: number, opts: RunOptions = {}): Promise<RunResult> {
  const rng = new Prng(seed);
  // Sizes are always drawn, so that a run with explicit sizes replays the same stream.
  const drawnVoters = rng.int(3, 7);
  const drawnObservers = rng.int(0, 3);
  const voters = opts.voters ?? drawnVoters;
  const observers = opts.observers ?? drawnObservers;
  const steps = opts.steps ?? DEFAULT_STEPS;
  const livenessTicks = opts.livenessTicks ?? DEFAULT_LIVENESS_TICKS;
  const run = new Run(rng, voters, observers, steps, livenessTicks, opts.trace);
  try {
    await run.run();
  } catch (e) {
    run.cluster.checkers.fail('host', `simulator error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  const c = run.cluster;
  const prefix = opts.replayPrefix ?? 'npx zablab sim';
  const liveness = livenessTicks === DEFAULT_LIVENESS_TICKS ? '' : ` --liveness-ticks ${livenessTicks}`;
  return {
    seed,
    ok: c.ok,
    violations: [...c.checkers.violations],
    stats: { ...c.stats, messagesLost: c.network.lost },
    voters,
    observers,
    steps,
    replay: `${prefix} --seed ${seed} --voters ${voters} --observers ${observers} --steps ${steps}${liveness}`,
    rates: run.rates,
  };
}
