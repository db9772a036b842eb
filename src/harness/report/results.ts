/**
 * results.json: what a bench writes and what `zablab report` reads. Versioned: a reader
 * refuses a schemaVersion it does not know. Documented in README.md ("results.json").
 * All times in milliseconds unless a name says otherwise; `atMs` is relative to the start of
 * the run's measured window (after warm-up).
 */
import type { FaultAction, LoadDriverName, OpKind, PartitionMode, WorkloadSection, EnsembleDriverName } from '../scenario/types.js';
import type { Percentiles, TimelinePoint } from '../load/types.js';
import type { PeerSecurityMode } from '../ensemble/peer-credentials.js';
import type { PopulateResult, ResourcesResult, SessionsResult } from './results-state.js';

export type { PopulateResult, ResourcesResult, RssSample, ServerResources, SessionsResult } from './results-state.js';
import type { CatchUpResult, SnapshotsResult, WindowLatency } from './results-sync.js';

/** What `zablab bench` writes. 2 added runs[].slots; a reader still reads 1 (its runs have no slots). */
export const RESULTS_SCHEMA_VERSION = 2;
/** Every version `zablab report` reads. */
export const RESULTS_SCHEMA_VERSIONS_READ: readonly number[] = [1, 2];
export type ResultsSchemaVersion = 1 | 2;
export const RESULTS_FILE = 'results.json';
export const TIMELINE_FILE = 'timeline.csv';
export const SUMMARY_FILE = 'summary.md';
export const REPORT_FILE = 'report.html';

export interface ResultsFile {
  schemaVersion: ResultsSchemaVersion;
  tool: { name: 'zablab'; version: string };
  createdAt: string;
  host: { cpus: number; platform: string; node: string };
  scenarios: { name: string; description: string; source: string }[];
  runs: RunResult[];
}

