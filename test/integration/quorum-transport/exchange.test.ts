/**
 * Real transports on 127.0.0.1: thousands of messages in FIFO order on both channels,
 * queueing while connecting, limits, and misbehaving peers that must not disturb the rest.
 */
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { encodeHandshake, encodeMessage } from '../../../src/server/quorum/codec.js';
import { PeerTransport, PeerTransportError } from '../../../src/server/quorum/transport.js';
import { createLogger } from '../../../src/server/log.js';
import type { Message } from '../../../src/zab/index.js';
import { addresses, closeAll, ensemble, rawConnect, sleep, waitFor, type Node } from './helpers.js';

let nodes: Node[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

const PER_PAIR = 3000;

function proposal(seq: number): Message {
  return { kind: 'proposal', txn: { zxid: BigInt(seq), data: Buffer.alloc(seq % 200, seq & 0xff), trace: seq % 7 === 0 ? `t${seq}` : undefined } };
}

function seqOf(m: Message): number {
  if (m.kind === 'proposal') return Number(m.txn.zxid);
  if (m.kind === 'notification') return Number(m.electionEpoch);
  if (m.kind === 'ack' || m.kind === 'commit') return Number(m.zxid);
  return -1;
}

describe('message exchange', () => {
  test('three servers exchange thousands of messages on both channels, each stream in FIFO order', async () => {
    nodes = await ensemble([1, 2, 3]);
    // Sent at once after start: most of it queues while the connections come up.
    for (const n of nodes) {
      for (const peer of nodes) {
        if (peer === n) continue;
        for (let i = 0; i < PER_PAIR; i++) {
          n.transport.send(peer.id, proposal(i));
          if (i % 10 === 0) n.transport.send(peer.id, { kind: 'notification', state: 'LOOKING', leader: n.id, zxid: 0n, electionEpoch: BigInt(i), peerEpoch: 0n, recovering: false });
        }
      }
    }
    const lastEpoch = PER_PAIR - 10;
    const complete = (n: Node, peer: Node): boolean => {
      const got = n.from(peer.id);
      return got.filter((m) => m.kind === 'proposal').length === PER_PAIR && got.some((m) => m.kind === 'notification' && seqOf(m) === lastEpoch);
    };
    await waitFor(() => nodes.every((n) => nodes.every((p) => p === n || complete(n, p))), 'every proposal and the last notification');
    const sentEach = 2 * (PER_PAIR + PER_PAIR / 10);
    for (const n of nodes) {
      for (const peer of nodes) {
        if (peer === n) continue;
        const got = n.from(peer.id);
        const proposals = got.filter((m) => m.kind === 'proposal');
        expect(proposals.map(seqOf)).toEqual(Array.from({ length: PER_PAIR }, (_, i) => i));
        expect(proposals[7]).toEqual(proposal(7));
        // Notifications sent before the connection came up may have been dropped from the
        // bounded election queue (oldest first); whatever arrived is in order.
        const epochs = got.filter((m) => m.kind === 'notification').map(seqOf);
        expect(epochs).toEqual([...epochs].sort((a, b) => a - b));
        expect(epochs.length).toBeGreaterThanOrEqual(16);
      }
      expect(n.disconnects).toEqual([]);
      const s = n.transport.stats();
      expect(s.connections).toBe(4);
      expect(s.messagesReceived).toBe(n.received.length);
      expect(s.messagesSent + s.messagesDropped).toBe(sentEach);
      expect(s.bytesReceived).toBeGreaterThan(0);
    }
  });

  test('a message to oneself is delivered; one to a stranger is dropped with a warning', async () => {
    nodes = await ensemble([1, 2]);
    const [a] = nodes;
    a!.transport.send(1, { kind: 'ping', zxid: 5n });
    a!.transport.send(42, { kind: 'ping', zxid: 6n });
    a!.transport.send(42, { kind: 'ping', zxid: 7n });
    await waitFor(() => a!.received.length === 1, 'self delivery');
    expect(a!.received).toEqual([{ from: 1, msg: { kind: 'ping', zxid: 5n } }]);
    expect(a!.warnings().filter((l) => l.includes('not in the ensemble'))).toHaveLength(1);
  });

  test('quorum messages sent before the peer starts wait for it, in order', async () => {
    nodes = await ensemble([1, 2], {}, [2]);
    const [one, two] = nodes;
    for (let i = 0; i < 100; i++) two!.transport.send(1, proposal(i));
    await sleep(100); // server 2 keeps dialing the absent server 1
    await one!.transport.start();
    await waitFor(() => one!.received.length === 100, 'queued messages');
    expect(one!.received.map((r) => seqOf(r.msg))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(two!.disconnects).toEqual([]);
  });

  test('election messages queued for an absent peer keep only the newest 16', async () => {
    nodes = await ensemble([1, 2], {}, [2]);
    const [one, two] = nodes;
    for (let i = 0; i < 100; i++) {
      two!.transport.send(1, { kind: 'notification', state: 'LOOKING', leader: 2, zxid: 0n, electionEpoch: BigInt(i), peerEpoch: 0n, recovering: false });
    }
    await one!.transport.start();
    await waitFor(() => one!.received.length === 16, 'queued notifications');
    await sleep(50);
    expect(one!.received.map((r) => seqOf(r.msg))).toEqual(Array.from({ length: 16 }, (_, i) => 84 + i));
    expect(two!.transport.stats().messagesDropped).toBe(84);
  });

  test('quorum messages that find no connection within connectTimeoutMs are dropped with onDisconnect, never delivered late', async () => {
    nodes = await ensemble([1, 2], { connectTimeoutMs: 200 }, [2]);
    const [one, two] = nodes;
    two!.transport.send(1, { kind: 'ack', zxid: 1n });
    await waitFor(() => two!.disconnects.length === 1, 'expiry');
    two!.transport.send(1, { kind: 'ack', zxid: 2n }); // after the boundary: a fresh stream
    await one!.transport.start();
    await waitFor(() => one!.received.length === 1, 'the message sent after the boundary');
    await sleep(50);
    expect(one!.received.map((r) => r.msg)).toEqual([{ kind: 'ack', zxid: 2n }]);
    expect(two!.disconnects).toEqual([1]);
  });

  test('a quorum message over maxFrameBytes is dropped, logged and reported with onDisconnect; the link then recovers', async () => {
    nodes = await ensemble([1, 2], { maxFrameBytes: 4096 });
    const [one, two] = nodes;
    await waitFor(() => one!.transport.stats().connections === 2 && two!.transport.stats().connections === 2, 'connections on both sides');
    two!.transport.send(1, { kind: 'ack', zxid: 1n });
    two!.transport.send(1, { kind: 'app', payload: Buffer.alloc(10_000) });
    two!.transport.send(1, { kind: 'ack', zxid: 2n }); // before onDisconnect: lost with the big one
    await waitFor(() => two!.disconnects.length === 1, 'onDisconnect');
    two!.transport.send(1, { kind: 'ack', zxid: 3n });
    await waitFor(() => one!.received.some((r) => seqOf(r.msg) === 3), 'recovery');
    const acks = one!.received.map((r) => seqOf(r.msg));
    expect(acks).toEqual([1, 3]);
    expect(one!.disconnects).toEqual([2]); // the receiver saw the boundary too
    expect(two!.logLines.some((l) => / ERROR /.test(l) && l.includes('frame limit'))).toBe(true);
  });
});

describe('SNAP of a big tree', () => {
  test('a snapshot 250 times the frame limit and the queue limit arrives whole, and the messages after it in order', async () => {
    nodes = await ensemble([1, 2], { maxFrameBytes: 4096 });
    const [one, two] = nodes;
    await waitFor(() => one!.transport.stats().connections === 2 && two!.transport.stats().connections === 2, 'connections on both sides');
    const tree = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < tree.length; i++) tree[i] = (i * 131) & 0xff;
    two!.transport.send(1, { kind: 'snap', zxid: 0x100000007n, snapshot: tree });
    for (let z = 8n; z < 12n; z++) two!.transport.send(1, { kind: 'commit', zxid: 0x100000000n | z });
    await waitFor(() => one!.received.length === 5, 'the SNAP and the commits after it');
    const [snap, ...after] = one!.received.map((r) => r.msg);
    expect(snap!.kind === 'snap' && snap.zxid).toBe(0x100000007n);
    expect(snap!.kind === 'snap' && Buffer.concat(snap.snapshot as Uint8Array[]).equals(tree)).toBe(true);
    expect(after.map((m) => (m as { zxid: bigint }).zxid)).toEqual([0x100000008n, 0x100000009n, 0x10000000an, 0x10000000bn]);
    expect(one!.disconnects).toEqual([]);
    expect(two!.disconnects).toEqual([]);
  });
});

describe('a SNAP streamed as it is encoded', () => {
  test('pieces written over many turns, with the backlog waited on, arrive as one snapshot and the messages after it in order', async () => {
    nodes = await ensemble([1, 2], { maxFrameBytes: 4096 });
    const [one, two] = nodes;
    await waitFor(() => one!.transport.stats().connections === 2 && two!.transport.stats().connections === 2, 'connections on both sides');
    const pieces = Array.from({ length: 40 }, (_, i) => Buffer.alloc(64 * 1024 + i, i + 1));
    const stream = two!.transport.openSnapStream(1, 0x100000007n);
    const before = one!.transport.stats().bytesReceived;
    for (const piece of pieces) {
      stream.write(piece);
      await stream.ready();
      await sleep(0);
    }
    // Streamed: most of the tree reached the learner before its last piece was encoded.
    await waitFor(() => one!.transport.stats().bytesReceived - before > 2 * 1024 * 1024, 'the pieces on the wire before the end');
    expect(one!.received).toEqual([]);
    stream.end();
    for (let z = 8n; z < 10n; z++) two!.transport.send(1, { kind: 'commit', zxid: 0x100000000n | z });
    await waitFor(() => one!.received.length === 3, 'the SNAP and the commits after it');
    const [snap, ...after] = one!.received.map((r) => r.msg);
    expect(snap!.kind === 'snap' && snap.zxid).toBe(0x100000007n);
    // Buffer.equals: toEqual walks 2.6 MB byte by byte for seconds.
    expect(snap!.kind === 'snap' && Buffer.concat(snap.snapshot as Uint8Array[]).equals(Buffer.concat(pieces))).toBe(true);
    expect(after.map((m) => (m as { zxid: bigint }).zxid)).toEqual([0x100000008n, 0x100000009n]);
    expect(one!.disconnects).toEqual([]);
    expect(two!.disconnects).toEqual([]);
  });

  test('a SNAP begun while the peer is absent is collected and sent whole once it connects, and an aborted one never leaves', async () => {
    nodes = await ensemble([1, 2], {}, [2]);
    const [one, two] = nodes;
    const aborted = two!.transport.openSnapStream(1, 5n);
    aborted.write(Buffer.alloc(10, 9));
    aborted.abort();
    aborted.end();
    const stream = two!.transport.openSnapStream(1, 6n);
    stream.write(Buffer.from('a tree,'));
    stream.write(Buffer.from(' in two'));
    stream.end();
    two!.transport.send(1, { kind: 'commit', zxid: 7n });
    await one!.transport.start();
    await waitFor(() => one!.received.length === 2, 'the SNAP and the commit');
    const [snap, commit] = one!.received.map((r) => r.msg);
    expect(snap!.kind === 'snap' && [snap.zxid, Buffer.concat(snap.snapshot as Uint8Array[]).toString()]).toEqual([6n, 'a tree, in two']);
    expect(commit).toEqual({ kind: 'commit', zxid: 7n });
  });
});

describe('misbehaving peers', () => {
  /** Server 1 runs with 2; server 3 is a configured member that a raw socket impersonates. */
  async function setup(): Promise<{ one: Node; two: Node }> {
    nodes = await ensemble([1, 2, 3], { connectTimeoutMs: 300 }, [1, 2]);
    const [one, two] = nodes;
    await waitFor(() => one!.transport.stats().connections === 2, 'connections');
    return { one: one!, two: two! };
  }

  async function stillWorks(one: Node, two: Node, zxid: bigint): Promise<void> {
    two.transport.send(1, { kind: 'commit', zxid });
    one.transport.send(2, { kind: 'notification', state: 'LOOKING', leader: 1, zxid, electionEpoch: 1n, peerEpoch: 1n, recovering: false });
    await waitFor(() => one.received.some((r) => r.msg.kind === 'commit' && r.msg.zxid === zxid), 'commit at 1');
    await waitFor(() => two.received.some((r) => r.msg.kind === 'notification' && r.msg.zxid === zxid), 'notification at 2');
  }

  const header = (len: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(len);
    return b;
  };

  const cases: { name: string; port: 'quorum' | 'election'; bytes: () => Buffer; warning: RegExp; accepted?: boolean }[] = [
    { name: 'an HTTP request', port: 'quorum', bytes: () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), warning: /frame-too-large/ },
    { name: 'random bytes', port: 'election', bytes: () => Buffer.from([0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]), warning: /bad-magic/ },
    { name: 'a negative length', port: 'quorum', bytes: () => header(-5), warning: /bad-length/ },
    { name: 'an unknown server id', port: 'quorum', bytes: () => encodeHandshake({ serverId: 99, channel: 'quorum' }), warning: /server 99 is not in this ensemble/ },
    { name: 'its own id', port: 'quorum', bytes: () => encodeHandshake({ serverId: 1, channel: 'quorum' }), warning: /own id 1/ },
    { name: 'the wrong channel for the port', port: 'election', bytes: () => encodeHandshake({ serverId: 3, channel: 'quorum' }), warning: /quorum handshake on the election port/ },
    {
      name: 'a newer protocol version',
      port: 'quorum',
      bytes: () => {
        const b = encodeHandshake({ serverId: 3, channel: 'quorum' });
        b[6] = 2;
        return b;
      },
      warning: /bad-version/,
    },
    { name: 'a message before the handshake', port: 'quorum', bytes: () => encodeMessage({ kind: 'ack', zxid: 1n }), warning: /expected a handshake first/ },
    { name: 'nothing at all (handshake timeout)', port: 'quorum', bytes: () => Buffer.alloc(0), warning: /no handshake/ },
    {
      name: 'a quorum message on the election channel',
      port: 'election',
      bytes: () => Buffer.concat([encodeHandshake({ serverId: 3, channel: 'election' }), encodeMessage({ kind: 'ack', zxid: 1n })]),
      warning: /not allowed on the election channel/,
    },
    {
      name: 'an election frame over 1 KiB',
      port: 'election',
      bytes: () => Buffer.concat([encodeHandshake({ serverId: 3, channel: 'election' }), encodeMessage({ kind: 'app', payload: Buffer.alloc(2000) })]),
      warning: /frame-too-large/,
    },
    {
      name: 'an unknown frame kind after the handshake',
      port: 'quorum',
      bytes: () => {
        const m = encodeMessage({ kind: 'ack', zxid: 1n });
        m[7] = 200;
        return Buffer.concat([encodeHandshake({ serverId: 3, channel: 'quorum' }), m]);
      },
      warning: /unknown-kind/,
      accepted: true,
    },
  ];

  test.each(cases)('a peer sending $name is dropped with one warning; the others keep working', async ({ port, bytes, warning, accepted }) => {
    const { one, two } = await setup();
    const raw = await rawConnect(port === 'quorum' ? one.peers[0]!.quorumPort : one.peers[0]!.electionPort);
    const b = bytes();
    if (b.length > 0) raw.socket.write(b);
    await raw.closed;
    const warnings = one.warnings();
    expect(warnings, warnings.join('')).toHaveLength(1);
    expect(warnings[0]).toMatch(warning);
    await stillWorks(one, two, 77n);
    // Only a quorum connection that was accepted has a boundary to report.
    expect(one.disconnects).toEqual(accepted === true ? [3] : []);
    expect(two.disconnects).toEqual([]);
  });

  test('a lower id that dials is a nudge: closed unanswered and quietly, and the higher id dials it at once', async () => {
    // Retries so slow that any dial within the test is the nudge's doing.
    nodes = await ensemble([1, 2, 3], { connectTimeoutMs: 300, reconnectDelayMs: 60_000 }, [2, 3]);
    const [one, two, three] = nodes;
    await waitFor(() => three!.transport.stats().connections === 2, 'connections');
    // Server 1's quorum address, played by a listener that records the handshakes it gets.
    const handshakes: Buffer[] = [];
    const listener = net.createServer((s) => void s.on('data', (c: Buffer) => void handshakes.push(c)).on('error', () => undefined));
    await new Promise<void>((resolve) => listener.listen(one!.peers[0]!.quorumPort, '127.0.0.1', resolve));
    try {
      await sleep(100);
      expect(handshakes).toEqual([]); // server 2 gave up on the absent server 1 for a minute
      // Impersonate server 1 dialing server 2.
      const raw = await rawConnect(two!.peers[1]!.quorumPort);
      raw.socket.write(encodeHandshake({ serverId: 1, channel: 'quorum' }));
      await raw.closed;
      expect(Buffer.concat(raw.data).length).toBe(0); // no handshake answer, no messages
      await waitFor(() => handshakes.length > 0, 'server 2 dialing server 1');
      const expected = encodeHandshake({ serverId: 2, channel: 'quorum' });
      expect(Buffer.concat(handshakes).subarray(0, expected.length)).toEqual(expected);
      expect(two!.warnings()).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  test('an accepted handshake is answered and the peer may then send messages', async () => {
    const { one } = await setup();
    const raw = await rawConnect(one.peers[0]!.quorumPort);
    raw.socket.write(Buffer.concat([encodeHandshake({ serverId: 3, channel: 'quorum' }), encodeMessage({ kind: 'pingreply', zxid: 12n })]));
    await waitFor(() => one.received.some((r) => r.from === 3), 'message from raw peer 3');
    expect(one.from(3)).toEqual([{ kind: 'pingreply', zxid: 12n }]);
    const answer = encodeHandshake({ serverId: 1, channel: 'quorum' });
    await waitFor(() => Buffer.concat(raw.data).length >= answer.length, 'handshake answer');
    expect(Buffer.concat(raw.data).subarray(0, answer.length)).toEqual(answer);
    raw.socket.destroy();
    await waitFor(() => one.disconnects.length === 1, 'onDisconnect(3)');
    expect(one.disconnects).toEqual([3]);
  });
});

describe('lifecycle', () => {
  test('start() retries a taken port, then fails with ZABLAB_PEER_BIND', async () => {
    const [addr] = await addresses([1]);
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(addr!.electionPort, '127.0.0.1', resolve));
    const lines: string[] = [];
    const t = new PeerTransport({ selfId: 1, peers: [addr!], electionPortBindRetry: 2, bindRetryDelayMs: 20, log: createLogger({ write: (l) => void lines.push(l) }) });
    const err = await t.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PeerTransportError);
    expect((err as PeerTransportError).code).toBe('ZABLAB_PEER_BIND');
    expect((err as Error).message).toMatch(/EADDRINUSE/);
    expect(lines.filter((l) => l.includes('retrying'))).toHaveLength(1);
    // The quorum port it did bind was released.
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(addr!.quorumPort, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    // Free the port between retries: start succeeds.
    const t2 = new PeerTransport({ selfId: 1, peers: [addr!], electionPortBindRetry: 0, bindRetryDelayMs: 20, log: createLogger({ write: () => undefined }) });
    const started = t2.start();
    await sleep(50);
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await started;
    expect(t2.listeningPort('election')).toBe(addr!.electionPort);
    await t2.close();
    await expect(t2.start()).rejects.toMatchObject({ code: 'ZABLAB_PEER_STATE' });
  });

  test('bad configuration is refused with ZABLAB_PEER_CONFIG', () => {
    const log = createLogger({ write: () => undefined });
    const p = { id: 1, host: '127.0.0.1', quorumPort: 1, electionPort: 2 };
    expect(() => new PeerTransport({ selfId: 2, peers: [p], log })).toThrow(/not among the peers/);
    expect(() => new PeerTransport({ selfId: 1, peers: [p, p], log })).toThrow(/listed twice/);
    expect(() => new PeerTransport({ selfId: 1, peers: [p], maxFrameBytes: 10, log })).toThrow(PeerTransportError);
  });

  test('after close() nothing is delivered and nothing fires', async () => {
    nodes = await ensemble([1, 2]);
    const [one, two] = nodes;
    await waitFor(() => one!.transport.stats().connections === 2, 'connections');
    await one!.transport.close();
    two!.transport.send(1, { kind: 'ack', zxid: 1n });
    one!.transport.send(2, { kind: 'ack', zxid: 1n });
    await waitFor(() => two!.disconnects.length === 1, 'the peer notices');
    await sleep(100);
    expect(one!.received).toEqual([]);
    expect(one!.disconnects).toEqual([]);
  });
});
