/**
 * One run of a bench: bring the ensemble up, start the load (warm-up), open the measured
 * window, fire the scheduled faults, close the window, and turn what the load, the servers
 * and the spans saw into a RunResult. Whatever happens, the load and the ensemble are
 * stopped before it returns.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadTargetOf } from '../drivers/probe.js';
import type { EnsembleDriver, EnsembleHandle } from '../drivers/types.js';
import type { LoadDriver, LoadHistory, LoadResult, LoadRun, TimelinePoint } from '../load/types.js';
import { nowEpochMs, EMPTY_PERCENTILES } from '../load/recorder.js';
import { breakdownFromSpans } from '../measure/breakdown.js';
import { EnsembleObserver } from '../measure/observe.js';
import { recoveryOf, type AppliedFault } from '../measure/recovery.js';
import { ACKED_ROOT, AckedWriters } from '../measure/acked-writes.js';
import type { AckedWritesResult, RunResult, WriteBreakdown } from '../report/results.js';
import { drawSeed } from '../nemesis/index.js';
import { faultSteps } from '../scenario/schedule.js';
import type { RunPlan } from '../scenario/types.js';
import { FaultRunner } from './faults.js';
import { checkRunHistory, readFinals, type FinalReads } from './history.js';
import type { ProgressSink } from './progress.js';
import { StateCost } from './state-cost.js';
import { SyncMeasures } from './sync-measures.js';

/** The parent znode of every key the load uses. */
export const LOAD_ROOT = '/zablab-bench';
/**
 * zoo.cfg every benchmarked server starts from (zablab and ZooKeeper alike, before the
 * scenario's overrides): ZooKeeper's defaults with fsync on, and no per-address connection
 * cap, since every load session comes from 127.0.0.1.
 */
export const BENCH_BASE_CONFIG: Readonly<Record<string, string>> = {
  tickTime: '2000',
  initLimit: '10',
  syncLimit: '5',
  forceSync: 'yes',
  globalOutstandingLimit: '1000',
  snapCount: '100000',
  maxClientCnxns: '0',
};
const UP_TIMEOUT_MS = 120_000;
/** After the window: how long breakdown may read spans files (they flush within 2 s). */
const SPANS_FLUSH_WAIT_MS = 2_500;

/** Hooks for what a run tells the outside world about its faults (fault metric, Grafana annotations). */
export interface FaultListener {
  (fault: AppliedFault): void;
}

/** Someone watching the run as it goes (harness/live): told what the run sees. */
export interface RunWatcher {
  ensembleUp(handle: EnsembleHandle): void;
  windowStarted(atEpochMs: number): void;
  /** The leader changed, as the run's observer recorded it (the same changes results.json gets). */
  leader(id: number | null, atEpochMs: number): void;
  /** A second of the measured window, from the load. */
  second(p: TimelinePoint): void;
  /** Before the ensemble is stopped. */
  ensembleDown(): Promise<void>;
}

