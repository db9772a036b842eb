/**
 * Replicated-ensemble benchmark: zablab and Apache ZooKeeper 3.8, each as 3 voters on this
 * machine (real processes, same zoo.cfg, forceSync on), one program after the other, in one run:
 *
 * 1. throughput and latency of setData and getData, load from worker processes whose sessions
 *    are spread over every server's client port (writes go through the leader, reads are local);
 * 2. recovery after SIGKILL of the leader, --kills times: kill → a survivor reports itself
 *    leader (srvr every 10 ms), kill → the first acknowledged write that was issued after the
 *    kill (the headline), and whether any acknowledged write was lost (every acknowledged
 *    znode is looked up on every server); the killed server is restarted and the ensemble is
 *    idle with equal zxids before the next kill.
 *
 *   npm run build && npx tsx bench/ensemble.ts [--duration 10] [--warmup 5] [--kills 10]
 *     [--programs zablab,zookeeper] [--driver zablab-client]
 *     [--workers 2] [--clients 4] [--inflight 128] [--value-size 100] [--keys 1000]
 *     [--writers 8] [--settle 2] [--tick-time 2000] [--measure throughput,recovery] [--keep] [--out DIR]
 *
 * Prints the tables (with zablab/ZooKeeper ratios) and writes DIR/ensemble.json. ZooKeeper's
 * JVM runs with the JVM's defaults (G1, C2; -Xmx1g), not the fast-start flags of the tests.
 *
 * Built on the harness: the ensembles come from the `local` and `zookeeper` ensemble drivers,
 * the throughput load from the native load driver (zablab's client in worker processes). The
 * throughput comparison alone is also the scenario bench/compare-zookeeper.yaml, and the
 * distribution of recovery times under load bench/leader-kill.yaml (`zablab bench`); what only
 * this script does is look up every acknowledged write on every server after each kill.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadTargetOf, localDriver, zookeeperDriver, zookeeperMissing, type EnsembleDriver, type EnsembleHandle } from '../src/harness/drivers/index.js';
import { BENCH_BASE_CONFIG } from '../src/harness/runner/run.js';
import { LOAD_CLIENT, UsageError, intOption, listOption, loadFlagValues, loadFlags, type LoadFlagValues } from './lib/options.js';
import { runTrackedPhase, type PhaseResult } from './lib/phase.js';
import { checkAcknowledged, killRun, waitInSync, type KillRunResult, type LostCheck } from './lib/recovery.js';
import { InterruptedError, Shutdown, killPids, type Live } from './lib/shutdown.js';
import { workloadFor, type PhaseOp } from './lib/workloads.js';

const SCHEMA = 'zablab.bench.ensemble/v2';
const PROGRAM_NAMES = ['zablab', 'zookeeper'] as const;
type ProgramName = (typeof PROGRAM_NAMES)[number];
const MEASURES = ['throughput', 'recovery'] as const;
type Measure = (typeof MEASURES)[number];
const OPS: PhaseOp[] = ['setData', 'getData'];
const VOTERS = 3;
const LOAD_ROOT = '/bench';
const STOP_ON_SIGNAL_MS = 60_000;
/** A JVM with its default flags on a busy machine may take a while to start. */
const UP_TIMEOUT_MS = 180_000;
const RESTART_TIMEOUT_MS = 120_000;
const RECOVERY_TIMEOUT_MS = 60_000;
const SRVR_POLL_MS = 10;
/** Writes after recovery, before the writers stop (the new leader under load for a moment). */
const AFTER_RECOVERY_MS = 1_000;
const ZOOKEEPER_HEAP_MB = 1_024;

/** The shared load flags (lib/options.ts) and this script's own. */
interface Options extends LoadFlagValues {
  kills: number;
  programs: ProgramName[];
  measure: Measure[];
  writers: number;
  settleSec: number;
  tickTimeMs: number;
  keep: boolean;
}

