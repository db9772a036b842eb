/**
 * Acknowledged writes and what a server serves, for the durability tests: create znodes
 * under /d one by one (each acknowledged before the next), read back what one server holds,
 * and wait for a process to be gone.
 */
import { ZkClient } from '../../src/client/index.js';

/** Create `n` znodes /d/k<i> (acknowledged, one by one); returns their data by path. */
export async function writeZnodes(connectString: string, n: number, from = 0): Promise<Map<string, string>> {
  const client = await ZkClient.connect({ connectString, connectTimeoutMs: 10_000 });
  const acked = new Map<string, string>();
  try {
    if ((await client.exists('/d')) === null) await client.create('/d', null);
    for (let i = from; i < from + n; i++) {
      const path = `/d/k${String(i).padStart(5, '0')}`;
      await client.create(path, Buffer.from(`value-${i}`));
      acked.set(path, `value-${i}`);
    }
  } finally {
    await client.close();
  }
  return acked;
}

/** The /d/* znodes a server serves, with their data. */
export async function readZnodes(connectString: string): Promise<Map<string, string>> {
  const client = await ZkClient.connect({ connectString, connectTimeoutMs: 10_000 });
  try {
    const out = new Map<string, string>();
    if ((await client.exists('/d')) === null) return out;
    for (const name of (await client.getChildren('/d')).children) {
      out.set(`/d/${name}`, (await client.getData(`/d/${name}`)).data?.toString() ?? '');
    }
    return out;
  } finally {
    await client.close();
  }
}

/** Wait until pid is gone; throws after timeoutMs (at least one poll). */
export async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + Math.max(timeoutMs, 100);
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`pid ${pid} still runs`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
