/**
 * `zablab report DIR` re-renders a bench's reports from its results.json;
 * `zablab report compare A B [--out FILE]` compares two benches run by run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HarnessError } from '../../harness/errors.js';
import { compareResults, readResults, renderComparison, renderComparisonHtml, resultsPath, writeReports } from '../../harness/report/index.js';
import { UsageError, type CliCommand, type CliIO, type ParsedArgs } from '../registry.js';

const HELP = 'zablab report --help';

export const reportCommand: CliCommand = {
  name: 'report',
  summary: "re-render a bench's reports, or compare two benches (report DIR | report compare A B)",
  description: [
    'zablab report DIR',
    '  Reads DIR/results.json (written by `zablab bench --out DIR`) and writes timeline.csv,',
    '  summary.md and report.html next to it again, e.g. after upgrading zablab.',
    '',
    'zablab report compare A B [--out FILE]',
    '  Compares two benches (directories or results.json files). Runs are matched by name; for',
    '  ops/s, p50, p99, p99.9 and the median of each recovery time it prints A, B, the change',
    '  in percent and the ratio B/A as a markdown table. --out FILE also writes the comparison',
    '  to FILE: a self-contained HTML page when FILE ends in .html, else markdown.',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o', valueName: '<FILE>', description: 'compare: also write the comparison to FILE (.html for a page, else markdown)' },
  },
  positionals: [{ name: 'DIR | compare A B', description: 'a bench output directory, or `compare` and two of them', required: true, variadic: true }],
  run: runReport,
};

async function runReport(args: ParsedArgs, io: CliIO): Promise<number> {
  const [first, ...rest] = args.positionals;
  if (first === 'compare') return runCompare(rest, args.string('out'), io);
  if (rest.length > 0) throw new UsageError(`\`zablab report\` takes one directory, got ${args.positionals.length} arguments (to compare two, use \`zablab report compare A B\`)`, HELP);
  if (args.string('out') !== undefined) throw new UsageError('--out is for `zablab report compare A B`; `zablab report DIR` writes into DIR', HELP);
  const results = readResults(first!);
  const dir = path.dirname(resultsPath(first!));
  const { files } = writeReports(dir, results);
  const failed = results.runs.filter((r) => r.status === 'failed').length;
  io.stdout(`${results.runs.length} runs${failed > 0 ? ` (${failed} failed)` : ''}; wrote:\n${files.map((f) => `  ${f}\n`).join('')}`);
  return 0;
}

async function runCompare(paths: string[], out: string | undefined, io: CliIO): Promise<number> {
  if (paths.length !== 2) throw new UsageError(`\`zablab report compare\` needs two bench directories (A and B), got ${paths.length}`, HELP);
  const [a, b] = paths as [string, string];
  const comparison = compareResults(readResults(a), readResults(b), { a, b });
  const markdown = renderComparison(comparison);
  io.stdout(markdown);
  if (out !== undefined) {
    const text = out.toLowerCase().endsWith('.html') ? renderComparisonHtml(comparison) : markdown;
    try {
      fs.writeFileSync(out, text);
    } catch (err) {
      throw new HarnessError('ZABLAB_BENCH_REPORT', `cannot write ${out}: ${err instanceof Error ? err.message : String(err)}`);
    }
    io.stderr(`wrote ${out}\n`);
  }
  return 0;
}
