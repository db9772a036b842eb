/**
 * The `native` load driver: our pipelined ZooKeeper-protocol client in `clients` worker
 * processes (each with its own event loop, so one client process is not the limit), each
 * with `connections` sessions spread over every member of the ensemble. Works against zablab
 * and Apache ZooKeeper alike. Workers run from dist/ (compiled .js) or, under tsx/vitest,
 * from the sources.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { HarnessError } from '../../errors.js';
import type { WorkloadSection } from '../../scenario/types.js';
import { ForkedWorker, workerModule } from '../forked-worker.js';
import { opMix, type OpWeight } from '../ops.js';
import { mergeSnapshots, nowEpochMs, type RecorderSnapshot } from '../recorder.js';
import type { LoadDriver, LoadHistory, LoadResult, LoadRun, LoadStartOptions, LoadTarget } from '../types.js';
import { counterPath, setParentPath } from './history-ops.js';
import { monotonicNs, type HistoryPart } from './history-log.js';
import { isWorkerProgress, type WorkerCommand, type WorkerHistorySpec, type WorkerReplies, type WorkerSpec } from './protocol.js';

export const NATIVE_LIMITS = {
  clients: 64,
  connections: 1_024,
  pipelining: 1_024,
  keys: 1_000_000,
  /** jute.maxbuffer's default is 1 MiB (0xfffff); leave room for the request around the data. */
  valueSize: 1_000_000,
  rate: 10_000_000,
} as const;

/** Per request to a worker. open connects every session; prepare creates the keys (about 1 ms each at worst); stop includes the drain. */
const REQUEST_TIMEOUT_MS = { open: 120_000, prepare: 60_000, start: 30_000, mark: 10_000, stop: 30_000, history: 30_000, close: 15_000 } as const;
/** mark and stop name a wall time this far ahead, so every worker has it before it comes. */
const LEAD_MS = 25;
const LIVE_OPS_EVERY_MS = 1_000;
/** Per-second points kept while waiting for every worker's part. */
const SECONDS_PENDING_MAX = 16;

function loadError(message: string): HarnessError {
  return new HarnessError('ZABLAB_BENCH_LOAD', message);
}

function checkInt(field: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw loadError(`workload.${field} must be an integer in [${min}, ${max}] for the native load driver, got ${v}`);
}

/** The workload's limits for this driver; returns the op mix. */
export function validateNativeWorkload(target: LoadTarget, w: WorkloadSection, root: string): OpWeight[] {
  checkInt('clients', w.clients, 1, NATIVE_LIMITS.clients);
  checkInt('connections', w.connections, 1, NATIVE_LIMITS.connections);
  checkInt('pipelining', w.pipelining, 1, NATIVE_LIMITS.pipelining);
  checkInt('keys', w.keys, 1, NATIVE_LIMITS.keys);
  checkInt('valueSize', w.valueSize, 0, NATIVE_LIMITS.valueSize);
  if (!(w.readPct >= 0 && w.readPct <= 100)) throw loadError(`workload.readPct must be in [0, 100], got ${w.readPct}`);
  if (w.rate !== null && !(Number.isFinite(w.rate) && w.rate > 0 && w.rate <= NATIVE_LIMITS.rate)) {
    throw loadError(`workload.rate must be a number in (0, ${NATIVE_LIMITS.rate}] ops/s, or null for closed loop; got ${w.rate}`);
  }
  if (!/^(\/[^/\s]+)+$/.test(root)) throw loadError(`the load's root znode must be an absolute path below / such as /zablab-bench, got ${JSON.stringify(root)}`);
  if (target.connectString.trim() === '') throw loadError('the native load driver needs a connect string (host:port,...) of the ensemble');
  const mix = opMix(w);
  if (mix.length === 0) throw loadError('the workload has no op with a positive weight: give readPct and the reads/writes weights');
  return mix;
}

