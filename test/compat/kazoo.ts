/**
 * kazoo, the Python ZooKeeper client (Debian's python3-kazoo, SASL through python3-pure-sasl),
 * driven by kazoo-runner.py: a plan of steps in, one JSON result per step out.
 */
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Debian's interpreter: the packages are installed for it, not for a python3 earlier on PATH. */
const PYTHON = '/usr/bin/python3';
const RUNNER = fileURLToPath(new URL('./kazoo-runner.py', import.meta.url));
const RUN_TIMEOUT_MS = 90_000;

export interface KazooClientSpec {
  hosts: string;
  tls?: { ca: string; certfile?: string; keyfile?: string };
  sasl?: { mechanism: 'DIGEST-MD5'; username: string; password: string };
  /** Seconds connect may take (default 8). */
  startTimeout?: number;
}

/** [client, op, ...args]; see kazoo-runner.py for the ops. ACLs are [scheme, id, 'ALL' | 'read,write,...'][]. */
export type KazooStep = [string, string, ...unknown[]];

export type KazooResult = { ok: true; value: unknown } | { ok: false; error: string };

let missing: string | null | undefined;
/** Why kazoo cannot run here (null when it can). */
export function kazooMissing(): string | null {
  if (missing === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import kazoo, puresasl'], { stdio: 'ignore', timeout: 20_000 });
    missing = r.status === 0 ? null : `${PYTHON} cannot import kazoo and puresasl: apt-get install python3-kazoo python3-pure-sasl`;
  }
  return missing;
}

export function runKazoo(clients: Record<string, KazooClientSpec>, steps: KazooStep[]): Promise<KazooResult[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [RUNNER], { timeout: RUN_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const results = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as KazooResult);
      if (err !== null && results.length < steps.length) {
        reject(new Error(`kazoo-runner.py failed after ${results.length} of ${steps.length} steps: ${err.message}\n${stderr.slice(-2000)}`));
        return;
      }
      resolve(results);
    });
    child.stdin?.end(JSON.stringify({ clients, steps }));
  });
}
