/**
 * `zablab dashboards [--out DIR] [--check]` through the command registry, on real files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dashboardsCommand } from '../../../src/cli/commands/dashboards.js';
import { runCli, type CliProgram } from '../../../src/cli/registry.js';

const program: CliProgram = { name: 'zablab', version: '0.0.0', summary: 'test', commands: [dashboardsCommand] };

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(program, ['dashboards', ...argv], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr };
}

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-dashboards-'));
  dirs.push(d);
  return d;
}

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('zablab dashboards', () => {
  it('writes both dashboards into --out, and --check then passes', async () => {
    const dir = tempDir();
    const w = await run('--out', dir);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/wrote .*zab-ensemble\.json/);
    expect(w.stdout).toMatch(/wrote .*zab-write-path\.json/);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'zab-ensemble.json'), 'utf8')) as { uid: string; title: string };
    expect(json).toMatchObject({ uid: 'zablab-zab-ensemble', title: 'ZAB ensemble' });
    const c = await run('--out', dir, '--check');
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/up to date/);
  });

  it('--check exits 1 and names each file that differs or is missing', async () => {
    const dir = tempDir();
    await run('--out', dir);
    const file = path.join(dir, 'zab-write-path.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"ZAB write path"', '"edited by hand"'));
    fs.rmSync(path.join(dir, 'zab-ensemble.json'));
    const c = await run('--check', '--out', dir);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('zab-write-path.json differs from the generated dashboard');
    expect(c.stderr).toContain('zab-ensemble.json is missing');
    expect(c.stderr).toContain('run `zablab dashboards --out');
    // --check writes nothing.
    expect(fs.existsSync(path.join(dir, 'zab-ensemble.json'))).toBe(false);
  });

  it('an --out that cannot be a directory is an error that says so', async () => {
    const file = path.join(tempDir(), 'not-a-dir');
    fs.writeFileSync(file, 'x');
    const c = await run('--out', file);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/cannot write dashboards into .*not-a-dir/);
    expect(c.stderr).not.toMatch(/unexpected error/);
  });
});