const USAGE = `usage: npx tsx bench/ensemble.ts [options]   (run \`npm run build\` first)
  --duration SEC      measured seconds per throughput phase (default 10)
  --warmup SEC        unmeasured load before each phase (default 5)
  --kills N           leader kills per program (default 10)
  --programs LIST     zablab,zookeeper (default both, in that order)
  --measure LIST      throughput,recovery (default both)
  --driver NAME       ${LOAD_CLIENT} (the harness's native load driver; the only one)
  --workers K         load processes (default 2)
  --clients N         sessions per worker, spread over the servers (default 4)
  --inflight N        requests in flight per session (default 128)
  --value-size BYTES  znode data size (default 100)
  --keys N            znodes read and written (default 1000)
  --writers N         sessions creating znodes during the kills (default 8)
  --settle SEC        writes before each kill (default 2)
  --tick-time MS      tickTime of both programs (default 2000; initLimit 10, syncLimit 5 ticks)
  --keep              keep the ensembles' directories (logs, data) even when all went well
  --out DIR           where ensemble.json goes (default bench-results/<time>)`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...loadFlags({ warmup: '5', inflight: '128' }),
      kills: { type: 'string', default: '10' },
      programs: { type: 'string', default: PROGRAM_NAMES.join(',') },
      measure: { type: 'string', default: MEASURES.join(',') },
      writers: { type: 'string', default: '8' },
      settle: { type: 'string', default: '2' },
      'tick-time': { type: 'string', default: '2000' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    ...loadFlagValues(values),
    kills: intOption(values, 'kills', 0, 1_000),
    programs: listOption(values.programs, 'programs', PROGRAM_NAMES),
    measure: listOption(values.measure, 'measure', MEASURES),
    writers: intOption(values, 'writers', 1, 32),
    settleSec: intOption(values, 'settle', 1, 600),
    tickTimeMs: intOption(values, 'tick-time', 10, 60_000),
    keep: values.keep,
  };
}

/** The zoo.cfg entries both programs get, on top of the layout's (ports, dataDir, server.N, 4lw whitelist). */
function serverConfig(opts: Options): Record<string, string> {
  return {
    ...BENCH_BASE_CONFIG,
    tickTime: String(opts.tickTimeMs),
    initLimit: '10',
    syncLimit: '5',
    // Debian's ZooKeeper lacks the AdminServer's Jetty; nothing here needs the HTTP port.
    'admin.enableServer': 'false',
  };
}

/** The harness driver that runs a program's ensemble, or why it cannot run here. */
function driverOf(name: ProgramName): EnsembleDriver | string {
  switch (name) {
    case 'zablab':
      return localDriver();
    case 'zookeeper':
      return zookeeperMissing() ?? zookeeperDriver({ heapMb: ZOOKEEPER_HEAP_MB });
  }
}

// --- one program ------------------------------------------------------------------------------

type Phase = PhaseResult & { leaderId: number | null; serverIds: number[] };

interface RecoverySummary {
  runs: number;
  recovered: number;
  recoveryMs: Spread;
  newLeaderMs: Spread;
  survivorsServingMs: Spread;
  restartMs: Spread;
  /** Acknowledged znodes missing on some server, summed over servers and runs (per-run checks). */
  lostWrites: number;
  runsWithLoss: number;
  /** Writer sessions the ensemble expired during a failover, over every run. */
  expiredSessions: number;
  runsWithExpiredSessions: number;
  /** Acknowledged writes over every run, and the end-of-benchmark check of all of them on every server. */
  acknowledgedWrites: number;
  finalCheck: LostCheck[];
}

interface Spread {
  samples: number;
  median: number | null;
  p90: number | null;
  max: number | null;
}

interface ProgramRun {
  program: ProgramName;
  /** The harness's ensemble driver that ran it. */
  driver: EnsembleDriver['name'] | null;
  /** Each server's command line, as the ensemble logged it. */
  commandLine: string | null;
  ensembleDir: string | null;
  dirKept: boolean;
  phases: Partial<Record<PhaseOp, Phase>>;
  kills: KillRunResult[];
  recovery: RecoverySummary | null;
  error: string | null;
}