export interface RunContext {
  /** The run's own directory (ensemble data, spans, history.jsonl). */
  dir: string;
  /** The directory of results.json (results name files relative to it; default: dir). */
  resultsDir?: string;
  ensembleDriver: EnsembleDriver;
  loadDriver: LoadDriver;
  progress: ProgressSink;
  onFault?: FaultListener;
  /** Aborted on SIGINT: the run stops at the next step and cleans up. */
  signal?: AbortSignal;
  watcher?: RunWatcher;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Sleeps until an epoch time, cut short by the abort signal. */
async function sleepUntil(epochMs: number, signal?: AbortSignal): Promise<void> {
  const ms = epochMs - nowEpochMs();
  if (ms > 0) await sleep(ms, undefined, signal ? { signal } : undefined);
}

function emptyLoad(plan: RunPlan): LoadResult {
  return {
    driver: plan.load.driver,
    startEpochMs: 0,
    durationMs: 0,
    ops: 0,
    opsPerSec: 0,
    latencyMs: { ...EMPTY_PERCENTILES },
    byOp: {},
    errors: {},
    timeline: [],
    fine: { slotMs: 100, ops: [], writes: [] },
    faults: [],
    missedSlots: 0,
  };
}

export function resultOf(
  plan: RunPlan,
  startedAt: string,
  program: RunResult['ensemble']['program'],
  load: LoadResult,
  extra: Pick<RunResult, 'recovery' | 'leaderChanges' | 'metrics' | 'breakdown' | 'ackedWrites' | 'seed' | 'populate' | 'sessions' | 'resources'>,
  error: string | null,
): RunResult {
  const byOpLatency: RunResult['latencyMs']['byOp'] = {};
  const byOpOps: RunResult['throughput']['byOp'] = {};
  for (const [op, s] of Object.entries(load.byOp)) {
    if (s === undefined) continue;
    byOpLatency[op as keyof typeof byOpLatency] = s.latencyMs;
    byOpOps[op as keyof typeof byOpOps] = s.opsPerSec;
  }
  return {
    name: plan.name,
    scenario: plan.scenario,
    cell: plan.cell,
    repeat: plan.repeat,
    status: error === null ? 'ok' : 'failed',
    ...(error === null ? {} : { error }),
    startedAt,
    ...(extra.seed === undefined ? {} : { seed: extra.seed }),
    ensemble: {
      driver: plan.ensemble.driver,
      program,
      voters: plan.ensemble.voters,
      observers: plan.ensemble.observers,
      ...((plan.ensemble.spareObservers ?? 0) > 0 ? { spareObservers: plan.ensemble.spareObservers } : {}),
      ...(plan.ensemble.tls ? { tls: true } : {}),
      ...(plan.ensemble.peerSecurity === undefined ? {} : { peerSecurity: plan.ensemble.peerSecurity }),
      config: { ...BENCH_BASE_CONFIG, ...plan.ensemble.config },
    },
    workload: plan.workload,
    load: { driver: plan.load.driver, missedSlots: load.missedSlots },
    durationMs: Math.round(load.durationMs),
    throughput: { opsPerSec: load.opsPerSec, byOp: byOpOps },
    latencyMs: { ...load.latencyMs, byOp: byOpLatency },
    errors: load.errors,
    timeline: load.timeline,
    slots: { slotMs: load.fine.slotMs, ops: load.fine.ops, writes: load.fine.writes },
    recovery: extra.recovery,
    leaderChanges: extra.leaderChanges,
    metrics: extra.metrics,
    breakdown: extra.breakdown,
    ...(extra.ackedWrites === undefined ? {} : { ackedWrites: extra.ackedWrites }),
    ...(extra.populate === undefined ? {} : { populate: extra.populate }),
    ...(extra.sessions === undefined ? {} : { sessions: extra.sessions }),
    ...(extra.resources === undefined ? {} : { resources: extra.resources }),
  };
}

/** What a run that recorded a history leaves to check once its ensemble is down. */
interface HistoryToCheck {
  load: LoadHistory;
  finals: FinalReads;
  windowStartEpochMs: number;
}

/** Runs one plan; never throws for a failure of the run itself (the result says `failed`), only for an abort. */
export async function runOne(plan: RunPlan, ctx: RunContext): Promise<RunResult> {
  const { result, history } = await runUntilDown(plan, ctx);
  if (history !== null) {
    // After the ensemble is down: the check takes CPU (within its budgets) that the servers no longer need.
    ctx.progress.phase('checking the history');
    result.history = await checkRunHistory({ ...history, runDir: ctx.dir, resultsDir: ctx.resultsDir ?? ctx.dir });
  }
  return result;
}

async function runUntilDown(plan: RunPlan, ctx: RunContext): Promise<{ result: RunResult; history: HistoryToCheck | null }> {
  const startedAt = new Date().toISOString();
  // The faults' random choices; recorded, so that `seed:` in the scenario replays them.
  const seed = plan.seed ?? drawSeed();
  fs.mkdirSync(ctx.dir, { recursive: true });
  const spansDir = plan.spans ? path.join(ctx.dir, 'spans') : undefined;
  if (spansDir !== undefined) fs.mkdirSync(spansDir, { recursive: true });
  let handle: EnsembleHandle | null = null;
  let run: LoadRun | null = null;
  let observer: EnsembleObserver | null = null;
  let acked: AckedWriters | null = null;
  let cost: StateCost | null = null;
  let syncs: SyncMeasures | null = null;
  let windowStart = nowEpochMs();
  const onAbort = (): void => {
    run?.kill();
    cost?.kill();
  };
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    ctx.progress.phase(`starting ${plan.ensemble.voters} voters + ${plan.ensemble.observers} observers (${plan.ensemble.driver})`);
    handle = await ctx.ensembleDriver.up({
      voters: plan.ensemble.voters,
      observers: plan.ensemble.observers,
      ...((plan.ensemble.spareObservers ?? 0) > 0 ? { spareObservers: plan.ensemble.spareObservers } : {}),
      config: { ...BENCH_BASE_CONFIG, ...plan.ensemble.config },
      dir: path.join(ctx.dir, 'ensemble'),
      ...(spansDir === undefined ? {} : { spansDir, spansSample: plan.spansSample }),
      ...(plan.ensemble.external === undefined ? {} : { external: plan.ensemble.external }),
      ...(plan.ensemble.adminTokenFile === undefined ? {} : { adminTokenFile: plan.ensemble.adminTokenFile }),
      ...(plan.ensemble.zookeeperHome === undefined ? {} : { zookeeperHome: plan.ensemble.zookeeperHome }),
      ...(plan.ensemble.tls ? { tls: true } : {}),
      ...(plan.ensemble.peerSecurity === undefined ? {} : { peerSecurity: plan.ensemble.peerSecurity }),
      ...(plan.faults.some((f) => f.action === 'partition' || f.action === 'heal') ? { partitions: true } : {}),
      timeoutMs: UP_TIMEOUT_MS,
    });
    ctx.signal?.throwIfAborted();
    observer = new EnsembleObserver(handle, ctx.watcher === undefined ? undefined : (id, at) => ctx.watcher?.leader(id, at));
    syncs = new SyncMeasures(handle, observer);
    observer.start();
    ctx.watcher?.ensembleUp(handle);
    // Memory sampling from here; populated znodes and held sessions before the load's keys.
    cost = await StateCost.start(handle, plan.workload, (text) => ctx.progress.phase(text), ctx.signal);
    ctx.signal?.throwIfAborted();
    ctx.progress.phase(`preparing ${plan.workload.keys} keys (${plan.load.driver} load)`);
    run = await ctx.loadDriver.start(loadTargetOf(handle), plan.workload, {
      root: LOAD_ROOT,
      onLiveOps: (ops) => ctx.progress.liveOps(ops),
      ...(ctx.watcher === undefined ? {} : { onSecond: (p: TimelinePoint) => ctx.watcher?.second(p) }),
      history: plan.history ? { dir: ctx.dir } : null,
    });
    if (plan.faults.length > 0) {
      // Runs with faults also answer "was an acknowledged write lost?" (measure/acked-writes.ts).
      acked = new AckedWriters(handle, `${ACKED_ROOT}/${path.basename(ctx.dir)}-${Date.now()}`);
      await acked.open();
      acked.start();
    }
    ctx.progress.phase('warm-up');
    await sleep(plan.workload.warmupMs, undefined, ctx.signal ? { signal: ctx.signal } : undefined);
    windowStart = await run.mark();
    ctx.watcher?.windowStarted(windowStart);
    ctx.progress.phase('measuring');
    const faults = new FaultRunner({ handle, observer, load: run, plan, seed, progress: ctx.progress, catchUps: syncs.catchUps, ...(ctx.onFault === undefined ? {} : { onFault: ctx.onFault }) });
    const faultsDone = (async () => {
      // One step after the other: a step that takes long (a restart waits to serve) delays the next.
      for (const step of faultSteps(plan.faults)) {
        await sleepUntil(windowStart + step.atMs, ctx.signal);
        await faults.step(step, windowStart);
      }
    })().catch(() => undefined); // step() keeps its own errors; only an abort (Ctrl-C) ends this early
    const windowEnd = windowStart + plan.workload.durationMs;
    const ticker = setInterval(() => ctx.progress.measured(Math.floor((nowEpochMs() - windowStart) / 1_000), Math.round(plan.workload.durationMs / 1_000)), 1_000);
    try {
      await sleepUntil(windowEnd, ctx.signal);
    } finally {
      clearInterval(ticker);
    }
    ctx.progress.phase('stopping load');
    const load = await run.stop();
    run = null;
    await cost.endSessions();
    // A fault still running (e.g. a restart that waits to serve) finishes before the ensemble is stopped.
    await faultsDone;
    await faults.stopWatching();
    await syncs.stop();
    let history: HistoryToCheck | null = null;
    if (load.history !== undefined) {
      ctx.progress.phase('reading the final set and counter');
      history = { load: load.history, finals: await readFinals(loadTargetOf(handle), load.history), windowStartEpochMs: windowStart };
    }
    const seen = await observer.stop(windowStart);
    observer = null;
    let breakdown: WriteBreakdown | null = null;
    if (spansDir !== undefined && handle.spansDir !== null) {
      ctx.progress.phase('reading spans');
      await sleep(SPANS_FLUSH_WAIT_MS);
      breakdown = await breakdownFromSpans(handle.spansDir, { fromEpochMs: windowStart, toEpochMs: windowEnd });
    }
    let ackedWrites: AckedWritesResult | undefined;
    if (acked !== null) {
      ctx.progress.phase('looking up acknowledged writes on every server');
      await acked.stop();
      ackedWrites = await acked.check();
      acked = null;
      if (ackedWrites.lost > 0) ctx.progress.note(`LOST ${ackedWrites.lost} acknowledged writes (of ${ackedWrites.writes})`);
      else if (ackedWrites.error !== null) ctx.progress.note(`acknowledged writes not fully checked: ${ackedWrites.error}`);
    }
    const recovery = faults.applied.map((f) => recoveryOf(f, seen.leaderChanges, load));
    const error = faults.errors.length > 0 ? faults.errors.join('; ') : null;
    const stateCost = await cost.result(windowStart, seen.metrics);
    cost = null;
    const extra = { recovery, leaderChanges: seen.leaderChanges, metrics: seen.metrics, breakdown, seed, ...(ackedWrites === undefined ? {} : { ackedWrites }), ...stateCost };
    const result = resultOf(plan, startedAt, handle.program, load, extra, error);
    Object.assign(result, syncs.results(windowStart, load, seen.leaderChanges));
    return { result, history };
  } catch (err) {
    if (ctx.signal?.aborted === true) throw err;
    const program = handle?.program ?? (plan.ensemble.driver === 'zookeeper' ? 'zookeeper' : 'zablab');
    return { result: resultOf(plan, startedAt, program, emptyLoad(plan), { recovery: [], leaderChanges: [], metrics: [], breakdown: null, seed }, message(err)), history: null };
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    run?.kill();
    cost?.kill();
    await acked?.stop().catch(() => undefined);
    await syncs?.stop().catch(() => undefined);
    if (observer !== null) await observer.stop(windowStart).catch(() => undefined);
    await ctx.watcher?.ensembleDown().catch(() => undefined);
    if (handle !== null) {
      ctx.progress.phase('stopping ensemble');
      await handle.down().catch((err: unknown) => ctx.progress.note(`stopping the ensemble failed: ${message(err)}`));
    }
  }
}
