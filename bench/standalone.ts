/**
 * Standalone benchmark: getData and setData throughput and latency of one zablab server and
 * one Apache ZooKeeper 3.8 server, on the same machine, same zoo.cfg, same filesystem, in one
 * run, driven by the same client from K worker processes (each its own event loop, so that the
 * client is not the bottleneck) with many requests in flight.
 *
 *   npm run build && npx tsx bench/standalone.ts [--duration 10] [--warmup 3] [--workers 2]
 *     [--clients 4] [--inflight 128] [--value-size 100] [--keys 1000] [--ops setData,getData]
 *     [--driver zablab-client] [--servers zablab,zookeeper]
 *     [--server-cpus LIST] [--client-cpus LIST] [--out DIR]
 *
 * Built on the harness: each server is a 1-voter ensemble of the `local` or `zookeeper`
 * driver (one server line runs standalone, in both programs), the load is the native load
 * driver (zablab's client in --workers processes). A new load starts per phase.
 *
 * Prints a table with the ratio zablab/ZooKeeper per metric, the CPU use of server, clients
 * and machine per phase (to show which one was the limit), and writes DIR/standalone.json.
 * Servers run one after the other (never side by side), each on a fresh temp dataDir, with
 * forceSync=yes (ZooKeeper's default): every write is fsynced before it is acknowledged.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadTargetOf, localDriver, zookeeperDriver, zookeeperMissing, type EnsembleDriver, type EnsembleHandle } from '../src/harness/drivers/index.js';
import { BENCH_BASE_CONFIG } from '../src/harness/runner/run.js';
import { LOAD_CLIENT, UsageError, intOption, listOption, loadFlagValues, loadFlags, type LoadFlagValues } from './lib/options.js';
import { runTrackedPhase, type PhaseResult } from './lib/phase.js';
import { pinToCpus } from './lib/proc.js';
import { InterruptedError, Shutdown, killPids } from './lib/shutdown.js';
import { PHASE_OPS, describeMix, workloadFor, type PhaseOp } from './lib/workloads.js';

const SCHEMA = 'zablab.bench.standalone/v3';
const SERVER_NAMES = ['zablab', 'zookeeper'] as const;
type ServerName = (typeof SERVER_NAMES)[number];
const DEFAULT_OPS: PhaseOp[] = ['setData', 'getData'];
const LOAD_ROOT = '/bench';
/** A JVM with its default flags on a busy machine may take a while to start. */
const UP_TIMEOUT_MS = 120_000;
/** A CPU at or above this share of a core (or the machine) counts as saturated. */
const SATURATED_PCT = 90;
/** After a signal, how long the run may take to stop its servers and workers before it is cut short. */
const STOP_ON_SIGNAL_MS = 45_000;

/** The shared load flags (lib/options.ts) and this script's own. */
interface Options extends LoadFlagValues {
  ops: PhaseOp[];
  servers: ServerName[];
  serverCpus: string | null;
  clientCpus: string | null;
}

const USAGE = `usage: npx tsx bench/standalone.ts [options]   (run \`npm run build\` first)
  --duration SEC      measured seconds per phase (default 10)
  --warmup SEC        unmeasured load before each phase (default 3)
  --workers K         client processes (default 2)
  --clients N         sessions per worker (default 4)
  --inflight N        requests in flight per session (default 128)
  --value-size BYTES  znode data size (default 100)
  --keys N            znodes read and written (default 1000)
  --ops LIST          ${PHASE_OPS.join(',')} (default ${DEFAULT_OPS.join(',')}; mixed: ${describeMix('mixed')})
  --driver NAME       ${LOAD_CLIENT} (the harness's native load driver; the only one)
  --servers LIST      zablab,zookeeper (default both, in that order)
  --server-cpus LIST  pin the server to these CPUs (taskset list, e.g. 0)
  --client-cpus LIST  pin the workers to these CPUs (e.g. 1-3)
  --out DIR           where standalone.json goes (default bench-results/<time>)`;

