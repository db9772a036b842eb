/**
 * A scenario as the harness runs it, after parsing and validation (see parse.ts for the YAML
 * form). Matrix expansion turns one Scenario into RunPlans, one per cell × repeat.
 */
import type { PeerSecurityMode } from '../ensemble/peer-credentials.js';

/** Where the ensemble comes from. `compose` is docker compose through testcontainers. */
export const ENSEMBLE_DRIVERS = ['local', 'zookeeper', 'external', 'compose'] as const;
export type EnsembleDriverName = (typeof ENSEMBLE_DRIVERS)[number];

/** How load is applied: autocannon against the REST face, or our ZooKeeper-protocol client. */
export const LOAD_DRIVERS = ['native', 'http'] as const;
export type LoadDriverName = (typeof LOAD_DRIVERS)[number];

/** Reads are served by the server a client talks to; writes (and sync) go through the leader. */
export const READ_OPS = ['getData', 'exists', 'getChildren'] as const;
export const WRITE_OPS = ['setData', 'create', 'delete', 'multi', 'sync'] as const;
export type ReadOp = (typeof READ_OPS)[number];
export type WriteOp = (typeof WRITE_OPS)[number];
export type OpKind = ReadOp | WriteOp;
export const OP_KINDS: readonly OpKind[] = [...READ_OPS, ...WRITE_OPS];

export function isWriteOp(op: OpKind): op is WriteOp {
  return (WRITE_OPS as readonly string[]).includes(op);
}

/**
 * How the held sessions (workload.sessions) watch the populated znodes: `oneShot` getData with
 * a watch (gone once it fires), `persistent` addWatch mode PERSISTENT (ZooKeeper 3.6+, opcode
 * 106; stays until removed).
 */
export const WATCH_MODES = ['oneShot', 'persistent'] as const;
export type WatchMode = (typeof WATCH_MODES)[number];

/**
 * `add-observer` starts the next of the ensemble's spare observers (EnsembleSection.spareObservers):
 * listed in every server's zoo.cfg from the start, it joins the leader late and syncs.
 */
