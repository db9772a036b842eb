/**
 * Sessions are global in an ensemble (node-zookeeper-client, a real third-party client):
 * a session moves to another server when its server dies, keeping its ephemerals and its
 * watches; a client that stops responding has its session expired by the leader and its
 * ephemerals vanish on every server, observers included.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectZk, nzk, type NzkEvent, type ZkSession } from '../compat/nzk.js';
import { LocalEnsemble } from '../../src/harness/ensemble/index.js';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('sessions across an ensemble (node-zookeeper-client)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-e2e-sess-'));
  let ens: LocalEnsemble | null = null;
  const clients: ZkSession[] = [];
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await ens?.down({ purge: true }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('moves a session with its watches and ephemerals, and expires a dead client everywhere', async () => {
    ens = await LocalEnsemble.up({ voters: 3, observers: 1, dir, config: { tickTime: '200', initLimit: '25', syncLimit: '10' } });
    const e = ens;
    const leader = (await e.leader())!;
    const followers = e.servers.filter((s) => s.role === 'voter' && s.id !== leader.id);
    const observer = e.servers.find((s) => s.role === 'observer')!;
    const at = (s: { host: string; clientPort: number }) => `${s.host}:${s.clientPort}`;

    const b = await connectZk(at(leader));
    clients.push(b);
    await b.create('/w', Buffer.from('0'));

    // A lives on one of the two followers; its server is killed under it.
    const a = await connectZk(followers.map(at).join(','), { sessionTimeoutMs: 4_000 });
    clients.push(a);
    const sessionBefore = a.sessionId;
    await a.create('/a-eph', Buffer.from('a'), { mode: nzk.CreateMode.EPHEMERAL });
    const events: NzkEvent[] = [];
    await a.getData('/w', (ev) => events.push(ev));
    const port = a.raw.connectionManager.socket?.remotePort;
    const home = followers.find((f) => f.clientPort === port)!;
    expect(home).toBeDefined();
    const reconnected = new Promise<void>((resolve) => a.raw.once('connected', () => resolve()));
    await e.kill(home.id, 'SIGKILL');
    await reconnected;
    expect(a.raw.connectionManager.socket?.remotePort).not.toBe(home.clientPort);
    expect(a.sessionId).toBe(sessionBefore);
    expect(await b.exists('/a-eph')).not.toBeNull();

    // The watch set before the move fires after it.
    await b.setData('/w', Buffer.from('1'));
    await until('the moved watch to fire', () => events.length > 0, 10_000);
    expect(events[0]!.name).toBe('NODE_DATA_CHANGED');
    expect(events[0]!.path).toBe('/w');

    // C writes an ephemeral through the observer and then hangs: its session expires on the
    // leader's clock and the ephemeral disappears from every live server.
    const c = await connectZk(at(observer), { sessionTimeoutMs: 1_000 });
    clients.push(c);
    await c.create('/c-eph', Buffer.from('c'), { mode: nzk.CreateMode.EPHEMERAL });
    for (const s of e.servers.filter((x) => x.id !== home.id)) {
      const v = await connectZk(at(s));
      expect(await v.exists('/c-eph')).not.toBeNull();
      await v.close();
    }
    c.freeze();
    for (const s of e.servers.filter((x) => x.id !== home.id)) {
      const v = await connectZk(at(s));
      clients.push(v);
      await until(`/c-eph gone on server ${s.id}`, async () => (await v.exists('/c-eph')) === null, 15_000);
      expect(await v.exists('/a-eph')).not.toBeNull();
    }
  }, 120_000);
});
