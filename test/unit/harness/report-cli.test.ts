/**
 * `zablab report DIR` and `zablab report compare A B` as a user runs them: the built CLI
 * (`npm run build` first; `npm test` does) as a real process on real files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeReports } from '../../../src/harness/report/index.js';
import { makeResultsFixture, makeResultsFixtureV1 } from '../../helpers/results-fixture.js';
import { runZablabCli, ZABLAB_CLI, type CliOutcome } from '../../helpers/zablab.js';

const RUN_TIMEOUT_MS = 20_000;

function zablab(args: string[]): Promise<CliOutcome> {
  return runZablabCli(args, { timeoutMs: RUN_TIMEOUT_MS });
}

let tmp: string;
beforeAll(() => {
  if (!fs.existsSync(ZABLAB_CLI)) throw new Error(`${path.relative(process.cwd(), ZABLAB_CLI)} is missing; run \`npm run build\` first`);
});
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-report-cli-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('zablab report DIR', () => {
  it('re-renders timeline.csv, summary.md and report.html from results.json', async () => {
    const dir = path.join(tmp, 'bench');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(makeResultsFixture()));
    const r = await zablab(['report', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`7 runs (1 failed); wrote:\n${['results.json', 'timeline.csv', 'summary.md', 'report.html'].map((f) => `  ${path.join(dir, f)}\n`).join('')}`);
    expect(fs.readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('| leader-kill#1 | kill    |  5.0 s | leader (id 3) |');
    expect(fs.readFileSync(path.join(dir, 'timeline.csv'), 'utf8').split('\n')[0]).toBe('run,t,op,ops,errors,p50_ms,p99_ms');
    expect(fs.readFileSync(path.join(dir, 'report.html'), 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('fails with one line and exit code 1 on a directory without results.json or with a newer schema', async () => {
    const r = await zablab(['report', tmp]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`zablab: no results.json in ${tmp}; run \`zablab bench --out ${tmp}\` first, or name the file\n`);

    fs.writeFileSync(path.join(tmp, 'results.json'), JSON.stringify({ ...makeResultsFixture(), schemaVersion: 3 }));
    const newer = await zablab(['report', tmp]);
    expect(newer.code).toBe(1);
    expect(newer.stderr.split('\n')).toHaveLength(2);
    expect(newer.stderr).toMatch(/^zablab: results\.json schemaVersion 3 is newer than this zablab understands \(2\); /);
  });

  it('re-renders a schemaVersion 1 results.json (written before runs kept their slots) and keeps its version', async () => {
    const dir = path.join(tmp, 'v1');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(makeResultsFixtureV1()));
    const r = await zablab(['report', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('| leader-kill#1 | kill    |  5.0 s | leader (id 3) |');
    const rewritten = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as { schemaVersion: number; runs: object[] };
    expect(rewritten.schemaVersion).toBe(1);
    expect(rewritten.runs.some((x) => 'slots' in x)).toBe(false);
  });

  it('is a usage error (exit 2) without a directory, with two, or with --out', async () => {
    for (const args of [['report'], ['report', 'a', 'b'], ['report', tmp, '--out', 'x.md'], ['report', 'compare', 'a']]) {
      const r = await zablab(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^zablab: .*; run `zablab report --help`\n$/);
    }
  });
});

describe('zablab report compare A B', () => {
  it('compares a schemaVersion 1 file with a version 2 one', async () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    fs.mkdirSync(a);
    fs.writeFileSync(path.join(a, 'results.json'), JSON.stringify(makeResultsFixtureV1()));
    const after = makeResultsFixture();
    after.runs[1]!.throughput.opsPerSec = 14_875.2 * 2;
    writeReports(b, after);
    const r = await zablab(['report', 'compare', a, b]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# zablab comparison\n/);
    expect(r.stdout).toMatch(/readmix\/observers=0,readPct=90#1.*14,875.*29,750/);
  });

  it('prints the deltas as markdown and writes --out as HTML or markdown', async () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    const before = makeResultsFixture();
    const after = makeResultsFixture();
    after.runs[1]!.throughput.opsPerSec = 14_875.2 * 2;
    writeReports(a, before);
    writeReports(b, after);
    const r = await zablab(['report', 'compare', a, b]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# zablab comparison\n/);
    expect(r.stdout).toMatch(/\| readmix\/observers=0,readPct=90#1 +\| ops\/s +\| +14,875 \| +29,750 \| +\+100\.0 % \| +2\.00× \| better +\|/);

    const html = path.join(tmp, 'cmp.html');
    const withHtml = await zablab(['report', 'compare', a, path.join(b, 'results.json'), '--out', html]);
    expect(withHtml.code).toBe(0);
    expect(withHtml.stderr).toBe(`wrote ${html}\n`);
    expect(fs.readFileSync(html, 'utf8')).toContain('data-testid="chart-compare-throughput"');

    const md = path.join(tmp, 'cmp.md');
    expect((await zablab(['report', 'compare', a, b, '-o', md])).code).toBe(0);
    expect(fs.readFileSync(md, 'utf8')).toBe(r.stdout);
  });

  it('names the side it cannot read', async () => {
    const a = path.join(tmp, 'a');
    writeReports(a, makeResultsFixture());
    const r = await zablab(['report', 'compare', a, path.join(tmp, 'missing')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`zablab: ${path.join(tmp, 'missing')} does not exist; give the directory \`zablab bench --out DIR\` wrote, or its results.json\n`);
  });
});
