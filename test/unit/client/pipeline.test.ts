/**
 * The client against a scripted peer: xid order and matching, the in-flight cap, write
 * batching, liveness, and what happens when the server breaks the protocol.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ZkClient, ZkError, ZkProtocolError, type WatchedEvent, type ZkClientOptions, type ZkState } from '../../../src/client/index.js';
import {
  Code,
  EventType,
  GetDataRequest,
  GetDataResponse,
  KeeperState,
  OpCode,
  SetWatches,
  WatcherEvent,
  Xid,
  type Stat,
} from '../../../src/jute/index.js';
import { ScriptedServer, type Peer } from './scripted-server.js';

const SESSION = 0x1234_5678_9abc_def0n;
const stat: Stat = {
  czxid: 1n, mzxid: 1n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0,
  ephemeralOwner: 0n, dataLength: 1, numChildren: 0, pzxid: 1n,
};

let server: ScriptedServer;
const clients: ZkClient[] = [];

beforeEach(async () => {
  server = await ScriptedServer.start();
});

afterEach(async () => {
  // The scripted peer never answers closeSession: drop it first so close() is immediate.
  await server.close();
  for (const c of clients.splice(0)) await c.close();
});

/** Connect through the scripted server; `chroot` is appended to its connect string. */
async function connect(
  opts: Omit<ZkClientOptions, 'connectString'> & { chroot?: string } = {},
  timeOut = 30_000,
): Promise<{ client: ZkClient; peer: Peer }> {
  const connecting = ZkClient.connect({ ...opts, connectString: server.connectString + (opts.chroot ?? '') });
  const peer = await server.peer(0);
  peer.accept(SESSION, timeOut);
  const client = await connecting;
  clients.push(client);
  return { client, peer };
}

function replyData(peer: Peer, xid: number, zxid: bigint, text: string): void {
  peer.reply(xid, zxid, 0, (w) => GetDataResponse.write(w, { data: Buffer.from(text), stat }));
}

function states(client: ZkClient): ZkState[] {
  const seen: ZkState[] = [];
  client.on('state', (s) => seen.push(s));
  return seen;
}