/** Counts per fixed slot of the measured window (100 ms as the runner writes them). */
export interface ThroughputSlots {
  slotMs: number;
  ops: number[];
  writes: number[];
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
  /**
   * restart / resume / heal: the action → the member serves again (leader, follower or
   * observer), polled; null when it did not within the run, or for faults that take a member
   * away (absent in files written before this field).
   */
  servingAgainMs?: number | null;
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

/** One member's answer to "is every acknowledged write here?" (measure/acked-writes.ts). */
export interface LostCheck {
  serverId: number;
  checked: number;
  missing: number;
  missingSamples: string[];
  /** The lookup itself failed (could not connect, ...): then `missing` means nothing. */
  error: string | null;
}

/** The runner's own acknowledged creates, looked up on every running member after a run with faults. */
export interface AckedWritesResult {
  /** Creates acknowledged to the runner's writers during the run. */
  writes: number;
  /** Creates whose outcome the writers could not know (connection loss): never called lost. */
  indeterminate: number;
  /** Acknowledged creates missing on the member that misses most (0: none lost anywhere). */
  lost: number;
  servers: LostCheck[];
  /** Why the check could not be made or was incomplete; null when it was made on every member. */
  error: string | null;
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
    /** Observers started late by add-observer faults (absent: none). */
    spareObservers?: number;
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
  /**
   * Successful ops, and writes among them, per slot of the measured window (slot i covers
   * [i × slotMs, (i + 1) × slotMs) from its start): what recovery's 90 % throughput and write
   * unavailability are computed from (measure/recovery.ts), kept so they can be recomputed.
   * Missing in schemaVersion 1 files.
   */
  slots?: ThroughputSlots;
  leaderChanges: LeaderChange[];
  metrics: MetricSample[];
  breakdown: WriteBreakdown | null;
  /** Runs with faults: were acknowledged writes lost? (absent: no faults, or an older file). */
  ackedWrites?: AckedWritesResult;
  /** Scenario `history: true`: what the history check found (absent for runs without a history, and in older files). */
  history?: RunHistory;
  /** workload.populate > 0: the znodes created before the run (results-state.ts). */
  populate?: PopulateResult;
  /** workload.sessions > 0: the sessions held through the run and their watches. */
  sessions?: SessionsResult;
  /** Every server's memory and event-loop delay through the run (absent in older files). */
  resources?: ResourcesResult;
  /** Each restart and add-observer: time to serve and sync (report/results-sync.ts). Absent in older files. */
  catchUps?: CatchUpResult[];
  /** Snapshots the servers wrote, from their mntr. Absent in older files and for runs without metrics. */
  snapshots?: SnapshotsResult;
  /** p99 during snapshots and catch-ups against outside them. Absent in older files. */
  latencyDuring?: WindowLatency[];
}

/**
 * A run's history and its checks. Times are nanoseconds on the history's clock, as in
 * history.jsonl (time 0 is the load's start: `originEpochMs`).
 */
export interface RunHistory {
  /** history.jsonl, relative to the directory of results.json. */
  file: string;
  originEpochMs: number;
  /** Where the measured window starts on the history's clock. */
  windowStartNs: number;
  /** The znode the keys live under: key i is `<root>/k` + i in 6 digits. */
  root: string;
  /** Invoked ops (reads, writes, cas), including failed and indeterminate ones. */
  ops: number;
  indeterminate: number;
  failed: number;
  keys: number;
  /** true: every key's register history is linearizable; false: an anomaly; null: no verdict (see unknown and error). */
  linearizable: boolean | null;
  /** Keys whose check ran out of its time or memory budget. */
  unknown: { key: string | number; keyOps: number; reason: 'time' | 'memory' }[];
  /** Why there is no verdict at all (the history could not be read); null otherwise. */
  error: string | null;
  checkMs: number;
  checkedOpsPerSec: number;
  /** Keys found not linearizable; `anomalies` keeps the first HISTORY_ANOMALIES_MAX of them. */
  anomaliesFound: number;
  anomalies: HistoryAnomaly[];
  set: SetCheck | null;
  counter: CounterCheck | null;
}

/** One op of a witness, as the history recorded it. */
export interface HistoryOpRecord {
  process: number;
  f: 'read' | 'write' | 'cas';
  /** write: the value written; cas: [expected, new]; read: the value read (null when not ok). */
  value: unknown;
  outcome: 'ok' | 'fail' | 'info';
  invokeNs: number;
  /** null: open to the end of the history (info). */
  completeNs: number | null;
  /** Lines of history.jsonl. */
  invokeLine: number;
  completeLine: number | null;
}

export interface HistoryAnomaly {
  key: string | number;
  /** The key's ops the checker searched. */
  keyOps: number;
  /** false: the shrink ran out of budget, a smaller witness may exist. */
  shrunk: boolean;
  /** The witness: a sub-history that is not linearizable on its own (at most HISTORY_WITNESS_OPS_MAX ops kept). */
  ops: HistoryOpRecord[];
  /** Ops in the witness, kept or not. */
  opsTotal: number;
}

/** Jepsen's set check: acknowledged creates under one parent, against its final children. */
export interface SetCheck {
  /** null: no final read (see error). */
  valid: boolean | null;
  attempted: number;
  acknowledged: number;
  indeterminate: number;
  present: number | null;
  /** Elements by problem (at most HISTORY_ELEMENTS_MAX of each), with their counts. */
  lost: string[];
  lostCount: number;
  invented: string[];
  inventedCount: number;
  failedPresent: string[];
  failedPresentCount: number;
  duplicatedCount: number;
  /** Indeterminate adds that are present. */
  recovered: number;
  error: string | null;
}

/** Jepsen's counter check: the final value within the acknowledged increments, widened by the indeterminate ones. */
export interface CounterCheck {
  valid: boolean | null;
  /** Versioned setData attempts by outcome (each ok is an acknowledged +1). */
  ok: number;
  info: number;
  fail: number;
  lower: number;
  upper: number;
  /** null: no final read (see error). */
  finalValue: number | null;
  error: string | null;
}

/** Bounds on what results.json keeps of a history (the file has it all). */
export const HISTORY_ANOMALIES_MAX = 20;
export const HISTORY_WITNESS_OPS_MAX = 200;
export const HISTORY_ELEMENTS_MAX = 50;
