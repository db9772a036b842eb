/** Writes every report of a bench into its output directory. */
import fs from 'node:fs';
import path from 'node:path';
import { HarnessError } from '../errors.js';
import { renderReportHtml } from './report-html.js';
import { REPORT_FILE, RESULTS_FILE, SUMMARY_FILE, TIMELINE_FILE, type ResultsFile } from './results.js';
import { renderSummary } from './summary.js';
import { renderTimelineCsv } from './timeline-csv.js';

/**
 * Replaces `file` with `text` atomically (temp file + rename): the runner rewrites the
 * reports after every run, and a reader (or a crash) must never see half a file.
 */
function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new HarnessError('ZABLAB_BENCH_REPORT', `cannot write ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A JSON number as JSON.stringify writes one. */
const NUMBER = String.raw`-?\d+(?:\.\d+)?(?:e[+-]?\d+)?`;
/** An array of numbers as JSON.stringify(…, 2) lays it out: one number a line. */
const NUMBER_ARRAY_RE = new RegExp(String.raw`\[\n\s+(${NUMBER}(?:,\n\s+${NUMBER})*)\n\s*\]`, 'g');

/**
 * results.json's text: indented, so that a diff of two files is readable, but with each
 * array of numbers on one line (a run's 100 ms slots are hundreds of numbers).
 */
export function resultsJson(results: ResultsFile): string {
  return JSON.stringify(results, null, 2).replace(NUMBER_ARRAY_RE, (_, items: string) => `[${items.replace(/,\n\s+/g, ',')}]`) + '\n';
}

/**
 * Writes results.json (pretty), timeline.csv, summary.md and report.html into `dir`
 * (created when missing). Returns the paths written, in that order.
 */
export function writeReports(dir: string, results: ResultsFile): { files: string[] } {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new HarnessError('ZABLAB_BENCH_REPORT', `cannot create the report directory ${dir}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const outputs: [string, string][] = [
    [RESULTS_FILE, resultsJson(results)],
    [TIMELINE_FILE, renderTimelineCsv(results)],
    [SUMMARY_FILE, renderSummary(results)],
    [REPORT_FILE, renderReportHtml(results)],
  ];
  const files: string[] = [];
  for (const [name, text] of outputs) {
    const file = path.join(dir, name);
    writeAtomically(file, text);
    files.push(file);
  }
  return { files };
}
