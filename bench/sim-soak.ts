/**
 * Simulator soak: many seeds, long fault phases, clusters up to 9 voters, on every core.
 *
 *   npx tsx bench/sim-soak.ts [--seed N] [--seeds 100000] [--jobs <cores>] [--steps 1000]
 *     [--max-voters 9] [--max-observers 3] [--minutes M] [--keep-going]
 *
 * Each seed also draws its cluster size (voters 3..max-voters, observers 0..max-observers), so
 * the printed replay command names them. Progress goes to stdout every few seconds; a failure
 * prints its violations and the one command that replays it, and stops the soak unless
 * --keep-going. Exit code 0 when every seed held, 1 otherwise, 2 for a usage error.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { addStats, emptyStats, formatFailure, formatTotals, Prng, runSeed, type RunResult, type SimStats } from '../src/sim/index.js';
import { UsageError } from '../src/cli/registry.js';

interface Job {
  seed: number;
  voters: number;
  observers: number;
  steps: number;
}

interface JobResult {
  seed: number;
  ok: boolean;
  stats: SimStats;
  failure: string | null;
}

type ToWorker = { kind: 'run'; jobs: Job[] } | { kind: 'stop' };
type FromWorker = { kind: 'done'; results: JobResult[] };

/** Seeds a worker runs per message: big enough to amortize IPC, small enough for progress. */
const BATCH = 20;
const PROGRESS_MS = 5_000;

function intArg(name: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got '${v}'`);
  return n;
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      seeds: { type: 'string' },
      jobs: { type: 'string' },
      steps: { type: 'string' },
      'max-voters': { type: 'string' },
      'max-observers': { type: 'string' },
      minutes: { type: 'string' },
      'keep-going': { type: 'boolean' },
    },
    strict: true,
  });
  return {
    seed: intArg('seed', values.seed, Math.floor(Math.random() * 0x7fffffff), 0, 0xffffffff),
    seeds: intArg('seeds', values.seeds, 100_000, 1, 100_000_000),
    jobs: intArg('jobs', values.jobs, Math.max(1, os.availableParallelism()), 1, 256),
    steps: intArg('steps', values.steps, 1000, 1, 1_000_000),
    maxVoters: intArg('max-voters', values['max-voters'], 9, 3, 15),
    maxObservers: intArg('max-observers', values['max-observers'], 3, 0, 15),
    minutes: intArg('minutes', values.minutes, 0, 0, 100_000),
    keepGoing: values['keep-going'] ?? false,
  };
}

/** The cluster size of a seed: drawn from the seed itself, so a replay needs only the command. */
function jobFor(seed: number, steps: number, maxVoters: number, maxObservers: number): Job {
  const rng = new Prng(seed ^ 0x50a4);
  return { seed, voters: rng.int(3, maxVoters), observers: rng.int(0, maxObservers), steps };
}

async function runJob(job: Job): Promise<JobResult> {
  const r: RunResult = await runSeed(job.seed, { voters: job.voters, observers: job.observers, steps: job.steps });
  return { seed: job.seed, ok: r.ok, stats: r.stats, failure: r.ok ? null : formatFailure(r) };
}

function worker(): void {
  process.on('message', (m: ToWorker) => {
    if (m.kind === 'stop') process.exit(0);
    void (async () => {
      const results: JobResult[] = [];
      for (const job of m.jobs) results.push(await runJob(job));
      const reply: FromWorker = { kind: 'done', results };
      process.send!(reply);
    })();
  });
}

async function main(): Promise<number> {
  let opts;
  try {
    opts = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`sim-soak: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const self = fileURLToPath(import.meta.url);
  const started = Date.now();
  const deadline = opts.minutes > 0 ? started + opts.minutes * 60_000 : Number.POSITIVE_INFINITY;
  const totals = emptyStats();
  let next = 0;
  let done = 0;
  let failures = 0;
  let stopping = false;
  process.stdout.write(
    `sim-soak: seeds ${opts.seed}..${opts.seed + opts.seeds - 1}, ${opts.jobs} jobs, ${opts.steps} fault ticks, ` +
      `3..${opts.maxVoters} voters, 0..${opts.maxObservers} observers\n`,
  );

  const progress = setInterval(() => {
    const secs = (Date.now() - started) / 1000;
    process.stdout.write(`  ${done}/${opts.seeds} seeds, ${failures} failed, ${(done / secs).toFixed(1)} seeds/s, ${secs.toFixed(0)} s\n`);
  }, PROGRESS_MS);

  const nextBatch = (): Job[] => {
    const jobs: Job[] = [];
    while (jobs.length < BATCH && next < opts.seeds && !stopping && Date.now() < deadline) {
      jobs.push(jobFor((opts.seed + next) >>> 0, opts.steps, opts.maxVoters, opts.maxObservers));
      next++;
    }
    return jobs;
  };

  await Promise.all(
    Array.from({ length: opts.jobs }, () =>
      new Promise<void>((resolve, reject) => {
        const child: ChildProcess = fork(self, ['--worker'], { execArgv: process.execArgv });
        const feed = () => {
          const jobs = nextBatch();
          if (jobs.length === 0) {
            child.send({ kind: 'stop' } satisfies ToWorker);
            return;
          }
          child.send({ kind: 'run', jobs } satisfies ToWorker);
        };
        child.on('message', (m: FromWorker) => {
          for (const r of m.results) {
            done++;
            addStats(totals, r.stats);
            if (r.failure !== null) {
              failures++;
              process.stdout.write(r.failure);
              if (!opts.keepGoing) stopping = true;
            }
          }
          feed();
        });
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`soak worker exited with code ${code}`))));
        feed();
      }),
    ),
  );
  clearInterval(progress);
  const secs = (Date.now() - started) / 1000;
  process.stdout.write(formatTotals(totals, done) + '\n');
  process.stdout.write(`${done} seeds, ${failures} failed, in ${secs.toFixed(1)} s (${(done / secs).toFixed(1)} seeds/s)\n`);
  return failures > 0 ? 1 : 0;
}

if (process.argv.includes('--worker')) worker();
else process.exitCode = await main();
