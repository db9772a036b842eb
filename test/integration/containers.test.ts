/**
 * Containers and TTL nodes are cleaned up by the server, as ZooKeeper's ContainerManager does:
 * an empty container that once had children is deleted, a childless TTL node is deleted once
 * its TTL has passed; a container that never had a child, and a TTL node with a child, stay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateMode } from '../../src/jute/index.js';
import { ZkClient } from '../../src/client/index.js';
import { startZablab, type ServerHandle } from '../helpers/zablab.js';

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('container manager', () => {
  let server: ServerHandle;
  let c: ZkClient;
  beforeAll(async () => {
    server = await startZablab({ config: { 'znode.container.checkIntervalMs': '300', extendedTypesEnabled: 'true' } });
    c = await ZkClient.connect({ connectString: server.connectString });
  });
  afterAll(async () => {
    await c?.close();
    await server?.stop();
  });

  it('deletes an emptied container and an expired TTL node, and keeps the others', async () => {
    await c.create('/used', null, { mode: CreateMode.CONTAINER });
    await c.create('/used/child', null);
    await c.create('/never-used', null, { mode: CreateMode.CONTAINER });
    await c.create('/ttl', null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 200n });
    await c.create('/ttl-parent', null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 200n });
    await c.create('/ttl-parent/kid', null);
    await c.delete('/used/child');
    expect(await eventually(async () => (await c.exists('/used')) === null, 5_000)).toBe(true);
    expect(await eventually(async () => (await c.exists('/ttl')) === null, 5_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 800));
    expect(await c.exists('/never-used')).not.toBeNull();
    expect(await c.exists('/ttl-parent')).not.toBeNull();
  }, 30_000);
});
