/**
 * Faults of a seeded run: crashes (with lost or partly kept un-fsynced data, torn log tails),
 * restarts, partitions, dropped connections, message delay spikes, process pauses and slow
 * disks. The rates are drawn from the seed too, so some runs are calm and some are storms.
 */
import type { ServerId } from '../zab/index.js';
import type { Cluster } from './cluster.js';
import type { Prng } from './prng.js';

/** Probabilities per tick of the fault phase. */
export interface FaultRates {
  crash: number;
  /** Every server loses power at once (no connection resets). */
  outage: number;
  partition: number;
  dropConnection: number;
  delaySpike: number;
  pause: number;
  slowDisk: number;
  /** Expected client writes per tick. */
  writes: number;
  /** Probability of a client SYNC per tick. */
  syncs: number;
}

export function randomFaultRates(rng: Prng): FaultRates {
  const storm = rng.float() * 2;
  return {
    crash: 0.012 * storm,
    outage: rng.chance(0.2) ? 0.002 : 0,
    partition: 0.01 * storm,
    dropConnection: 0.015 * storm,
    delaySpike: 0.01 * storm,
    pause: 0.006 * storm,
    slowDisk: 0.006 * storm,
    writes: 0.3 + rng.float() * 1.5,
    syncs: rng.float() * 0.5,
  };
}

/** Network and disk timing, in virtual time units; a tick is TICK_UNITS. */
export const TICK_UNITS = 10;

export class Conditions {
  private readonly spikeUntil: number[];
  private readonly slowDiskUntil: number[];

  constructor(
    private readonly rng: Prng,
    size: number,
  ) {
    this.spikeUntil = new Array<number>(size + 1).fill(0);
    this.slowDiskUntil = new Array<number>(size + 1).fill(0);
  }

  messageDelay(now: number, from: ServerId, to: ServerId): number {
    let d = this.rng.int(1, 4);
    if (this.rng.chance(0.03)) d += this.rng.int(5, 25);
    if (this.spikeUntil[from]! > now || this.spikeUntil[to]! > now) d += this.rng.int(10, 60);
    return d;
  }

  fsyncDelay(now: number, id: ServerId): number {
    let d = this.rng.int(1, 6);
    if (this.rng.chance(0.04)) d += this.rng.int(10, 60);
    if (this.slowDiskUntil[id]! > now) d += this.rng.int(20, 120);
    return d;
  }

  spike(id: ServerId, until: number): void {
    this.spikeUntil[id] = until;
  }

  slowDisk(id: ServerId, until: number): void {
    this.slowDiskUntil[id] = until;
  }

  calm(): void {
    this.spikeUntil.fill(0);
    this.slowDiskUntil.fill(0);
  }
}

/** What the injector needs from the runner. */
export interface FaultHost {
  readonly cluster: Cluster;
  readonly conditions: Conditions;
  /** Run `fn` at virtual time `time` (unless the fault phase is over and fn injects). */
  at(time: number, fn: () => void): void;
}

export class FaultInjector {
  private partitionActive = false;

  constructor(
    private readonly host: FaultHost,
    private readonly rng: Prng,
    readonly rates: FaultRates,
  ) {}

  /** One tick of the fault phase. */
  step(now: number): void {
    const c = this.host.cluster;
    const r = this.rates;
    const rng = this.rng;
    if (rng.chance(r.outage)) this.outage(now);
    if (rng.chance(r.crash)) {
      const up = c.upIds();
      if (up.length > 0) this.crash(rng.pick(up), now, rng.chance(0.7));
    }
    if (!this.partitionActive && rng.chance(r.partition)) this.partition(now);
    if (rng.chance(r.dropConnection)) {
      const a = rng.pick(c.ids);
      const b = rng.pick(c.ids);
      if (a !== b) c.dropConnection(a, b);
    }
    if (rng.chance(r.delaySpike)) this.host.conditions.spike(rng.pick(c.ids), now + rng.int(3, 30) * TICK_UNITS);
    if (rng.chance(r.slowDisk)) this.host.conditions.slowDisk(rng.pick(c.ids), now + rng.int(3, 30) * TICK_UNITS);
    if (rng.chance(r.pause)) {
      const s = c.server(rng.pick(c.ids));
      if (s.up) {
        s.pausedUntil = now + rng.int(1, 12 * TICK_UNITS);
        c.stats.pauses++;
      }
    }
  }

  private crash(id: ServerId, now: number, reset: boolean): void {
    const c = this.host.cluster;
    const rng = this.rng;
    const mode = rng.int(0, 9);
    const keep = mode < 5 ? 'none' : mode < 8 ? (p: readonly unknown[]) => rng.int(0, p.length) : 'all';
    c.crash(id, { keep, torn: rng.chance(0.3), reset });
    this.host.at(now + rng.int(2, 60) * TICK_UNITS, () => c.restart(id));
  }

  private outage(now: number): void {
    const c = this.host.cluster;
    for (const id of c.upIds()) this.crash(id, now, false);
  }

  private partition(now: number): void {
    const c = this.host.cluster;
    const rng = this.rng;
    const side = c.ids.filter(() => rng.chance(0.5));
    if (side.length === 0 || side.length === c.ids.length) return;
    c.partition(side);
    this.partitionActive = true;
    this.host.at(now + rng.int(3, 60) * TICK_UNITS, () => {
      c.heal();
      this.partitionActive = false;
    });
  }

  /** Submit this tick's client writes to random serving servers. */
  writes(): void {
    const c = this.host.cluster;
    const rng = this.rng;
    let n = Math.floor(this.rates.writes);
    if (rng.chance(this.rates.writes - n)) n++;
    for (let i = 0; i < n; i++) {
      const target = rng.pick(c.ids);
      c.submitWrite(target);
    }
    if (rng.chance(this.rates.syncs)) c.submitSync(rng.pick(c.ids));
  }
}