describe('pipelined requests', () => {
  test('xids increase by one per request and replies resolve the requests in order', async () => {
    const { client, peer } = await connect();
    expect(client.sessionId).toBe(SESSION);
    const calls = ['/a', '/b', '/c'].map((p) => client.getData(p));
    await peer.waitFrames(4);
    const reqs = [0, 1, 2].map((i) => peer.request(i));
    expect(reqs.map((r) => r.type)).toEqual([OpCode.getData, OpCode.getData, OpCode.getData]);
    expect(reqs.map((r) => GetDataRequest.read(r.body).path)).toEqual(['/a', '/b', '/c']);
    expect(reqs[1]!.xid).toBe(reqs[0]!.xid + 1);
    expect(reqs[2]!.xid).toBe(reqs[1]!.xid + 1);
    for (const [i, r] of reqs.entries()) replyData(peer, r.xid, BigInt(10 + i), `v${i}`);
    const got = await Promise.all(calls);
    expect(got.map((g) => g.data?.toString())).toEqual(['v0', 'v1', 'v2']);
    expect(client.lastZxid).toBe(12n);
  });

  test('an error code in the reply rejects that request only, with the wire code and path', async () => {
    const { client, peer } = await connect();
    const a = client.getData('/missing');
    const b = client.getData('/there');
    await peer.waitFrames(3);
    peer.reply(peer.request(0).xid, 5n, Code.NONODE);
    replyData(peer, peer.request(1).xid, 6n, 'ok');
    await expect(a).rejects.toMatchObject({ code: Code.NONODE, path: '/missing', name: 'ZkError' });
    expect((await b).data?.toString()).toBe('ok');
  });

  test('a reply with an unexpected xid drops the connection: in-flight requests fail with CONNECTIONLOSS', async () => {
    const { client, peer } = await connect();
    const seen = states(client);
    const a = client.getData('/a');
    const b = client.getData('/b');
    await peer.waitFrames(3);
    replyData(peer, peer.request(1).xid, 7n, 'out of order');
    for (const call of [a, b]) {
      const err = (await call.catch((e: unknown) => e)) as ZkError;
      expect(err).toBeInstanceOf(ZkError);
      expect(err.code).toBe(Code.CONNECTIONLOSS);
      expect(err.cause).toBeInstanceOf(ZkProtocolError);
      expect((err.cause as ZkProtocolError).code).toBe('ZABLAB_CLIENT_XID_MISMATCH');
    }
    // The client reconnects with the same session.
    const again = await server.peer(1);
    expect(again.connectRequest().sessionId).toBe(SESSION);
    expect(again.connectRequest().passwd).toEqual(Buffer.alloc(16, 9));
    again.accept(SESSION);
    await waitFor(() => client.state === 'connected');
    expect(seen).toEqual(['disconnected', 'connected']);
  });

  test('a frame over maxFrameBytes drops the connection instead of buffering it', async () => {
    const { client, peer } = await connect({ maxFrameBytes: 4096 });
    const call = client.getData('/big');
    await peer.waitFrames(2);
    const header = Buffer.alloc(4);
    header.writeInt32BE(64 * 1024 * 1024);
    peer.socket.write(header);
    const err = (await call.catch((e: unknown) => e)) as ZkError;
    expect(err.code).toBe(Code.CONNECTIONLOSS);
    expect((err.cause as ZkProtocolError).code).toBe('ZABLAB_CLIENT_FRAME_TOO_LARGE');
  });

  test('no more than maxInFlight requests are sent before replies come back', async () => {
    const { client, peer } = await connect({ maxInFlight: 2 });
    const calls = Array.from({ length: 5 }, (_, i) => client.getData(`/n${i}`));
    expect(client.inFlightCount).toBe(2);
    expect(client.queuedCount).toBe(3);
    await peer.waitFrames(3);
    await sleep(100);
    expect(peer.frames.length).toBe(3); // ConnectRequest + 2
    replyData(peer, peer.request(0).xid, 1n, 'x');
    await peer.waitFrames(4);
    await sleep(100);
    expect(peer.frames.length).toBe(4);
    for (let i = 1; i < 5; i++) {
      await peer.waitFrames(i + 2); // ConnectRequest + requests 0..i
      replyData(peer, peer.request(i).xid, 1n, 'x');
    }
    expect((await Promise.all(calls)).length).toBe(5);
    expect(client.inFlightCount).toBe(0);
  });

  test('requests issued in one event-loop turn go out together, not one write each', async () => {
    const { client, peer } = await connect();
    const before = peer.dataEvents;
    const calls = Array.from({ length: 200 }, (_, i) => client.exists(`/p${i}`));
    await peer.waitFrames(201);
    expect(peer.dataEvents - before).toBeLessThan(10);
    for (let i = 0; i < 200; i++) peer.reply(peer.request(i).xid, 1n, Code.NONODE);
    expect(await Promise.all(calls)).toEqual(Array(200).fill(null));
  });
});

describe('liveness and session', () => {
  test('pings when idle and keeps the connection while the server answers them', async () => {
    const { client, peer } = await connect({}, 600);
    expect(client.negotiatedTimeoutMs).toBe(600);
    const answered = new Set<number>();
    const pong = setInterval(() => {
      for (let i = peer.frames.length - 1; i >= 1; i--) {
        const r = peer.request(i - 1);
        if (r.xid === Xid.ping && !answered.has(i)) {
          answered.add(i);
          peer.reply(Xid.ping, 0n, 0);
        }
      }
    }, 20);
    try {
      await sleep(1_500);
      expect(answered.size).toBeGreaterThanOrEqual(3);
      expect(peer.request(0)).toMatchObject({ xid: Xid.ping, type: OpCode.ping });
      expect(client.state).toBe('connected');
      expect(server.peers.length).toBe(1);
    } finally {
      clearInterval(pong);
    }
  });

  test('drops a silent server and reconnects with the same session and last zxid', async () => {
    const { client, peer } = await connect({}, 600);
    const seen = states(client);
    const call = client.getData('/x');
    await peer.waitFrames(2);
    replyData(peer, peer.request(0).xid, 0x5_0000_0007n, 'x');
    await call;
    // Now the peer stays silent: no ping replies.
    const again = await server.peer(1, 3_000);
    expect(seen).toEqual(['disconnected']);
    expect(again.connectRequest()).toMatchObject({ sessionId: SESSION, lastZxidSeen: 0x5_0000_0007n, timeOut: 30_000 });
    again.accept(SESSION, 600);
    await waitFor(() => client.state === 'connected');
  });

  test('a ConnectResponse without a session (timeOut 0) means the session expired', async () => {
    const connecting = ZkClient.connect({ connectString: server.connectString, sessionId: 77n, passwd: Buffer.alloc(16) });
    const peer = await server.peer(0);
    expect(peer.connectRequest().sessionId).toBe(77n);
    peer.accept(0n, 0);
    await expect(connecting).rejects.toMatchObject({ code: Code.SESSIONEXPIRED });
  });

  test('connect gives up after connectTimeoutMs with a message naming the servers', async () => {
    const port = server.port;
    await server.close();
    await expect(ZkClient.connect({ connectString: `127.0.0.1:${port}`, connectTimeoutMs: 300 })).rejects.toThrow(
      new RegExp(`could not establish a session with 127\\.0\\.0\\.1:${port} within 300 ms`),
    );
    server = await ScriptedServer.start();
  });
});

