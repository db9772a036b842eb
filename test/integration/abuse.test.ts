/**
 * The client port under abuse from one host (issue #12): what an attacker's probes did to a
 * zablab server, replayed over real sockets against a real server process, with what
 * ZooKeeper does in each case as the expected behaviour.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEnsemble } from '../../src/harness/ensemble/index.js';
import { CreateResponse, JuteReader } from '../../src/jute/index.js';
import { mntr } from '../compat/four-letter-word.js';
import { withClient } from '../helpers/with-client.js';
import { closeSessionFrame, connectRequestFrame, createFrame, pipelineWithRepeatedXid, rawConnect, rawSession, syncFrame, waitUntil, type RawConnection, type RawReply } from '../helpers/raw-session.js';
import { startZablab, type ServerHandle } from '../helpers/zablab.js';

/** Waits until mntr's zk_outstanding_requests reads 0; returns the last value read. */
async function outstandingSettles(host: string, port: number): Promise<string | undefined> {
  let last: string | undefined;
  for (let i = 0; i < 100 && last !== '0'; i++) {
    last = await mntr(host, port, 'zk_outstanding_requests');
    if (last !== '0') await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

/** What the replies to creates name: the path each created (CreateResponse). */
function createdPaths(replies: RawReply[]): (string | null)[] {
  return replies.map((r) => (r.err === 0 ? CreateResponse.read(new JuteReader(r.body)).path : null));
}

describe('half-open connections (ZooKeeper: nio.sessionlessCnxnTimeout, default 10 s)', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    // The zoo.cfg spelling ZooKeeper accepts: it becomes the system property zookeeper.nio.sessionlessCnxnTimeout.
    server = await startZablab({ config: { 'nio.sessionlessCnxnTimeout': '1000', maxClientCnxns: '0' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('closes connections that send nothing, half a ConnectRequest, or trickle it; keeps sessions', async () => {
    const idle = await Promise.all(Array.from({ length: 50 }, () => rawConnect(server.host, server.port)));
    const partial = await rawConnect(server.host, server.port);
    partial.socket.write(connectRequestFrame().subarray(0, 20));
    const trickle = await rawConnect(server.host, server.port);
    const bytes = connectRequestFrame();
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < bytes.length && !trickle.closed) trickle.socket.write(bytes.subarray(sent, ++sent));
    }, 100);
    const session = await rawSession(server.host, server.port);
    try {
      const halfOpen: RawConnection[] = [...idle, partial, trickle];
      await Promise.all(halfOpen.map((c) => c.waitForClose(5_000)));
      // None of them was answered; the session, past the timeout, still works.
      expect(halfOpen.every((c) => c.sessionId === null)).toBe(true);
      expect(sent).toBeLessThan(bytes.length);
      session.socket.write(createFrame(1, '/still-here'));
      await session.waitForReplies(1, 5_000);
      expect(session.replies.map((r) => [r.xid, r.err])).toEqual([[1, 0]]);
      expect(session.closed).toBe(false);
      expect(await mntr(server.host, server.port, 'zk_sessionless_connections_expired')).toBe(String(halfOpen.length));
      // The session and the connection asking.
      expect(await mntr(server.host, server.port, 'zk_num_alive_connections')).toBe('2');
    } finally {
      clearInterval(drip);
      session.socket.destroy();
    }
  });
});

describe('half-open connections with the default timeout', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startZablab();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('closes one that never sends its ConnectRequest after 10 s, within 15 s', async () => {
    const startedMs = Date.now();
    const c = await rawConnect(server.host, server.port);
    c.socket.write(connectRequestFrame().subarray(0, 7));
    await c.waitForClose(15_000);
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(9_900);
  }, 20_000);
});

/** Does the server grant a session to a new connection (from `localAddress`)? */
async function grantsSession(server: ServerHandle, localAddress?: string): Promise<boolean> {
  const c = await rawConnect(server.host, server.port, localAddress);
  c.socket.write(connectRequestFrame());
  await waitUntil(() => c.sessionId !== null || c.closed, 'a ConnectResponse or a close', 5_000);
  const granted = c.sessionId !== null && c.sessionId !== 0n;
  c.socket.destroy();
  return granted;
}

describe('connection throttle (ZooKeeper\'s connection_throttle_*: one bucket for the server)', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    // 3 sessions, then none for 10 minutes.
    server = await startZablab({ config: { connection_throttle_tokens: '3', connection_throttle_fill_time: '600000' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses ConnectRequests once the bucket is empty, from every address; four-letter words still work', async () => {
    // startZablab's readiness probe took one token.
    expect([await grantsSession(server), await grantsSession(server)]).toEqual([true, true]);
    expect(await grantsSession(server)).toBe(false);
    expect(await grantsSession(server, '127.0.0.2')).toBe(false);
    expect(await mntr(server.host, server.port, 'zk_connection_rejected')).toBe('2');
    expect(await mntr(server.host, server.port, 'zk_connection_request_count')).toBe('3');
    expect(await mntr(server.host, server.port, 'zk_max_connection_token_deficit')).toBe('3');
  });
});

describe('per-address connection throttle (zablab.connection_throttle_per_ip_*)', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startZablab({
      config: { 'zablab.connection_throttle_per_ip_tokens': '3', 'zablab.connection_throttle_per_ip_fill_time': '600000' },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses an address past its own budget while other addresses still get sessions', async () => {
    // startZablab's readiness probe took one of 127.0.0.1's tokens.
    expect([await grantsSession(server), await grantsSession(server), await grantsSession(server)]).toEqual([true, true, false]);
    expect([await grantsSession(server, '127.0.0.2'), await grantsSession(server, '127.0.0.3')]).toEqual([true, true]);
    expect(await mntr(server.host, server.port, 'zk_connection_rejected')).toBe('1');
  });
});