/** Median (mean of the middle two), nearest-rank p90, max. */
function spread(values: readonly (number | null)[]): Spread {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { samples: 0, median: null, p90: null, max: null };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { samples: v.length, median, p90: v[Math.max(0, Math.ceil(0.9 * v.length) - 1)]!, max: v.at(-1)! };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The first line of a server's log names its command line (the ensemble writes it). */
function commandLineFromLog(dir: string, id: number): string | null {
  try {
    const first = fs.readFileSync(path.join(dir, `s${id}`, 'server.log'), 'utf8').split('\n', 1)[0] ?? '';
    const m = /zablab ensemble: (.*)$/.exec(first);
    return m?.[1] ?? null;
  } catch {
    return null;
  }
}

function summaryLine(p: PhaseResult): string {
  const server = p.server ? `servers CPU ${p.server.busyPct.toFixed(0)}%` : 'servers CPU n/a';
  return `${Math.round(p.throughputOpsPerSec)} ops/s, p50 ${p.latencyMs.p50.toFixed(2)} ms, p99 ${p.latencyMs.p99.toFixed(2)} ms, ${p.errors} errors, ${server}, clients CPU ${p.clients.busyPct.toFixed(0)}%`;
}

async function measureThroughput(name: ProgramName, ens: EnsembleHandle, run: ProgramRun, opts: Options, shutdown: Shutdown): Promise<void> {
  // The native driver spreads each worker's sessions over every member.
  const target = loadTargetOf(ens);
  for (const op of OPS) {
    const leader = await ens.leader();
    const sessions = opts.workers * opts.clients;
    console.error(`[${name}] ${op}: warm-up ${opts.warmupSec} s, then ${opts.durationSec} s measured (${sessions} sessions over ${VOTERS} servers x ${opts.inflight} in flight); leader is server ${leader ?? '?'}`);
    const result = await runTrackedPhase(op, target, workloadFor(op, opts), { root: LOAD_ROOT, serverPids: ens.pids() }, shutdown);
    run.phases[op] = { ...result, leaderId: leader, serverIds: ens.members.map((m) => m.id) };
    console.error(`[${name}] ${op}: ${summaryLine(result)}`);
  }
}

function killLine(name: ProgramName, k: KillRunResult, total: number): string {
  const ms = (v: number | null): string => (v === null ? '-' : `${Math.round(v)} ms`);
  const lost = k.lost.reduce((n, l) => n + l.missing, 0);
  const head = `[${name}] kill ${k.run}/${total}: leader ${k.killedId ?? '?'} (epoch ${k.oldEpoch ?? '?'})`;
  if (k.error !== null) return `${head}: FAILED: ${k.error}`;
  return (
    `${head}; new leader ${k.newLeaderId ?? '?'} after ${ms(k.newLeaderMs)}, first post-kill ack after ${ms(k.recoveryMs)} ` +
    `(epoch ${k.firstAckEpoch ?? '?'}), ${k.acksAfterKill} acks after, ${lost} lost, sessions expired: ${k.expiredSessions.length}; restart ${ms(k.restartMs)}, in sync ${ms(k.inSyncMs)}`
  );
}

async function measureRecovery(name: ProgramName, ens: EnsembleHandle, run: ProgramRun, opts: Options, shutdown: Shutdown): Promise<void> {
  const check = (): void => shutdown.check();
  await waitInSync(ens, RESTART_TIMEOUT_MS, check);
  for (let k = 1; k <= opts.kills; k++) {
    check();
    const result = await killRun(ens, {
      run: k,
      writers: opts.writers,
      settleMs: opts.settleSec * 1_000,
      afterMs: AFTER_RECOVERY_MS,
      pollMs: SRVR_POLL_MS,
      recoveryTimeoutMs: RECOVERY_TIMEOUT_MS,
      restartTimeoutMs: RESTART_TIMEOUT_MS,
      check,
    });
    run.kills.push(result);
    console.error(killLine(name, result, opts.kills));
    if (result.error !== null) {
      // Go on only from an ensemble that is whole again.
      try {
        await waitInSync(ens, RESTART_TIMEOUT_MS, check);
      } catch (err) {
        if (err instanceof InterruptedError) throw err;
        throw new Error(`kill ${k} failed and the ensemble did not recover from it: ${message(err)}`);
      }
    }
  }
  console.error(`[${name}] checking every acknowledged znode of the ${run.kills.length} runs on every server`);
  const finalCheck = await checkAcknowledged(ens.members, run.kills.flatMap((k) => k.acknowledged));
  run.recovery = summarize(run.kills, finalCheck);
}

function summarize(kills: KillRunResult[], finalCheck: LostCheck[]): RecoverySummary {
  const ok = kills.filter((k) => k.error === null);
  const lostPerRun = kills.map((k) => k.lost.reduce((n, l) => n + l.missing, 0));
  return {
    runs: kills.length,
    recovered: kills.filter((k) => k.recoveryMs !== null).length,
    recoveryMs: spread(ok.map((k) => k.recoveryMs)),
    newLeaderMs: spread(ok.map((k) => k.newLeaderMs)),
    survivorsServingMs: spread(ok.map((k) => k.survivorsServingMs)),
    restartMs: spread(ok.map((k) => k.restartMs)),
    lostWrites: lostPerRun.reduce((a, b) => a + b, 0),
    runsWithLoss: lostPerRun.filter((n) => n > 0).length,
    expiredSessions: kills.reduce((n, k) => n + k.expiredSessions.length, 0),
    runsWithExpiredSessions: kills.filter((k) => k.expiredSessions.length > 0).length,
    acknowledgedWrites: kills.reduce((n, k) => n + k.acknowledged.reduce((m, d) => m + d.names.length, 0), 0),
    finalCheck,
  };
}

async function benchProgram(name: ProgramName, opts: Options, shutdown: Shutdown): Promise<ProgramRun> {
  const run: ProgramRun = { program: name, driver: null, commandLine: null, ensembleDir: null, dirKept: false, phases: {}, kills: [], recovery: null, error: null };
  const driver = driverOf(name);
  if (typeof driver === 'string') {
    run.error = driver;
    return run;
  }
  run.driver = driver.name;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zablab-bench-ens-${name}-`));
  run.ensembleDir = dir;
  console.error(`[${name}] starting ${VOTERS} voters in ${dir}`);
  let ens: EnsembleHandle | null = null;
  let untrack: (() => void) | null = null;
  try {
    // The restart after each kill waits as long as up() may (a JVM with default flags on a busy machine).
    ens = await driver.up({ voters: VOTERS, observers: 0, dir, config: serverConfig(opts), timeoutMs: UP_TIMEOUT_MS });
    const e = ens;
    const live: Live = { stop: () => e.down(), kill: () => killPids(e.pids()) };
    untrack = shutdown.track(live);
    run.commandLine = commandLineFromLog(dir, e.members[0]!.id);
    if (opts.measure.includes('throughput')) await measureThroughput(name, e, run, opts, shutdown);
    if (opts.measure.includes('recovery') && opts.kills > 0) await measureRecovery(name, e, run, opts, shutdown);
  } catch (err) {
    const why = message(err);
    run.error = shutdown.interrupted !== null && !(err instanceof InterruptedError) ? `interrupted by ${shutdown.interrupted} (${why})` : why;
    console.error(`[${name}] failed: ${run.error}`);
  } finally {
    if (ens !== null) await ens.down().catch((err: unknown) => console.error(`[${name}] stopping the ensemble: ${message(err)}`));
    untrack?.();
    const troubled = run.error !== null || (run.recovery !== null && (run.recovery.lostWrites > 0 || run.recovery.finalCheck.some((c) => c.missing > 0 || c.error !== null)));
    run.dirKept = opts.keep || troubled;
    if (run.dirKept) console.error(`[${name}] kept ${dir} (s<id>/server.log, s<id>/data)`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  return run;
}

// --- report -----------------------------------------------------------------------------------

function div(x: number | null | undefined, y: number | null | undefined): number | null {
  return x === undefined || y === undefined || x === null || y === null || !Number.isFinite(x) || !Number.isFinite(y) || y === 0 ? null : x / y;
}

interface Ratios {
  throughput: Partial<Record<PhaseOp, { throughput: number | null; p50: number | null; p99: number | null; opsPerServerCpuSecond: number | null }>>;
  recovery: { recoveryMedian: number | null; newLeaderMedian: number | null };
}

function ratios(runs: ProgramRun[]): Ratios {
  const z = runs.find((r) => r.program === 'zablab');
  const k = runs.find((r) => r.program === 'zookeeper');
  const out: Ratios = { throughput: {}, recovery: { recoveryMedian: null, newLeaderMedian: null } };
  for (const op of OPS) {
    const a = z?.phases[op];
    const b = k?.phases[op];
    out.throughput[op] = {
      throughput: div(a?.throughputOpsPerSec, b?.throughputOpsPerSec),
      p50: div(a?.latencyMs.p50, b?.latencyMs.p50),
      p99: div(a?.latencyMs.p99, b?.latencyMs.p99),
      opsPerServerCpuSecond: div(a?.opsPerServerCpuSecond, b?.opsPerServerCpuSecond),
    };
  }
  out.recovery.recoveryMedian = div(z?.recovery?.recoveryMs.median, k?.recovery?.recoveryMs.median);
  out.recovery.newLeaderMedian = div(z?.recovery?.newLeaderMs.median, k?.recovery?.newLeaderMs.median);
  return out;
}

const fmtRatio = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v.toFixed(2)}x`);
const fmtNum = (v: number | null | undefined): string => (v === undefined || v === null ? '-' : Math.round(v).toLocaleString('en-US'));
const fmtPct = (v: number | null | undefined): string => (v === undefined || v === null ? '-' : `${v.toFixed(0)}%`);
const fmtMs = (v: number | null | undefined): string => (v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toFixed(v < 100 ? 1 : 0));

function printRows(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
}

/** `leader 85% / followers 40% 38%` of one phase. */
function perServerCpu(p: Phase | undefined): string {
  if (p === undefined) return '-';
  const parts = p.perServer.map((s, i) => {
    const id = p.serverIds[i];
    const mark = id === p.leaderId ? '*' : '';
    return `${id ?? '?'}${mark} ${fmtPct(s.cpu?.busyPct)}`;
  });
  return parts.join(', ');
}

function printThroughput(runs: ProgramRun[], r: Ratios, opts: Options): void {
  const z = runs.find((x) => x.program === 'zablab');
  const k = runs.find((x) => x.program === 'zookeeper');
  const ms = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(2));
  const thread = (p: Phase | undefined): string => {
    const t = p?.server?.busiestThread;
    return t ? `${t.busyPct.toFixed(0)}% ${t.name}` : '-';
  };
  const rows: string[][] = [['3 voters', 'zablab', 'zookeeper', 'zablab/zookeeper']];
  for (const op of OPS) {
    const a = z?.phases[op];
    const b = k?.phases[op];
    const q = r.throughput[op];
    rows.push([`${op} throughput (ops/s)`, fmtNum(a?.throughputOpsPerSec), fmtNum(b?.throughputOpsPerSec), fmtRatio(q?.throughput)]);
    rows.push([`${op} p50 latency (ms)`, ms(a?.latencyMs.p50), ms(b?.latencyMs.p50), fmtRatio(q?.p50)]);
    rows.push([`${op} p99 latency (ms)`, ms(a?.latencyMs.p99), ms(b?.latencyMs.p99), fmtRatio(q?.p99)]);
    rows.push([`${op} errors`, String(a?.errors ?? '-'), String(b?.errors ?? '-'), '']);
    rows.push([`${op} servers CPU, sum (% of a core)`, fmtPct(a?.server?.busyPct), fmtPct(b?.server?.busyPct), '']);
    rows.push([`${op} per server (* leader)`, perServerCpu(a), perServerCpu(b), '']);
    rows.push([`${op} busiest server thread`, thread(a), thread(b), '']);
    rows.push([`${op} ops per server CPU-second (all 3)`, fmtNum(a?.opsPerServerCpuSecond), fmtNum(b?.opsPerServerCpuSecond), fmtRatio(q?.opsPerServerCpuSecond)]);
    rows.push([`${op} client CPU (% of a core, all workers)`, fmtPct(a?.clients.busyPct), fmtPct(b?.clients.busyPct), '']);
    rows.push([`${op} machine CPU (% of all ${os.cpus().length})`, fmtPct(a?.machine?.busyPct), fmtPct(b?.machine?.busyPct), '']);
  }
  console.log(
    `\nThroughput: native load (${opts.driver}), ${opts.workers} workers x ${opts.clients} sessions (spread over the ${VOTERS} servers) x ${opts.inflight} in flight; ` +
      `${opts.durationSec} s measured after ${opts.warmupSec} s warm-up`,
  );
  printRows(rows);
}

