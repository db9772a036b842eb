/**
 * The runner's side of large state: forks the state workers, has worker 0 populate the znodes,
 * then every worker open its share of the held sessions (a bounded number of handshakes at a
 * time over the whole run) and set their watches; at the end, collects the watch events and
 * closes the sessions. Workers run from dist/ (compiled .js) or, under tsx/vitest, the sources.
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { HarnessError } from '../../errors.js';
import type { PopulateResult, SessionsResult } from '../../report/results-state.js';
import { largeStateOf } from '../../scenario/large-state.js';
import type { WorkloadSection } from '../../scenario/types.js';
import { ForkedWorker, workerModule } from '../forked-worker.js';
import type { LoadTarget } from '../types.js';
import { type StateCommand, type StateReplies, type TlsFiles } from './protocol.js';

/** Sessions per holder process: thousands of idle sessions are cheap, but one event loop should not hold a hundred thousand. */
export const SESSIONS_PER_WORKER = 10_000;
/** Handshakes in flight per member, over every worker: well inside Apache ZooKeeper's accept backlog of 50. */
export const CONNECTS_IN_FLIGHT_PER_MEMBER = 8;
/** Per request: a fixed allowance plus so much per item (a znode, a session, a watch). */
const BASE_TIMEOUT_MS = 120_000;
const PER_ZNODE_MS = 1;
const PER_SESSION_MS = 10;
const PER_WATCH_MS = 1;
const CLOSE_TIMEOUT_MS = 60_000;

function stateError(message: string): HarnessError {
  return new HarnessError('ZABLAB_BENCH_LOAD', message);
}

/** One forked state worker. */
type StateWorker = ForkedWorker<StateCommand, StateReplies>;

function forkWorkers(count: number): StateWorker[] {
  const mod = workerModule(import.meta.url);
  return Array.from({ length: count }, (_, i) => {
    const child = fork(mod.path, [], { execArgv: mod.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    return new ForkedWorker<StateCommand, StateReplies>(i, child, 'state worker');
  });
}

/** The built state of one run: what populate took, the sessions held; stop() ends them. */
export class LargeState {
  private stopped: Promise<{ populate?: PopulateResult; sessions?: SessionsResult }> | null = null;

  private constructor(
    private readonly workers: StateWorker[],
    readonly populate: PopulateResult | null,
    private readonly sessions: Omit<SessionsResult, 'watchEvents' | 'expired'> | null,
  ) {}

  /**
   * Builds a run's large state on the ensemble `target` reaches (`members` servers): null when
   * the workload asks for none. Throws HarnessError LOAD (having killed its workers) on failure.
   */
  static async build(
    target: LoadTarget,
    members: number,
    workload: WorkloadSection,
    onPhase: (text: string) => void = () => undefined,
    signal?: AbortSignal,
  ): Promise<LargeState | null> {
    const w = largeStateOf(workload);
    if (w.populate === 0 && w.sessions === 0) return null;
    signal?.throwIfAborted();
    const tls: TlsFiles | null = target.tls ?? null;
    const workers = forkWorkers(Math.max(1, Math.ceil(w.sessions / SESSIONS_PER_WORKER)));
    // Ctrl-C during a long populate: the workers go at once, and their pending requests fail.
    const onAbort = (): void => workers.forEach((worker) => worker.kill());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let populated: PopulateResult | null = null;
      if (w.populate > 0) {
        onPhase(`populating ${w.populate} znodes`);
        const spec = { connectString: target.connectString, tls, znodes: w.populate, valueSize: workload.valueSize };
        populated = await workers[0]!.request({ cmd: 'populate', spec }, BASE_TIMEOUT_MS + w.populate * PER_ZNODE_MS);
      }
      let sessions: Omit<SessionsResult, 'watchEvents' | 'expired'> | null = null;
      if (w.sessions > 0) {
        onPhase(`opening ${w.sessions} sessions`);
        const share = Math.ceil(w.sessions / workers.length);
        const connectWindow = Math.max(1, Math.floor((CONNECTS_IN_FLIGHT_PER_MEMBER * Math.max(1, members)) / workers.length));
        const t0 = performance.now();
        const opened = await Promise.all(
          workers.map((worker, i) => {
            const first = i * share;
            const count = Math.max(0, Math.min(share, w.sessions - first));
            const spec = { connectString: target.connectString, tls, first, count, connectWindow, populated: w.populate, watches: w.watches, watchMode: w.watchMode };
            return worker.request({ cmd: 'hold', spec }, BASE_TIMEOUT_MS + count * PER_SESSION_MS);
          }),
        );
        const openMs = Math.round(performance.now() - t0);
        let watches = 0;
        let watchMs = 0;
        if (w.watches > 0) {
          onPhase(`setting ${w.sessions * w.watches} ${w.watchMode} watches`);
          const t1 = performance.now();
          const set = await Promise.all(workers.map((worker) => worker.request({ cmd: 'watch' }, BASE_TIMEOUT_MS + share * w.watches * PER_WATCH_MS)));
          watchMs = Math.round(performance.now() - t1);
          watches = set.reduce((a, b) => a + b, 0);
        }
        sessions = {
          sessions: w.sessions,
          opened: opened.reduce((a, b) => a + b, 0),
          workers: workers.length,
          members,
          openMs,
          watchMode: w.watchMode,
          watchesPerSession: w.watches,
          watches,
          watchMs,
        };
      }
      return new LargeState(workers, populated, sessions);
    } catch (err) {
      for (const worker of workers) worker.kill();
      await Promise.all(workers.map((worker) => worker.exit()));
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Watch events and expiries so far, over every worker. */
  async stats(): Promise<{ watchEvents: number; expired: number }> {
    if (this.sessions === null) return { watchEvents: 0, expired: 0 };
    const all = await Promise.all(this.workers.map((w) => w.request({ cmd: 'stats' }, BASE_TIMEOUT_MS)));
    return { watchEvents: all.reduce((n, s) => n + s.watchEvents, 0), expired: all.reduce((n, s) => n + s.expired, 0) };
  }

  /** Closes the held sessions and the workers; the results. Idempotent. */
  stop(): Promise<{ populate?: PopulateResult; sessions?: SessionsResult }> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private async stopOnce(): Promise<{ populate?: PopulateResult; sessions?: SessionsResult }> {
    try {
      const all = await Promise.all(this.workers.map((w) => w.request({ cmd: 'close' }, CLOSE_TIMEOUT_MS)));
      const watchEvents = all.reduce((n, s) => n + s.watchEvents, 0);
      const expired = all.reduce((n, s) => n + s.expired, 0);
      return {
        ...(this.populate === null ? {} : { populate: this.populate }),
        ...(this.sessions === null ? {} : { sessions: { ...this.sessions, watchEvents, expired } }),
      };
    } finally {
      await Promise.all(this.workers.map((w) => w.exit()));
    }
  }

  /** Synchronous emergency stop (SIGINT): kills the workers, whose sessions the servers then expire. */
  kill(): void {
    for (const w of this.workers) w.kill();
  }
}
