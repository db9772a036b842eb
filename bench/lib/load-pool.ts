/**
 * The parent side of the load: K worker processes (each with its own event loop, so that one
 * client process is not the bottleneck), driven in lock step through each phase, their
 * latency histograms and counts merged, and the CPU time of server, workers and machine
 * measured over the same window.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { DriverName } from './drivers.js';
import { isWorkerReply, type BenchOp, type OpenSpec, type WorkerCommand, type WorkerPhaseReport, type WorkerReplies } from './load-protocol.js';
import { busiestThread, machineCpu, processCpuSeconds, threadCpuSeconds, type MachineCpu, type ThreadCpu } from './proc.js';
import { LatencyHistogram, type LatencySummary } from './stats.js';

const WORKER_MODULE = fileURLToPath(new URL('./load-worker.ts', import.meta.url));
const WORKERS_MAX = 64;
/** Per request; open includes connecting every session, stop includes the drain (30 s max). */
const REQUEST_TIMEOUT_MS = { open: 60_000, createNodes: 300_000, start: 10_000, mark: 10_000, stop: 45_000, close: 15_000 } as const;
const EXIT_WAIT_MS = 5_000;

export class LoadPoolError extends Error {
  readonly code = 'ZABLAB_BENCH_LOAD';
}

export interface LoadPoolOptions {
  workers: number;
  driver: DriverName;
  connectString: string;
  /** Sessions per worker. */
  sessions: number;
  /** Requests in flight per session. */
  inflight: number;
  valueSize: number;
  keys: number;
  root: string;
  /** taskset CPU list for the workers (e.g. `1`); null leaves them to the scheduler. */
  cpus: string | null;
  /**
   * Spread the sessions over connectString's hosts (session g of the pool lists them rotated
   * by g) instead of leaving the choice to the client; for ensembles.
   */
  spreadSessions?: boolean;
}

export interface ServerCpu {
  /** CPU time of every server thread over the window. */
  cpuSeconds: number;
  /** cpuSeconds per wall second × 100: 100 = one core busy all the time. */
  busyPct: number;
  /** The thread that worked most (Node's event loop for zablab): near 100 % means saturated. */
  busiestThread: { tid: number; name: string; busyPct: number } | null;
}

export interface ClientCpu {
  workers: number;
  cpuSeconds: number;
  /** Summed over workers, % of one core. */
  busyPct: number;
  perWorker: { pid: number; busyPct: number; eventLoopUtilizationPct: number; completed: number; drained: boolean }[];
}

/** One server process's CPU over a phase (an ensemble has several). */
export interface ServerProcessCpu {
  pid: number;
  cpu: ServerCpu | null;
}

export interface PhaseResult {
  op: BenchOp;
  /** The measured window as the parent saw it (from mark to stop). */
  durationMs: number;
  completed: number;
  errors: number;
  errorSamples: string[];
  /** Sum over workers of completed / own window. */
  throughputOpsPerSec: number;
  latency: LatencySummary;
  /** With several server pids: their sum, and the busiest thread of any of them. */
  server: ServerCpu | null;
  /** Each server pid given to runPhase, in that order. */
  perServer: ServerProcessCpu[];
  /** Completed operations per second of server CPU: the server's cost per op, saturated or not. */
  opsPerServerCpuSecond: number | null;
  clients: ClientCpu;
  /** The whole machine, % of all its CPUs: shows other load on a shared machine. */
  machine: { cpus: number; busyPct: number } | null;
  /** False when some worker still had requests in flight after the drain deadline. */
  drained: boolean;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One forked worker and its request/reply bookkeeping. */
class WorkerHandle {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exitNote: string | null = null;

