/** `zablab bench`: the main job — scenarios on ensembles, under load and faults, into a report. */
import fs from 'node:fs';
import path from 'node:path';
import { formatOps, planBench, runBench, TerminalProgress } from '../../harness/index.js';
import { BenchLive, LiveServer, livePort } from '../../harness/live/index.js';
import { ensembleDashboardUrl, GRAFANA_API_KEY_ENV } from '../../harness/measure/grafana.js';
import { builtinScenario, describeScenario } from '../../harness/scenario/index.js';
import { intOption, UsageError, type CliCommand, type CliIO, type ParsedArgs } from '../registry.js';
import { packageVersion } from '../version.js';

const HELP = 'zablab bench --help';
const DEFAULT_SCENARIO = 'quickstart';

/** `leader-kill` names bench/leader-kill.yaml; anything else is a path. */
function scenarioFile(arg: string): string {
  if (/^[a-z0-9-]+$/.test(arg) && !fs.existsSync(arg)) return builtinScenario(arg);
  return arg;
}

function defaultOut(firstScenario: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return path.join('bench-results', `${stamp}-${path.basename(firstScenario).replace(/\.ya?ml$/, '')}`);
}

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'run benchmark scenarios (ensembles x workloads x faults) and write a report',
  description: [
    'Runs each scenario (a YAML file, or the name of one shipped in bench/, e.g. `leader-kill`):',
    'starts the ensemble, drives the load, fires the faults, measures throughput, latency and',
    'election recovery, and writes results.json, timeline.csv, summary.md and report.html to',
    '--out (rewritten after every run). With no scenario it runs bench/quickstart.yaml.',
    'Ctrl-C stops the current run, cleans up its servers and keeps the results so far.',
    'With --live [PORT] it also serves a live view on 127.0.0.1 (prints `live: http://127.0.0.1:PORT/`;',
    'no PORT: a free one): each server\'s role, epoch, zxid and whether it serves, throughput and',
    'p99 per op, outstanding requests, fault and leader-change markers, the run of the matrix, and',
    'the waterfall of a recent sampled write (from the spans: set `spans:` in the scenario).',
  ].join('\n'),
  positionals: [{ name: 'scenario', description: 'scenario files or shipped scenario names (default: quickstart)', variadic: true }],
  options: {
    out: { type: 'string', valueName: '<dir>', description: 'output directory (default: bench-results/<time>-<scenario>)' },
    only: { type: 'string', valueName: '<text>', description: 'run only the runs whose name contains this' },
    'dry-run': { type: 'boolean', description: 'print the runs the scenarios expand to, and exit' },
    'metrics-port': { type: 'string', valueName: '<port>', description: 'serve zablab_bench_faults_total on this port for Prometheus' },
    live: { type: 'string', optionalValue: true, valueName: '<port>', description: 'serve a live view of the bench on 127.0.0.1 (default: a free port)' },
    'grafana-url': { type: 'string', valueName: '<url>', description: 'post each fault to this Grafana as an annotation, and print its ensemble dashboard over the bench at the end (default: $GRAFANA_URL)' },
    'grafana-api-key': { type: 'string', valueName: '<token>', description: 'service account token for --grafana-url (default: $GRAFANA_API_KEY; or user:password in the URL)' },
  },
  run: async (args: ParsedArgs, io: CliIO): Promise<number> => {
    const files = (args.positionals.length > 0 ? args.positionals : [DEFAULT_SCENARIO]).map(scenarioFile);
    if (args.flag('dry-run')) {
      const plan = planBench(files, args.string('only'));
      for (const s of plan.scenarios) io.stdout(`${describeScenario(s)}\n`);
      io.stdout(`${plan.runs.length} runs\n`);
      return 0;
    }
    const out = args.string('out') ?? defaultOut(files[0]!);
    const metricsPort = intOption(args, 'metrics-port', 1, 65_535, HELP) ?? null;
    // The flags win over the environment.
    const grafanaUrl = args.string('grafana-url') ?? io.env['GRAFANA_URL'] ?? null;
    if (grafanaUrl !== null && grafanaUrl !== '' && ensembleDashboardUrl(grafanaUrl, { fromMs: 0, toMs: 0 }) === null) {
      throw new UsageError(`--grafana-url (or GRAFANA_URL) must be Grafana's http(s) address, e.g. http://127.0.0.1:3000, got "${grafanaUrl}"`, HELP);
    }
    const liveArg = args.string('live');
    const live = liveArg === undefined ? null : new BenchLive();
    // Before anything starts: a busy port is one error line, not a half-run bench.
    const liveServer = live === null ? null : await LiveServer.start(live.state, livePort(liveArg!, '--live'), 'zablab bench: live view');
    if (liveServer !== null) io.stdout(`live: ${liveServer.url}\n`);
    const controller = new AbortController();
    let interrupted = false;
    const onSigint = (): void => {
      if (interrupted) process.exit(130);
      interrupted = true;
      io.stderr('\ninterrupted: stopping the current run and its servers (Ctrl-C again to quit at once)\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    const progress = new TerminalProgress((s) => io.stderr(s), process.stderr.isTTY === true);
    const startedMs = Date.now();
    try {
      const { results, reportFile, summaryFile } = await runBench({
        scenarios: files,
        out,
        progress,
        metricsPort,
        grafanaUrl,
        grafanaApiKey: args.string('grafana-api-key') ?? io.env[GRAFANA_API_KEY_ENV] ?? null,
        only: args.string('only') ?? null,
        signal: controller.signal,
        version: packageVersion(),
        ...(live === null ? {} : { live }),
      });
      const failed = results.runs.filter((r) => r.status === 'failed');
      const total = results.runs.reduce((n, r) => n + r.throughput.opsPerSec, 0);
      io.stdout(`${results.runs.length} runs (${failed.length} failed), ${formatOps(total / Math.max(1, results.runs.length))} ops/s on average\n`);
      io.stdout(`report:  ${reportFile}\nsummary: ${summaryFile}\n`);
      const dashboard = grafanaUrl === null || grafanaUrl === '' ? null : ensembleDashboardUrl(grafanaUrl, { fromMs: startedMs, toMs: Date.now() });
      if (dashboard !== null) io.stdout(`grafana: ${dashboard}\n`);
      return failed.length > 0 ? 1 : 0;
    } catch (err) {
      if (controller.signal.aborted) {
        io.stderr(`interrupted; results so far are in ${out}\n`);
        return 130;
      }
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
      await liveServer?.close();
    }
  },
};
