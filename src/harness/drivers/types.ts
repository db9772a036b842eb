/**
 * The ensemble driver interface: one contract for every place an ensemble can run (local
 * zablab processes, local Apache ZooKeeper processes, docker compose, an external ensemble).
 * Every implementation passes test/integration/drivers/conformance.ts.
 */
import type { PeerSecurityMode } from '../ensemble/peer-credentials.js';
import type { Sides } from '../nemesis/sides.js';
import type { EnsembleDriverName, ExternalServer, FaultAction } from '../scenario/types.js';

export type MemberRole = 'voter' | 'observer';

/** What a server reports about itself (srvr / stat): `down` when it does not answer. */
export type MemberMode = 'leader' | 'follower' | 'observer' | 'standalone' | 'looking' | 'down';

export interface Member {
  id: number;
  role: MemberRole;
  /** Where clients reach it (for compose: the published host address and port). */
  host: string;
  clientPort: number;
  /** secureClientPort, when the ensemble serves TLS (UpOptions.tls). */
  secureClientPort?: number;
  /** The HTTP face (zablab's REST + /metrics + /commands; ZooKeeper's AdminServer), null when unknown. */
  httpPort: number | null;
}

/** PEM files a client needs to reach a TLS ensemble: the CA to trust, its own certificate and key. */
export interface ClientTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface MemberStatus {
  id: number;
  mode: MemberMode;
  /** Last processed zxid as the server reports it, null when it does not answer. */
  zxid: bigint | null;
  /** Paused by this handle (SIGSTOP / docker pause) and not yet resumed. */
  paused: boolean;
  /** Killed by this handle and not yet restarted. */
  stopped: boolean;
}

/** mntr's answer as key → value (ZooKeeper's keys, e.g. zk_outstanding_requests); numbers parsed. */
export type MemberMetrics = Record<string, number | string>;

export interface UpOptions {
  voters: number;
  observers: number;
  /** Observers configured in every zoo.cfg but not started; addObserver() starts them (drivers local and zookeeper). */
  spareObservers?: number;
  /** zoo.cfg overrides. */
  config: Record<string, string>;
  /** A fresh directory the driver may use for data, configs and logs; it stays after down(). */
  dir: string;
  /** Ask every server to write spans to DIR/server-<id>.jsonl (zablab only; others ignore it). */
  spansDir?: string;
  /** With spansDir: the share of requests traced, in (0, 1] (default 1: every request). */
  spansSample?: number;
  /** driver `external`. */
  external?: ExternalServer[];
  /** driver `external`: the file holding the servers' HTTP token (their admin.tokenFile). */
  adminTokenFile?: string;
  /** driver `zookeeper`. */
  zookeeperHome?: string;
  /** How long up() may wait for the ensemble to serve (default 60 s). */
  timeoutMs?: number;
  /** Serve TLS on a secureClientPort per member with certificates of the run's own (drivers local and zookeeper). */
  tls?: boolean;
  /** How the servers authenticate each other (drivers local and zookeeper); unset, the program's default. */
  peerSecurity?: PeerSecurityMode;
  /**
   * The run will partition the ensemble: driver zookeeper then routes peer traffic through its
   * relay (ZooKeeper has no fault hook); the other drivers can partition any ensemble they start.
   */
  partitions?: boolean;
}

export interface EnsembleDriver {
  readonly name: EnsembleDriverName;
  /** Fault actions this driver can apply; the runner refuses a scenario that asks for others, before it starts. */
  readonly faults: ReadonlySet<FaultAction>;
  /** Starts (or, for external, connects to) the ensemble; resolves once it serves. */
  up(opts: UpOptions): Promise<EnsembleHandle>;
}

export interface EnsembleHandle {
  readonly driver: EnsembleDriverName;
  /** `zablab` or `zookeeper`: the server program the members run (external: best guess from `srvr`, else 'unknown'). */
  readonly program: 'zablab' | 'zookeeper' | 'unknown';
  readonly members: readonly Member[];
  /** host:port,... of every member. */
  connectString(): string;
  /** http://host:port of every member with an HTTP face. */
  httpUrls(): string[];
  /** The bearer token of the members' HTTP face (zablab's admin.tokenFile), null when none is needed or known. */
  readonly adminToken: string | null;
  /** Set when the members serve TLS (every member then has a secureClientPort): what a client needs to connect. */
  readonly clientTls: ClientTlsFiles | null;
  /** Every member's state now (only the members `among` names, when given), in id order. Never throws for a member that is down. */
  status(among?: readonly number[]): Promise<MemberStatus[]>;
  /**
   * The member that reports itself leader (or standalone), null when none or several do.
   * With `among`, only those members are asked (the fast poll after a fault asks the voters
   * still up: every probe costs the servers that are electing a connection).
   */
  leader(among?: readonly number[]): Promise<number | null>;
  /** mntr of one member; throws when it does not answer. */
  metrics(id: number): Promise<MemberMetrics>;
  /** Faults. Each resolves once the fault is in effect; a driver throws HarnessError FAULT_UNSUPPORTED for one it lacks. */
  kill(id: number): Promise<void>;
  pause(id: number): Promise<void>;
  resume(id: number): Promise<void>;
  /** Starts a killed member again; resolves once it serves (joined and caught up). */
  restart(id: number): Promise<void>;
  /**
   * Starts the next spare observer (UpOptions.spareObservers) and resolves with its id once it
   * serves. Until then it is not among `members`. Throws FAULT when no spare is left, and
   * FAULT_UNSUPPORTED on a driver that cannot start servers late.
   */
  addObserver(): Promise<number>;
  /** Spare observers not started yet, in the order addObserver() starts them. */
  spareObservers(): number[];
  /**
   * Where a member keeps its files (drivers that run the servers on this host): its dataDir
   * (snapshots under version-2/) and the file its output goes to. null when not known.
   */
  memberFiles(id: number): { dataDir: string; logFile: string } | null;
  /** Cuts the member off from every peer (its clients still reach it). */
  partition(id: number): Promise<void>;
  /** Undoes partition(id); leaves the sides. */
  heal(id: number): Promise<void>;
  /**
   * Cuts the network into sides (see nemesis/sides.ts): members on one side reach each other,
   * a member on two sides reaches both, members that share no side cannot talk. Every member
   * must be on a side. Replaces the previous sides; partition(id) cuts stay.
   */
  partitionSides(sides: Sides): Promise<void>;
  /** Removes the sides (partition(id) cuts stay). */
  healSides(): Promise<void>;
  /** Removes every cut: the sides and every partition(id). */
  healAll(): Promise<void>;
  /** Resolves once every member that is up serves (one leader, learners caught up). */
  waitServing(timeoutMs: number): Promise<void>;
  /** OS pids of the members' processes where the driver knows them (for CPU accounting). */
  pids(): number[];
  /** The OS pid of one member's process now (null while it is down); absent where the driver knows none (for memory sampling). */
  pidOf?(id: number): number | null;
  /** Directory holding server-<id>.jsonl spans files, or null. */
  readonly spansDir: string | null;
  /** Stops what up() started (nothing for external) and leaves its files. Idempotent. */
  down(): Promise<void>;
}
