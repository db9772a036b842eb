/**
 * Lost connections: onDisconnect fires once per lost quorum connection on each side, the
 * link comes back, and a stream never shows a gap except across an onDisconnect.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { Message } from '../../../src/zab/index.js';
import type { TransportOptions } from '../../../src/server/quorum/transport.js';
import { addressesAndRelayPorts, closeAll, ensemble, KillableProxy, Node, sleep, waitFor } from './helpers.js';

let nodes: Node[] = [];
let proxies: KillableProxy[] = [];
afterEach(async () => {
  await closeAll(nodes);
  await Promise.all(proxies.map((p) => p.close()));
  nodes = [];
  proxies = [];
});

/** Servers 1 and 2, with server 2 (the dialer) reaching server 1 through killable relays. */
async function pairThroughProxy(extra: Partial<TransportOptions> = {}): Promise<{ one: Node; two: Node; kill: () => number; quorum: KillableProxy }> {
  const { peers: [a1, a2], relayPorts } = await addressesAndRelayPorts([1, 2], 2);
  const quorum = await KillableProxy.start(a1!.quorumPort, relayPorts[0]!);
  const election = await KillableProxy.start(a1!.electionPort, relayPorts[1]!);
  proxies = [quorum, election];
  const one = new Node(1, [a1!, a2!], extra);
  const two = new Node(2, [{ ...a1!, quorumPort: quorum.port, electionPort: election.port }, a2!], extra);
  nodes = [one, two];
  await Promise.all(nodes.map((n) => n.transport.start()));
  await connected(nodes);
  return { one, two, kill: () => quorum.killConnections() + election.killConnections(), quorum };
}

async function connected(ns: Node[], each = 2): Promise<void> {
  await waitFor(() => ns.every((n) => n.transport.stats().connections === each), 'all connections up');
}

/** zxid = (boundaries the sender had seen) << 32 | sequence number. */
function tagged(boundaries: number, seq: number): Message {
  return { kind: 'proposal', txn: { zxid: (BigInt(boundaries) << 32n) | BigInt(seq), data: Buffer.from([seq & 0xff]) } };
}

function untag(m: Message): { boundaries: number; seq: number } {
  if (m.kind !== 'proposal') throw new Error(`unexpected ${m.kind}`);
  return { boundaries: Number(m.txn.zxid >> 32n), seq: Number(m.txn.zxid & 0xffffffffn) };
}

/** Write `count` pieces of 1 MiB into a SNAP to server 1, each after the stream is ready; `written()` counts them. */
function writeSnap(two: Node, count: number): { written: () => number; done: Promise<void> } {
  const stream = two.transport.openSnapStream(1, 9n);
  let written = 0;
  const done = (async () => {
    for (let i = 0; i < count; i++) {
      stream.write(Buffer.alloc(1024 * 1024, i & 0xff));
      written++;
      await stream.ready();
    }
    stream.end();
  })();
  return { written: () => written, done };
}

/** Wait until `value()` has not changed for `quietMs`; return it. */
async function settled(value: () => number, quietMs: number): Promise<number> {
  for (;;) {
    const v = value();
    await sleep(quietMs);
    if (value() === v) return v;
  }
}

describe('a learner that stops reading a streamed SNAP', () => {
  test('holds the leader at the backlog limit (16 MiB unsent) until it reads again; then the SNAP arrives whole', async () => {
    const PIECES = 64;
    const { one, two, quorum } = await pairThroughProxy();
    quorum.stopReading();
    const snap = writeSnap(two, PIECES);
    // 16 MiB unsent in the leader, and whatever the kernel's socket buffers took.
    const held = await settled(snap.written, 300);
    expect(held).toBeGreaterThanOrEqual(16);
    expect(held).toBeLessThan(PIECES);
    quorum.resumeReading();
    await snap.done;
    await waitFor(() => one.received.length === 1, 'the SNAP', 20_000);
    const msg = one.received[0]!.msg;
    expect(msg.kind).toBe('snap');
    const bytes = Buffer.concat(msg.kind === 'snap' ? (msg.snapshot as Uint8Array[]) : []);
    expect(bytes.length).toBe(PIECES * 1024 * 1024);
    for (let i = 0; i < PIECES; i++) expect(bytes[i * 1024 * 1024 + 512 * 1024]).toBe(i & 0xff);
    expect(one.disconnects).toEqual([]);
    expect(two.disconnects).toEqual([]);
  });

  test('for snapStallMs is dropped: the leader stops waiting, and the next connection carries only what follows', async () => {
    const { one, two, quorum } = await pairThroughProxy({ snapStallMs: 400 });
    quorum.stopReading();
    const startedAt = performance.now();
    const snap = writeSnap(two, 64);
    const held = await settled(snap.written, 100);
    expect(held).toBeLessThan(64);
    expect(two.disconnects).toEqual([]);
    await waitFor(() => two.disconnects.length === 1, 'the stalled learner dropped', 10_000);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(400);
    // The leader's wait ends with the connection; the rest of the SNAP goes nowhere.
    await snap.done;
    expect(two.logLines.filter((l) => l.includes('read none of a SNAP for 400 ms'))).toHaveLength(1);
    await connected(nodes);
    two.transport.send(1, { kind: 'ack', zxid: 10n });
    await waitFor(() => one.received.length === 1, 'the ack after the reconnect');
    expect(one.received.map((r) => r.msg)).toEqual([{ kind: 'ack', zxid: 10n }]);
  });
});

