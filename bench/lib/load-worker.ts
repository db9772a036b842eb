/**
 * A load worker: a child process (forked by LoadPool) with its own event loop, driving
 * `sessions` sessions, each with `inflight` requests outstanding (closed loop: a reply
 * sends the next request). It obeys the parent's requests (load-protocol.ts) and exits
 * when the parent goes away.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { openDriver, type LoadDriver } from './drivers.js';
import { isWorkerRequest, keyPaths, type BenchOp, type OpenSpec, type WorkerCommand, type WorkerPhaseReport, type WorkerReplies, type WorkerReply } from './load-protocol.js';
import { LatencyHistogram } from './stats.js';

const DRAIN_TIMEOUT_MS = 30_000;
const ERROR_SAMPLES_MAX = 5;

class WorkerError extends Error {
  readonly code = 'ZABLAB_BENCH_WORKER';
}

interface Window {
  startMs: number;
  cpu: NodeJS.CpuUsage;
  elu: EventLoopUtilization;
}

class Load {
  private readonly paths: string[];
  private readonly value: Buffer;
  private nextKey: number;
  private op: BenchOp = 'getData';
  private running = false;
  /** Counts start()s, so that a retry scheduled in one phase is not issued in the next. */
  private phase = 0;
  private outstanding = 0;
  private onDrained: (() => void) | null = null;
  // Counted only between mark and stop: warm-up and drain are excluded.
  private counting = false;
  private window: Window | null = null;
  private readonly latency = new LatencyHistogram();
  private completed = 0;
  private errors = 0;
  private readonly errorSamples = new Set<string>();

  constructor(
    private readonly spec: OpenSpec,
    private readonly driver: LoadDriver,
  ) {
    this.paths = keyPaths(spec.root, spec.keys);
    this.value = Buffer.alloc(spec.valueSize, 0x61);
    this.nextKey = spec.keyOffset % spec.keys;
  }

  createNodes(): Promise<void> {
    return this.driver.createNodes(this.spec.root, this.paths, this.value);
  }

  start(op: BenchOp): void {
    if (this.running || this.outstanding > 0) throw new WorkerError('start: the previous phase has not drained');
    this.op = op;
    this.phase += 1;
    this.running = true;
    for (const session of this.driver.sessions) for (let i = 0; i < this.spec.inflight; i++) this.issue(session);
  }

  mark(): void {
    if (!this.running) throw new WorkerError('mark: no load is running (send start first)');
    this.latency.reset();
    this.completed = 0;
    this.errors = 0;
    this.errorSamples.clear();
    this.window = { startMs: performance.now(), cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() };
    this.counting = true;
  }

  async stop(): Promise<WorkerPhaseReport> {
    const w = this.window;
    if (!this.running || w === null) throw new WorkerError('stop: no measurement is running (send start and mark first)');
    this.counting = false;
    this.running = false;
    this.window = null;
    const elapsedMs = performance.now() - w.startMs;
    const cpu = process.cpuUsage(w.cpu);
    const elu = performance.eventLoopUtilization(w.elu);
    const report: WorkerPhaseReport = {
      pid: process.pid,
      op: this.op,
      elapsedMs,
      completed: this.completed,
      errors: this.errors,
      errorSamples: [...this.errorSamples],
      latency: this.latency.snapshot(),
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      eventLoopUtilization: elu.utilization,
      drained: await this.drain(),
    };
    return report;
  }

  private drain(): Promise<boolean> {
    if (this.outstanding === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onDrained = null;
        resolve(false);
      }, DRAIN_TIMEOUT_MS);
      this.onDrained = () => {
        clearTimeout(timer);
        this.onDrained = null;
        resolve(true);
      };
    });
  }

  private issue(session: LoadDriver['sessions'][number]): void {
    const path = this.paths[this.nextKey]!;
    this.nextKey = (this.nextKey + 1) % this.paths.length;
    this.outstanding += 1;
    const startMs = performance.now();
    const done = (err: Error | null): void => {
      this.outstanding -= 1;
      if (this.counting) {
        if (err === null) {
          this.completed += 1;
          this.latency.record((performance.now() - startMs) * 1_000);
        } else {
          this.errors += 1;
          if (this.errorSamples.size < ERROR_SAMPLES_MAX) this.errorSamples.add(err.message);
        }
      }
      if (!this.running) {
        if (this.outstanding === 0) this.onDrained?.();
      } else if (err === null) {
        this.issue(session);
      } else {
        // Not at once: a failing client may call back synchronously, and a dead server
        // must not turn the loop into a busy spin.
        const phase = this.phase;
        setImmediate(() => {
          if (this.running && this.phase === phase) this.issue(session);
        });
      }
    };
    if (this.op === 'getData') session.getData(path, done);
    else session.setData(path, this.value, done);
  }
}

let load: Load | null = null;
let driver: LoadDriver | null = null;

function needLoad(): Load {
  if (load === null) throw new WorkerError('the worker has no sessions yet (send open first)');
  return load;
}

async function handle<C extends WorkerCommand>(command: C): Promise<WorkerReplies[C['cmd']]>;
async function handle(command: WorkerCommand): Promise<WorkerReplies[WorkerCommand['cmd']]> {
  switch (command.cmd) {
    case 'open':
      if (driver !== null) throw new WorkerError('open: already open');
      driver = await openDriver(command.spec.driver, command.spec);
      load = new Load(command.spec, driver);
      return null;
    case 'createNodes':
      await needLoad().createNodes();
      return null;
    case 'start':
      needLoad().start(command.op);
      return null;
    case 'mark':
      needLoad().mark();
      return null;
    case 'stop':
      return needLoad().stop();
    case 'close':
      await driver?.close();
      driver = null;
      load = null;
      return null;
  }
}

function reply(m: WorkerReply): void {
  // The parent may be gone; then there is no one to tell.
  if (process.connected) process.send?.(m);
}

if (process.send === undefined) {
  console.error('load-worker.ts is started by the bench (bench/lib/load-pool.ts), not by hand');
  process.exit(2);
}
process.on('message', (m: unknown) => {
  if (!isWorkerRequest(m)) return;
  handle(m.command).then(
    (value) => reply({ id: m.id, ok: true, value }),
    (err: unknown) => reply({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
// Parent gone (exited, crashed, killed): stop at once rather than load the server unattended.
process.on('disconnect', () => process.exit(0));
