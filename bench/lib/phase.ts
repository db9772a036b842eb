/**
 * One measured phase of a script benchmark on the harness's native load driver: the load
 * starts (warm-up), the window opens (mark), runs, closes (stop), and the CPU time of the
 * servers, of the load workers and of the machine is read from /proc at the window's edges,
 * so that a table can say which one was the limit and what an operation cost the server.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { nativeLoadDriver } from '../../src/harness/load/native/index.js';
import type { LoadResult, LoadRun, LoadTarget, OpStats, Percentiles } from '../../src/harness/load/types.js';
import type { WorkloadSection } from '../../src/harness/scenario/types.js';
import type { Shutdown } from './shutdown.js';
import { busiestThread, childPids, machineCpu, pinToCpus, processCpuSeconds, threadCpuSeconds, type MachineCpu, type ThreadCpu } from './proc.js';

export interface ServerCpu {
  /** CPU time of every server thread over the window. */
  cpuSeconds: number;
  /** cpuSeconds per wall second × 100: 100 = one core busy all the time. */
  busyPct: number;
  /** The thread that worked most (Node's event loop for zablab): near 100 % means saturated. */
  busiestThread: { tid: number; name: string; busyPct: number } | null;
}

/** One server process's CPU over a phase (an ensemble has several). */
export interface ServerProcessCpu {
  pid: number;
  cpu: ServerCpu | null;
}

/** The load's worker processes (children of this process that are not servers). */
export interface ClientCpu {
  workers: number;
  cpuSeconds: number;
  /** Summed over workers, % of one core. */
  busyPct: number;
  perWorker: { pid: number; busyPct: number }[];
}

export interface PhaseResult {
  /** What the phase ran (an op name, or `mixed`). */
  name: string;
  /** The measured window as the load driver saw it. */
  durationMs: number;
  completed: number;
  errors: number;
  /** Failed operations by ZooKeeper code name (CONNECTIONLOSS, ...). */
  errorsByCode: Record<string, number>;
  throughputOpsPerSec: number;
  latencyMs: Percentiles;
  byOp: Partial<Record<string, OpStats>>;
  /** With several server pids: their sum, and the busiest thread of any of them. */
  server: ServerCpu | null;
  perServer: ServerProcessCpu[];
  /** Completed operations per second of server CPU: the server's cost per op, saturated or not. */
  opsPerServerCpuSecond: number | null;
  clients: ClientCpu;
  /** The whole machine, % of all its CPUs: shows other load on a shared machine. */
  machine: { cpus: number; busyPct: number } | null;
}

export interface PhaseOptions {
  /** Parent znode of the keys. */
  root: string;
  /** The servers whose CPU counts (EnsembleHandle.pids()). */
  serverPids: readonly number[];
  /** Called with the run once it started, so that a signal handler can kill its workers. */
  onRun?: (run: LoadRun) => void;
  /** Aborts the waits (e.g. on SIGINT); the load is then killed. */
  signal?: AbortSignal;
  /** taskset CPU list for the load's workers (e.g. `1-3`); default: left to the scheduler. */
  clientCpus?: string;
}

interface ProcessSnapshot {
  pid: number;
  cpu: number | null;
  threads: Map<number, ThreadCpu> | null;
}

interface CpuSnapshot {
  atMs: number;
  servers: ProcessSnapshot[];
  workers: { pid: number; cpu: number | null }[];
  machine: MachineCpu | null;
}

function cpuSnapshot(serverPids: readonly number[], workerPids: readonly number[]): CpuSnapshot {
  return {
    atMs: performance.now(),
    servers: serverPids.map((pid) => ({ pid, cpu: processCpuSeconds(pid), threads: threadCpuSeconds(pid) })),
    workers: workerPids.map((pid) => ({ pid, cpu: processCpuSeconds(pid) })),
    machine: machineCpu(),
  };
}

function serverCpu(a: ProcessSnapshot, b: ProcessSnapshot, wallSec: number): ServerCpu | null {
  if (a.cpu === null || b.cpu === null) return null;
  const cpuSeconds = b.cpu - a.cpu;
  const top = a.threads !== null && b.threads !== null ? busiestThread(a.threads, b.threads) : null;
  return {
    cpuSeconds,
    busyPct: (cpuSeconds / wallSec) * 100,
    busiestThread: top === null ? null : { tid: top.tid, name: top.name, busyPct: (top.cpuSeconds / wallSec) * 100 },
  };
}

