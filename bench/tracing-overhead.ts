/**
 * What tracing costs: the throughput of zablab with tracing off, with every request traced
 * (100 %, parent-based always-on) and with 1 % of requests traced (parent-based trace-id
 * ratio), in one run, on the same machine and load. Spans go to ZABLAB_SPANS_DIR (the
 * spans file, what reports use with no collector), so the cost includes writing them.
 *
 *   npm run build && npx tsx bench/tracing-overhead.ts [--mode standalone|ensemble]
 *     [--duration 10] [--warmup 3] [--rounds 1] [--ops setData,getData,mixed] [--workers 2]
 *     [--clients 4] [--inflight 64] [--value-size 100] [--keys 1000]
 *     [--driver zablab-client] [--spans-dir DIR] [--out DIR]
 *
 * Built on the harness: the `local` ensemble driver (standalone: 1 voter, which runs as a
 * standalone server; ensemble: 3 voters) with each setting's environment, and the native
 * load driver (closed loop; --workers load processes x --clients sessions x --inflight in
 * flight). `mixed` is the quick-start scenario's mix (bench/quickstart.yaml).
 *
 * Each round runs the three settings one after another, each on a fresh server (or 3-voter
 * ensemble) so that no setting inherits another's files; with --rounds > 1 the order rotates
 * and the best throughput of each setting counts (the least disturbed by the machine).
 * Prints the ratios to the untraced run (target: 100 % keeps >= 90 %), the server's CPU per
 * operation (all its threads, the spans writer included, from /proc) and how busy the machine
 * was (a shared machine skews throughput; CPU per op less so), and writes
 * DIR/tracing-overhead.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LOCAL_FAULTS, upLocalFamily } from '../src/harness/drivers/local.js';
import { samplerEnv } from '../src/harness/drivers/sampler-env.js';
import { loadTargetOf } from '../src/harness/drivers/probe.js';
import type { EnsembleHandle } from '../src/harness/drivers/types.js';
import { BENCH_BASE_CONFIG } from '../src/harness/runner/run.js';
import { SPANS_DIR_ENV } from '../src/telemetry/spans-file.js';
import { LOAD_CLIENT, UsageError, intOption, listOption, loadFlagValues, loadFlags, type LoadFlagValues } from './lib/options.js';
import { runTrackedPhase, type PhaseResult } from './lib/phase.js';
import { Shutdown, killPids } from './lib/shutdown.js';
import { PHASE_OPS, describeMix, workloadFor, type PhaseOp } from './lib/workloads.js';

const SCHEMA = 'zablab.bench.tracing-overhead/v2';
const MODES = ['standalone', 'ensemble'] as const;
type Mode = (typeof MODES)[number];
const TARGET_RATIO_FULL = 0.9;
const STOP_ON_SIGNAL_MS = 60_000;
const UP_TIMEOUT_MS = 120_000;
const LOAD_ROOT = '/bench';
const SPANS_MAX_BYTES_ENV = 'ZABLAB_SPANS_MAX_BYTES';
/** Far above what a run writes: the default (1 GiB) is reached in seconds at full sampling, and spans past it are dropped. */
const SPANS_MAX_BYTES = String(1024 ** 4);

interface Setting {
  name: 'off' | 'sampled-100%' | 'sampled-1%';
  /** Share of requests traced; null: tracing off. */
  sample: number | null;
}

const SETTINGS: Setting[] = [
  { name: 'off', sample: null },
  { name: 'sampled-100%', sample: 1 },
  { name: 'sampled-1%', sample: 0.01 },
];

/** The shared load flags (lib/options.ts) and this script's own. */
interface Options extends LoadFlagValues {
  mode: Mode;
  rounds: number;
  ops: PhaseOp[];
  /** Where the spans files go (a fresh directory under it per run); null: next to the servers' data. */
  spansDir: string | null;
}

