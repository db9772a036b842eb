/**
 * `zablab history check FILE`: checks a recorded history for linearizability, per key, and
 * prints the verdict with each anomaly's witness as a timeline.
 *
 * Exit codes: 0 linearizable, 1 not linearizable, 2 no verdict. 2 is also the CLI's usage
 * error, and this command uses it as well for a file that cannot be read or is not a valid
 * history, and for an unexpected error: 1 always means an anomaly was found, so a script can
 * trust it; the message on stderr tells the other cases apart.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { checkHistory, CHECK_DEFAULTS, HistoryBuilder, HistoryError, historyOriginNs, renderVerdict, verdictToJson, type History } from '../../harness/history/index.js';
import { intOption, isZablabError, type CliCommand, type CliIO, type ParsedArgs } from '../registry.js';

const HELP = 'zablab history check --help';
const EXIT_LINEARIZABLE = 0;
const EXIT_NOT_LINEARIZABLE = 1;
const EXIT_NO_VERDICT = 2;
const MS_MAX = 24 * 3_600_000;
const MEMORY_MB_MAX = 64 * 1024;

const checkCommand: CliCommand = {
  name: 'check',
  summary: 'check a history file (JSON lines) for linearizability, key by key',
  description: [
    'Reads FILE, one event a line: {"process":N,"type":"invoke"|"ok"|"fail"|"info",',
    '"f":"read"|"write"|"cas","key":K,"value":V,"time":NS} (cas value [expected,new]; info: may',
    'or may not have taken effect, open to the end; time in ns, a number or a string of digits).',
    'Each key is a register starting at null and is checked on its own (Wing & Gong search with',
    "Lowe's just-in-time linearization and memoized configurations, as Knossos and Porcupine).",
    'For a key that is not linearizable it prints the smallest non-linearizable set of its ops it',
    'found, as a timeline. A key whose time or memory budget runs out is unknown.',
    '',
    'Exit code: 0 linearizable, 1 not linearizable, 2 no verdict (a budget ran out, a usage',
    'mistake, a file that cannot be read or is not a valid history).',
  ].join('\n'),
  positionals: [{ name: 'FILE', description: 'the history, JSON lines', required: true }],
  options: {
    json: { type: 'boolean', description: 'print the verdict as JSON (times as strings of ns)' },
    'key-time-ms': { type: 'string', valueName: '<ms>', description: `time budget of one key (default ${CHECK_DEFAULTS.keyTimeMs})` },
    'key-memory-mb': { type: 'string', valueName: '<MiB>', description: `memory budget of one key's search (default ${CHECK_DEFAULTS.keyMemoBytes / 2 ** 20})` },
    'shrink-time-ms': { type: 'string', valueName: '<ms>', description: `time budget to shrink one anomaly (default ${CHECK_DEFAULTS.shrinkTimeMs})` },
    'time-ms': { type: 'string', valueName: '<ms>', description: 'time budget of the whole check (default: none beyond the keys\')' },
  },
  run: runCheck,
};

export const historyCommand: CliCommand = {
  name: 'history',
  summary: 'check recorded client histories (history check FILE: linearizability per key)',
  subcommands: [checkCommand],
};

async function runCheck(args: ParsedArgs, io: CliIO): Promise<number> {
  const file = args.positionals[0]!;
  const options = {
    keyTimeMs: intOption(args, 'key-time-ms', 1, MS_MAX, HELP),
    keyMemoBytes: mib(intOption(args, 'key-memory-mb', 1, MEMORY_MB_MAX, HELP)),
    shrinkTimeMs: intOption(args, 'shrink-time-ms', 0, MS_MAX, HELP),
    totalTimeMs: intOption(args, 'time-ms', 1, MS_MAX, HELP),
  };
  try {
    const readStart = performance.now();
    const history = await readHistory(file);
    const checkStart = performance.now();
    const verdict = checkHistory(history, options);
    const checkMs = performance.now() - checkStart;
    const opsPerSec = Math.round(history.ops.length / Math.max(checkMs / 1000, 1e-6));
    if (args.flag('json')) {
      io.stdout(`${verdictToJson({ ...verdict, timing: { readMs: round(checkStart - readStart), checkMs: round(checkMs), opsPerSec } })}\n`);
    } else {
      io.stdout(`${file}: ${renderVerdict(verdict, historyOriginNs(history.ops))}`);
      io.stdout(`checked in ${(checkMs / 1000).toFixed(3)} s: ${opsPerSec.toLocaleString('en-US')} ops/s (read in ${((checkStart - readStart) / 1000).toFixed(3)} s; ${verdict.statesExplored.toLocaleString('en-US')} configurations)\n`);
    }
    return verdict.linearizable === true ? EXIT_LINEARIZABLE : verdict.linearizable === false ? EXIT_NOT_LINEARIZABLE : EXIT_NO_VERDICT;
  } catch (err) {
    // Not through the registry: its exit code 1 for errors would read as "not linearizable".
    if (isZablabError(err)) io.stderr(`zablab: ${err.message}\n`);
    else io.stderr(`zablab: unexpected error\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_NO_VERDICT;
  }
}

/** Streams the file line by line into a HistoryBuilder (a history may be larger than a string can hold). */
async function readHistory(file: string): Promise<History> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw new HistoryError('ZABLAB_HISTORY_READ', `${file} is not a file; give the history's path`);
    }
  } catch (err) {
    if (err instanceof HistoryError) throw err;
    throw new HistoryError('ZABLAB_HISTORY_READ', `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const builder = new HistoryBuilder();
  const lines = readline.createInterface({ input: handle.createReadStream({ encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of lines) builder.addLine(line);
  } catch (err) {
    if (err instanceof HistoryError) throw new HistoryError(err.code, `${file}: ${err.message}`);
    throw new HistoryError('ZABLAB_HISTORY_READ', `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    lines.close();
    await handle.close().catch(() => undefined);
  }
  return builder.finish();
}

function mib(n: number | undefined): number | undefined {
  return n === undefined ? undefined : n * 2 ** 20;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
