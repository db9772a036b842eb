/**
 * The load driver interface. A driver starts load against an ensemble (warm-up), is told when
 * the measured window starts (mark), is told when faults fire, and at stop() reports what it
 * measured over the window: throughput, HDR latency percentiles per op, errors by code, a
 * per-second timeline and, per fault, the first acknowledged write issued after it.
 *
 * Latency is measured from the *intended* start of a request: in open loop (a target rate)
 * that is the slot the schedule gave it, so a stalled server shows up as latency instead of
 * as silently fewer requests (no coordinated omission); in closed loop it is the send time.
 */
import type { SetAdd } from '../history/index.js';
import type { LoadDriverName, OpKind, WorkloadSection } from '../scenario/types.js';

/** Latency percentiles in milliseconds (HDR, 3 significant digits). */
export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface OpStats {
  ops: number;
  opsPerSec: number;
  errors: number;
  latencyMs: Percentiles;
}

/** One second of the measured window (t = 0 is its first second). */
export interface TimelinePoint {
  t: number;
  /** Successful operations completed in this second. */
  ops: number;
  errors: number;
  /** Latency percentiles (ms) of the operations completed in this second; 0 when none. */
  p50: number;
  p99: number;
  byOp: Partial<Record<OpKind, { ops: number; errors: number; p50: number; p99: number }>>;
}

/** Per fault the load was told about: the first write that was issued at or after the fault and acknowledged. */
export interface FaultObservation {
  atEpochMs: number;
  /** Issue time (intended start) and ack time of that write; null when none came before stop. */
  firstWriteIssuedEpochMs: number | null;
  firstWriteAckEpochMs: number | null;
}

export interface LoadResult {
  driver: LoadDriverName;
  /** Wall-clock start of the measured window (mark()). */
  startEpochMs: number;
  durationMs: number;
  /** Successful operations in the window. */
  ops: number;
  opsPerSec: number;
  latencyMs: Percentiles;
  byOp: Partial<Record<OpKind, OpStats>>;
  /** Failed operations by code: ZooKeeper code names (CONNECTIONLOSS, NONODE, ...), `HTTP_503`, `TIMEOUT`. */
  errors: Record<string, number>;
  timeline: TimelinePoint[];
  /**
   * Successful ops and writes per 100 ms slot of the window (for recovery to 90 % of throughput),
   * and their latencies as flat bucket counts per slot (load/latency-buckets.ts: percentiles over
   * any set of slots, e.g. during snapshots); latencyTruncated when the recorders' bound cut them.
   */
  fine: { slotMs: number; ops: number[]; writes: number[]; latency?: number[][]; latencyTruncated?: boolean };
  faults: FaultObservation[];
  /** Open loop: requests the schedule wanted that could not be sent (client saturated); 0 in closed loop. */
  missedSlots: number;
  /** With LoadStartOptions.history: what the history workload recorded. */
  history?: LoadHistory;
}

/**
 * What a load that recorded a history hands over (native driver): one file of register
 * events per worker, and the set adds and counter increments, to be checked against final
 * reads of the set and the counter.
 */
export interface LoadHistory {
  /** The workers' JSON-lines files, each in time order; times in ns since originEpochMs. */
  parts: string[];
  /** Wall-clock time of the history's time 0 (the monotonic clock's origin; see history-log.ts). */
  originEpochMs: number;
  /** The znode the keys (k000000, ...: key i of the history), the set's parent and the counter live under. */
  root: string;
  setParent: string;
  counterPath: string;
  setAdds: SetAdd[];
  /** Versioned setData attempts of counter increments by outcome (each ok is an acknowledged +1). */
  counter: { ok: number; info: number; fail: number };
  /** Why a part may be incomplete (a worker could not write its file). */
  errors: string[];
}

export interface LoadTarget {
  /** host:port,... of every member (native). */
  connectString: string;
  /** http://host:port of every member's HTTP face (http driver). */
  httpUrls: string[];
  /** The HTTP face's bearer token (EnsembleHandle.adminToken); absent or null when none is needed. */
  adminToken?: string | null;
  /** Set when connectString names secureClientPorts: the PEM files to connect with (native). */
  tls?: { caFile: string; certFile: string; keyFile: string };
}

export interface LoadStartOptions {
  /** Parent znode of the keys, e.g. `/zablab-bench`; the driver creates it and the keys. */
  root: string;
  /** Called about once a second during the measured window with the last full second. */
  onSecond?: (p: TimelinePoint) => void;
  /** Called during warm-up too, with live ops/s, for progress output. */
  onLiveOps?: (opsPerSec: number) => void;
  /**
   * Run the history workload instead of the mix and record it (native driver only; see
   * load/native/register.ts): each worker writes its part of the history into `dir`.
   */
  history?: { dir: string } | null;
}

export interface LoadDriver {
  readonly name: LoadDriverName;
  /** Prepares the keys, opens the connections and starts the load (warm-up: nothing counted yet). */
  start(target: LoadTarget, workload: WorkloadSection, opts: LoadStartOptions): Promise<LoadRun>;
}

export interface LoadRun {
  /** The measured window starts now; resolves with its wall-clock start. */
  mark(): Promise<number>;
  /** A fault fired at this wall-clock time: report the first write issued at or after it that is acknowledged. */
  noteFault(atEpochMs: number): void;
  /** Ends the window, drains (bounded) and reports; closes every connection and worker. */
  stop(): Promise<LoadResult>;
  /** Synchronous emergency stop (SIGINT): kills workers by pid. */
  kill(): void;
}