function printRecovery(runs: ProgramRun[], r: Ratios, opts: Options): void {
  const z = runs.find((x) => x.program === 'zablab')?.recovery ?? null;
  const k = runs.find((x) => x.program === 'zookeeper')?.recovery ?? null;
  const triple = (s: Spread | undefined): string => (s === undefined || s.samples === 0 ? '-' : `${fmtMs(s.median)} / ${fmtMs(s.p90)} / ${fmtMs(s.max)}`);
  const finalMissing = (x: RecoverySummary | null): string => {
    if (x === null) return '-';
    const errors = x.finalCheck.filter((c) => c.error !== null).length;
    return `${x.finalCheck.reduce((n, c) => n + c.missing, 0)}${errors > 0 ? ` (${errors} check errors)` : ''}`;
  };
  const rows: string[][] = [['leader SIGKILL (median / p90 / max, ms)', 'zablab', 'zookeeper', 'zablab/zookeeper (medians)']];
  rows.push(['runs recovered / runs', z ? `${z.recovered}/${z.runs}` : '-', k ? `${k.recovered}/${k.runs}` : '-', '']);
  rows.push(['kill -> first ack of a write issued after it', triple(z?.recoveryMs), triple(k?.recoveryMs), fmtRatio(r.recovery.recoveryMedian)]);
  rows.push(['kill -> a survivor reports leader (srvr)', triple(z?.newLeaderMs), triple(k?.newLeaderMs), fmtRatio(r.recovery.newLeaderMedian)]);
  rows.push(['kill -> both survivors serve', triple(z?.survivorsServingMs), triple(k?.survivorsServingMs), '']);
  rows.push(['restart of the killed server -> caught up', triple(z?.restartMs), triple(k?.restartMs), '']);
  rows.push(['acknowledged writes (all runs)', fmtNum(z?.acknowledgedWrites), fmtNum(k?.acknowledgedWrites), '']);
  rows.push(['acknowledged writes lost (runs with loss)', z ? `${z.lostWrites} (${z.runsWithLoss})` : '-', k ? `${k.lostWrites} (${k.runsWithLoss})` : '-', '']);
  rows.push(['missing at the end, summed over servers', finalMissing(z), finalMissing(k), '']);
  rows.push([
    'writer sessions expired (runs with expiry)',
    z ? `${z.expiredSessions} (${z.runsWithExpiredSessions})` : '-',
    k ? `${k.expiredSessions} (${k.runsWithExpiredSessions})` : '-',
    '',
  ]);
  console.log(
    `\nRecovery: ${opts.kills} SIGKILLs of the leader per program; ${opts.writers} sessions creating znodes one after the other, spread over the servers; ` +
      `srvr polled every ${SRVR_POLL_MS} ms; tickTime ${opts.tickTimeMs} ms`,
  );
  printRows(rows);
}