describe('lost connections', () => {
  test('a SNAP streaming when its connection dies sends nothing more, not even onto the next connection', async () => {
    const { one, two, kill } = await pairThroughProxy();
    const stream = two.transport.openSnapStream(1, 9n);
    stream.write(Buffer.alloc(100_000, 1));
    await stream.ready();
    await sleep(20);
    expect(kill()).toBe(2);
    await waitFor(() => one.disconnects.length === 1 && two.disconnects.length === 1, 'onDisconnect on both sides');
    await connected(nodes);
    stream.write(Buffer.alloc(100_000, 2));
    await stream.ready();
    stream.end();
    two.transport.send(1, { kind: 'ack', zxid: 10n });
    await waitFor(() => one.received.length === 1, 'the ack after the reconnect');
    await sleep(50);
    // Half a SNAP on the dead connection was never a message; the new one carries only the ack.
    expect(one.received.map((r) => r.msg)).toEqual([{ kind: 'ack', zxid: 10n }]);
    expect(one.warnings().filter((l) => l.includes('SNAP'))).toEqual([]);
  });

  test('a killed connection fires onDisconnect once on each side, and the link reconnects', async () => {
    const { one, two, kill } = await pairThroughProxy();
    expect(kill()).toBe(2);
    await waitFor(() => one.disconnects.length === 1 && two.disconnects.length === 1, 'onDisconnect on both sides');
    await connected(nodes);
    two.transport.send(1, { kind: 'ack', zxid: 1n });
    one.transport.send(2, { kind: 'commit', zxid: 1n });
    two.transport.send(1, { kind: 'notification', state: 'LOOKING', leader: 2, zxid: 0n, electionEpoch: 1n, peerEpoch: 0n, recovering: false });
    await waitFor(() => one.received.length === 2 && two.received.length === 1, 'messages after reconnecting');
    await sleep(50);
    expect(one.disconnects).toEqual([2]);
    expect(two.disconnects).toEqual([1]);
  });

  test('under load with repeated kills, each side sees every stream segment as a gap-free prefix, split only at onDisconnect', async () => {
    const { one, two, kill } = await pairThroughProxy();
    const pairs: [Node, Node][] = [
      [two, one],
      [one, two],
    ];
    // What each sender sent, per number of boundaries it had seen.
    const sent = new Map<Node, number[][]>([
      [one, []],
      [two, []],
    ]);
    let seq = 0;
    let sending = true;
    const pump = (): void => {
      if (!sending) return;
      for (const [from, to] of pairs) {
        const b = from.disconnects.length;
        const log = sent.get(from)!;
        for (let i = 0; i < 50; i++, seq++) {
          (log[b] ??= []).push(seq);
          from.transport.send(to.id, tagged(b, seq));
        }
      }
      setImmediate(pump);
    };
    pump();
    const KILLS = 3;
    for (let k = 1; k <= KILLS; k++) {
      await sleep(100);
      expect(kill()).toBe(2);
      await waitFor(() => one.disconnects.length === k && two.disconnects.length === k, `boundary ${k}`);
      await connected(nodes);
    }
    await sleep(100);
    sending = false;
    // Let the last segment drain completely.
    await waitFor(() => pairs.every(([from, to]) => to.from(from.id).length > 0 && untag(to.from(from.id).at(-1)!).seq === sent.get(from)![KILLS]!.at(-1)), 'the last segment');

    for (const [from, to] of pairs) {
      const segments: number[][] = [[]];
      for (const e of to.events) {
        if (e.type === 'disconnect' && e.peer === from.id) segments.push([]);
        else if (e.type === 'msg' && e.from === from.id) {
          const { boundaries, seq: s } = untag(e.msg);
          // Messages in the receiver's k-th segment were sent after the sender's k-th boundary.
          expect(boundaries).toBe(segments.length - 1);
          segments.at(-1)!.push(s);
        }
      }
      expect(segments).toHaveLength(KILLS + 1);
      const log = sent.get(from)!;
      segments.forEach((seg, k) => {
        // A prefix of what was sent in that segment: in order, nothing missing in between.
        expect(seg).toEqual(log[k]!.slice(0, seg.length));
      });
      expect(segments[KILLS]).toEqual(log[KILLS]);
      // Something got through in every segment (the kills were spread over real traffic).
      expect(segments.every((s) => s.length > 0)).toBe(true);
    }
  });

  test('a restarted acceptor (lower id) and a restarted dialer (higher id) are both reconnected', async () => {
    nodes = await ensemble([1, 2]);
    const [one, two] = nodes;
    await connected(nodes);

    await one!.restart();
    await waitFor(() => two!.disconnects.length === 1, 'server 2 notices server 1 left');
    await connected(nodes);
    two!.transport.send(1, { kind: 'ack', zxid: 1n });
    await waitFor(() => one!.received.length === 1, 'delivery to the new server 1');

    await two!.restart();
    await waitFor(() => one!.disconnects.length === 1, 'server 1 notices server 2 left');
    await connected(nodes);
    one!.transport.send(2, { kind: 'commit', zxid: 2n });
    await waitFor(() => two!.received.length === 1, 'delivery to the new server 2');

    // (A Node keeps its records across restarts; closing a transport fires nothing.)
    expect(one!.disconnects).toEqual([2]);
    expect(two!.disconnects).toEqual([1]);
    expect(one!.received.map((r) => r.msg)).toEqual([{ kind: 'ack', zxid: 1n }]);
    expect(two!.received.map((r) => r.msg)).toEqual([{ kind: 'commit', zxid: 2n }]);
  });

  test('a server that is down is dialed again until it comes back, with one log line about it', async () => {
    nodes = await ensemble([1, 2], {}, [2]);
    const [one, two] = nodes;
    await sleep(200);
    expect(two!.logLines.filter((l) => l.includes('cannot reach a peer'))).toHaveLength(2); // once per channel
    await one!.transport.start();
    await connected(nodes);
    expect(two!.logLines.some((l) => l.includes('connected to a peer') && /failedDials=\d+/.test(l))).toBe(true);
  });
});
