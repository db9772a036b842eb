/**
 * Messages between the native load driver (parent) and its worker processes, over the IPC
 * channel of child_process.fork. The parent sends requests that the worker answers with the
 * same id: open (connect sessions), prepare (worker 0: root, keys, worker dirs), start (load
 * begins: warm-up), mark (counting begins at a shared wall time), stop (counting ends at a
 * shared wall time; drain; snapshot), history (close the history file: its part of the
 * history), close (closeSession; exit). Faults are one-way. The
 * worker sends progress once a second, unasked.
 */
import type { OpCellSnapshot, RecorderSnapshot } from '../recorder.js';
import type { HistoryPart } from './history-log.js';
import type { OpWeight } from '../ops.js';
import type { OpKind } from '../../scenario/types.js';

export interface WorkerSpec {
  /** 0-based; names the worker's dir (root/w<index>) and seeds its pickers. */
  index: number;
  /** Workers in the run (worker 0 creates every worker's dir). */
  workers: number;
  connectString: string;
  /** PEM files when connectString names secureClientPorts; null for plaintext. */
  tls: { caFile: string; certFile: string; keyFile: string } | null;
  /** Sessions of this worker. */
  connections: number;
  /** Closed loop: requests in flight per session. */
  pipelining: number;
  /** Open loop: this worker's ops/s (the run's rate / workers); null = closed loop. */
  rate: number | null;
  mix: OpWeight[];
  valueSize: number;
  keys: number;
  root: string;
  /** Send per-second timeline points (only when the runner asked for onSecond). */
  seconds: boolean;
  /** Run the history workload (load/native/register.ts) instead of the mix, and record it; null: the mix. */
  history: WorkerHistorySpec | null;
}

export interface WorkerHistorySpec {
  /** The parent's reading of the monotonic clock at the run's origin, as digits (history-log.ts). */
  originNs: string;
  /** This worker's part of the history (must not exist yet). */
  file: string;
  /** The znode the keys, the set's parent and the counter live under. */
  root: string;
  /** Share of register ops that are reads, in [0, 1]. */
  readShare: number;
  /** This worker's first process id; the run's processes at a time (every worker's). */
  firstProcess: number;
  processesTotal: number;
}

export type WorkerCommand =
  | { cmd: 'open'; spec: WorkerSpec }
  | { cmd: 'prepare' }
  | { cmd: 'start' }
  | { cmd: 'mark'; atEpochMs: number }
  | { cmd: 'stop'; atEpochMs: number }
  | { cmd: 'history' }
  | { cmd: 'close' };

export interface WorkerReplies {
  open: null;
  prepare: null;
  start: null;
  mark: null;
  stop: RecorderSnapshot;
  history: HistoryPart | null;
  close: null;
}

export interface WorkerRequest {
  id: number;
  command: WorkerCommand;
}

/** One-way: a fault fired at this wall time. */
export interface FaultNote {
  fault: number;
}

export type WorkerReply = { id: number; ok: true; value: WorkerReplies[WorkerCommand['cmd']] } | { id: number; ok: false; error: string };

/** Unasked, about once a second: completions per second (warm-up included), or a full second of the window. */
export type WorkerProgress = { liveOpsPerSec: number } | { second: { t: number; cells: Partial<Record<OpKind, OpCellSnapshot>> } };

function isObject(m: unknown): m is Record<string, unknown> {
  return typeof m === 'object' && m !== null;
}

export function isWorkerProgress(m: unknown): m is WorkerProgress {
  return isObject(m) && (typeof m['liveOpsPerSec'] === 'number' || (isObject(m['second']) && typeof m['second']['t'] === 'number'));
}

export function isWorkerRequest(m: unknown): m is WorkerRequest {
  return isObject(m) && typeof m['id'] === 'number' && isObject(m['command']);
}

export function isFaultNote(m: unknown): m is FaultNote {
  return isObject(m) && typeof m['fault'] === 'number';
}
