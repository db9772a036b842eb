/**
 * The README's first command: `zablab bench` runs the quick-start scenario (3 voters, mixed
 * load, a leader kill and restart) on a local ensemble, as a real process from the build, and
 * leaves a report a person can open. Also: --dry-run of every shipped scenario, a scenario
 * error, and Ctrl-C in the middle of a run (servers cleaned up, results so far kept).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { recovered90Ms } from '../../src/harness/measure/recovery.js';
import type { ResultsFile } from '../../src/harness/report/results.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('../../bench/', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-bench-e2e-'));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function zablab(args: string[], timeoutMs: number, onStderr?: (text: string, kill: (sig: NodeJS.Signals) => void) => void): Promise<Outcome> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr, (sig) => child.kill(sig));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`zablab ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every pid recorded in an ensemble.json under dir must be gone. */
function recordedPids(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'ensemble.json') {
        const state = JSON.parse(fs.readFileSync(p, 'utf8')) as { servers: { pid: number | null }[] };
        for (const s of state.servers) if (s.pid !== null) pids.push(s.pid);
      }
    }
  };
  walk(dir);
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('zablab bench', () => {
  it('with no scenario runs the quick start and writes results, summary, timeline and report', async () => {
    const out = path.join(tmp, 'quick');
    const r = await zablab(['bench', '--out', out, '--live'], 150_000);
    expect(r.code, r.stderr).toBe(0);
    // As the README runs it: with the live view (test/e2e/live-view.test.ts watches one in Chromium).
    expect(r.stdout).toMatch(/^live: http:\/\/127\.0\.0\.1:\d+\/$/m);
    // Progress: run counter, phases, live throughput.
    expect(r.stderr).toMatch(/\[1\/1\] quickstart/);
    expect(r.stderr).toMatch(/measuring/);
    expect(r.stderr).toMatch(/ops\/s/);
    expect(r.stdout).toMatch(/report: .*report\.html/);

    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as ResultsFile;
    expect(results.schemaVersion).toBe(2);
    expect(results.runs).toHaveLength(1);
    const run = results.runs[0]!;
    expect(run.status, run.error).toBe('ok');
    expect(run.ensemble).toMatchObject({ driver: 'local', program: 'zablab', voters: 3, observers: 0 });
    expect(run.throughput.opsPerSec).toBeGreaterThan(100);
    for (const op of ['getData', 'exists', 'getChildren', 'setData', 'create', 'delete'] as const) {
      expect(run.throughput.byOp[op], op).toBeGreaterThan(0);
    }
    expect(run.latencyMs.p99).toBeGreaterThanOrEqual(run.latencyMs.p50);
    expect(run.timeline.length).toBeGreaterThanOrEqual(15);

    // The leader kill: a new leader and a first write after it, observed; then the restart.
    const [kill, restart] = run.recovery;
    expect(kill).toMatchObject({ fault: 'kill', target: 'leader' });
    expect(kill!.serverId).toBe(kill!.leaderBefore);
    expect(kill!.leaderElectedMs).not.toBeNull();
    expect(kill!.firstWriteMs).not.toBeNull();
    expect(kill!.leaderAfter).not.toBe(kill!.serverId);
    // The 100 ms slots in results.json give the same 90 % point (atMs is rounded: within a slot).
    expect(run.slots?.ops.length).toBeGreaterThanOrEqual(190);
    expect(Math.abs(recovered90Ms(kill!.atMs, run.slots!, kill!.firstWriteMs ?? 0)! - kill!.recovered90Ms!)).toBeLessThanOrEqual(100);
    expect(restart).toMatchObject({ fault: 'restart', target: 'last', serverId: kill!.serverId });
    // Each kind of fault has its own columns: a restart has "back in service", no first write.
    expect(restart!.firstWriteMs).toBeNull();
    expect(restart!.servingAgainMs).toBeGreaterThan(0);
    // The run looked up its own acknowledged creates on every server: none lost.
    expect(run.ackedWrites).toMatchObject({ lost: 0, error: null });
    expect(run.ackedWrites!.writes).toBeGreaterThan(50);
    expect(run.ackedWrites!.servers.map((s) => s.serverId).sort()).toEqual([1, 2, 3]);
    expect(run.leaderChanges.some((c) => c.leader !== null && c.leader !== kill!.serverId)).toBe(true);

    // Server metrics sampled, and the write broken down from spans.
    expect(run.metrics.some((m) => 'outstanding_requests' in m.values)).toBe(true);
    expect(run.breakdown?.writes).toBeGreaterThan(0);
    expect(run.breakdown?.stages.map((s) => s.stage)).toEqual(expect.arrayContaining(['queue', 'quorum', 'fsync', 'apply']));

    const summary = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
    expect(summary).toMatch(/\| *quickstart/);
    const csv = fs.readFileSync(path.join(out, 'timeline.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('run,t,op,ops,errors,p50_ms,p99_ms');
    expect(csv.length).toBeGreaterThan(15);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');

    // Every server the bench started is gone.
    const pids = recordedPids(out);
    expect(pids.filter(alive)).toEqual([]);
  }, 180_000);

  it('--dry-run expands every shipped scenario', async () => {
    const files = fs.readdirSync(BENCH_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    const r = await zablab(['bench', '--dry-run', ...files.map((f) => path.join(BENCH_DIR, f))], 30_000);
    expect(r.code, r.stderr).toBe(0);
    const runs = Number(/(\d+) runs/.exec(r.stdout)?.[1]);
    expect(runs).toBeGreaterThanOrEqual(30);
  });

  it('a scenario with a mistake is refused before anything starts, naming the field', async () => {
    const bad = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(bad, 'name: bad\nensemble:\n  voters: 3\nworkload:\n  readPct: 150\n');
    const r = await zablab(['bench', bad, '--out', path.join(tmp, 'bad-out')], 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/workload\.readPct/);
    expect(r.stderr).toMatch(/0 to 100/);
    expect(fs.existsSync(path.join(tmp, 'bad-out', 'results.json'))).toBe(false);
  });

  it('Ctrl-C during a run stops its servers and keeps what was measured so far', async () => {
    const out = path.join(tmp, 'interrupted');
    let sent = false;
    const r = await zablab(['bench', 'leader-kill', '--out', out], 90_000, (stderr, kill) => {
      if (!sent && /measuring/.test(stderr)) {
        sent = true;
        kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(recordedPids(out).filter(alive)).toEqual([]);
  }, 120_000);
});