function cpuListOption(raw: string | undefined, name: string): string | null {
  if (raw === undefined) return null;
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(raw)) throw new UsageError(`--${name} must be a CPU list like 0 or 1-3 or 0,2, got '${raw}'`);
  return raw;
}

/** How many CPUs a taskset list such as `0,2-3` names. */
function cpuListSize(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const [lo, hi] = part.split('-').map(Number);
    n += hi === undefined ? 1 : Math.max(0, hi - lo! + 1);
  }
  return n;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...loadFlags({ warmup: '3', inflight: '128' }),
      ops: { type: 'string', default: DEFAULT_OPS.join(',') },
      servers: { type: 'string', default: SERVER_NAMES.join(',') },
      'server-cpus': { type: 'string' },
      'client-cpus': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    ...loadFlagValues(values),
    ops: listOption(values.ops, 'ops', PHASE_OPS),
    servers: listOption(values.servers, 'servers', SERVER_NAMES),
    serverCpus: cpuListOption(values['server-cpus'], 'server-cpus'),
    clientCpus: cpuListOption(values['client-cpus'], 'client-cpus'),
  };
}

// --- one server -------------------------------------------------------------------------------

/** Which resource ran out in a phase, in words a reader can act on. */
function verdict(p: PhaseResult, opts: Options): string {
  const thread = p.server?.busiestThread;
  if (thread && thread.busyPct >= SATURATED_PCT) return `server-bound: its busiest thread (${thread.name}) was ${thread.busyPct.toFixed(0)}% busy`;
  const serverCores = opts.serverCpus === null ? os.cpus().length : cpuListSize(opts.serverCpus);
  if (p.server && p.server.busyPct >= SATURATED_PCT * serverCores) {
    return `server-bound: it used ${p.server.busyPct.toFixed(0)}% of a core, all of the ${serverCores} CPU(s) it may run on`;
  }
  if (p.machine && p.machine.busyPct >= SATURATED_PCT) {
    // A worker looks busy here even when it waits for a CPU, so say this first.
    const server = p.server ? `${p.server.busyPct.toFixed(0)}%` : 'n/a';
    return (
      `machine-bound: all ${p.machine.cpus} CPUs were ${p.machine.busyPct.toFixed(0)}% busy (server ${server} of a core, ` +
      `load workers ${p.clients.busyPct.toFixed(0)}%, the rest other processes): pin with --server-cpus/--client-cpus, or use more cores`
    );
  }
  const worker = busiestWorkerPct(p);
  if (worker !== undefined && worker >= SATURATED_PCT) return `client-bound: a load worker was ${worker.toFixed(0)}% busy: add --workers`;
  return 'no CPU saturated: the limit is elsewhere (fsync, the request pipeline, or too little load: raise --clients or --inflight)';
}

/** The busiest load worker's CPU (% of a core); its single event loop is its limit. */
function busiestWorkerPct(p: PhaseResult | undefined): number | undefined {
  if (p === undefined || p.clients.perWorker.length === 0) return undefined;
  return Math.max(...p.clients.perWorker.map((w) => w.busyPct));
}

interface ServerRun {
  server: ServerName;
  /** The harness's ensemble driver that ran it (1 voter). */
  driver: EnsembleDriver['name'] | null;
  pid: number | null;
  phases: Partial<Record<PhaseOp, PhaseResult & { verdict: string }>>;
  error: string | null;
}

/** The harness driver that runs a server, or why it cannot run here. */
function driverOf(name: ServerName): EnsembleDriver | string {
  switch (name) {
    case 'zablab':
      return localDriver();
    case 'zookeeper':
      return zookeeperMissing() ?? zookeeperDriver();
  }
}

function summaryLine(p: PhaseResult): string {
  const server = p.server ? `server CPU ${p.server.busyPct.toFixed(0)}%` : 'server CPU n/a';
  return `${Math.round(p.throughputOpsPerSec)} ops/s, p50 ${p.latencyMs.p50.toFixed(2)} ms, p99 ${p.latencyMs.p99.toFixed(2)} ms, ${p.errors} errors, ${server}, clients CPU ${p.clients.busyPct.toFixed(0)}%`;
}

