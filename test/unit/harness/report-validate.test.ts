/** readResults / validateResults: a results.json that is not one this zablab can read says why, once. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HarnessError } from '../../../src/harness/errors.js';
import { readResults, validateResults, writeReports } from '../../../src/harness/report/index.js';
import { makeResultsFixture, makeResultsFixtureV1 } from '../../helpers/results-fixture.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-report-validate-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The HarnessError `fn` throws. */
function failure(fn: () => unknown): HarnessError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe('ZABLAB_BENCH_REPORT');
    return err as HarnessError;
  }
  throw new Error('expected a HarnessError');
}

function writeJson(value: unknown): string {
  const file = path.join(dir, 'results.json');
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

describe('readResults', () => {
  it('reads what writeReports wrote, from the directory or the file, unchanged', () => {
    const results = makeResultsFixture();
    const { files } = writeReports(dir, results);
    expect(files.map((f) => path.basename(f))).toEqual(['results.json', 'timeline.csv', 'summary.md', 'report.html']);
    expect(readResults(dir)).toEqual(results);
    expect(readResults(path.join(dir, 'results.json'))).toEqual(results);
    // Pretty-printed, so that a diff of two results files is readable; arrays of numbers (the slots) on one line.
    const text = fs.readFileSync(path.join(dir, 'results.json'), 'utf8');
    expect(text).toMatch(/^\{\n {2}"schemaVersion": 2,\n/);
    expect(text).toContain(`"slots": {\n        "slotMs": 100,\n        "ops": [${results.runs[0]!.slots!.ops.join(',')}],\n`);
    expect(text).not.toMatch(/^\s+-?\d+(\.\d+)?,?$/m);
  });

  it('reads a schemaVersion 1 file (runs without slots), and refuses a version 2 run without them', () => {
    const v1 = makeResultsFixtureV1();
    writeJson(v1);
    const read = readResults(dir);
    expect(read.schemaVersion).toBe(1);
    expect(read.runs.map((r) => r.slots)).toEqual(read.runs.map(() => undefined));
    expect(read).toEqual(v1);
    writeJson({ ...v1, schemaVersion: 2 });
    expect(failure(() => readResults(dir)).message).toMatch(/is not a valid results file: \$\.runs\[0\]\.slots is missing \(schemaVersion 2 keeps every run's 100 ms slots\)$/);
    const bad = makeResultsFixture();
    bad.runs[1]!.slots!.ops[3] = Number.NaN;
    writeJson(bad);
    expect(failure(() => readResults(dir)).message).toMatch(/\$\.runs\[1\]\.slots\.ops\[3\] must be a number, got null$/);
  });

  it('refuses a newer schemaVersion and says which versions are involved', () => {
    const file = writeJson({ ...makeResultsFixture(), schemaVersion: 3 });
    expect(failure(() => readResults(dir)).message).toMatch(/^results\.json schemaVersion 3 is newer than this zablab understands \(2\); /);
    expect(failure(() => readResults(file)).message).toContain(file);
  });

  it('refuses an unknown older version and a file without one', () => {
    writeJson({ ...makeResultsFixture(), schemaVersion: 0 });
    expect(failure(() => readResults(dir)).message).toMatch(/schemaVersion 0 is not one zablab knows \(this zablab reads 1 and 2\)/);
    const { schemaVersion: _, ...rest } = makeResultsFixture();
    writeJson(rest);
    expect(failure(() => readResults(dir)).message).toMatch(/has no schemaVersion; is it a results\.json written by `zablab bench`\?/);
  });

  it('names the field that is wrong, with its JSON path', () => {
    const r = makeResultsFixture() as unknown as { runs: Record<string, unknown>[] };
    (r.runs[1]!['throughput'] as Record<string, unknown>)['opsPerSec'] = '12k';
    writeJson(r);
    expect(failure(() => readResults(dir)).message).toMatch(/is not a valid results file: \$\.runs\[1\]\.throughput\.opsPerSec must be a number, got "12k"$/);

    const missing = makeResultsFixture() as unknown as { runs: Record<string, unknown>[] };
    delete missing.runs[4]!['recovery'];
    expect(failure(() => validateResults(missing, 'x.json')).message).toBe('x.json is not a valid results file: $.runs[4].recovery is missing');

    const badOp = makeResultsFixture();
    (badOp.runs[0]!.throughput.byOp as Record<string, number>)['getDta'] = 1;
    expect(failure(() => validateResults(badOp)).message).toMatch(/\$\.runs\[0\]\.throughput\.byOp\.getDta is not one of getData, exists, getChildren, setData/);

    const badFault = makeResultsFixture() as unknown as { runs: { recovery: Record<string, unknown>[] }[] };
    badFault.runs[4]!.recovery[0]!['fault'] = 'explode';
    expect(failure(() => validateResults(badFault)).message).toMatch(/\$\.runs\[4\]\.recovery\[0\]\.fault must be one of "kill", "pause", .* got "explode"/);
  });

  it('reads peerSecurity as one of the harness modes', () => {
    const ok = makeResultsFixture();
    ok.runs[0]!.ensemble.peerSecurity = 'tls';
    expect(() => validateResults(ok)).not.toThrow();
    const bad = makeResultsFixture() as unknown as { runs: { ensemble: Record<string, unknown> }[] };
    bad.runs[0]!.ensemble['peerSecurity'] = 'open';
    expect(failure(() => validateResults(bad)).message).toMatch(/\$\.runs\[0\]\.ensemble\.peerSecurity must be one of "secret", "tls", "none", got "open"/);
  });

  it('reads the steps of nemeses: sides, a schedule firing or its end, what a step undid, the run seed; and reports them', () => {
    const r = makeResultsFixture();
    const base = r.runs.flatMap((run) => run.recovery)[0]!;
    r.runs[0]!.seed = 42;
    r.runs[0]!.recovery = [
      { ...base, fault: 'partition', target: 'random-halves', serverId: null, mode: 'random-halves', sides: [[1, 2, 4], [3, 5]], schedule: { fault: 0, firing: 1 } },
      { ...base, fault: 'partition', target: 'bridge', serverId: null, mode: 'bridge', sides: [[1, 2, 3], [3, 4, 5]], bridge: 3, schedule: { fault: 0, firing: 2 }, undid: { action: 'heal', serverId: null } },
      { ...base, fault: 'heal', target: 'sides', serverId: null, schedule: { fault: 0, firing: 'end' } },
    ];
    expect(() => validateResults(JSON.parse(JSON.stringify(r)))).not.toThrow();
    writeReports(dir, r);
    expect(fs.readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('partition bridge {1,2,3} | {3,4,5}');
    const bad = JSON.parse(JSON.stringify(r)) as { runs: { recovery: { schedule: { firing: unknown } }[] }[] };
    bad.runs[0]!.recovery[0]!.schedule.firing = 'later';
    expect(failure(() => validateResults(bad)).message).toContain('$.runs[0].recovery[0].schedule.firing must be a number, got "later"');
  });

  it('accepts null where the schema allows it and an optional error', () => {
    const r = makeResultsFixture();
    r.runs[0]!.breakdown = null;
    r.runs[0]!.workload.rate = null;
    delete r.runs[6]!.error;
    expect(() => validateResults(JSON.parse(JSON.stringify(r)))).not.toThrow();
  });

  it('explains a missing directory, a directory without results.json, and a file that is not JSON', () => {
    expect(failure(() => readResults(path.join(dir, 'nope'))).message).toMatch(/nope does not exist; give the directory `zablab bench --out DIR` wrote, or its results\.json$/);
    expect(failure(() => readResults(dir)).message).toBe(`no results.json in ${dir}; run \`zablab bench --out ${dir}\` first, or name the file`);
    fs.writeFileSync(path.join(dir, 'results.json'), '{"schemaVersion": 2, "runs": [');
    expect(failure(() => readResults(dir)).message).toMatch(/is not valid JSON \(.*\); was the bench interrupted while writing it\?$/);
    expect(failure(() => validateResults([1, 2], 'a.json')).message).toBe('a.json is not a zablab results file: it holds an array, not an object');
  });
});

describe('writeReports', () => {
  it('creates the directory, replaces earlier reports whole and leaves no temp files', () => {
    const out = path.join(dir, 'nested', 'out');
    const r = makeResultsFixture();
    writeReports(out, { ...r, runs: r.runs.slice(0, 1) });
    writeReports(out, r);
    expect(fs.readdirSync(out).sort()).toEqual(['report.html', 'results.json', 'summary.md', 'timeline.csv']);
    expect(readResults(out).runs).toHaveLength(7);
    expect(fs.readFileSync(path.join(out, 'summary.md'), 'utf8')).toContain('- runs: 7 (1 failed)');
  });

  it('says which file it could not write', () => {
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, '');
    expect(failure(() => writeReports(path.join(file, 'sub'), makeResultsFixture())).message).toMatch(/^cannot create the report directory .*a-file\/sub: /);
  });
});