const USAGE = `usage: npx tsx bench/tracing-overhead.ts [options]   (run \`npm run build\` first)
  --mode M            standalone (one server) or ensemble (3 voters) (default standalone)
  --duration SEC      measured seconds per phase (default 10)
  --warmup SEC        unmeasured load before each phase (default 3)
  --rounds N          repeat the three settings N times, rotating their order (default 1)
  --ops LIST          ${PHASE_OPS.join(',')} (default all; mixed: ${describeMix('mixed')})
  --workers K         load processes (default 2)
  --clients N         sessions per worker (default 4)
  --inflight N        requests in flight per session (default 64)
  --value-size BYTES  znode data size (default 100)
  --keys N            znodes read and written (default 1000)
  --driver NAME       ${LOAD_CLIENT} (the harness's native load driver; the only one)
  --spans-dir DIR     write the spans files under DIR (e.g. another disk, or /dev/shm to leave
                      the disk to the txn logs); default: next to the servers' data
  --out DIR           where tracing-overhead.json goes (default bench-results/<time>)`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...loadFlags({ warmup: '3', inflight: '64' }),
      mode: { type: 'string', default: 'standalone' },
      rounds: { type: 'string', default: '1' },
      ops: { type: 'string', default: PHASE_OPS.join(',') },
      'spans-dir': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!(MODES as readonly string[]).includes(values.mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got '${values.mode}'`);
  return {
    ...loadFlagValues(values),
    mode: values.mode as Mode,
    rounds: intOption(values, 'rounds', 1, 20),
    ops: listOption(values.ops, 'ops', PHASE_OPS),
    spansDir: values['spans-dir'] ?? null,
  };
}

/** The environment of the servers for a setting; OTEL_* of the caller are cleared so they cannot leak in. */
function envFor(setting: Setting, spansDir: string): Record<string, string> {
  const env: Record<string, string> = {
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: '',
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: '',
    [SPANS_DIR_ENV]: '',
  };
  if (setting.sample === null) return env;
  return { ...env, [SPANS_DIR_ENV]: spansDir, [SPANS_MAX_BYTES_ENV]: SPANS_MAX_BYTES, ...samplerEnv(setting.sample) };
}

/** The `local` driver's ensemble with this setting's environment (1 voter runs standalone). */
function upTarget(mode: Mode, setting: Setting, dir: string, spansDir: string): Promise<EnsembleHandle> {
  fs.mkdirSync(spansDir, { recursive: true });
  const voters = mode === 'standalone' ? 1 : 3;
  return upLocalFamily(
    { voters, observers: 0, dir, config: { ...BENCH_BASE_CONFIG }, timeoutMs: UP_TIMEOUT_MS },
    { driver: 'local', program: { kind: 'zablab' }, faults: LOCAL_FAULTS, env: envFor(setting, spansDir), spansDir: setting.sample === null ? null : spansDir, peers: { kind: 'fault-hook' } },
  );
}

interface SettingRun {
  setting: Setting['name'];
  round: number;
  phases: Partial<Record<PhaseOp, PhaseResult>>;
  /** Spans written to the spans files during the run (all phases, warm-up included). */
  spansWritten: number;
  /** Spans the servers dropped (zab_spans_dropped: writer behind, or a write failed); null: not known. */
  spansDropped: number | null;
  spansFileBytes: number;
  error: string | null;
}

/** zab_spans_dropped summed over the servers (their mntr); null if one cannot tell. */
async function spansDropped(handle: EnsembleHandle): Promise<number | null> {
  let sum = 0;
  for (const m of handle.members) {
    try {
      const mntr = await handle.metrics(m.id);
      const key = Object.keys(mntr).find((k) => k.endsWith('spans_dropped'));
      const v = key === undefined ? undefined : mntr[key];
      if (typeof v !== 'number') return null;
      sum += v;
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

async function runPhases(setting: Setting, handle: EnsembleHandle, run: SettingRun, opts: Options, shutdown: Shutdown): Promise<void> {
  const target = loadTargetOf(handle);
  for (const op of opts.ops) {
    const r = await runTrackedPhase(op, target, workloadFor(op, opts), { root: LOAD_ROOT, serverPids: handle.pids() }, shutdown);
    run.phases[op] = r;
    console.error(`[${setting.name}] ${op}: ${Math.round(r.throughputOpsPerSec)} ops/s, p99 ${r.latencyMs.p99.toFixed(2)} ms, ${r.errors} errors`);
  }
}

async function runSetting(setting: Setting, round: number, opts: Options, shutdown: Shutdown): Promise<SettingRun> {
  const run: SettingRun = { setting: setting.name, round, phases: {}, spansWritten: 0, spansDropped: null, spansFileBytes: 0, error: null };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-tracing-bench-'));
  const spansDir = opts.spansDir === null ? path.join(dir, 'spans') : fs.mkdtempSync(path.join(opts.spansDir, 'zablab-spans-'));
  let handle: EnsembleHandle | null = null;
  let untrack = (): void => undefined;
  try {
    console.error(`[${setting.name}] starting ${opts.mode === 'standalone' ? 'the server' : 'a 3-voter ensemble'}`);
    handle = await upTarget(opts.mode, setting, path.join(dir, 'ensemble'), spansDir);
    const h = handle;
    const pids = h.pids();
    untrack = shutdown.track({ stop: () => h.down(), kill: () => killPids(pids) });
    await runPhases(setting, h, run, opts, shutdown);
    if (setting.sample !== null) run.spansDropped = await spansDropped(h);
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
    console.error(`[${setting.name}] failed: ${run.error}`);
  } finally {
    await handle?.down().catch((err: unknown) => console.error(`[${setting.name}] stopping: ${String(err)}`));
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
  op: PhaseOp;
  throughputOpsPerSec: Record<Setting['name'], number | null>;
  p99Ms: Record<Setting['name'], number | null>;
  /** Server CPU (every thread, the spans writer included) per operation, in µs, of the run counted. */
  serverCpuUsPerOp: Record<Setting['name'], number | null>;
  /** How busy the whole machine was during that run (%): above ~90, other load may have skewed it. */
  machineBusyPct: Record<Setting['name'], number | null>;
  ratioToOff: { 'sampled-100%': number | null; 'sampled-1%': number | null };
  meetsTarget: boolean | null;
}

function best(runs: SettingRun[], name: Setting['name'], op: PhaseOp): PhaseResult | null {
  let top: PhaseResult | null = null;
  for (const r of runs) {
    const p = r.setting === name ? r.phases[op] : undefined;
    if (p && (top === null || p.throughputOpsPerSec > top.throughputOpsPerSec)) top = p;
  }
  return top;
}

function summarize(runs: SettingRun[], ops: PhaseOp[]): Summary[] {
  return ops.map((op) => {
    const off = best(runs, 'off', op);
    const full = best(runs, 'sampled-100%', op);
    const one = best(runs, 'sampled-1%', op);
    const ratio = (p: PhaseResult | null): number | null => (p === null || off === null || off.throughputOpsPerSec === 0 ? null : p.throughputOpsPerSec / off.throughputOpsPerSec);
    const tput = (p: PhaseResult | null): number | null => (p === null ? null : p.throughputOpsPerSec);
    const p99 = (p: PhaseResult | null): number | null => (p === null ? null : p.latencyMs.p99);
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
    `${opts.mode}, native load (${opts.driver}): ${opts.workers} workers x ${opts.clients} sessions x ${opts.inflight} in flight; ` +
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
    serverConfig: BENCH_BASE_CONFIG,
    settings: SETTINGS.map((x) => ({ ...x, env: x.sample === null ? {} : samplerEnv(x.sample) })),
    mixed: describeMix('mixed'),
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