function printProblems(runs: ProgramRun[]): void {
  for (const run of runs) {
    if (run.error !== null) console.log(`${run.program}: ${run.error}`);
    for (const k of run.kills) {
      if (k.error !== null) console.log(`${run.program} kill ${k.run}: ${k.error}`);
      for (const e of k.expiredSessions) {
        console.log(`${run.program} kill ${k.run}: writer ${e.writer}'s session ${e.sessionId} was expired ${e.atMs} ms after the kill (it had lost: ${e.lastError || '-'})`);
      }
      for (const l of k.lost) {
        if (l.missing > 0) console.log(`${run.program} kill ${k.run}: server ${l.serverId} misses ${l.missing} acknowledged znodes, e.g. ${l.missingSamples.join(' ')}`);
        if (l.error !== null) console.log(`${run.program} kill ${k.run}: check failed: ${l.error}`);
      }
    }
    for (const l of run.recovery?.finalCheck ?? []) {
      if (l.missing > 0) console.log(`${run.program} final check: server ${l.serverId} misses ${l.missing} acknowledged znodes, e.g. ${l.missingSamples.join(' ')}`);
      if (l.error !== null) console.log(`${run.program} final check failed: ${l.error}`);
    }
    if (run.dirKept && run.ensembleDir !== null) console.log(`${run.program}: ensemble directory kept: ${run.ensembleDir}`);
  }
}