describe('reconnect and close', () => {
  test('after a reconnect, credentials and watches are sent before queued requests', async () => {
    const { client, peer } = await connect();
    const auth = client.addAuth('digest', Buffer.from('u:p'));
    const watched = client.getData('/w', true);
    const missing = client.exists('/later', true);
    await peer.waitFrames(4);
    peer.reply(Xid.auth, 0n, 0);
    replyData(peer, peer.request(1).xid, 0x20n, 'w');
    peer.reply(peer.request(2).xid, 0x21n, Code.NONODE);
    await Promise.all([auth, watched, missing]);

    peer.socket.destroy();
    await waitFor(() => client.state === 'disconnected');
    const queued = client.getData('/q');
    const again = await server.peer(1);
    expect(again.connectRequest().lastZxidSeen).toBe(0x21n);
    again.accept(SESSION);
    await again.waitFrames(4);
    expect(again.request(0)).toMatchObject({ xid: Xid.auth, type: OpCode.auth });
    const sw = again.request(1);
    expect(sw).toMatchObject({ xid: Xid.setWatches, type: OpCode.setWatches });
    expect(SetWatches.read(sw.body)).toEqual({ relativeZxid: 0x21n, dataWatches: ['/w'], existWatches: ['/later'], childWatches: [] });
    const q = again.request(2);
    expect(q.type).toBe(OpCode.getData);
    replyData(again, q.xid, 0x22n, 'q');
    expect((await queued).data?.toString()).toBe('q');
  });

  test('close() sends closeSession after the requests already issued, then reports closed', async () => {
    const { client, peer } = await connect();
    const seen = states(client);
    const pending = client.getData('/last');
    const closing = client.close();
    await expect(client.getData('/after')).rejects.toMatchObject({ code: Code.CONNECTIONLOSS });
    await peer.waitFrames(3);
    const [get, close] = [peer.request(0), peer.request(1)];
    expect(close.type).toBe(OpCode.closeSession);
    expect(close.xid).toBe(get.xid + 1);
    replyData(peer, get.xid, 1n, 'last');
    peer.reply(close.xid, 2n, 0);
    await closing;
    expect((await pending).data?.toString()).toBe('last');
    expect(seen).toEqual(['closed']);
    await waitFor(() => peer.closed);
  });
});

describe('out-of-band replies', () => {
  test('watch notifications (xid -1) become watch events with the chroot removed', async () => {
    const { client, peer } = await connect({ chroot: '/app' });
    const events: WatchedEvent[] = [];
    client.on('watch', (e) => events.push(e));
    const call = client.getData('/node', true);
    await peer.waitFrames(2);
    expect(GetDataRequest.read(peer.request(0).body)).toEqual({ path: '/app/node', watch: true });
    replyData(peer, peer.request(0).xid, 3n, 'x');
    await call;
    peer.reply(Xid.notification, 4n, 0, (w) =>
      WatcherEvent.write(w, { type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: '/app/node' }),
    );
    await waitFor(() => events.length === 1);
    expect(events[0]).toEqual({ type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: '/node', zxid: 4n });
  });

  test('an auth reply may overtake replies to earlier requests', async () => {
    const { client, peer } = await connect();
    const data = client.getData('/a');
    const auth = client.addAuth('digest', Buffer.from('u:p'));
    await peer.waitFrames(3);
    expect(peer.request(1)).toMatchObject({ xid: Xid.auth, type: OpCode.auth });
    peer.reply(Xid.auth, 0n, 0);
    await auth;
    replyData(peer, peer.request(0).xid, 1n, 'a');
    expect((await data).data?.toString()).toBe('a');
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
