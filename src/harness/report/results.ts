/**
 * results.json: what a bench writes and what `zablab report` reads. Versioned: a reader
 * refuses a schemaVersion it does not know. Documented in README.md ("results.json").
 * All times in milliseconds unless a name says otherwise; `atMs` is relative to the start of
 * the run's measured window (after warm-up).
 */
import type { FaultAction, LoadDriverName, OpKind, WorkloadSection, EnsembleDriverName } from '../scenario/types.js';
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

export interface RecoveryResult {
  fault: FaultAction;
  /** The target as the scenario wrote it (`leader`, `follower`, `observer`, `last`, `id:3`). */
  target: string;
  /** The member it hit. */
  serverId: number;
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
  /** Runs with faults: were acknowledged writes lost? (absent: no faults, or an older file). */
  ackedWrites?: AckedWritesResult;
}
