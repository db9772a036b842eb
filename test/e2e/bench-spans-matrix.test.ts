/**
 * "What does tracing cost?" as a user asks it: a scenario with `matrix: {spans: [0, 1]}` lists
 * two runs, and running it starts the servers once without span recording (even with
 * ZABLAB_SPANS_DIR in the caller's environment) and once with every request traced; the
 * report compares the two.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResultsFile } from '../../src/harness/report/results.js';
import { runZablabCli, zablabBuilt, type CliOutcome } from '../helpers/zablab.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-bench-spans-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const SCENARIO = `name: spans-matrix
description: one server, with and without spans
ensemble: {driver: local, voters: 1}
workload: {readPct: 50, clients: 1, connections: 2, pipelining: 8, keys: 100, duration: 2s, warmup: 1s}
matrix:
  spans: [0, 1]
`;

function zablab(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliOutcome> {
  return runZablabCli(args, { timeoutMs, cwd: tmp, env });
}

/** Spans files (non-empty) anywhere under dir. */
function spansFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => /server-\d+\.jsonl$/.test(f) && fs.statSync(path.join(dir, f)).size > 0);
}

describe.skipIf(!zablabBuilt())('zablab bench: a matrix over spans', () => {
  it('--dry-run lists one run without spans and one with', async () => {
    const file = path.join(tmp, 'spans-matrix.yaml');
    fs.writeFileSync(file, SCENARIO);
    const r = await zablab(['bench', '--dry-run', file], {}, 30_000);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('spans-matrix/'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^spans-matrix\/spans=0: .*no faults$/);
    expect(lines[1]).toMatch(/^spans-matrix\/spans=1: .*no faults; spans$/);
    expect(r.stdout).toContain('2 runs');
  });

  it('runs the servers without span recording, then with it; the report compares them', async () => {
    const file = path.join(tmp, 'spans-matrix.yaml');
    fs.writeFileSync(file, SCENARIO);
    const out = path.join(tmp, 'out');
    // A spans directory in the caller's shell must not turn tracing on in the spans-0 run.
    const stray = path.join(tmp, 'stray-spans');
    fs.mkdirSync(stray);
    const r = await zablab(['bench', file, '--out', out], { ZABLAB_SPANS_DIR: stray }, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as ResultsFile;
    const [off, on] = results.runs;
    expect(off).toMatchObject({ name: 'spans-matrix/spans=0', status: 'ok', cell: { spans: 0 } });
    expect(on).toMatchObject({ name: 'spans-matrix/spans=1', status: 'ok', cell: { spans: 1 } });
    expect(off!.throughput.opsPerSec).toBeGreaterThan(0);
    // A standalone server has no proposals to break down: the spans file itself shows tracing.
    expect(off!.breakdown).toBeNull();
    expect(spansFiles(stray)).toEqual([]);
    const runDirs = fs.readdirSync(path.join(out, 'runs')).sort();
    expect(runDirs).toHaveLength(2);
    expect(spansFiles(path.join(out, 'runs', runDirs[0]!))).toEqual([]);
    expect(spansFiles(path.join(out, 'runs', runDirs[1]!))).toEqual(['spans/server-1.jsonl']);
    const head = fs.readFileSync(path.join(out, 'runs', runDirs[1]!, 'spans', 'server-1.jsonl'), 'utf8').slice(0, 1_000_000);
    expect(head).toContain('"name":"zk.request"');
    const summary = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('## Tracing cost');
    expect(summary).toMatch(/\| spans-matrix \| — +\| +100 % \| +1 \|/);
  }, 150_000);
});
