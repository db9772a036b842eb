/** `zablab sim` through the real CLI: runs seeds, reports, and rejects bad arguments. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

function zablab(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('zablab sim', () => {
  it('runs the given seeds and says they held', () => {
    const r = zablab(['sim', '--seed', '42', '--seeds', '3', '--voters', '3', '--observers', '1']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/seed 42 \(3v\+1o\)/);
    expect(r.stdout).toMatch(/3 seeds ok/);
  });

  it('rejects a bad argument with a usage error', () => {
    const r = zablab(['sim', '--voters', 'many']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/voters/);
  });
});
