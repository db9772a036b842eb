/**
 * The server the client integration tests run against: Apache ZooKeeper by default, or
 * zablab's own server with ZABLAB_CLIENT_TARGET=zablab (after `npm run build`).
 */
import { ZkClient, type ZkClientOptions } from '../../../src/client/index.js';
import type { ServerHandle } from '../../helpers/server-process.js';
import { startZablab, zablabBuilt } from '../../helpers/zablab.js';
import { startZooKeeper, zookeeperAvailable } from '../../helpers/zookeeper.js';

export const targetName = process.env['ZABLAB_CLIENT_TARGET'] === 'zablab' ? 'zablab' : 'zookeeper';

/** Why the suite cannot run here, or null when it can. */
export function targetMissing(): string | null {
  if (targetName === 'zablab') return zablabBuilt() ? null : 'zablab is not built (run `npm run build`)';
  return zookeeperAvailable() ? null : 'Apache ZooKeeper is not available (needs java and the zookeeper jars, or ZOOKEEPER_HOME)';
}

const missing = targetMissing();
if (missing !== null) console.warn(`SKIPPED client integration tests: ${missing}`);

export function startTarget(opts: { config?: Record<string, string>; dataDir?: string } = {}): Promise<ServerHandle> {
  return targetName === 'zablab' ? startZablab(opts) : startZooKeeper(opts);
}

/** Clients opened by a test file, closed by closeAll() in afterAll/afterEach. */
export class ClientPool {
  private readonly clients: ZkClient[] = [];

  async open(connectString: string, opts: Omit<ZkClientOptions, 'connectString'> = {}): Promise<ZkClient> {
    const c = await ZkClient.connect({ connectString, ...opts });
    this.clients.push(c);
    return c;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
  }
}

let unique = 0;
/** A fresh path per test so tests never see each other's nodes. */
export function uniquePath(label: string): string {
  return `/${label}-${process.pid}-${++unique}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
