/**
 * Standalone benchmark: getData and setData throughput and latency of one zablab server and
 * one Apache ZooKeeper 3.8 server, on the same machine, same zoo.cfg, same filesystem, in one
 * run, driven by the same client from K worker processes (each its own event loop, so that the
 * client is not the bottleneck) with many requests in flight.
 *
 *   npm run build && npx tsx bench/standalone.ts [--duration 10] [--warmup 3] [--workers 2]
 *     [--clients 4] [--inflight 128] [--value-size 100] [--keys 1000]
 *     [--driver node-zookeeper-client|zablab-client] [--servers zablab,zookeeper]
 *     [--server-cpus LIST] [--client-cpus LIST] [--out DIR]
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
import { startZablab } from '../test/helpers/zablab.js';
import { startZooKeeper, zookeeperAvailable, type ServerHandle } from '../test/helpers/zookeeper.js';
import { DRIVER_NAMES, zablabClientStale, type DriverName } from './lib/drivers.js';
import { LoadPool, pinToCpus, type PhaseResult } from './lib/load-pool.js';
import type { BenchOp } from './lib/load-protocol.js';
import { BENCH_SERVER_CONFIG, UsageError, intOption } from './lib/options.js';

const SCHEMA = 'zablab.bench.standalone/v2';
const SERVER_NAMES = ['zablab', 'zookeeper'] as const;
type ServerName = (typeof SERVER_NAMES)[number];
const OPS: BenchOp[] = ['setData', 'getData'];
/** ZooKeeper's maxClientCnxns (60, below) counts every session from 127.0.0.1; keep a margin. */
const SESSIONS_MAX = 50;
/** A CPU at or above this share of a core (or the machine) counts as saturated. */
const SATURATED_PCT = 90;
/** After a signal, how long the run may take to stop its servers and workers before it is cut short. */
const STOP_ON_SIGNAL_MS = 45_000;

interface Options {
  durationSec: number;
  warmupSec: number;
  workers: number;
  /** Sessions per worker. */
  clients: number;
  /** Requests in flight per session. */
  inflight: number;
  valueSize: number;
  keys: number;
  driver: DriverName;
  servers: ServerName[];
  serverCpus: string | null;
  clientCpus: string | null;
  out: string;
}

