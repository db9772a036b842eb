/**
 * What tracing costs: the throughput of zablab with tracing off, with every request traced
 * (100 %, parent-based always-on) and with 1 % of requests traced (parent-based trace-id
 * ratio), in one run, on the same machine and load. Spans go to ZABLAB_SPANS_DIR (the
 * spans file, what reports use with no collector), so the cost includes writing them.
 *
 *   npm run build && npx tsx bench/tracing-overhead.ts [--mode standalone|ensemble]
 *     [--duration 10] [--warmup 3] [--rounds 1] [--ops setData,getData] [--workers 2]
 *     [--clients 4] [--inflight 64] [--value-size 100] [--keys 1000]
 *     [--driver zablab-client|node-zookeeper-client] [--spans-dir DIR] [--out DIR]
 *
 * Each round runs the three settings one after another, each on a fresh server (or 3-voter
 * ensemble) so that no setting inherits another's files; with --rounds > 1 the order rotates
 * and the best throughput of each setting counts (the least disturbed by the machine).
 * Prints the ratios to the untraced run (target: 100 % keeps >= 90 %), the server's CPU per
 * operation (all its threads, the spans writer included) and how busy the machine was (a
 * shared machine skews throughput; CPU per op less so), and writes DIR/tracing-overhead.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalEnsemble } from '../src/harness/ensemble/index.js';
import { startZablab } from '../test/helpers/zablab.js';
import { DRIVER_NAMES, zablabClientStale, type DriverName } from './lib/drivers.js';
import { LoadPool, type PhaseResult } from './lib/load-pool.js';
import type { BenchOp } from './lib/load-protocol.js';
import { Shutdown } from './lib/shutdown.js';
import { BENCH_SERVER_CONFIG, UsageError, intOption } from './lib/options.js';

const SCHEMA = 'zablab.bench.tracing-overhead/v1';
const MODES = ['standalone', 'ensemble'] as const;
type Mode = (typeof MODES)[number];
const ALL_OPS: BenchOp[] = ['setData', 'getData'];
/** maxClientCnxns (60) counts sessions per client host. */
const SESSIONS_MAX = 50;
const TARGET_RATIO_FULL = 0.9;
const STOP_ON_SIGNAL_MS = 60_000;

interface Setting {
  name: 'off' | 'sampled-100%' | 'sampled-1%';
  /** null: tracing off. */
  sampler: { name: string; arg?: string } | null;
}

const SETTINGS: Setting[] = [
  { name: 'off', sampler: null },
  { name: 'sampled-100%', sampler: { name: 'parentbased_always_on' } },
  { name: 'sampled-1%', sampler: { name: 'parentbased_traceidratio', arg: '0.01' } },
];

interface Options {
  mode: Mode;
  durationSec: number;
  warmupSec: number;
  rounds: number;
  ops: BenchOp[];
  workers: number;
  clients: number;
  inflight: number;
  valueSize: number;
  keys: number;
  driver: DriverName;
  /** Where the spans files go (a fresh directory under it per run); null: next to the servers' data. */
  spansDir: string | null;
  out: string;
}