/** Every server's CPU over the window, and their sum (null when any could not be read). */
function serversCpu(a: CpuSnapshot, b: CpuSnapshot, wallSec: number): { total: ServerCpu | null; perServer: ServerProcessCpu[] } {
  const perServer = a.servers.map((s, i) => ({ pid: s.pid, cpu: serverCpu(s, b.servers[i]!, wallSec) }));
  const cpus = perServer.map((p) => p.cpu);
  if (cpus.length === 0 || cpus.some((c) => c === null)) return { total: null, perServer };
  const known = cpus as ServerCpu[];
  let top: ServerCpu['busiestThread'] = null;
  for (const c of known) if (c.busiestThread !== null && (top === null || c.busiestThread.busyPct > top.busyPct)) top = c.busiestThread;
  const cpuSeconds = known.reduce((sum, c) => sum + c.cpuSeconds, 0);
  return { total: { cpuSeconds, busyPct: (cpuSeconds / wallSec) * 100, busiestThread: top }, perServer };
}

function clientsCpu(a: CpuSnapshot, b: CpuSnapshot, wallSec: number): ClientCpu {
  const perWorker: ClientCpu['perWorker'] = [];
  let cpuSeconds = 0;
  for (const [i, w] of a.workers.entries()) {
    const end = b.workers[i]?.cpu ?? null;
    if (w.cpu === null || end === null) continue;
    cpuSeconds += end - w.cpu;
    perWorker.push({ pid: w.pid, busyPct: ((end - w.cpu) / wallSec) * 100 });
  }
  return { workers: perWorker.length, cpuSeconds, busyPct: (cpuSeconds / wallSec) * 100, perWorker };
}

function machineBusy(a: CpuSnapshot, b: CpuSnapshot): { cpus: number; busyPct: number } | null {
  if (a.machine === null || b.machine === null) return null;
  const total = b.machine.totalSeconds - a.machine.totalSeconds;
  if (total <= 0) return null;
  return { cpus: os.cpus().length, busyPct: ((b.machine.busySeconds - a.machine.busySeconds) / total) * 100 };
}

function phaseResult(name: string, load: LoadResult, before: CpuSnapshot, after: CpuSnapshot): PhaseResult {
  const wallSec = Math.max(1e-3, (after.atMs - before.atMs) / 1_000);
  const { total: server, perServer } = serversCpu(before, after, wallSec);
  return {
    name,
    durationMs: load.durationMs,
    completed: load.ops,
    errors: Object.values(load.errors).reduce((a, b) => a + b, 0),
    errorsByCode: load.errors,
    throughputOpsPerSec: load.opsPerSec,
    latencyMs: load.latencyMs,
    byOp: load.byOp,
    server,
    perServer,
    opsPerServerCpuSecond: server === null || server.busyPct <= 0 ? null : load.opsPerSec / (server.busyPct / 100),
    clients: clientsCpu(before, after, wallSec),
    machine: machineBusy(before, after),
  };
}

/**
 * Runs one phase: warm-up, then the measured window. Every worker is stopped (or killed, on
 * failure or abort) before it returns.
 */
export async function runPhase(name: string, target: LoadTarget, workload: WorkloadSection, opts: PhaseOptions): Promise<PhaseResult> {
  const servers = new Set(opts.serverPids);
  const run = await nativeLoadDriver.start(target, workload, { root: opts.root });
  opts.onRun?.(run);
  try {
    // The load's workers are this process's children that are not servers (the servers are children too).
    const workers = childPids().filter((pid) => !servers.has(pid));
    if (opts.clientCpus !== undefined) for (const pid of workers) pinToCpus(pid, opts.clientCpus);
    const waitOpts = opts.signal === undefined ? undefined : { signal: opts.signal };
    if (workload.warmupMs > 0) await sleep(workload.warmupMs, undefined, waitOpts);
    await run.mark();
    const before = cpuSnapshot(opts.serverPids, workers);
    await sleep(workload.durationMs, undefined, waitOpts);
    const after = cpuSnapshot(opts.serverPids, workers);
    return phaseResult(name, await run.stop(), before, after);
  } catch (err) {
    run.kill();
    throw err;
  }
}

/** runPhase with the load's workers killed on a signal (and the phase's waits cut short). */
export async function runTrackedPhase(
  name: string,
  target: LoadTarget,
  workload: WorkloadSection,
  opts: Pick<PhaseOptions, 'root' | 'serverPids' | 'clientCpus'>,
  shutdown: Shutdown,
): Promise<PhaseResult> {
  shutdown.check();
  let untrack = (): void => undefined;
  try {
    return await runPhase(name, target, workload, {
      ...opts,
      signal: shutdown.signal,
      onRun: (load) => {
        untrack = shutdown.track({ stop: async () => load.kill(), kill: () => load.kill() });
      },
    });
  } finally {
    untrack();
  }
}