const USAGE = `usage: npx tsx bench/standalone.ts [options]   (run \`npm run build\` first)
  --duration SEC      measured seconds per phase (default 10)
  --warmup SEC        unmeasured load before each phase (default 3)
  --workers K         client processes (default 2)
  --clients N         sessions per worker (default 4; workers x clients <= ${SESSIONS_MAX})
  --inflight N        requests in flight per session (default 128)
  --value-size BYTES  znode data size (default 100)
  --keys N            znodes read and written (default 1000)
  --driver NAME       ${DRIVER_NAMES.join(' | ')} (default ${DRIVER_NAMES[0]})
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
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      workers: { type: 'string', default: '2' },
      clients: { type: 'string', default: '4' },
      inflight: { type: 'string', default: '128' },
      'value-size': { type: 'string', default: '100' },
      keys: { type: 'string', default: '1000' },
      driver: { type: 'string', default: DRIVER_NAMES[0] },
      servers: { type: 'string', default: SERVER_NAMES.join(',') },
      'server-cpus': { type: 'string' },
      'client-cpus': { type: 'string' },
      out: { type: 'string', default: path.join('bench-results', new Date().toISOString().replace(/[:.]/g, '-')) },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const servers = values.servers.split(',').map((s) => s.trim());
  for (const s of servers) {
    if (!(SERVER_NAMES as readonly string[]).includes(s)) throw new UsageError(`--servers: unknown server '${s}' (known: ${SERVER_NAMES.join(', ')})`);
  }
  if (!(DRIVER_NAMES as readonly string[]).includes(values.driver)) {
    throw new UsageError(`--driver: unknown driver '${values.driver}' (known: ${DRIVER_NAMES.join(', ')})`);
  }
  const opts: Options = {
    durationSec: intOption(values, 'duration', 1, 3_600),
    warmupSec: intOption(values, 'warmup', 0, 600),
    workers: intOption(values, 'workers', 1, 16),
    clients: intOption(values, 'clients', 1, SESSIONS_MAX),
    inflight: intOption(values, 'inflight', 1, 10_000),
    valueSize: intOption(values, 'value-size', 0, 1_000_000),
    keys: intOption(values, 'keys', 1, 100_000),
    driver: values.driver as DriverName,
    servers: servers as ServerName[],
    serverCpus: cpuListOption(values['server-cpus'], 'server-cpus'),
    clientCpus: cpuListOption(values['client-cpus'], 'client-cpus'),
    out: values.out,
  };
  if (opts.workers * opts.clients > SESSIONS_MAX) {
    throw new UsageError(`--workers x --clients is ${opts.workers * opts.clients} sessions; at most ${SESSIONS_MAX} (maxClientCnxns is 60 per client host)`);
  }
  return opts;
}

// --- cleanup on every exit path ----------------------------------------------------------------

/** What is running now: stopped on a signal, SIGKILLed if the process exits with it still up. */
interface Live {
  stop(): Promise<void>;
  kill(): void;
}
const live = new Set<Live>();
let interrupted: NodeJS.Signals | null = null;

class InterruptedError extends Error {
  readonly code = 'ZABLAB_BENCH_INTERRUPTED';
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

function checkInterrupted(): void {
  if (interrupted !== null) throw new InterruptedError(interrupted);
}

/**
 * First signal: stop what runs (the run then unwinds, reports what it has, and exits 130);
 * a second signal, or a run that does not unwind in time, exits at once (the exit hook kills).
 */
function onSignal(signal: NodeJS.Signals): void {
  interrupted = signal;
  console.error(`\n${signal}: stopping the servers and load workers; send it again to kill them at once`);
  process.once(signal, () => process.exit(130));
  setTimeout(() => process.exit(130), STOP_ON_SIGNAL_MS).unref();
  for (const l of live) void l.stop().catch(() => undefined);
}

function installCleanup(): void {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', () => {
    for (const l of live) l.kill();
  });
}

// --- one server -------------------------------------------------------------------------------

/** Which resource ran out in a phase, in words a reader can act on. */
function verdict(p: PhaseResult, opts: Options): string {
  const cheaperClient = opts.driver === 'zablab-client' ? '' : 'use --driver zablab-client, ';
  const thread = p.server?.busiestThread;
  if (thread && thread.busyPct >= SATURATED_PCT) return `server-bound: its busiest thread (${thread.name}) was ${thread.busyPct.toFixed(0)}% busy`;
  const serverCores = opts.serverCpus === null ? os.cpus().length : cpuListSize(opts.serverCpus);
  if (p.server && p.server.busyPct >= SATURATED_PCT * serverCores) {
    return `server-bound: it used ${p.server.busyPct.toFixed(0)}% of a core, all of the ${serverCores} CPU(s) it may run on`;
  }
  if (p.machine && p.machine.busyPct >= SATURATED_PCT) {
    // A worker's event loop looks busy here even when it waits for a CPU, so say this first.
    const server = p.server ? `${p.server.busyPct.toFixed(0)}%` : 'n/a';
    return (
      `machine-bound: all ${p.machine.cpus} CPUs were ${p.machine.busyPct.toFixed(0)}% busy (server ${server} of a core, ` +
      `load workers ${p.clients.busyPct.toFixed(0)}%, the rest other processes): ${cheaperClient}pin with --server-cpus/--client-cpus, or use more cores`
    );
  }
  const elu = Math.max(...p.clients.perWorker.map((w) => w.eventLoopUtilizationPct));
  if (elu >= SATURATED_PCT) return `client-bound: a worker's event loop was ${elu.toFixed(0)}% busy: ${cheaperClient}add --workers`;
  return 'no CPU saturated: the limit is elsewhere (fsync, the request pipeline, or too little load: raise --clients or --inflight)';
}

interface ServerRun {
  server: ServerName;
  pid: number | null;
  workerPids: number[];
  phases: Partial<Record<BenchOp, PhaseResult & { verdict: string }>>;
  error: string | null;
}

function startServer(name: ServerName): Promise<ServerHandle> {
  switch (name) {
    case 'zablab':
      return startZablab({ config: { ...BENCH_SERVER_CONFIG } });
    case 'zookeeper':
      return startZooKeeper({ config: { ...BENCH_SERVER_CONFIG }, fastStart: false });
  }
}