async function runPhases(name: ServerName, handle: EnsembleHandle, run: ServerRun, opts: Options, shutdown: Shutdown): Promise<void> {
  const target = loadTargetOf(handle);
  const phase = { root: LOAD_ROOT, serverPids: handle.pids(), ...(opts.clientCpus === null ? {} : { clientCpus: opts.clientCpus }) };
  for (const op of opts.ops) {
    const sessions = opts.workers * opts.clients;
    console.error(`[${name}] ${op}: warm-up ${opts.warmupSec} s, then ${opts.durationSec} s measured (${opts.workers} workers x ${opts.clients} sessions x ${opts.inflight} in flight = ${sessions * opts.inflight})`);
    const result = await runTrackedPhase(op, target, workloadFor(op, opts), phase, shutdown);
    run.phases[op] = { ...result, verdict: verdict(result, opts) };
    console.error(`[${name}] ${op}: ${summaryLine(result)}`);
  }
}

async function benchServer(name: ServerName, opts: Options, shutdown: Shutdown): Promise<ServerRun> {
  const run: ServerRun = { server: name, driver: null, pid: null, phases: {}, error: null };
  const driver = driverOf(name);
  if (typeof driver === 'string') {
    run.error = driver;
    return run;
  }
  run.driver = driver.name;
  console.error(`[${name}] starting`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zablab-bench-standalone-${name}-`));
  let handle: EnsembleHandle | null = null;
  let untrack = (): void => undefined;
  try {
    handle = await driver.up({ voters: 1, observers: 0, dir, config: { ...BENCH_BASE_CONFIG }, timeoutMs: UP_TIMEOUT_MS });
    const h = handle;
    const pids = h.pids();
    untrack = shutdown.track({ stop: () => h.down(), kill: () => killPids(pids) });
    run.pid = pids[0] ?? null;
    if (opts.serverCpus !== null) for (const pid of pids) pinToCpus(pid, opts.serverCpus);
    await runPhases(name, h, run, opts, shutdown);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    run.error = shutdown.interrupted !== null && !(err instanceof InterruptedError) ? `interrupted by ${shutdown.interrupted} (${why})` : why;
    console.error(`[${name}] failed: ${run.error}`);
  } finally {
    await handle?.down().catch((err: unknown) => console.error(`[${name}] stopping the server: ${String(err)}`));
    untrack();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return run;
}

// --- report -----------------------------------------------------------------------------------

interface Ratio {
  throughput: number | null;
  p50: number | null;
  p99: number | null;
  opsPerServerCpuSecond: number | null;
}

function div(x: number | null | undefined, y: number | null | undefined): number | null {
  return x === undefined || y === undefined || x === null || y === null || !Number.isFinite(x) || !Number.isFinite(y) || y === 0 ? null : x / y;
}

function ratios(runs: ServerRun[], ops: readonly PhaseOp[]): Partial<Record<PhaseOp, Ratio>> {
  const z = runs.find((r) => r.server === 'zablab');
  const k = runs.find((r) => r.server === 'zookeeper');
  const out: Partial<Record<PhaseOp, Ratio>> = {};
  for (const op of ops) {
    const a = z?.phases[op];
    const b = k?.phases[op];
    out[op] = {
      throughput: div(a?.throughputOpsPerSec, b?.throughputOpsPerSec),
      p50: div(a?.latencyMs.p50, b?.latencyMs.p50),
      p99: div(a?.latencyMs.p99, b?.latencyMs.p99),
      opsPerServerCpuSecond: div(a?.opsPerServerCpuSecond, b?.opsPerServerCpuSecond),
    };
  }
  return out;
}

function printTable(runs: ServerRun[], r: Partial<Record<PhaseOp, Ratio>>, opts: Options): void {
  const z = runs.find((x) => x.server === 'zablab');
  const k = runs.find((x) => x.server === 'zookeeper');
  const ms = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(2));
  const num = (v: number | null | undefined): string => (v === undefined || v === null ? '-' : Math.round(v).toLocaleString('en-US'));
  const pct = (v: number | null | undefined): string => (v === undefined || v === null ? '-' : `${v.toFixed(0)}%`);
  const ratio = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v.toFixed(2)}x`);
  const thread = (p: PhaseResult | undefined): string => {
    const t = p?.server?.busiestThread;
    return t ? `${t.busyPct.toFixed(0)}% ${t.name}` : '-';
  };
  const rows: string[][] = [['metric', 'zablab', 'zookeeper', 'zablab/zookeeper']];
  for (const op of opts.ops) {
    const a = z?.phases[op];
    const b = k?.phases[op];
    rows.push([`${op} throughput (ops/s)`, num(a?.throughputOpsPerSec), num(b?.throughputOpsPerSec), ratio(r[op]?.throughput)]);
    rows.push([`${op} p50 latency (ms)`, ms(a?.latencyMs.p50), ms(b?.latencyMs.p50), ratio(r[op]?.p50)]);
    rows.push([`${op} p99 latency (ms)`, ms(a?.latencyMs.p99), ms(b?.latencyMs.p99), ratio(r[op]?.p99)]);
    rows.push([`${op} errors`, String(a?.errors ?? '-'), String(b?.errors ?? '-'), '']);
    rows.push([`${op} server CPU busy (% of a core)`, pct(a?.server?.busyPct), pct(b?.server?.busyPct), '']);
    rows.push([`${op} busiest server thread`, thread(a), thread(b), '']);
    rows.push([`${op} ops per server CPU-second`, num(a?.opsPerServerCpuSecond), num(b?.opsPerServerCpuSecond), ratio(r[op]?.opsPerServerCpuSecond)]);
    rows.push([`${op} client CPU busy (% of a core, all workers)`, pct(a?.clients.busyPct), pct(b?.clients.busyPct), '']);
    rows.push([`${op} busiest load worker (% of a core)`, pct(busiestWorkerPct(a)), pct(busiestWorkerPct(b)), '']);
    rows.push([`${op} machine CPU busy (% of all ${os.cpus().length})`, pct(a?.machine?.busyPct), pct(b?.machine?.busyPct), '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  console.log(`native load (${opts.driver}): ${opts.workers} workers x ${opts.clients} sessions x ${opts.inflight} in flight; ${opts.durationSec} s measured after ${opts.warmupSec} s warm-up`);
  for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  for (const run of runs) {
    for (const op of opts.ops) {
      const p = run.phases[op];
      if (p) console.log(`${run.server} ${op}: ${p.verdict}`);
    }
    if (run.error !== null) console.log(`${run.server}: ${run.error}`);
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const shutdown = new Shutdown(STOP_ON_SIGNAL_MS);
  shutdown.install();
  const startedAt = new Date().toISOString();
  const loadAvgAtStart = os.loadavg();
  const runs: ServerRun[] = [];
  for (const name of opts.servers) if (shutdown.interrupted === null) runs.push(await benchServer(name, opts, shutdown));
  const r = ratios(runs, opts.ops);
  printTable(runs, r, opts);
  const result = {
    schema: SCHEMA,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memBytes: os.totalmem(),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      tmpdir: os.tmpdir(),
      loadAvgAtStart,
    },
    options: opts,
    serverConfig: BENCH_BASE_CONFIG,
    client: `harness native load driver (${opts.driver}), closed loop, ${opts.workers} worker processes x ${opts.clients} sessions x ${opts.inflight} in flight`,
    runs,
    ratios: r,
  };
  fs.mkdirSync(opts.out, { recursive: true });
  const file = path.join(opts.out, 'standalone.json');
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${file}`);
  if (runs.some((x) => x.error !== null)) process.exitCode = 1;
  if (shutdown.interrupted !== null) process.exitCode = 130;
}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? `error: ${err.message}\n${USAGE}` : err);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