const USAGE = `usage: npx tsx bench/tracing-overhead.ts [options]   (run \`npm run build\` first)
  --mode M            standalone (one server) or ensemble (3 voters) (default standalone)
  --duration SEC      measured seconds per phase (default 10)
  --warmup SEC        unmeasured load before each phase (default 3)
  --rounds N          repeat the three settings N times, rotating their order (default 1)
  --ops LIST          setData,getData (default both)
  --workers K         client processes (default 2)
  --clients N         sessions per worker (default 4)
  --inflight N        requests in flight per session (default 64)
  --value-size BYTES  znode data size (default 100)
  --keys N            znodes read and written (default 1000)
  --driver NAME       ${DRIVER_NAMES.join(' | ')} (default zablab-client)
  --spans-dir DIR     write the spans files under DIR (e.g. another disk, or /dev/shm to leave
                      the disk to the txn logs); default: next to the servers' data
  --out DIR           where tracing-overhead.json goes (default bench-results/<time>)`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      mode: { type: 'string', default: 'standalone' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '1' },
      ops: { type: 'string', default: ALL_OPS.join(',') },
      workers: { type: 'string', default: '2' },
      clients: { type: 'string', default: '4' },
      inflight: { type: 'string', default: '64' },
      'value-size': { type: 'string', default: '100' },
      keys: { type: 'string', default: '1000' },
      driver: { type: 'string', default: 'zablab-client' },
      'spans-dir': { type: 'string' },
      out: { type: 'string', default: path.join('bench-results', new Date().toISOString().replace(/[:.]/g, '-')) },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!(MODES as readonly string[]).includes(values.mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got '${values.mode}'`);
  const ops = values.ops.split(',').map((s) => s.trim());
  for (const op of ops) if (!(ALL_OPS as string[]).includes(op)) throw new UsageError(`--ops: unknown op '${op}' (known: ${ALL_OPS.join(', ')})`);
  if (!(DRIVER_NAMES as readonly string[]).includes(values.driver)) throw new UsageError(`--driver: unknown driver '${values.driver}' (known: ${DRIVER_NAMES.join(', ')})`);
  const opts: Options = {
    mode: values.mode as Mode,
    durationSec: intOption(values, 'duration', 1, 3_600),
    warmupSec: intOption(values, 'warmup', 0, 600),
    rounds: intOption(values, 'rounds', 1, 20),
    ops: ops as BenchOp[],
    workers: intOption(values, 'workers', 1, 16),
    clients: intOption(values, 'clients', 1, SESSIONS_MAX),
    inflight: intOption(values, 'inflight', 1, 10_000),
    valueSize: intOption(values, 'value-size', 0, 1_000_000),
    keys: intOption(values, 'keys', 1, 100_000),
    driver: values.driver as DriverName,
    spansDir: values['spans-dir'] ?? null,
    out: values.out,
  };
  if (opts.workers * opts.clients > SESSIONS_MAX) throw new UsageError(`--workers x --clients must be at most ${SESSIONS_MAX}`);
  return opts;
}

/** Far above what a run writes: the default (1 GiB) is reached in seconds at full sampling, and spans past it are dropped. */
const SPANS_MAX_BYTES = String(1024 ** 4);

/** The environment of the servers for a setting; OTEL_* of the caller are cleared so they cannot leak in. */
function envFor(setting: Setting, spansDir: string): Record<string, string> {
  const env: Record<string, string> = { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '', ZABLAB_SPANS_DIR: '' };
  if (setting.sampler === null) return env;
  env['ZABLAB_SPANS_DIR'] = spansDir;
  env['ZABLAB_SPANS_MAX_BYTES'] = SPANS_MAX_BYTES;
  env['OTEL_TRACES_SAMPLER'] = setting.sampler.name;
  if (setting.sampler.arg !== undefined) env['OTEL_TRACES_SAMPLER_ARG'] = setting.sampler.arg;
  return env;
}

/** A running server or ensemble, whatever the mode. */
interface Target {
  connectString: string;
  pids: number[];
  /** Each server's HTTP face (for mntr). */
  httpUrls: string[];
  stop(): Promise<void>;
  kill(): void;
}

async function startTarget(mode: Mode, env: Record<string, string>, dir: string): Promise<Target> {
  switch (mode) {
    case 'standalone': {
      const s = await startZablab({ config: { ...BENCH_SERVER_CONFIG }, env, dataDir: path.join(dir, 'data') });
      return { connectString: s.connectString, pids: [s.pid], httpUrls: [`http://127.0.0.1:${s.adminPort}`], stop: () => s.stop(), kill: () => s.kill('SIGKILL') };
    }
    case 'ensemble': {
      const e = await LocalEnsemble.up({ voters: 3, observers: 0, dir: path.join(dir, 'ensemble'), config: { ...BENCH_SERVER_CONFIG }, env, timeoutMs: 120_000 });
      const pids = e.servers.map((s) => s.pid).filter((p): p is number => p !== null);
      return {
        connectString: e.connectString(),
        pids,
        httpUrls: e.servers.map((x) => `http://${x.host}:${x.httpPort}`),
        stop: () => e.down({ purge: true }).then(() => undefined),
        kill: () => {
          for (const pid of pids) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // Already gone.
            }
          }
        },
      };
    }
  }
}

