/**
 * A simulated server: the ZabHost of src/server (the same Ready loop, recovery and storage
 * code as `zablab server`) on a SimDisk, and what the simulator tracks about it: the
 * sequence of writes its state machine applied, its client session, pauses.
 */
import type { Peer, PersistOp, ServerId } from '../zab/index.js';
import type { ZabHost } from '../server/quorum/zab-host.js';
import { SimDisk, type GateHandler } from './disk.js';
import type { AppliedEntry } from './state.js';

export type ServerRole = 'voter' | 'observer';

export class SimServer {
  /** The running process; null while down (or starting). */
  host: ZabHost | null = null;
  /** A restart is reading the disk. */
  starting = false;
  /**
   * Bumped at every start and whenever the server leaves its role (LOOKING): its client
   * connections close then, so writes and SYNCs taken in an earlier session get no answer.
   */
  session = 0;
  /** The state machine: writes applied, in zxid order (read back from the tree after a restart). */
  applied: AppliedEntry[] = [];
  /** Scripted scenarios: keep this server's fsyncs from finishing until released. */
  fsyncHeld = false;
  /** Virtual time until which the process is frozen (a GC pause, SIGSTOP). */
  pausedUntil = 0;
  /** fsyncs and yields of the storage waiting to finish (the driver releases them). */
  pendingIo = 0;
  /** Bumped at every crash: what the dead process was waiting for no longer counts. */
  incarnation = 0;
  /** Persist ops started and not yet done, in order (scenarios look at them). */
  readonly ops: { op: PersistOp; done: boolean }[] = [];
  /** How many persist ops of each kind this process finished (scenarios wait for them). */
  readonly opsDone = new Map<string, number>();
  readonly disk: SimDisk;

  constructor(
    readonly id: ServerId,
    readonly role: ServerRole,
    gates: () => GateHandler,
  ) {
    this.disk = new SimDisk(id, gates);
  }

  get peer(): Peer | null {
    return this.host?.peer ?? null;
  }

  get up(): boolean {
    return this.host !== null;
  }

  get lastAppliedZxid(): bigint {
    return this.applied.at(-1)?.zxid ?? 0n;
  }

  /** Kinds of the persist ops started and not yet done. */
  get pendingOps(): string[] {
    return this.ops.filter((o) => !o.done).map((o) => o.op.kind);
  }

  /** Waiting on its disk (an fsync, or a turn of a snapshot write). */
  get busy(): boolean {
    return this.pendingIo > 0;
  }
}