export const FAULT_ACTIONS = ['kill', 'pause', 'resume', 'restart', 'partition', 'heal', 'add-observer'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

/**
 * How a target-less partition cuts the network (Jepsen's nemesis shapes), decided when it fires:
 * `random-halves` splits the members at random into a side with a strict majority of the voters
 * and one without; `isolate-leader` cuts the leader of that moment off from everyone else;
 * `bridge` makes two sides that reach each other only through one voter in the middle (with 5
 * voters {a,b} – c – {d,e}), so that no side holds a voter majority without the bridge.
 */
export const PARTITION_MODES = ['random-halves', 'isolate-leader', 'bridge'] as const;
export type PartitionMode = (typeof PARTITION_MODES)[number];

/** Actions a repeating schedule (`every`, `for`) may take: the ones that break something, which the schedule undoes itself. */
export const REPEATABLE_ACTIONS = ['kill', 'pause', 'partition'] as const satisfies readonly FaultAction[];

/**
 * Which server a fault hits, resolved when the fault fires: the leader at that moment, a
 * follower or observer (the lowest id of that role that is up), a voter picked at random
 * among those up (`random-voter`, from the run's seed), a fixed id, or `last`: the server the
 * previous fault of this run hit (to resume or restart it).
 */
export type FaultTarget = 'leader' | 'follower' | 'observer' | 'random-voter' | 'last' | { id: number };

/** A repeating fault: it fires at atMs, atMs + everyMs, ... while before atMs + forMs, and is undone at atMs + forMs. */
export interface FaultRepeat {
  everyMs: number;
  forMs: number;
}

export interface FaultSpec {
  /** Milliseconds after the measured window starts (after warm-up). */
  atMs: number;
  action: FaultAction;
  /** null: a partition that cuts the network by `mode`, or a heal of every cut. */
  target: FaultTarget | null;
  /** partition without a target: the shape of the cut. */
  mode?: PartitionMode;
  /** Fire again and again (kill, pause, partition); each firing first undoes the one before. */
  repeat?: FaultRepeat;
}

export interface EnsembleSection {
  driver: EnsembleDriverName;
  voters: number;
  observers: number;
  /**
   * Serve TLS on a secureClientPort per member, with certificates made for the run, and drive
   * the native load over it (drivers local and zookeeper; Apache ZooKeeper with its Netty
   * connection factory). A matrix over [false, true] shows what TLS costs.
   */
  tls: boolean;
  /**
   * How the servers authenticate each other (drivers local and zookeeper): `secret` (zablab's
   * default), `tls` (sslQuorum: mutual TLS on every peer link, for zablab and Apache ZooKeeper
   * alike) or `none`; unset, each program's default (zablab secret, ZooKeeper none).
   */
  peerSecurity?: PeerSecurityMode;
  /**
   * Observers listed in every server's zoo.cfg (ids after the observers) but not started with
   * the ensemble; each `add-observer` fault starts the next one (drivers local and zookeeper).
   * Absent: none.
   */
  spareObservers?: number;
  /** zoo.cfg overrides (snapCount, globalOutstandingLimit, tickTime, ...), values as written in zoo.cfg. */
  config: Record<string, string>;
  /** driver `external`: the servers of an ensemble that already runs (no faults possible). */
  external?: ExternalServer[];
  /** driver `external`: the file holding the servers' HTTP token (their admin.tokenFile), for the http load driver. */
  adminTokenFile?: string;
  /** driver `zookeeper`: ZOOKEEPER_HOME (default: the environment's, else Debian's jars). */
  zookeeperHome?: string;
}

export interface ExternalServer {
  host: string;
  clientPort: number;
  /** The HTTP face (zablab's admin.serverPort / ZooKeeper's AdminServer); needed by the http load driver and for metrics. */
  httpPort?: number;
}

export interface WorkloadSection {
  /** Share of operations that are reads, 0..100. */
  readPct: number;
  /** Weights among read ops (default {getData: 1}). */
  reads: Partial<Record<ReadOp, number>>;
  /** Weights among write ops (default {setData: 1}). */
  writes: Partial<Record<WriteOp, number>>;
  /** Bytes of data per setData/create. */
  valueSize: number;
  /** Number of key znodes the load reads and writes (created before the run). */
  keys: number;
  /** Load processes (native) or autocannon instances (http). */
  clients: number;
  /** Sessions (native) or HTTP connections (http) per client. */
  connections: number;
  /** Requests in flight per connection in closed loop. */
  pipelining: number;
  /** Open loop: total target ops/s over all clients; null = closed loop. */
  rate: number | null;
  durationMs: number;
  warmupMs: number;
  /*
   * Large state (load/state/). Optional: results.json files written before these fields lack
   * them, and absent means 0 (oneShot); parsed scenarios always set them.
   */
  /** Extra znodes of valueSize bytes created before the run (under /zablab-populate): state the load does not touch. */
  populate?: number;
  /** Extra idle sessions held from before the window to its end, round-robin over every member. */
  sessions?: number;
  /** Watches each held session sets on populated znodes. */
  watches?: number;
  watchMode?: WatchMode;
}

export interface LoadSection {
  driver: LoadDriverName;
}

export interface Scenario {
  name: string;
  description: string;
  ensemble: EnsembleSection;
  workload: WorkloadSection;
  load: LoadSection;
  faults: FaultSpec[];
  repeats: number;
  /**
   * Dotted field path → values; the cartesian product of all fields expands into runs,
   * e.g. {'ensemble.observers': [0, 2], 'workload.readPct': [50, 90]} → 4 runs.
   */
  matrix: Record<string, (string | number | boolean)[]>;
  /** Record spans (ZABLAB_SPANS_DIR) to break down writes; drivers that cannot ignore it. */
  spans: boolean;
  /**
   * Share of requests traced when `spans` is on, in (0, 1] (YAML `spans: 0.1`; `spans: 0` is off). Every span
   * costs the server CPU (bench/tracing-overhead.yaml measures it): a sample keeps the breakdown and most
   * of the throughput on a read-heavy load.
   */
  spansSample: number;
  /**
   * Record a history of what the load's clients saw and check it after the run (native load
   * only): the load becomes a register workload over the keys (reads are sync + getData,
   * writes setData with unique values or cas: setData at a version), plus set adds and
   * counter increments; see README "History: does every run check itself?".
   */
  history: boolean;
  /**
   * Seeds the random choices of faults (random-halves, bridge, random-voter) in every run; unset,
   * each run draws its own, which results.json records, so a run's choices can be replayed.
   */
  seed?: number;
  /** Where the file came from (for messages). */
  source: string;
}

/** One run: a scenario with one matrix cell applied, and its repeat index. */
export interface RunPlan {
  /** Unique within a bench: scenario name, matrix cell and repeat, e.g. `quickstart/observers=2,readPct=90#1`. */
  name: string;
  scenario: string;
  /** The matrix cell this run took ({} without a matrix). */
  cell: Record<string, string | number | boolean>;
  /** 1-based. */
  repeat: number;
  ensemble: EnsembleSection;
  workload: WorkloadSection;
  load: LoadSection;
  faults: FaultSpec[];
  spans: boolean;
  spansSample: number;
  history: boolean;
  /** The scenario's seed, when it sets one (else the run draws one when it starts). */
  seed?: number;
}
