/**
 * Sessions across failures against a real server: reconnect after a server restart with
 * the session and its watches kept, expiry after a partition, and resuming a session by id.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { ZkClient, ZkError, type WatchedEvent, type ZkState } from '../../../src/client/index.js';
import { Code, CreateMode, EventType } from '../../../src/jute/index.js';
import { makeTempDir, type ServerHandle } from '../../helpers/server-process.js';
import { ClientPool, startTarget, targetMissing, targetName, uniquePath, waitFor } from './target.js';
import { TcpProxy } from './tcp-proxy.js';

const pool = new ClientPool();
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await pool.closeAll();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function track(client: ZkClient): { states: ZkState[]; events: WatchedEvent[] } {
  const log = { states: [] as ZkState[], events: [] as WatchedEvent[] };
  client.on('state', (s) => log.states.push(s));
  client.on('watch', (e) => log.events.push(e));
  return log;
}

async function started(opts: Parameters<typeof startTarget>[0] = {}): Promise<ServerHandle> {
  const server = await startTarget(opts);
  cleanups.push(() => server.stop());
  return server;
}

describe.skipIf(targetMissing() !== null)(`sessions against ${targetName}`, () => {
  test('a restart on the same dataDir and port keeps the session, its ephemerals and its watches', async () => {
    const dataDir = makeTempDir('zablab-client-restart-');
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    let server = await started({ dataDir });
    const port = String(server.port);
    const c = await pool.open(server.connectString, { sessionTimeoutMs: 20_000 });
    const log = track(c);
    const sessionId = c.sessionId;
    const eph = uniquePath('eph');
    const watched = uniquePath('watched');
    await c.create(eph, null, { mode: CreateMode.EPHEMERAL });
    await c.create(watched, Buffer.from('0'));
    await c.getData(watched, true);
    await c.exists(`${watched}-later`, true);

    // Freeze the server so that a request is surely in flight when it dies.
    server.kill('SIGSTOP');
    const inFlight = c.getData(watched).catch((e: unknown) => e);
    await waitFor(() => c.inFlightCount === 1, 'the request to be sent');
    server.kill('SIGKILL');
    await server.stop();
    const err = await inFlight;
    expect(err).toBeInstanceOf(ZkError);
    expect((err as ZkError).code).toBe(Code.CONNECTIONLOSS);
    await waitFor(() => log.states.includes('disconnected'), 'disconnected');

    server = await started({ dataDir, config: { clientPort: port } });
    await waitFor(() => log.states.at(-1) === 'connected', 'reconnected', 20_000);
    expect(log.states).toEqual(['disconnected', 'connected']);
    expect(c.sessionId).toBe(sessionId);
    expect((await c.exists(eph))?.ephemeralOwner).toBe(sessionId);

    // The watches were set again on the new server process.
    const other = await pool.open(server.connectString);
    await other.setData(watched, Buffer.from('1'));
    await other.create(`${watched}-later`);
    await waitFor(() => log.events.length === 2, 'two watch events');
    expect(log.events.map((e) => [e.type, e.path])).toEqual([
      [EventType.NodeDataChanged, watched],
      [EventType.NodeCreated, `${watched}-later`],
    ]);
  });

  test('a client cut off for longer than its session timeout learns on reconnect that it expired', async () => {
    const server = await started({ config: { tickTime: '500' } });
    const proxy = await TcpProxy.start(server);
    cleanups.push(() => proxy.close());
    const c = await pool.open(proxy.connectString, { sessionTimeoutMs: 2_000 });
    const log = track(c);
    expect(c.negotiatedTimeoutMs).toBe(2_000);
    const eph = uniquePath('expiring');
    await c.create(eph, null, { mode: CreateMode.EPHEMERAL });

    proxy.blackhole();
    await waitFor(() => log.states.includes('disconnected'), 'the read timeout');
    // The server expires the session and deletes its ephemeral node.
    const observer = await pool.open(server.connectString);
    await observer.exists(eph, true);
    const gone = track(observer);
    await waitFor(() => gone.events.some((e) => e.type === EventType.NodeDeleted), 'the ephemeral node to go', 15_000);

    proxy.restore();
    await waitFor(() => log.states.includes('expired'), 'expired', 15_000);
    expect(log.states).toEqual(['disconnected', 'expired']);
    expect(c.state).toBe('expired');
    const err = await c.getData('/').catch((e: unknown) => e);
    expect((err as ZkError).code).toBe(Code.SESSIONEXPIRED);
  });

  test('another client can resume a session by id and password; a wrong password is refused', async () => {
    const server = await started();
    const proxy = await TcpProxy.start(server);
    cleanups.push(() => proxy.close());
    const first = await pool.open(proxy.connectString);
    const firstLog = track(first);
    const eph = uniquePath('resumed');
    await first.create(eph, null, { mode: CreateMode.EPHEMERAL });
    const bad = ZkClient.connect({ connectString: server.connectString, sessionId: first.sessionId, passwd: Buffer.alloc(16, 1) });
    await expect(bad).rejects.toMatchObject({ code: Code.SESSIONEXPIRED });
    await waitFor(() => first.state === 'connected', 'the first client to be connected');

    // Cut the first client off, so that it cannot take the session back.
    proxy.blackhole();
    const second = await pool.open(server.connectString, { sessionId: first.sessionId, passwd: first.passwd });
    expect(second.sessionId).toBe(first.sessionId);
    expect(await second.getEphemerals()).toEqual([eph]);

    // Closing the session from the second client ends it for the first one as well.
    await second.close();
    proxy.restore();
    await waitFor(() => firstLog.states.includes('expired'), 'the first client to see the expiry', 15_000);
  });

  test('close() ends the session at once: ephemerals go and later calls fail', async () => {
    const server = await started();
    const c = await ZkClient.connect({ connectString: server.connectString });
    const log = track(c);
    const eph = uniquePath('closing');
    await c.create(eph, null, { mode: CreateMode.EPHEMERAL });
    await c.close();
    expect(log.states).toEqual(['closed']);
    const observer = await pool.open(server.connectString);
    expect(await observer.exists(eph)).toBeNull();
    await expect(c.getData('/')).rejects.toMatchObject({ code: Code.CONNECTIONLOSS });
  });
});
