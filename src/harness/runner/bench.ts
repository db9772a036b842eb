/**
 * `zablab bench`: scenarios → runs → results.json and the reports, rewritten after every run
 * so that a long bench can be looked at while it goes on (and survives an interruption).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HarnessError } from '../errors.js';
import { FaultsMetricServer } from '../measure/faults-metric.js';
import { postFaultAnnotation } from '../measure/grafana.js';
import type { AppliedFault } from '../measure/recovery.js';
import { historySummaryLine } from '../report/history-text.js';
import { sidesText } from '../nemesis/index.js';
import { writeReports } from '../report/index.js';
import { RESULTS_SCHEMA_VERSION, REPORT_FILE, SUMMARY_FILE, type ResultsFile, type RunResult } from '../report/results.js';
import { expandRuns, loadScenarioFile } from '../scenario/index.js';
import type { RunPlan, Scenario } from '../scenario/types.js';
import { formatOps, teeProgress, type ProgressSink } from './progress.js';
import { ensembleDriverFor, loadDriverFor } from './registry.js';
import { runOne, type RunWatcher } from './run.js';

/** The live view (harness/live): it watches each run, follows the progress and marks the faults. */
export interface BenchWatcher extends RunWatcher {
  readonly progress: ProgressSink;
  fault(f: AppliedFault): void;
}

export interface BenchOptions {
  /** Scenario files, in order. */
  scenarios: string[];
  /** Output directory (created; must not already hold a results.json unless `resume`). */
  out: string;
  progress: ProgressSink;
  /** Serve zablab_bench_faults_total on this port for Prometheus (null: off). */
  metricsPort?: number | null;
  /** Post a Grafana annotation per fault (GRAFANA_URL). */
  grafanaUrl?: string | null;
  grafanaApiKey?: string | null;
  /** Only runs whose name contains this. */
  only?: string | null;
  signal?: AbortSignal;
  version: string;
  /** The live view, if one is served. */
  live?: BenchWatcher;
}

export interface BenchPlan {
  scenarios: Scenario[];
  runs: RunPlan[];
}

/** Loads and expands every scenario and checks each run against its drivers, before anything starts. */
export function planBench(files: string[], only?: string | null): BenchPlan {
  const scenarios = files.map((f) => loadScenarioFile(f));
  const names = new Set<string>();
  for (const s of scenarios) {
    if (names.has(s.name)) throw new HarnessError('ZABLAB_BENCH_SCENARIO', `two scenarios are named "${s.name}" (${s.source}); run names would collide`);
    names.add(s.name);
  }
  let runs = scenarios.flatMap((s) => expandRuns(s));
  if (only != null && only !== '') runs = runs.filter((r) => r.name.includes(only));
  if (runs.length === 0) throw new HarnessError('ZABLAB_BENCH_SCENARIO', only ? `no run name contains "${only}"` : 'the scenarios expand to no runs');
  for (const r of runs) {
    const driver = ensembleDriverFor(r.ensemble.driver);
    for (const f of r.faults) {
      if (!driver.faults.has(f.action)) {
        throw new HarnessError(
          'ZABLAB_BENCH_FAULT_UNSUPPORTED',
          `run ${r.name}: the ${r.ensemble.driver} driver cannot apply "${f.action}" (it supports: ${[...driver.faults].join(', ') || 'no faults'})`,
        );
      }
    }
    loadDriverFor(r.load.driver);
  }
  return { scenarios, runs };
}

/** A directory name for a run: its name with every unsafe character replaced. */
export function runDirName(index: number, name: string): string {
  return `${String(index + 1).padStart(3, '0')}-${name.replace(/[^A-Za-z0-9._=-]+/g, '_').slice(0, 120)}`;
}

export function runSummaryLine(r: RunResult): string {
  if (r.status === 'failed') return `FAILED: ${r.error ?? 'unknown error'}${r.history === undefined ? '' : `; ${historySummaryLine(r.history)}`}`;
  const parts = [`${formatOps(r.throughput.opsPerSec)} ops/s`, `p50 ${r.latencyMs.p50} ms`, `p99 ${r.latencyMs.p99} ms`];
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  if (errors > 0) parts.push(`${formatOps(errors)} errors`);
  for (const rec of r.recovery) {
    if (rec.firstWriteMs !== null) parts.push(`${rec.fault} ${rec.target}: first write after ${rec.firstWriteMs} ms`);
  }
  if (r.history !== undefined) parts.push(historySummaryLine(r.history));
  return parts.join(', ');
}

export function emptyResults(plan: BenchPlan, version: string): ResultsFile {
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'zablab', version },
    createdAt: new Date().toISOString(),
    host: { cpus: os.cpus().length, platform: `${os.platform()} ${os.release()}`, node: process.version },
    scenarios: plan.scenarios.map((s) => ({ name: s.name, description: s.description, source: s.source })),
    runs: [],
  };
}

export async function runBench(benchOpts: BenchOptions): Promise<{ results: ResultsFile; reportFile: string; summaryFile: string }> {
  const live = benchOpts.live;
  // The live view follows the progress the terminal gets.
  const opts = live === undefined ? benchOpts : { ...benchOpts, progress: teeProgress(benchOpts.progress, live.progress) };
  const plan = planBench(opts.scenarios, opts.only);
  const out = path.resolve(opts.out);
  if (fs.existsSync(path.join(out, 'results.json'))) {
    throw new HarnessError('ZABLAB_BENCH_SCENARIO', `${opts.out} already holds a results.json; choose another --out directory or remove it`);
  }
  fs.mkdirSync(out, { recursive: true });
  const results = emptyResults(plan, opts.version);
  const metrics = opts.metricsPort != null ? await FaultsMetricServer.start(opts.metricsPort) : null;
  if (metrics !== null) opts.progress.note(`fault metric for Prometheus on ${metrics.url}`);
  const onFault = (f: AppliedFault): void => {
    metrics?.record(f.action, f.serverId, f.target);
    live?.fault(f);
    if (opts.grafanaUrl != null && opts.grafanaUrl !== '') {
      void postFaultAnnotation(opts.grafanaUrl, { timeMs: Math.round(f.atEpochMs), action: f.action, serverId: f.serverId, text: `zablab: ${f.action} ${f.target} (${f.sides !== undefined ? sidesText(f.sides) : f.serverId === null ? 'every cut' : `server ${f.serverId}`})` }, opts.grafanaApiKey ? { apiKey: opts.grafanaApiKey } : {});
    }
  };
  try {
    for (const [i, r] of plan.runs.entries()) {
      opts.signal?.throwIfAborted();
      opts.progress.runStarted(i + 1, plan.runs.length, r.name);
      const result = await runOne(r, {
        dir: path.join(out, 'runs', runDirName(i, r.name)),
        resultsDir: out,
        ensembleDriver: ensembleDriverFor(r.ensemble.driver),
        loadDriver: loadDriverFor(r.load.driver),
        progress: opts.progress,
        onFault,
        ...(live === undefined ? {} : { watcher: live }),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      results.runs.push(result);
      opts.progress.phase('writing report');
      writeReports(out, results);
      opts.progress.runDone(runSummaryLine(result));
    }
  } finally {
    opts.progress.close();
    await metrics?.close();
    if (results.runs.length > 0) writeReports(out, results);
  }
  return { results, reportFile: path.join(out, REPORT_FILE), summaryFile: path.join(out, SUMMARY_FILE) };
}