describe('maxCnxns (connections in total, ZooKeeper\'s rule)', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startZablab({ config: { maxCnxns: '3', maxClientCnxns: '0' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a connection over the limit whatever its address; a freed slot is reused', async () => {
    const held = await Promise.all([
      rawSession(server.host, server.port),
      rawSession(server.host, server.port, '127.0.0.2'),
      rawSession(server.host, server.port, '127.0.0.3'),
    ]);
    const extra = await rawConnect(server.host, server.port, '127.0.0.4');
    await extra.waitForClose(5_000);
    expect(extra.sessionId).toBeNull();
    // A session closed by the server (it forgets the connection before the client sees the close) frees a slot.
    held[0]!.socket.write(closeSessionFrame(1));
    await held[0]!.waitForClose(5_000);
    expect(await mntr(server.host, server.port, 'zk_connection_rejected')).toBe('1');
    for (const c of held) c.socket.destroy();
  });
});

describe('a frame in tiny segments', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startZablab();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('is reassembled and answered: a 1 MB create sent 64 bytes per write', async () => {
    const data = Buffer.alloc(1_000_000 - 100);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    const frame = createFrame(1, '/big', data);
    const c = await rawSession(server.host, server.port);
    for (let off = 0; off < frame.length; off += 64) c.socket.write(frame.subarray(off, off + 64));
    await c.waitForReplies(1, 20_000);
    expect(createdPaths(c.replies)).toEqual(['/big']);
    c.socket.destroy();
    const got = await withClient(server.connectString, (zk) => zk.getData('/big'));
    expect(got.data?.equals(data)).toBe(true);
  });
});

describe('a repeated xid (ZooKeeper answers every request, in order; it does not check xids)', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startZablab({ config: { globalOutstandingLimit: '1000' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('1,500 pipelined writes with one xid twice: each answered, in order, outstanding_requests back to 0', async () => {
    const { frames, xids, paths } = pipelineWithRepeatedXid('/dup');
    const c = await rawSession(server.host, server.port);
    c.socket.write(Buffer.concat(frames));
    await c.waitForReplies(xids.length, 20_000);
    expect(c.replies.map((r) => r.xid)).toEqual(xids);
    // Each reply is its own request's: the path it created.
    expect(createdPaths(c.replies)).toEqual(paths);
    const dropsBefore = Number(await mntr(server.host, server.port, 'zk_connection_drop_count'));
    c.socket.destroy();
    expect(await outstandingSettles(server.host, server.port)).toBe('0');
    // The client went away: ZooKeeper's connection_drop_count.
    expect(Number(await mntr(server.host, server.port, 'zk_connection_drop_count'))).toBe(dropsBefore + 1);
  });

  it('1,500 pipelined writes all with one xid: each answered, in order, nothing left outstanding', async () => {
    // Keyed by (session, xid), this left more than globalOutstandingLimit requests outstanding for good.
    const { frames, paths } = pipelineWithRepeatedXid('/same', 7);
    const c = await rawSession(server.host, server.port);
    c.socket.write(Buffer.concat(frames));
    await c.waitForReplies(paths.length, 20_000);
    expect(createdPaths(c.replies)).toEqual(paths);
    c.socket.destroy();
    expect(await outstandingSettles(server.host, server.port)).toBe('0');
  });

  it('a connection that drops with writes in flight leaves nothing outstanding', async () => {
    const { frames } = pipelineWithRepeatedXid('/dropped');
    const c = await rawSession(server.host, server.port);
    c.socket.write(Buffer.concat(frames));
    await c.waitForReplies(1, 10_000);
    c.socket.destroy();
    expect(await outstandingSettles(server.host, server.port)).toBe('0');
    // Every write the server read was still applied.
    const n = await withClient(server.connectString, (zk) => zk.getAllChildrenNumber('/'));
    expect(n).toBeGreaterThan(1);
  });
});

describe('a repeated xid on a follower (writes and syncs forwarded to the leader)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-abuse-ens-'));
  let ens: LocalEnsemble | null = null;
  afterAll(async () => {
    await ens?.down({ purge: true }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers writes and syncs that share xids, in order, and leaves nothing outstanding', async () => {
    ens = await LocalEnsemble.up({ voters: 3, observers: 0, dir, config: { tickTime: '200', initLimit: '25', syncLimit: '10' } });
    const leader = (await ens.leader())!;
    const follower = ens.servers.find((s) => s.id !== leader.id)!;
    const frames: Buffer[] = [];
    const xids: number[] = [];
    for (let i = 0; i < 300; i++) {
      // Each xid three times: a create, a sync, another create.
      const x = i + 1;
      frames.push(createFrame(x, `/f-${i}-a`), syncFrame(x, '/'), createFrame(x, `/f-${i}-b`));
      xids.push(x, x, x);
    }
    const c = await rawSession(follower.host, follower.clientPort);
    c.socket.write(Buffer.concat(frames));
    await c.waitForReplies(xids.length, 20_000);
    expect(c.replies.map((r) => r.xid)).toEqual(xids);
    expect(c.replies.every((r) => r.err === 0)).toBe(true);
    // The creates' replies name their own paths, in order (a sync's names the path synced).
    const created = createdPaths(c.replies).filter((_, i) => i % 3 !== 1);
    expect(created).toEqual(Array.from({ length: 300 }, (_, i) => [`/f-${i}-a`, `/f-${i}-b`]).flat());
    c.socket.destroy();
    expect(await outstandingSettles(follower.host, follower.clientPort)).toBe('0');
  });
});
