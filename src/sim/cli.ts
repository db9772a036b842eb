/**
 * `zablab sim` (and `node dist/sim/cli.js`): run seeded simulations of the ZAB core.
 *
 *   --seed N          first seed (default: random)
 *   --seeds K         how many consecutive seeds (default 1)
 *   --voters V        3–7 (default: drawn from each seed)
 *   --observers O     0–3 (default: drawn from each seed)
 *   --steps S         ticks of the fault phase (default 300)
 *   --liveness-ticks  bound for the liveness phase to converge (default 400)
 *   --trace           print the transcript of each run (use with one seed)
 *
 * Exit code 0 when every run holds its invariants, 1 when one fails (its replay command is
 * printed), 2 for a usage error.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { emptyStats, type SimStats } from './cluster.js';
import { DEFAULT_LIVENESS_TICKS, DEFAULT_STEPS, runSeed, type RunOptions, type RunResult } from './runner.js';

export interface SimIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

const defaultIO: SimIO = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

export class SimUsageError extends Error {
  readonly code = 'ZABLAB_SIM_USAGE';
}

/** Bound on seeds per invocation (a soak runs longer through bench/sim-soak.ts). */
const SEEDS_MAX = 10_000_000;

function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SimUsageError(`--${name} must be an integer in [${min}, ${max}], got '${value}'`);
  }
  return n;
}

export interface SimArgs {
  seed: number;
  seeds: number;
  trace: boolean;
  run: RunOptions;
}

export function parseSimArgs(argv: readonly string[], randomSeed: () => number): SimArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        seed: { type: 'string' },
        seeds: { type: 'string' },
        voters: { type: 'string' },
        observers: { type: 'string' },
        steps: { type: 'string' },
        'liveness-ticks': { type: 'string' },
        trace: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    throw new SimUsageError(e instanceof Error ? e.message : String(e));
  }
  const run: RunOptions = {};
  const voters = intOption('voters', values.voters, 1, 15);
  const observers = intOption('observers', values.observers, 0, 15);
  const steps = intOption('steps', values.steps, 0, 1_000_000);
  const liveness = intOption('liveness-ticks', values['liveness-ticks'], 1, 1_000_000);
  if (voters !== undefined) run.voters = voters;
  if (observers !== undefined) run.observers = observers;
  if (steps !== undefined) run.steps = steps;
  if (liveness !== undefined) run.livenessTicks = liveness;
  return {
    seed: intOption('seed', values.seed, 0, 0xffffffff) ?? randomSeed(),
    seeds: intOption('seeds', values.seeds, 1, SEEDS_MAX) ?? 1,
    trace: values.trace ?? false,
    run,
  };
}

export function formatStats(r: RunResult): string {
  const s = r.stats;
  return (
    `seed ${r.seed} (${r.voters}v+${r.observers}o): ${s.ticks} ticks, ${s.elections} elections, ${s.establishments} epochs, ` +
    `${s.commits} commits, ${s.writesAcked}/${s.writesSubmitted} writes acked, ${s.crashes} crashes, ${s.partitions} partitions, ` +
    `${s.connectionDrops} drops, sync ${s.diffSyncs}/${s.logDiffSyncs}/${s.truncSyncs}/${s.snapSyncs} diff/from-log/trunc/snap, ${s.messagesDelivered} msgs`
  );
}

/** Sum of the stats of many runs. */
export function addStats(total: SimStats, s: SimStats): void {
  for (const k of Object.keys(total) as (keyof SimStats)[]) total[k] += s[k];
}

export function formatTotals(t: SimStats, runs: number): string {
  return (
    `totals over ${runs} runs: ${t.ticks} ticks, ${t.elections} elections, ${t.establishments} epochs, ${t.commits} commits, ` +
    `${t.writesAcked}/${t.writesSubmitted} writes acked, ${t.syncsAnswered} syncs answered, ${t.crashes} crashes, ${t.tornTails} torn tails, ${t.partitions} partitions, ` +
    `${t.connectionDrops} drops, ${t.pauses} pauses, sync ${t.diffSyncs}/${t.logDiffSyncs}/${t.truncSyncs}/${t.snapSyncs} diff/from-log/trunc/snap, ` +
    `${t.hostSnapshots} host snapshots, ${t.damageInjected} disks damaged, ${t.recoveries} recoveries, ${t.errnoFaults} errno faults, ` +
    `${t.fatalExits} fatal exits, ${t.excludedByEpoch} left out by accepted epoch, ${t.messagesDelivered} msgs`
  );
}

export function formatFailure(r: RunResult): string {
  const lines = [`FAILED seed ${r.seed} (${r.voters} voters, ${r.observers} observers, ${r.steps} steps):`];
  for (const v of r.violations) lines.push(`  [${v.check}] t=${v.time}: ${v.message}`);
  lines.push(`replay: ${r.replay}`);
  return lines.join('\n') + '\n';
}

/** Entry point for the CLI; resolves to the exit code. */
export async function simMain(argv: readonly string[], io: SimIO = defaultIO, replayPrefix = 'npx zablab sim'): Promise<number> {
  let args: SimArgs;
  try {
    args = parseSimArgs(argv, () => Math.floor(Math.random() * 0x100000000));
  } catch (e) {
    if (e instanceof SimUsageError) {
      io.stderr(`zablab sim: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const started = performance.now();
  const totals = emptyStats();
  let failed = 0;
  let ran = 0;
  for (let i = 0; i < args.seeds; i++) {
    const seed = (args.seed + i) >>> 0;
    const opts: RunOptions = { ...args.run, replayPrefix };
    if (args.trace) opts.trace = (line) => io.stdout(line + '\n');
    const r = await runSeed(seed, opts);
    ran++;
    addStats(totals, r.stats);
    if (!r.ok) {
      failed++;
      io.stderr(formatFailure(r));
      break;
    }
    if (args.seeds <= 20) io.stdout(formatStats(r) + '\n');
  }
  const secs = (performance.now() - started) / 1000;
  if (ran > 1) io.stdout(formatTotals(totals, ran) + '\n');
  const outcome = failed > 0 ? `stopped at the first failure after ${ran} seeds` : `${ran} seeds ok`;
  io.stdout(
    `${outcome} in ${secs.toFixed(1)} s (${(ran / secs).toFixed(1)} seeds/s; steps ${args.run.steps ?? DEFAULT_STEPS}, ` +
      `liveness bound ${args.run.livenessTicks ?? DEFAULT_LIVENESS_TICKS} ticks)\n`,
  );
  return failed > 0 ? 1 : 0;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const code = await simMain(process.argv.slice(2), defaultIO, 'node dist/sim/cli.js');
  process.exitCode = code;
}
