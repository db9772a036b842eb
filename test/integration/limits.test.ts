/**
 * Per-address connection limit and request size limit, as ZooKeeper enforces them:
 * `maxClientCnxns` refuses the extra connection from one address while the others keep
 * working; a frame over `jute.maxbuffer` closes that connection only.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/client/index.js';
import { startZablab, type ServerHandle } from '../helpers/zablab.js';

/** Open a raw socket and report whether the server closes it within `ms`. */
function closedBy(server: ServerHandle, send: Buffer | null, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(server.port, server.host, () => {
      if (send) s.write(send);
    });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, ms);
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('connection and request limits', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startZablab({ config: { maxClientCnxns: '3', 'jute.maxbuffer': '4096' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a connection over maxClientCnxns from one address; the others keep working', async () => {
    const clients = await Promise.all([0, 1, 2].map(() => ZkClient.connect({ connectString: server.connectString })));
    expect(await closedBy(server, null, 2_000)).toBe(true);
    for (const c of clients) expect(await c.exists('/')).not.toBeNull();
    await Promise.all(clients.map((c) => c.close()));
    // Once they are gone, a new connection is accepted again.
    const again = await ZkClient.connect({ connectString: server.connectString });
    expect(await again.exists('/zookeeper')).not.toBeNull();
    await again.close();
  });

  it('closes a connection whose frame is over jute.maxbuffer, and only that one', async () => {
    const healthy = await ZkClient.connect({ connectString: server.connectString });
    const len = Buffer.alloc(4);
    len.writeInt32BE(4097);
    expect(await closedBy(server, len, 2_000)).toBe(true);
    const ok = Buffer.alloc(4);
    ok.writeInt32BE(4096);
    // A frame at the limit is accepted as far as its length goes (the server waits for the bytes).
    expect(await closedBy(server, ok, 500)).toBe(false);
    expect(await healthy.exists('/')).not.toBeNull();
    await healthy.close();
  });
});