/** One forked native load worker: requests default to their command's timeout; close() ends its sessions first. */
class WorkerHandle extends ForkedWorker<WorkerCommand, WorkerReplies> {
  constructor(index: number, child: ChildProcess, onProgress: (w: WorkerHandle, m: unknown) => void) {
    super(index, child, 'native load worker', (m) => onProgress(this, m));
  }

  override request<C extends WorkerCommand>(command: C, timeoutMs: number = REQUEST_TIMEOUT_MS[command.cmd]): Promise<WorkerReplies[C['cmd']]> {
    return super.request(command, timeoutMs);
  }

  /** Close its sessions and let it exit; SIGKILL past a bound. */
  async close(): Promise<void> {
    if (!this.alive) return;
    await this.request({ cmd: 'close' }).catch(() => undefined);
    await this.exit();
  }
}

class NativeLoadRun implements LoadRun {
  private markedAt: Promise<number> | null = null;
  private stopped: Promise<LoadResult> | null = null;
  private readonly liveOps = new Map<number, number>();
  private liveTimer: NodeJS.Timeout | null = null;
  /** Second t → every worker's cells of it, until all have reported. */
  private readonly seconds = new Map<number, RecorderSnapshot[]>();

  constructor(
    private readonly workers: WorkerHandle[],
    private readonly opts: LoadStartOptions,
    /** The history being recorded (without its workers' parts), or null. */
    private readonly history: Omit<LoadHistory, 'parts' | 'setAdds' | 'counter' | 'errors'> | null,
  ) {
    const onLive = opts.onLiveOps;
    if (onLive !== undefined) {
      this.liveTimer = setInterval(() => {
        if (this.liveOps.size > 0) onLive([...this.liveOps.values()].reduce((a, b) => a + b, 0));
      }, LIVE_OPS_EVERY_MS);
      this.liveTimer.unref();
    }
  }

  /** Progress from a worker: its live ops/s, or its part of one second of the window. */
  progress(w: WorkerHandle, m: unknown): void {
    if (!isWorkerProgress(m)) return;
    if ('liveOpsPerSec' in m) {
      this.liveOps.set(w.index, m.liveOpsPerSec);
      return;
    }
    const onSecond = this.opts.onSecond;
    if (onSecond === undefined) return;
    const { t, cells } = m.second;
    const parts = this.seconds.get(t) ?? [];
    parts.push({ startEpochMs: 0, endEpochMs: 1_000, total: {}, seconds: [cells], errors: {}, fineOps: [], fineWrites: [], faults: [], missedSlots: 0 });
    this.seconds.set(t, parts);
    if (parts.length < this.workers.length) {
      for (const old of this.seconds.keys()) if (old < t - SECONDS_PENDING_MAX) this.seconds.delete(old);
      return;
    }
    this.seconds.delete(t);
    const point = mergeSnapshots('native', parts).timeline[0];
    if (point !== undefined) onSecond({ ...point, t });
  }

  mark(): Promise<number> {
    this.markedAt ??= (async () => {
      const at = nowEpochMs() + LEAD_MS;
      await this.all({ cmd: 'mark', atEpochMs: at });
      const waitMs = at - nowEpochMs();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      return at;
    })();
    return this.markedAt;
  }

  noteFault(atEpochMs: number): void {
    for (const w of this.workers) w.note({ fault: atEpochMs });
  }

  stop(): Promise<LoadResult> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private async stopOnce(): Promise<LoadResult> {
    try {
      // A run stopped before its window started reports an empty window.
      await this.mark();
      const at = nowEpochMs() + LEAD_MS;
      const snaps = await this.all({ cmd: 'stop', atEpochMs: at });
      const result = mergeSnapshots('native', snaps);
      if (this.history !== null) result.history = mergeHistoryParts(this.history, await this.all({ cmd: 'history' }));
      return result;
    } catch (err) {
      this.kill();
      throw err;
    } finally {
      this.stopTimers();
      await Promise.all(this.workers.map((w) => w.close()));
    }
  }

  kill(): void {
    this.stopTimers();
    for (const w of this.workers) w.kill();
  }

