/**
 * What the ensemble tests share: the built CLI as a real process, the server programs to
 * run (zablab, and Apache ZooKeeper when installed), polling, and teardown that stops
 * every server a test started even when the test failed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { findZooKeeper, javaAvailable } from '../../../src/harness/drivers/index.js';
import { LocalEnsemble, type ServerProgram } from '../../../src/harness/ensemble/index.js';
import { runZablabCli, type CliOutcome } from '../../helpers/zablab.js';

export const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const CLI_TIMEOUT_MS = 90_000;

export function zablabBuilt(): boolean {
  return fs.existsSync(CLI);
}

export type CliResult = CliOutcome;

/** Runs `zablab <args>` to completion. */
export function zablab(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runZablabCli(args, { timeoutMs: CLI_TIMEOUT_MS, env });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** True while pid is a live (not zombie) process. */
export function pidRuns(pid: number): boolean {
  if (process.platform === 'linux') {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Calls check until it returns a value that is not undefined; throws with the last value after timeoutMs. */
export async function poll<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Every pid ensemble.json ever recorded in this test, so teardown can check none survived. */
export function recordedPids(dir: string): number[] {
  try {
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'ensemble.json'), 'utf8')) as { servers: { pid: number | null }[] };
    return j.servers.map((s) => s.pid).filter((p): p is number => p !== null);
  } catch {
    return [];
  }
}

/** Stops whatever the ensemble in dir still runs and removes dir. */
export async function teardown(dir: string | undefined): Promise<void> {
  if (dir === undefined) return;
  if (fs.existsSync(path.join(dir, 'ensemble.json'))) {
    await LocalEnsemble.load(dir)
      .down({ purge: true })
      .catch(() => undefined);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Apache ZooKeeper from $ZOOKEEPER_HOME or the Debian package, or null when it (or java) is missing. */
export function zookeeperProgram(): ServerProgram | null {
  const install = findZooKeeper();
  if (!install.ok || !javaAvailable()) return null;
  return { kind: 'zookeeper', classpath: install.classpath };
}
