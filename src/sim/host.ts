/**
 * A simulated server host: one ZAB `Peer`, its disk and its state machine. The cluster drives
 * it; this file holds what the host owns, and the part of the host loop that touches only it.
 */
import type { Peer, PeerConfig, Ready, ServerId } from '../zab/index.js';
import { Peer as ZabPeer } from '../zab/index.js';
import { SimDisk, type SnapshotImage } from './disk.js';
import type { AppliedEntry } from './state.js';

export type ServerRole = 'voter' | 'observer';

export class SimServer {
  peer: Peer | null = null;
  /**
   * Bumped at every start and whenever the server leaves its role (LOOKING): its client
   * connections close then, so writes and SYNCs taken in an earlier session get no answer.
   */
  session = 0;
  /** The Ready whose persist ops are being fsynced; null when none is outstanding. */
  ready: Ready | null = null;
  /** The outstanding Ready's txns were applied before its fsync. */
  readyApplied = false;
  /** The state machine: txns applied, in order. */
  applied: AppliedEntry[] = [];
  /** Scripted scenarios: keep fsyncs from completing until released. */
  fsyncHeld = false;
  /** Virtual time until which the process is frozen (a GC pause, SIGSTOP). */
  pausedUntil = 0;
  /** Applied txns after which the host snapshots again. */
  nextSnapshotAt = 0;

  constructor(
    readonly id: ServerId,
    readonly role: ServerRole,
    readonly disk: SimDisk,
  ) {}

  get up(): boolean {
    return this.peer !== null;
  }

  get lastAppliedZxid(): bigint {
    return this.applied.length > 0 ? this.applied[this.applied.length - 1]!.zxid : 0n;
  }

  /** Start (or restart) from the durable disk. Returns whether a torn log tail was dropped. */
  start(cfg: PeerConfig): { tornDropped: boolean; snapshot: SnapshotImage } {
    if (this.peer) throw new Error(`server ${this.id} is already running`);
    const rec = this.disk.recover();
    this.applied = rec.snapshot.entries.slice();
    this.ready = null;
    this.session++;
    this.peer = new ZabPeer(cfg, rec.disk);
    return { tornDropped: rec.tornDropped, snapshot: rec.snapshot };
  }

  /** Lose the process: un-fsynced writes beyond `keep` and the in-memory state are gone. */
  crash(keep: number, torn: boolean): void {
    this.disk.crash(keep, torn);
    this.peer = null;
    this.ready = null;
    this.applied = [];
    this.pausedUntil = 0;
    this.fsyncHeld = false; // A new process: the scenario's hold was on the old one.
  }
}
