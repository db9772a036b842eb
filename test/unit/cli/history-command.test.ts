/**
 * `zablab history check FILE` as a user runs it: the built CLI (`npm run build` first) on
 * real files; exit 0 linearizable, 1 not, 2 no verdict (budget, usage, unreadable file).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerHistory } from '../../helpers/register-history.js';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

function zablab(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

const ev = (process: number, type: string, f: string, value: unknown, time: number | string): string => JSON.stringify({ process, type, f, key: '/zablab/k000001', value, time });

let tmp: string;
function file(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${path.relative(process.cwd(), CLI)} is missing; run \`npm run build\` first`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-history-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Times in ns from 1 s; the stale read: write 1, then write 2, then a read of 1.
const STALE = [
  ev(0, 'invoke', 'write', 1, 1_000_000_000),
  ev(0, 'ok', 'write', 1, 1_002_000_000),
  ev(0, 'invoke', 'write', 2, 1_003_000_000),
  ev(1, 'invoke', 'read', null, 1_003_500_000),
  ev(1, 'ok', 'read', 1, 1_003_600_000),
  ev(0, 'ok', 'write', 2, 1_004_000_000),
  ev(2, 'invoke', 'cas', [7, 8], 1_004_500_000),
  ev(2, 'info', 'cas', null, 1_004_700_000),
  ev(1, 'invoke', 'read', null, '1005000000'),
  ev(1, 'ok', 'read', 1, '1006250000'),
].join('\n');

describe('zablab history check', () => {
  it('exits 0 on a linearizable history and says how fast it checked', () => {
    const r = zablab(['history', 'check', file('ok.jsonl', STALE.split('\n').slice(0, 8).join('\n'))]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`${path.join(tmp, 'ok.jsonl')}: 4 ops (1 indeterminate) on 1 key`);
    expect(lines[1]).toBe('linearizable: yes');
    expect(lines[2]).toMatch(/^checked in \d+\.\d{3} s: [\d,]+ ops\/s \(read in \d+\.\d{3} s; \d+ configurations\)$/);
  });

  it('exits 1 on a stale read and prints its witness as a timeline', () => {
    const r = zablab(['history', 'check', file('stale.jsonl', STALE)]);
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n').slice(0, 8).join('\n')).toBe(
      [
        `${path.join(tmp, 'stale.jsonl')}: 5 ops (1 indeterminate) on 1 key`,
        'linearizable: NO (1 of 1 key has an anomaly)',
        '',
        'anomaly on key "/zablab/k000001": no order of these 3 ops (of 4 on the key) respects both their real-time order and a register\'s reads, writes and cas (initial value null)',
        '  process  op        ms from start: invoke → complete  timeline                          file',
        '  p0       write 1   0.000 → 2.000                     [========]                        lines 1/2',
        '  p0       write 2   3.000 → 4.000                                   [====]              lines 3/6',
        '  p1       read → 1  5.000 → 6.250                                             [======]  lines 9/10',
      ].join('\n'),
    );
  });

  it('prints the verdict as JSON with --json, times as strings of ns', () => {
    const r = zablab(['history', 'check', '--json', file('stale.jsonl', STALE)]);
    expect(r.status).toBe(1);
    const v = JSON.parse(r.stdout) as { linearizable: boolean; anomalies: { ops: { invokeNs: string; f: string }[] }[]; timing: { opsPerSec: number } };
    expect(v.linearizable).toBe(false);
    expect(v.anomalies[0]!.ops.map((o) => [o.f, o.invokeNs])).toEqual([
      ['write', '1000000000'],
      ['write', '1003000000'],
      ['read', '1005000000'],
    ]);
    expect(v.timing.opsPerSec).toBeGreaterThan(0);
  });

  it('exits 2 with "unknown" when a key runs out of its budget', () => {
    const hard = file('hard.jsonl', registerHistory({ ops: 3_000, keys: 1, processes: 50, seed: 5 }));
    const r = zablab(['history', 'check', '--key-memory-mb', '1', hard]);
    expect(r.status).toBe(2);
    expect(r.stdout.split('\n')[1]).toMatch(/^linearizable: unknown \(1 key ran out of budget: "k0" \(memory, [\d,]+ ops\)\)$/);
  });

  it('exits 2 with one line naming the file and line of a malformed history', () => {
    const r = zablab(['history', 'check', file('bad.jsonl', `${ev(0, 'invoke', 'write', 1, 0)}\n${ev(0, 'ok', 'write', 1, -5)}\n`)]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`zablab: ${path.join(tmp, 'bad.jsonl')}: line 2: "time" must be a whole number of nanoseconds >= 0, got -5\n`);
  });

  it('is listed by zablab --help', () => {
    expect(zablab(['--help']).stdout).toMatch(/\n {2}history +check recorded client histories/);
  });

  it('exits 2 on a file that cannot be read, and on usage mistakes', () => {
    const missing = zablab(['history', 'check', path.join(tmp, 'none.jsonl')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^zablab: cannot read .*none\.jsonl: ENOENT/);
    expect(zablab(['history', 'check']).status).toBe(2);
    const badOption = zablab(['history', 'check', '--key-time-ms', 'soon', path.join(tmp, 'ok.jsonl')]);
    expect(badOption.status).toBe(2);
    expect(badOption.stderr).toMatch(/--key-time-ms must be an integer/);
  });
});