  private stopTimers(): void {
    if (this.liveTimer !== null) clearInterval(this.liveTimer);
    this.liveTimer = null;
  }

  private all<C extends WorkerCommand>(command: C): Promise<WorkerReplies[C['cmd']][]> {
    return Promise.all(this.workers.map((w) => w.request(command)));
  }
}

/** The workers' parts of the history as one LoadHistory. */
function mergeHistoryParts(h: Omit<LoadHistory, 'parts' | 'setAdds' | 'counter' | 'errors'>, parts: (HistoryPart | null)[]): LoadHistory {
  const merged: LoadHistory = { ...h, parts: [], setAdds: [], counter: { ok: 0, info: 0, fail: 0 }, errors: [] };
  for (const part of parts) {
    if (part === null) continue;
    merged.parts.push(part.file);
    for (const add of part.setAdds) merged.setAdds.push(add);
    merged.counter.ok += part.counter.ok;
    merged.counter.info += part.counter.info;
    merged.counter.fail += part.counter.fail;
    if (part.error !== null) merged.errors.push(part.error);
  }
  return merged;
}

/** What every worker's history spec shares, and where worker i writes its part. */
function historySpecs(dir: string, root: string, workload: WorkloadSection): { origin: Omit<LoadHistory, 'parts' | 'setAdds' | 'counter' | 'errors'>; spec: (i: number) => WorkerHistorySpec } {
  // Read together: history times count from this reading of the monotonic clock, which is at this wall time.
  const originNs = monotonicNs();
  const originEpochMs = nowEpochMs();
  // A root of its own: every register of the history starts at null, version 0, even on an ensemble that ran before.
  const historyRoot = `${root}/history-${Math.round(originEpochMs).toString(36)}`;
  const perWorker = workload.connections * workload.pipelining;
  return {
    origin: { originEpochMs, root: historyRoot, setParent: setParentPath(historyRoot), counterPath: counterPath(historyRoot) },
    spec: (i) => ({
      originNs: originNs.toString(),
      file: path.join(dir, `history-w${i}.jsonl`),
      root: historyRoot,
      readShare: workload.readPct / 100,
      firstProcess: i * perWorker,
      processesTotal: workload.clients * perWorker,
    }),
  };
}

async function start(target: LoadTarget, workload: WorkloadSection, opts: LoadStartOptions): Promise<LoadRun> {
  const mix = validateNativeWorkload(target, workload, opts.root);
  const history = opts.history == null ? null : historySpecs(opts.history.dir, opts.root, workload);
  const mod = workerModule(import.meta.url);
  const workers: WorkerHandle[] = [];
  let run: NativeLoadRun | null = null;
  const onProgress = (w: WorkerHandle, m: unknown): void => run?.progress(w, m);
  try {
    for (let i = 0; i < workload.clients; i++) {
      const child = fork(mod.path, [], { execArgv: mod.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
      workers.push(new WorkerHandle(i, child, onProgress));
    }
    await Promise.all(
      workers.map((w) => {
        const spec: WorkerSpec = {
          index: w.index,
          workers: workload.clients,
          connectString: target.connectString,
          tls: target.tls ?? null,
          connections: workload.connections,
          pipelining: workload.pipelining,
          rate: workload.rate === null ? null : workload.rate / workload.clients,
          mix,
          valueSize: workload.valueSize,
          keys: workload.keys,
          root: opts.root,
          seconds: opts.onSecond !== undefined,
          history: history === null ? null : history.spec(w.index),
        };
        return w.request({ cmd: 'open', spec });
      }),
    );
    await workers[0]!.request({ cmd: 'prepare' }, REQUEST_TIMEOUT_MS.prepare + workload.keys);
    run = new NativeLoadRun(workers, opts, history?.origin ?? null);
    await Promise.all(workers.map((w) => w.request({ cmd: 'start' })));
    return run;
  } catch (err) {
    for (const w of workers) w.kill();
    await Promise.all(workers.map((w) => w.exit()));
    throw err;
  }
}

export const nativeLoadDriver: LoadDriver = { name: 'native', start };