interface SettingRun {
  setting: Setting['name'];
  round: number;
  phases: Partial<Record<BenchOp, PhaseResult>>;
  /** Spans written to the spans files during the run (all phases, warm-up included). */
  spansWritten: number;
  /** Spans the servers dropped (zab_spans_dropped: writer behind, or a write failed); null: not known. */
  spansDropped: number | null;
  spansFileBytes: number;
  error: string | null;
}

/** zab_spans_dropped summed over the servers (their mntr); null if one cannot tell. */
async function spansDropped(httpUrls: string[]): Promise<number | null> {
  let sum = 0;
  for (const url of httpUrls) {
    try {
      const res = await fetch(`${url}/commands/mntr`, { signal: AbortSignal.timeout(5_000) });
      const mntr = (await res.json()) as Record<string, unknown>;
      const key = Object.keys(mntr).find((k) => k.endsWith('spans_dropped'));
      if (key === undefined || typeof mntr[key] !== 'number') return null;
      sum += mntr[key];
    } catch {
      return null;
    }
  }
  return sum;
}

/** Lines (= spans) in a spans file, counted in chunks: at 100 % sampling it outgrows a string. */
function countLines(file: string): number {
  const buf = Buffer.alloc(1 << 20);
  const fd = fs.openSync(file, 'r');
  let lines = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return lines;
      for (let i = buf.indexOf(10); i !== -1 && i < n; i = buf.indexOf(10, i + 1)) lines++;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function spansIn(dir: string): { spans: number; bytes: number } {
  if (!fs.existsSync(dir)) return { spans: 0, bytes: 0 };
  let spans = 0;
  let bytes = 0;
  for (const f of fs.readdirSync(dir)) {
    const file = path.join(dir, f);
    bytes += fs.statSync(file).size;
    spans += countLines(file);
  }
  return { spans, bytes };
}

async function runSetting(setting: Setting, round: number, opts: Options, shutdown: Shutdown): Promise<SettingRun> {
  const run: SettingRun = { setting: setting.name, round, phases: {}, spansWritten: 0, spansDropped: null, spansFileBytes: 0, error: null };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-tracing-bench-'));
  const spansDir = opts.spansDir === null ? path.join(dir, 'spans') : fs.mkdtempSync(path.join(opts.spansDir, 'zablab-spans-'));
  let target: Target | null = null;
  let untrack = (): void => undefined;
  try {
    console.error(`[${setting.name}] starting ${opts.mode === 'standalone' ? 'the server' : 'a 3-voter ensemble'}`);
    target = await startTarget(opts.mode, envFor(setting, spansDir), dir);
    const t = target;
    untrack = shutdown.track({ stop: () => t.stop(), kill: () => t.kill() });
    shutdown.check();
    const p = new LoadPool({
      workers: opts.workers,
      driver: opts.driver,
      connectString: target.connectString,
      sessions: opts.clients,
      inflight: opts.inflight,
      valueSize: opts.valueSize,
      keys: opts.keys,
      root: '/bench',
      cpus: null,
      spreadSessions: opts.mode === 'ensemble',
    });
    const untrackPool = shutdown.track({ stop: () => p.close(), kill: () => p.kill() });
    try {
      await p.open();
      for (const op of opts.ops) {
        shutdown.check();
        const r = await p.runPhase(op, opts.warmupSec * 1_000, opts.durationSec * 1_000, target.pids);
        run.phases[op] = r;
        console.error(`[${setting.name}] ${op}: ${Math.round(r.throughputOpsPerSec)} ops/s, p99 ${(r.latency.p99Us / 1_000).toFixed(2)} ms, ${r.errors} errors`);
      }
    } finally {
      await p.close().catch(() => undefined);
      untrackPool();
    }
    if (setting.sampler !== null) run.spansDropped = await spansDropped(target.httpUrls);
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
    console.error(`[${setting.name}] failed: ${run.error}`);
  } finally {
    await target?.stop().catch((err: unknown) => console.error(`[${setting.name}] stopping: ${String(err)}`));
    untrack();
    // The servers flushed their spans on SIGTERM: count what they wrote, then clean up.
    const written = spansIn(spansDir);
    run.spansWritten = written.spans;
    run.spansFileBytes = written.bytes;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(spansDir, { recursive: true, force: true });
  }
  return run;
}

interface Summary {
  op: BenchOp;
  throughputOpsPerSec: Record<Setting['name'], number | null>;
  p99Ms: Record<Setting['name'], number | null>;
  /** Server CPU (every thread, the spans writer included) per operation, in µs, of the run counted. */
  serverCpuUsPerOp: Record<Setting['name'], number | null>;
  /** How busy the whole machine was during that run (%): above ~90, other load may have skewed it. */
  machineBusyPct: Record<Setting['name'], number | null>;
  ratioToOff: { 'sampled-100%': number | null; 'sampled-1%': number | null };
  meetsTarget: boolean | null;
}

function best(runs: SettingRun[], name: Setting['name'], op: BenchOp): PhaseResult | null {
  let top: PhaseResult | null = null;
  for (const r of runs) {
    const p = r.setting === name ? r.phases[op] : undefined;
    if (p && (top === null || p.throughputOpsPerSec > top.throughputOpsPerSec)) top = p;
  }
  return top;
}

function summarize(runs: SettingRun[], ops: BenchOp[]): Summary[] {
  return ops.map((op) => {
    const off = best(runs, 'off', op);
    const full = best(runs, 'sampled-100%', op);
    const one = best(runs, 'sampled-1%', op);
    const ratio = (p: PhaseResult | null): number | null => (p === null || off === null || off.throughputOpsPerSec === 0 ? null : p.throughputOpsPerSec / off.throughputOpsPerSec);
    const tput = (p: PhaseResult | null): number | null => (p === null ? null : p.throughputOpsPerSec);
    const p99 = (p: PhaseResult | null): number | null => (p === null ? null : p.latency.p99Us / 1_000);
    const cpu = (p: PhaseResult | null): number | null => (p?.opsPerServerCpuSecond ? 1e6 / p.opsPerServerCpuSecond : null);
    const busy = (p: PhaseResult | null): number | null => p?.machine?.busyPct ?? null;
    const r100 = ratio(full);
    return {
      op,
      throughputOpsPerSec: { off: tput(off), 'sampled-100%': tput(full), 'sampled-1%': tput(one) },
      p99Ms: { off: p99(off), 'sampled-100%': p99(full), 'sampled-1%': p99(one) },
      serverCpuUsPerOp: { off: cpu(off), 'sampled-100%': cpu(full), 'sampled-1%': cpu(one) },
      machineBusyPct: { off: busy(off), 'sampled-100%': busy(full), 'sampled-1%': busy(one) },
      ratioToOff: { 'sampled-100%': r100, 'sampled-1%': ratio(one) },
      meetsTarget: r100 === null ? null : r100 >= TARGET_RATIO_FULL,
    };
  });
}

function printTable(summaries: Summary[], runs: SettingRun[], opts: Options): void {
  const num = (v: number | null): string => (v === null ? '-' : Math.round(v).toLocaleString('en-US'));
  const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
  const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);
  const three = (r: Record<Setting['name'], number | null>, f: (v: number | null) => string): string => `${f(r.off)} / ${f(r['sampled-100%'])} / ${f(r['sampled-1%'])}`;
  const us = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
  const busy = (v: number | null): string => (v === null ? '-' : v.toFixed(0));
  const rows: string[][] = [
    ['op', 'off ops/s', '100% ops/s', '1% ops/s', '100%/off', '1%/off', 'p99 off/100%/1% (ms)', 'server CPU µs/op', 'machine busy %'],
  ];
  for (const s of summaries) {
    rows.push([
      s.op,
      num(s.throughputOpsPerSec.off),
      num(s.throughputOpsPerSec['sampled-100%']),
      num(s.throughputOpsPerSec['sampled-1%']),
      pct(s.ratioToOff['sampled-100%']),
      pct(s.ratioToOff['sampled-1%']),
      three(s.p99Ms, ms),
      three(s.serverCpuUsPerOp, us),
      three(s.machineBusyPct, busy),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(
    `${opts.mode}, driver ${opts.driver}: ${opts.workers} workers x ${opts.clients} sessions x ${opts.inflight} in flight; ` +
      `${opts.durationSec} s measured after ${opts.warmupSec} s warm-up; best of ${opts.rounds} round(s); spans to ZABLAB_SPANS_DIR${opts.spansDir === null ? '' : ` under ${opts.spansDir}`}`,
  );
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  for (const s of summaries) {
    if (s.meetsTarget !== null) console.log(`${s.op}: 100 % sampling keeps ${pct(s.ratioToOff['sampled-100%'])} of untraced throughput (target >= ${TARGET_RATIO_FULL * 100}%: ${s.meetsTarget ? 'met' : 'NOT met'})`);
  }
  for (const r of runs) {
    const seconds = opts.ops.length * (opts.durationSec + opts.warmupSec);
    const dropped = r.spansDropped === null ? '' : `, ${r.spansDropped} dropped`;
    if (r.spansWritten > 0) console.log(`${r.setting} round ${r.round}: ${r.spansWritten} spans written (~${Math.round(r.spansWritten / seconds)}/s, ${(r.spansFileBytes / 1e6).toFixed(1)} MB)${dropped}`);
    if (r.error !== null) console.log(`${r.setting} round ${r.round}: ${r.error}`);
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const shutdown = new Shutdown(STOP_ON_SIGNAL_MS);
  shutdown.install();
  if (opts.driver === 'zablab-client' && zablabClientStale()) {
    console.error('warning: src/client is newer than dist/client; run `npm run build` or the bench measures the old client');
  }
  const startedAt = new Date().toISOString();
  const runs: SettingRun[] = [];
  for (let round = 0; round < opts.rounds && shutdown.interrupted === null; round++) {
    // Rotate the order so that no setting always runs first (a cold disk) or last (a warm one).
    const order = SETTINGS.map((_, i) => SETTINGS[(i + round) % SETTINGS.length]!);
    for (const setting of order) if (shutdown.interrupted === null) runs.push(await runSetting(setting, round + 1, opts, shutdown));
  }
  const summaries = summarize(runs, opts.ops);
  printTable(summaries, runs, opts);
  fs.mkdirSync(opts.out, { recursive: true });
  const file = path.join(opts.out, 'tracing-overhead.json');
  const result = {
    schema: SCHEMA,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAvgAtStart: os.loadavg() },
    options: opts,
    serverConfig: BENCH_SERVER_CONFIG,
    settings: SETTINGS,
    targetRatioFull: TARGET_RATIO_FULL,
    summaries,
    runs,
  };
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${file}`);
  if (runs.some((r) => r.error !== null)) process.exitCode = 1;
  if (shutdown.interrupted !== null) process.exitCode = 130;
}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? `error: ${err.message}\n${USAGE}` : err);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
