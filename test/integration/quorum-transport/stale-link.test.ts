/**
 * Stale links: a server that died unseen (partitioned, then killed) leaves its peers holding
 * half-open connections to it. When it comes back, its dial to a higher id is a nudge that
 * makes that peer drop the stale link and dial back (ZooKeeper's QuorumCnxManager does the
 * same). And nudges never make a healthy link flap. All of it in the open and with quorum
 * authentication, where a nudge counts only once it has proven its id.
 */
import crypto from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import type { PeerAddress, TransportOptions } from '../../../src/server/quorum/transport.js';
import type { Message } from '../../../src/zab/index.js';
import { addressesAndRelayPorts, closeAll, ensemble, Node, sleep, waitFor } from './helpers.js';
import { PartitionRelay } from './partition-relay.js';

let nodes: Node[] = [];
let relays: PartitionRelay[] = [];
afterEach(async () => {
  await closeAll(nodes);
  await Promise.all(relays.map((r) => r.close()));
  nodes = [];
  relays = [];
});

/** The same address with both ports behind relays listening on two of `ports`. */
async function behindRelays(a: PeerAddress, ports: number[]): Promise<PeerAddress> {
  const q = await PartitionRelay.start(a.quorumPort, ports.pop()!);
  const e = await PartitionRelay.start(a.electionPort, ports.pop()!);
  relays.push(q, e);
  return { ...a, quorumPort: q.port, electionPort: e.port };
}

function note(from: number, epoch: number): Message {
  return { kind: 'notification', state: 'LOOKING', leader: from, zxid: 0n, electionEpoch: BigInt(epoch), peerEpoch: 0n, recovering: false };
}

/** Log lines of new connections, as "peer/channel". */
function establishments(n: Node): string[] {
  return n.logLines.filter((l) => l.includes('connected to a peer')).map((l) => `${/peer=(\d+)/.exec(l)?.[1]}/${/channel=(\w+)/.exec(l)?.[1]}`);
}

const AUTH: TransportOptions['security'] = {
  auth: { secret: crypto.createSecretKey(Buffer.from('stale-link test secret, 32 chars')), learnerRequire: true, serverRequire: true },
};

describe.each([
  ['open', {}],
  ['with quorum authentication', { security: AUTH }],
] as [string, Partial<TransportOptions>][])('stale links (%s)', (_name, security) => {
  test('a server killed while partitioned and restarted is reconnected by its higher-id peers after the heal', async () => {
    const { peers: [a1, a2, a3], relayPorts } = await addressesAndRelayPorts([1, 2, 3], 6);
    // Every path to or from server 1 crosses a relay; 2 and 3 talk directly.
    const to1 = await behindRelays(a1!, relayPorts);
    const from1 = [a1!, await behindRelays(a2!, relayPorts), await behindRelays(a3!, relayPorts)];
    const opts = { connectTimeoutMs: 1000, ...security };
    const one = new Node(1, from1, opts);
    const two = new Node(2, [to1, a2!, a3!], opts);
    const three = new Node(3, [to1, a2!, a3!], opts);
    nodes = [one, two, three];
    await Promise.all(nodes.map((n) => n.transport.start()));
    await waitFor(() => nodes.every((n) => n.transport.stats().connections === 4), 'all connections up');

    for (const r of relays) r.partition();
    two.transport.send(1, { kind: 'ping', zxid: 1n }); // sits in the dead connection, like a retransmission queue
    await one.restart(); // its closes never reach 2 and 3
    await sleep(300);
    expect(one.transport.stats().connections).toBe(0);
    // 2 and 3 still believe in their connections to 1: half-open.
    expect(two.transport.stats().connections).toBe(4);
    expect(three.transport.stats().connections).toBe(4);
    expect(two.disconnects).toEqual([]);

    for (const r of relays) r.heal();
    const healedAt = { one: one.received.length, two: two.received.length, three: three.received.length };
    const got = (n: Node, from: number, kind: Message['kind'], since: number): boolean =>
      n.received.slice(since).some((r) => r.from === from && r.msg.kind === kind);
    const flowing = (): boolean =>
      [2, 3].every((p) => got(one, p, 'ping', healedAt.one) && got(one, p, 'notification', healedAt.one)) &&
      [two, three].every((n) => got(n, 1, 'ping', healedAt[n === two ? 'two' : 'three']) && got(n, 1, 'notification', healedAt[n === two ? 'two' : 'three']));
    // Keep talking, as ZAB and FLE do; what goes into a stale connection is lost.
    let seq = 10;
    const talk = setInterval(() => {
      seq++;
      for (const p of [2, 3]) {
        one.transport.send(p, { kind: 'ping', zxid: BigInt(seq) });
        one.transport.send(p, note(1, seq));
      }
      for (const n of [two, three]) {
        n.transport.send(1, { kind: 'ping', zxid: BigInt(seq) });
        n.transport.send(1, note(n.id, seq));
      }
    }, 50);
    try {
      await waitFor(flowing, 'messages both ways between the new server 1 and servers 2 and 3, on both channels', 8000);
    } finally {
      clearInterval(talk);
    }
    expect(one.transport.stats().connections).toBe(4);
    expect(two.transport.stats().connections).toBe(4);
    expect(three.transport.stats().connections).toBe(4);
    // The stale quorum link was lost, with the boundary ZAB relies on.
    expect(two.disconnects).toContain(1);
    expect(three.disconnects).toContain(1);
    expect(two.disconnects.filter((p) => p !== 1)).toEqual([]);
    for (const n of [two, three]) expect(n.logLines.filter((l) => l.includes('this one is stale')).length).toBeGreaterThanOrEqual(2); // both channels
    // A nudge is ordinary operation, not a problem.
    for (const n of nodes) expect(n.warnings(), n.warnings().join('')).toEqual([]);
  });

  test('a healthy ensemble does not flap: one connection per link and channel, held for seconds', async () => {
    nodes = await ensemble([1, 2, 3], security);
    await waitFor(() => nodes.every((n) => n.transport.stats().connections === 4), 'all connections up');
    await sleep(2000); // 100 reconnect periods at 20 ms
    for (const n of nodes) {
      expect(n.transport.stats().connections).toBe(4);
      expect(n.disconnects).toEqual([]);
      // Every server logs each of its 4 links once.
      expect(establishments(n).sort()).toEqual(
        [1, 2, 3]
          .filter((p) => p !== n.id)
          .flatMap((p) => [`${p}/election`, `${p}/quorum`])
          .sort(),
      );
    }
  });

  test('a restarted lower id that nudges while its peer is already dialing it converges without extra reconnects', async () => {
    nodes = await ensemble([1, 2], security);
    const [one, two] = nodes;
    await waitFor(() => nodes.every((n) => n.transport.stats().connections === 2), 'connections');
    for (let i = 0; i < 5; i++) {
      await one!.restart(); // a clean close: server 2 sees it and redials while server 1 nudges
      await waitFor(() => nodes.every((n) => n.transport.stats().connections === 2), `connections after restart ${i + 1}`);
    }
    await sleep(1500);
    // One boundary per restart on server 2's side, none extra.
    expect(two!.disconnects).toEqual([1, 1, 1, 1, 1]);
    expect(one!.disconnects).toEqual([]);
    expect(nodes.every((n) => n.transport.stats().connections === 2)).toBe(true);
    two!.transport.send(1, { kind: 'ack', zxid: 9n });
    one!.transport.send(2, { kind: 'ack', zxid: 9n });
    await waitFor(() => one!.from(2).length === 1 && two!.from(1).length === 1, 'traffic');
  });
});
