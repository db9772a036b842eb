/**
 * results.json: what a bench writes and what `zablab report` reads. Versioned: a reader
 * refuses a schemaVersion it does not know. Documented in README.md ("results.json").
 * All times in milliseconds unless a name says otherwise; `atMs` is relative to the start of
 * the run's measured window (after warm-up).
 */
import type { FaultAction, LoadDriverName, OpKind, PartitionMode, WorkloadSection, EnsembleDriverName } from '../scenario/types.js';
import type { Percentiles, TimelinePoint } from '../load/types.js';
import type { PeerSecurityMode } from '../ensemble/peer-credentials.js';

export const RESULTS_SCHEMA_VERSION = 1;
export const RESULTS_FILE = 'results.json';
export const TIMELINE_FILE = 'timeline.csv';
export const SUMMARY_FILE = 'summary.md';
export const REPORT_FILE = 'report.html';

export interface ResultsFile {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  tool: { name: 'zablab'; version: string };
  createdAt: string;
  host: { cpus: number; platform: string; node: string };
  scenarios: { name: string; description: string; source: string }[];
  runs: RunResult[];
}

/** One applied fault step (a one-off fault, or a firing or the end of a repeating one) and the recovery after it. */
export interface RecoveryResult {
  fault: FaultAction;
  /**
   * The target as the scenario wrote it (`leader`, `follower`, `observer`, `random-voter`, `last`,
   * `id:3`), the mode of a partition by mode (`random-halves`, ...), `all` for a heal of every
   * cut, `sides` for the heal that ends a repeating partition by mode.
   */
  target: string;
  /** The member it hit; null when it hit no one server (random-halves, bridge, a heal of every cut). */
  serverId: number | null;
  /** When it fired. */
  atMs: number;
  /** Fault → a leader serves again, observed from the servers (null: none before the run ended, or no leader change expected). */
  leaderElectedMs: number | null;
  /** Fault → the first write issued after the fault is acknowledged (observed by the load). */
  firstWriteMs: number | null;
  /** Fault → throughput back to 90 % of its mean over the 5 s before the fault (null: never within the run). */
  recovered90Ms: number | null;
  /** Longest stretch after the fault with no acknowledged write (100 ms resolution). */
  writeUnavailableMs: number | null;
  /** The leader before and after (ids), as the servers reported. */
  leaderBefore: number | null;
  leaderAfter: number | null;
  /** A partition by mode: the mode, the sides it cut (members on one side reach each other), the bridge's voter. */
  mode?: PartitionMode;
  sides?: number[][];
  bridge?: number;
  /** A step of a fault with every/for: the fault's index in the scenario's list, and the firing (1-based) or `end`. */
  schedule?: { fault: number; firing: number | 'end' };
  /** What the step undid first: the previous firing's kill (restart), pause (resume) or cut (heal). */
  undid?: { action: FaultAction; serverId: number | null };
}

/** One stage of a write, from spans (one row per stage and server). */
export interface BreakdownStage {
  /** `request` (zk.request of a write), `queue` (request → proposal), `quorum` (proposal → quorum), `commitSent` (quorum → commit sent), `append`, `fsync`, `ack` (zab.ack), `apply` (zab.commit). */
  stage: string;
  serverId: number | null;
  role: string | null;
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

export interface WriteBreakdown {
  /** Traces (writes) the breakdown is made of. */
  writes: number;
  stages: BreakdownStage[];
}

/** One sample of a member's metrics (mntr), taken about once a second. */
export interface MetricSample {
  /** Seconds since the window started (may be negative during warm-up). */
  t: number;
  id: number;
  values: Record<string, number>;
}

export interface LeaderChange {
  atMs: number;
  leader: number | null;
}

export interface RunResult {
  name: string;
  scenario: string;
  cell: Record<string, string | number | boolean>;
  repeat: number;
  status: 'ok' | 'failed';
  /** Why the run failed (status `failed`). */
  error?: string;
  startedAt: string;
  /** The seed of the faults' random choices (random-halves, bridge, random-voter): `seed:` in a scenario replays them. */
  seed?: number;
  /** `tls`: the members served TLS and the load went over it (absent when not). */
  /** `peerSecurity`: how the servers authenticated each other, when the scenario chose it. */
  ensemble: {
    driver: EnsembleDriverName;
    program: 'zablab' | 'zookeeper' | 'unknown';
    voters: number;
    observers: number;
    tls?: boolean;
    peerSecurity?: PeerSecurityMode;
    config: Record<string, string>;
  };
  workload: WorkloadSection;
  load: { driver: LoadDriverName; missedSlots: number };
  durationMs: number;
  throughput: { opsPerSec: number; byOp: Partial<Record<OpKind, number>> };
  latencyMs: Percentiles & { byOp: Partial<Record<OpKind, Percentiles>> };
  errors: Record<string, number>;
  recovery: RecoveryResult[];
  timeline: TimelinePoint[];
  leaderChanges: LeaderChange[];
  metrics: MetricSample[];
  breakdown: WriteBreakdown | null;
}