  constructor(
    readonly index: number,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (m: unknown) => {
      if (!isWorkerReply(m)) return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(new LoadPoolError(`load worker ${index} (pid ${this.pid}): ${m.error}`));
    });
    child.once('exit', (code, signal) => {
      this.exitNote = `exited with ${signal ?? `code ${code}`}`;
      this.failAll(new LoadPoolError(`load worker ${index} (pid ${this.pid}) ${this.exitNote}`));
    });
    child.on('error', (err) => this.failAll(new LoadPoolError(`load worker ${index}: ${err.message}`)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  request<C extends WorkerCommand>(command: C): Promise<WorkerReplies[C['cmd']]> {
    if (!this.alive || !this.child.connected) {
      return Promise.reject(new LoadPoolError(`load worker ${this.index} (pid ${this.pid}) is gone${this.exitNote ? `: ${this.exitNote}` : ''}`));
    }
    const id = this.nextId++;
    const timeoutMs = REQUEST_TIMEOUT_MS[command.cmd];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new LoadPoolError(`load worker ${this.index} (pid ${this.pid}) did not answer '${command.cmd}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ id, command }, (err) => {
        if (err) this.failAll(new LoadPoolError(`load worker ${this.index}: cannot send '${command.cmd}': ${err.message}`));
      });
    });
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  /** SIGKILL by pid, now (for exit paths that cannot wait). */
  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Ask it to close its sessions and exit; SIGKILL if it does not within a bound. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await this.request({ cmd: 'close' });
    } catch {
      // Killed below either way.
    }
    if (this.child.connected) this.child.disconnect(); // the worker exits on disconnect
    await Promise.race([exited, sleep(EXIT_WAIT_MS, false)]);
    if (this.alive) {
      this.child.kill('SIGKILL');
      await Promise.race([exited, sleep(EXIT_WAIT_MS, false)]);
    }
  }
}

/** Pins every thread of pid to a CPU list (Linux taskset). */
export function pinToCpus(pid: number, cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim();
    throw new LoadPoolError(`cannot pin pid ${pid} to CPUs '${cpus}' with taskset: ${why}`);
  }
}

interface ProcessSnapshot {
  pid: number;
  cpu: number | null;
  threads: Map<number, ThreadCpu> | null;
}

interface CpuSnapshot {
  atMs: number;
  servers: ProcessSnapshot[];
  machine: MachineCpu | null;
}

function cpuSnapshot(serverPids: readonly number[]): CpuSnapshot {
  return {
    atMs: performance.now(),
    servers: serverPids.map((pid) => ({ pid, cpu: processCpuSeconds(pid), threads: threadCpuSeconds(pid) })),
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
function serversCpu(a: CpuSnapshot, b: CpuSnapshot): { total: ServerCpu | null; perServer: ServerProcessCpu[] } {
  const wallSec = (b.atMs - a.atMs) / 1_000;
  const perServer = a.servers.map((s, i) => ({ pid: s.pid, cpu: serverCpu(s, b.servers[i]!, wallSec) }));
  const cpus = perServer.map((p) => p.cpu);
  if (cpus.length === 0 || cpus.some((c) => c === null)) return { total: null, perServer };
  const known = cpus as ServerCpu[];
  let top: ServerCpu['busiestThread'] = null;
  for (const c of known) if (c.busiestThread !== null && (top === null || c.busiestThread.busyPct > top.busyPct)) top = c.busiestThread;
  const cpuSeconds = known.reduce((sum, c) => sum + c.cpuSeconds, 0);
  return { total: { cpuSeconds, busyPct: (cpuSeconds / wallSec) * 100, busiestThread: top }, perServer };
}

function machineBusy(a: CpuSnapshot, b: CpuSnapshot): { cpus: number; busyPct: number } | null {
  if (a.machine === null || b.machine === null) return null;
  const total = b.machine.totalSeconds - a.machine.totalSeconds;
  if (total <= 0) return null;
  return { cpus: os.cpus().length, busyPct: ((b.machine.busySeconds - a.machine.busySeconds) / total) * 100 };
}

/** ref = false: a bound on a wait, which must not hold the process open by itself. */
function sleep(ms: number, ref = true): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (!ref) timer.unref();
  });
}

export class LoadPool {
  private readonly workers: WorkerHandle[] = [];
  private closed: Promise<void> | null = null;
  /** Cuts a phase's waits short when the pool is closed (e.g. on SIGINT). */
  private readonly closing = new AbortController();

  constructor(readonly options: LoadPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > WORKERS_MAX) {
      throw new LoadPoolError(`workers must be an integer in [1, ${WORKERS_MAX}], got ${options.workers}`);
    }
  }

  /** The workers' pids (e.g. to report them). */
  get pids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  /**
   * Forks the workers, connects their sessions and creates the key znodes. On failure every
   * worker is stopped before the error is thrown; kill() works at any point of this.
   */
  async open(): Promise<void> {
    const opts = this.options;
    if (this.workers.length > 0 || this.closed !== null) throw new LoadPoolError('open: a LoadPool opens once');
    try {
      for (let i = 0; i < opts.workers; i++) {
        // fork() reuses this process's execArgv, so the tsx loader that runs the bench runs the worker too.
        const child = fork(WORKER_MODULE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
        this.workers.push(new WorkerHandle(i, child));
        if (opts.cpus !== null && child.pid !== undefined) pinToCpus(child.pid, opts.cpus);
      }
      const spread = Math.max(1, Math.floor(opts.keys / opts.workers));
      await Promise.all(
        this.workers.map((w) => {
          const spec: OpenSpec = {
            connectString: opts.connectString,
            driver: opts.driver,
            sessions: opts.sessions,
            inflight: opts.inflight,
            valueSize: opts.valueSize,
            root: opts.root,
            keys: opts.keys,
            keyOffset: (w.index * spread) % opts.keys,
            ...(opts.spreadSessions === true ? { sessionOffset: w.index * opts.sessions } : {}),
          };
          return w.request({ cmd: 'open', spec });
        }),
      );
      await this.workers[0]!.request({ cmd: 'createNodes' });
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /**
   * One phase: load starts on every worker, runs warmupMs uncounted, then durationMs counted,
   * then stops and drains. Server CPU is read at the window's edges from /proc/<serverPid>
   * (for an ensemble, pass every server's pid).
   */
  async runPhase(op: BenchOp, warmupMs: number, durationMs: number, serverPid: number | readonly number[]): Promise<PhaseResult> {
    const serverPids = typeof serverPid === 'number' ? [serverPid] : serverPid;
    await this.all({ cmd: 'start', op });
    if (warmupMs > 0) await this.wait(warmupMs);
    const before = cpuSnapshot(serverPids);
    await this.all({ cmd: 'mark' });
    await this.wait(durationMs);
    const stopping = this.all({ cmd: 'stop' });
    const after = cpuSnapshot(serverPids);
    const reports = await stopping;
    return merge(op, reports, before, after);
  }

  private wait(ms: number): Promise<void> {
    const signal = this.closing.signal;
    if (signal.aborted) return Promise.reject(new LoadPoolError('the load pool is closed'));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new LoadPoolError('the load pool was closed during a phase'));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private all<C extends WorkerCommand>(command: C): Promise<WorkerReplies[C['cmd']][]> {
    return Promise.all(this.workers.map((w) => w.request(command)));
  }

  /** SIGKILL every worker now (synchronous; for signal and exit handlers). */
  kill(): void {
    for (const w of this.workers) w.kill();
  }

  /** Closes every worker's sessions and waits for the workers to exit (SIGKILL past a bound). */
  close(): Promise<void> {
    this.closing.abort();
    this.closed ??= Promise.all(this.workers.map((w) => w.stop())).then(() => undefined);
    return this.closed;
  }
}

function merge(op: BenchOp, reports: WorkerPhaseReport[], before: CpuSnapshot, after: CpuSnapshot): PhaseResult {
  const latency = new LatencyHistogram();
  const errorSamples = new Set<string>();
  let completed = 0;
  let errors = 0;
  let throughput = 0;
  let clientCpuSec = 0;
  let clientBusyPct = 0;
  for (const r of reports) {
    latency.merge(r.latency);
    completed += r.completed;
    errors += r.errors;
    for (const e of r.errorSamples) if (errorSamples.size < 5) errorSamples.add(e);
    throughput += r.elapsedMs > 0 ? r.completed / (r.elapsedMs / 1_000) : 0;
    const cpuSec = (r.cpuUserUs + r.cpuSystemUs) / 1e6;
    clientCpuSec += cpuSec;
    clientBusyPct += r.elapsedMs > 0 ? (cpuSec / (r.elapsedMs / 1_000)) * 100 : 0;
  }
  const { total: server, perServer } = serversCpu(before, after);
  return {
    op,
    durationMs: Math.round(after.atMs - before.atMs),
    completed,
    errors,
    errorSamples: [...errorSamples],
    throughputOpsPerSec: throughput,
    latency: latency.summary(),
    server,
    perServer,
    opsPerServerCpuSecond: server === null || server.busyPct <= 0 ? null : throughput / (server.busyPct / 100),
    clients: {
      workers: reports.length,
      cpuSeconds: clientCpuSec,
      busyPct: clientBusyPct,
      perWorker: reports.map((r) => ({
        pid: r.pid,
        busyPct: r.elapsedMs > 0 ? ((r.cpuUserUs + r.cpuSystemUs) / 1e3 / r.elapsedMs) * 100 : 0,
        eventLoopUtilizationPct: r.eventLoopUtilization * 100,
        completed: r.completed,
        drained: r.drained,
      })),
    },
    machine: machineBusy(before, after),
    drained: reports.every((r) => r.drained),
  };
}