/** What ensemble.json keeps of a run: the acknowledged znode lists are counts there. */
function forJson(run: ProgramRun): unknown {
  return {
    ...run,
    kills: run.kills.map(({ acknowledged, ...rest }) => ({ ...rest, acknowledgedWrites: acknowledged.reduce((n, d) => n + d.names.length, 0) })),
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const shutdown = new Shutdown(STOP_ON_SIGNAL_MS);
  shutdown.install();
  const startedAt = new Date().toISOString();
  const loadAvgAtStart = os.loadavg();
  const runs: ProgramRun[] = [];
  for (const name of opts.programs) if (shutdown.interrupted === null) runs.push(await benchProgram(name, opts, shutdown));
  const r = ratios(runs);
  if (opts.measure.includes('throughput')) printThroughput(runs, r, opts);
  if (opts.measure.includes('recovery') && opts.kills > 0) printRecovery(runs, r, opts);
  printProblems(runs);
  const result = {
    schema: SCHEMA,
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npx tsx bench/ensemble.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memBytes: os.totalmem(),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      tmpdir: os.tmpdir(),
      loadAvgAtStart,
      loadAvgAtEnd: os.loadavg(),
    },
    options: opts,
    ensemble: { voters: VOTERS, observers: 0 },
    serverConfig: serverConfig(opts),
    load: `harness native load driver (${opts.driver}), closed loop, ${opts.workers} worker processes x ${opts.clients} sessions x ${opts.inflight} in flight, sessions spread over the servers`,
    recoveryLoad: `${opts.writers} sessions of zablab's client in the bench process, each creating unique znodes one after the other; srvr polled every ${SRVR_POLL_MS} ms`,
    runs: runs.map(forJson),
    ratios: r,
  };
  fs.mkdirSync(opts.out, { recursive: true });
  const file = path.join(opts.out, 'ensemble.json');
  fs.writeFileSync(file, JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 2) + '\n');
  console.log(`wrote ${file}`);
  if (runs.some((x) => x.error !== null || x.kills.some((k) => k.error !== null) || (x.recovery?.lostWrites ?? 0) > 0)) process.exitCode = 1;
  if (shutdown.interrupted !== null) process.exitCode = 130;
}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? `error: ${err.message}\n${USAGE}` : err);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
