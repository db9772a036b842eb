/**
 * Faults of a seeded run: crashes (power losses that keep a prefix of what was not fsynced,
 * maybe torn, and process deaths that keep it all), restarts, partitions, dropped
 * connections, message delay spikes, process pauses, slow disks — and storage faults: a
 * flipped bit or a lost write in a down server's files (on at most a minority of voters at a
 * time, so that the ensemble can repair them), and errno failures on a running server's disk
 * (EIO, ENOSPC, EMFILE, a failed fsync), after which the server exits and is restarted. The
 * rates are drawn from the seed too, so some runs are calm and some are storms.
 */
import type { MemoryFsOp } from '../storage/index.js';
import { purgeTxnLogs } from '../storage/index.js';
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
  /** A restarting server's files were damaged at rest (a flipped bit, a lost write). */
  damage: number;
  /** A running server's disk starts failing some operations for a while. */
  errno: number;
  /** Autopurge runs on a server (keeps 3 snapshots and the logs they need). */
  purge: number;
  /** Expected client writes per tick. */
  writes: number;
  /** Probability of a client SYNC per tick. */
  syncs: number;
}

export function randomFaultRates(rng: Prng): FaultRates {
  const storm = rng.float() * 2;
  const storage = rng.chance(0.7) ? rng.float() * 2 : 0;
  return {
    crash: 0.012 * storm,
    outage: rng.chance(0.2) ? 0.002 : 0,
    partition: 0.01 * storm,
    dropConnection: 0.015 * storm,
    delaySpike: 0.01 * storm,
    pause: 0.006 * storm,
    slowDisk: 0.006 * storm,
    damage: 0.4 * storage,
    errno: 0.004 * storage,
    purge: 0.01 * storage,
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

  /** A turn of a long write (between the pieces of a snapshot). */
  yieldDelay(): number {
    return this.rng.int(0, 2);
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
  /** Run `fn` at virtual time `time`. */
  at(time: number, fn: () => unknown): void;
  /** Is the fault phase still on (restarts and damage scheduled in it stop with it)? */
  readonly injecting: boolean;
}

/** Errno failures a disk can show, and the operations they hit. */
const ERRNO_FAULTS: readonly { ops: readonly MemoryFsOp[]; code: string }[] = [
  { ops: ['write'], code: 'ENOSPC' },
  { ops: ['write', 'truncate'], code: 'EIO' },
  { ops: ['datasync'], code: 'EIO' },
  { ops: ['syncDir'], code: 'EIO' },
  { ops: ['open'], code: 'EMFILE' },
  { ops: ['read'], code: 'EIO' },
];

export class FaultInjector {
  private partitionActive = false;
  /** Voters whose files were damaged and that have not restarted since (they may be about to recover). */
  private readonly damagedDown = new Set<ServerId>();

  constructor(
    private readonly host: FaultHost,
    private readonly rng: Prng,
    readonly rates: FaultRates,
  ) {}

  /** One tick of the fault phase. */
  async step(now: number): Promise<void> {
    const c = this.host.cluster;
    const r = this.rates;
    const rng = this.rng;
    if (rng.chance(r.outage)) await this.outage(now);
    if (rng.chance(r.crash)) {
      const up = c.upIds();
      if (up.length > 0) await this.crash(rng.pick(up), now, rng.chance(0.7));
    }
    if (!this.partitionActive && rng.chance(r.partition)) await this.partition(now);
    if (rng.chance(r.dropConnection)) {
      const a = rng.pick(c.ids);
      const b = rng.pick(c.ids);
      if (a !== b) await c.dropConnection(a, b);
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
    if (rng.chance(r.errno)) this.errno(now);
    if (rng.chance(r.purge)) {
      const up = c.upIds();
      if (up.length > 0) await this.purge(rng.pick(up));
    }
  }

  /** A server that stopped on its own (a storage error) is restarted a while later, as a supervisor would. */
  serverExited(id: ServerId, now: number): void {
    this.host.at(now + this.rng.int(2, 30) * TICK_UNITS, () => this.restart(id));
  }

  /** After the fault phase: disks stop failing; damaged files stay as they are. */
  calm(): void {
    for (const s of this.host.cluster.servers.values()) s.disk.clearFaults();
  }

  private async crash(id: ServerId, now: number, reset: boolean): Promise<void> {
    const c = this.host.cluster;
    const rng = this.rng;
    const mode = rng.int(0, 9);
    const keep = mode < 5 ? 'none' : mode < 8 ? rng : 'all';
    await c.crash(id, { keep, torn: rng.chance(0.3), reset });
    this.host.at(now + rng.int(2, 60) * TICK_UNITS, () => this.restart(id));
  }

  private restart(id: ServerId): void {
    if (this.host.injecting && this.rng.chance(this.rates.damage)) this.damage(id);
    void this.host.cluster.restart(id);
  }

  /** Voters (but `except`) that hold damaged history: damaged and not yet started, or recovering. */
  private damagedVoters(except: ServerId): Set<ServerId> {
    const c = this.host.cluster;
    const out = new Set<ServerId>();
    for (const v of c.voterIds) {
      const s = c.server(v);
      if (s.up) this.damagedDown.delete(v);
      if (v !== except && (this.damagedDown.has(v) || s.disk.recovering || s.peer?.isRecovering === true)) out.add(v);
    }
    return out;
  }

  private async outage(now: number): Promise<void> {
    const c = this.host.cluster;
    for (const id of c.upIds()) await this.crash(id, now, false);
  }

  private async partition(now: number): Promise<void> {
    const c = this.host.cluster;
    const rng = this.rng;
    const side = c.ids.filter(() => rng.chance(0.5));
    if (side.length === 0 || side.length === c.ids.length) return;
    await c.partition(side);
    this.partitionActive = true;
    this.host.at(now + rng.int(3, 60) * TICK_UNITS, () => {
      c.heal();
      this.partitionActive = false;
    });
  }

  /**
   * Damage a down server's files at rest: a flipped bit anywhere in a log, snapshot or epoch
   * file, or a lost write (a record of a log read back as zeros, with valid data after it, as
   * a lost write shows itself). Voters only up to a minority at a time, counting those still
   * recovering from earlier damage: damage on a majority stops an ensemble by design.
   */
  private damage(id: ServerId): void {
    const c = this.host.cluster;
    const s = c.server(id);
    if (s.up || s.starting) return;
    if (c.quorum.isVoter(id) && (this.damagedVoters(id).size + 1) * 2 >= c.voterIds.length) return;
    const rng = this.rng;
    const disk = s.disk;
    const logs = disk.durableFiles('log');
    if (rng.chance(0.3) && logs.length > 0) {
      const file = rng.pick(logs);
      const records = disk.recordSpans(file.path);
      const newest = file === logs.at(-1);
      const candidates = newest ? records.slice(0, -1) : records;
      if (candidates.length === 0) return;
      const r = rng.pick(candidates);
      disk.zeroRange(file.path, r.from, r.to);
    } else {
      const files = [...logs, ...disk.durableFiles('snapshot'), ...disk.durableEpochFiles()];
      if (files.length === 0) return;
      const file = rng.pick(files);
      const size = disk.durableSize(file.path);
      if (size === 0) return;
      disk.flipBit(file.path, rng.int(0, Math.min(size, disk.usedBytes(file.path)) - 1), rng.int(0, 7));
    }
    this.damagedDown.add(id);
    c.stats.damageInjected++;
    c.traceLine(() => `damage ${id}'s disk at rest`);
  }

  private errno(now: number): void {
    const c = this.host.cluster;
    const up = c.upIds();
    if (up.length === 0) return;
    const id = this.rng.pick(up);
    const fault = this.rng.pick(ERRNO_FAULTS);
    c.server(id).disk.failOps(fault.ops, fault.code, now + this.rng.int(1, 10) * TICK_UNITS);
    c.stats.errnoFaults++;
    c.traceLine(() => `${id}'s disk fails ${fault.ops.join('/')} with ${fault.code} for a while`);
  }

  private async purge(id: ServerId): Promise<void> {
    const c = this.host.cluster;
    const disk = c.server(id).disk;
    try {
      await purgeTxnLogs({ fs: disk.fs, dataDir: disk.dataDir, snapRetainCount: 3 });
    } catch {
      // The disk is failing operations right now: autopurge logs and tries again later.
    }
  }

  /** Submit this tick's client writes to random serving servers. */
  async writes(): Promise<void> {
    const c = this.host.cluster;
    const rng = this.rng;
    let n = Math.floor(this.rates.writes);
    if (rng.chance(this.rates.writes - n)) n++;
    for (let i = 0; i < n; i++) await c.submitWrite(rng.pick(c.ids));
    if (rng.chance(this.rates.syncs)) await c.submitSync(rng.pick(c.ids));
  }
}
