/**
 * Messages between the bench (parent) and its load workers (child processes, over the IPC
 * channel of child_process.fork). The parent sends a request; the worker answers it with the
 * same id. One phase: `start` (load begins: warm-up), `mark` (counting begins), `stop`
 * (counting ends; the worker drains its in-flight requests and reports).
 */
import type { DriverName } from './drivers.js';
import type { HistogramSnapshot } from './stats.js';

export type BenchOp = 'getData' | 'setData';

export interface OpenSpec {
  connectString: string;
  driver: DriverName;
  sessions: number;
  inflight: number;
  valueSize: number;
  /** Parent of the key znodes, e.g. `/bench`. */
  root: string;
  keys: number;
  /** Where this worker starts in the key list, so that workers spread over the keys. */
  keyOffset: number;
  /** See DriverOptions.sessionOffset: set to spread sessions over the hosts of connectString. */
  sessionOffset?: number;
}

export type WorkerCommand =
  | { cmd: 'open'; spec: OpenSpec }
  | { cmd: 'createNodes' }
  | { cmd: 'start'; op: BenchOp }
  | { cmd: 'mark' }
  | { cmd: 'stop' }
  | { cmd: 'close' };

/** What a worker measured between `mark` and `stop`. */
export interface WorkerPhaseReport {
  pid: number;
  op: BenchOp;
  elapsedMs: number;
  completed: number;
  errors: number;
  /** The first few distinct error messages. */
  errorSamples: string[];
  latency: HistogramSnapshot;
  /** This worker's CPU time over the window (process.cpuUsage), µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Share of the window its event loop was busy (0..1): near 1 means the client was the limit. */
  eventLoopUtilization: number;
  /** False when requests were still in flight at the drain deadline; the next phase is then suspect. */
  drained: boolean;
}

export interface WorkerReplies {
  open: null;
  createNodes: null;
  start: null;
  mark: null;
  stop: WorkerPhaseReport;
  close: null;
}

export interface WorkerRequest {
  id: number;
  command: WorkerCommand;
}

export type WorkerReply = { id: number; ok: true; value: WorkerReplies[WorkerCommand['cmd']] } | { id: number; ok: false; error: string };

export function isWorkerReply(m: unknown): m is WorkerReply {
  return typeof m === 'object' && m !== null && typeof (m as { id?: unknown }).id === 'number' && typeof (m as { ok?: unknown }).ok === 'boolean';
}

export function isWorkerRequest(m: unknown): m is WorkerRequest {
  return typeof m === 'object' && m !== null && typeof (m as { id?: unknown }).id === 'number' && typeof (m as { command?: unknown }).command === 'object';
}

/** The key znodes: root/k000000 .. root/k(keys-1). */
export function keyPaths(root: string, keys: number): string[] {
  return Array.from({ length: keys }, (_, i) => `${root}/k${String(i).padStart(6, '0')}`);
}