function summaryLine(p: PhaseResult): string {
  const ms = (us: number): string => (us / 1_000).toFixed(2);
  const server = p.server ? `server CPU ${p.server.busyPct.toFixed(0)}%` : 'server CPU n/a';
  return `${Math.round(p.throughputOpsPerSec)} ops/s, p50 ${ms(p.latency.p50Us)} ms, p99 ${ms(p.latency.p99Us)} ms, ${p.errors} errors, ${server}, clients CPU ${p.clients.busyPct.toFixed(0)}%`;
}

async function benchServer(name: ServerName, opts: Options): Promise<ServerRun> {
  const run: ServerRun = { server: name, pid: null, workerPids: [], phases: {}, error: null };
  if (name === 'zookeeper' && !zookeeperAvailable()) {
    run.error = 'Apache ZooKeeper is not installed (Debian package `zookeeper`, or set ZOOKEEPER_HOME)';
    return run;
  }
  console.error(`[${name}] starting`);
  let server: ServerHandle;
  try {
    server = await startServer(name);
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
    console.error(`[${name}] failed to start: ${run.error}`);
    return run;
  }
  const serverLive: Live = { stop: () => server.stop(), kill: () => server.kill('SIGKILL') };
  live.add(serverLive);
  run.pid = server.pid;
  let pool: LoadPool | null = null;
  let poolLive: Live | null = null;
  try {
    checkInterrupted();
    if (opts.serverCpus !== null) pinToCpus(server.pid, opts.serverCpus);
    const p = new LoadPool({
      workers: opts.workers,
      driver: opts.driver,
      connectString: server.connectString,
      sessions: opts.clients,
      inflight: opts.inflight,
      valueSize: opts.valueSize,
      keys: opts.keys,
      root: '/bench',
      cpus: opts.clientCpus,
    });
    pool = p;
    poolLive = { stop: () => p.close(), kill: () => p.kill() };
    live.add(poolLive);
    await p.open();
    run.workerPids = p.pids;
    for (const op of OPS) {
      checkInterrupted();
      const sessions = opts.workers * opts.clients;
      console.error(`[${name}] ${op}: warm-up ${opts.warmupSec} s, then ${opts.durationSec} s measured (${opts.workers} workers x ${opts.clients} sessions x ${opts.inflight} in flight = ${sessions * opts.inflight})`);
      const result = await p.runPhase(op, opts.warmupSec * 1_000, opts.durationSec * 1_000, server.pid);
      run.phases[op] = { ...result, verdict: verdict(result, opts) };
      console.error(`[${name}] ${op}: ${summaryLine(result)}`);
      if (!result.drained) throw new Error(`${op}: requests were still in flight 30 s after the phase ended; later phases would be skewed`);
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    run.error = interrupted !== null && !(err instanceof InterruptedError) ? `interrupted by ${interrupted} (${why})` : why;
    console.error(`[${name}] failed: ${run.error}`);
  } finally {
    if (pool !== null) await pool.close().catch((err: unknown) => console.error(`[${name}] stopping the load workers: ${String(err)}`));
    if (poolLive !== null) live.delete(poolLive);
    await server.stop().catch((err: unknown) => console.error(`[${name}] stopping the server: ${String(err)}`));
    live.delete(serverLive);
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

function ratios(runs: ServerRun[]): Partial<Record<BenchOp, Ratio>> {
  const z = runs.find((r) => r.server === 'zablab');
  const k = runs.find((r) => r.server === 'zookeeper');
  const out: Partial<Record<BenchOp, Ratio>> = {};
  for (const op of OPS) {
    const a = z?.phases[op];
    const b = k?.phases[op];
    out[op] = {
      throughput: div(a?.throughputOpsPerSec, b?.throughputOpsPerSec),
      p50: div(a?.latency.p50Us, b?.latency.p50Us),
      p99: div(a?.latency.p99Us, b?.latency.p99Us),
      opsPerServerCpuSecond: div(a?.opsPerServerCpuSecond, b?.opsPerServerCpuSecond),
    };
  }
  return out;
}

function printTable(runs: ServerRun[], r: Partial<Record<BenchOp, Ratio>>, opts: Options): void {
  const z = runs.find((x) => x.server === 'zablab');
  const k = runs.find((x) => x.server === 'zookeeper');
  const ms = (us: number | undefined): string => (us === undefined || !Number.isFinite(us) ? '-' : (us / 1_000).toFixed(2));
  const num = (v: number | null | undefined): string => (v === undefined || v === null ? '-' : Math.round(v).toLocaleString('en-US'));
  const pct = (v: number | null | undefined): string => (v === undefined || v === null ? '-' : `${v.toFixed(0)}%`);
  const ratio = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v.toFixed(2)}x`);
  const thread = (p: PhaseResult | undefined): string => {
    const t = p?.server?.busiestThread;
    return t ? `${t.busyPct.toFixed(0)}% ${t.name}` : '-';
  };
  const maxElu = (p: PhaseResult | undefined): number | undefined => (p ? Math.max(...p.clients.perWorker.map((w) => w.eventLoopUtilizationPct)) : undefined);
  const rows: string[][] = [['metric', 'zablab', 'zookeeper', 'zablab/zookeeper']];
  for (const op of OPS) {
    const a = z?.phases[op];
    const b = k?.phases[op];
    rows.push([`${op} throughput (ops/s)`, num(a?.throughputOpsPerSec), num(b?.throughputOpsPerSec), ratio(r[op]?.throughput)]);
    rows.push([`${op} p50 latency (ms)`, ms(a?.latency.p50Us), ms(b?.latency.p50Us), ratio(r[op]?.p50)]);
    rows.push([`${op} p99 latency (ms)`, ms(a?.latency.p99Us), ms(b?.latency.p99Us), ratio(r[op]?.p99)]);
    rows.push([`${op} errors`, String(a?.errors ?? '-'), String(b?.errors ?? '-'), '']);
    rows.push([`${op} server CPU busy (% of a core)`, pct(a?.server?.busyPct), pct(b?.server?.busyPct), '']);
    rows.push([`${op} busiest server thread`, thread(a), thread(b), '']);
    rows.push([`${op} ops per server CPU-second`, num(a?.opsPerServerCpuSecond), num(b?.opsPerServerCpuSecond), ratio(r[op]?.opsPerServerCpuSecond)]);
    rows.push([`${op} client CPU busy (% of a core, all workers)`, pct(a?.clients.busyPct), pct(b?.clients.busyPct), '']);
    rows.push([`${op} busiest worker event loop`, pct(maxElu(a)), pct(maxElu(b)), '']);
    rows.push([`${op} machine CPU busy (% of all ${os.cpus().length})`, pct(a?.machine?.busyPct), pct(b?.machine?.busyPct), '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  console.log(`driver ${opts.driver}: ${opts.workers} workers x ${opts.clients} sessions x ${opts.inflight} in flight; ${opts.durationSec} s measured after ${opts.warmupSec} s warm-up`);
  for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  for (const run of runs) {
    for (const op of OPS) {
      const p = run.phases[op];
      if (p) console.log(`${run.server} ${op}: ${p.verdict}`);
    }
    if (run.error !== null) console.log(`${run.server}: ${run.error}`);
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  installCleanup();
  if (opts.driver === 'zablab-client' && zablabClientStale()) {
    console.error('warning: src/client is newer than dist/client; run `npm run build` or the bench measures the old client');
  }
  const startedAt = new Date().toISOString();
  const loadAvgAtStart = os.loadavg();
  const runs: ServerRun[] = [];
  for (const name of opts.servers) if (interrupted === null) runs.push(await benchServer(name, opts));
  const r = ratios(runs);
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
    serverConfig: BENCH_SERVER_CONFIG,
    client: `${opts.driver}, closed loop, ${opts.workers} worker processes x ${opts.clients} sessions x ${opts.inflight} in flight`,
    runs,
    ratios: r,
  };
  fs.mkdirSync(opts.out, { recursive: true });
  const file = path.join(opts.out, 'standalone.json');
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${file}`);
  if (runs.some((x) => x.error !== null)) process.exitCode = 1;
  if (interrupted !== null) process.exitCode = 130;
}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? `error: ${err.message}\n${USAGE}` : err);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
