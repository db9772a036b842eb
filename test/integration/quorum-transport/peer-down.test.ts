/**
 * What the transport says about a peer's process (the hint that lets an election skip
 * finalizeWait): a peer whose connections close or whose port refuses is reported down, and
 * up again once a connection to it is established; a peer behind a partition that swallows
 * packets (no FIN, no RST) is never reported down.
 */
import { afterEach, describe, expect, test } from 'vitest';
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

describe('peer down and up', () => {
  test('a peer that stops is reported down at once, and up when it is back', async () => {
    nodes = await ensemble([1, 2, 3]);
    const [one, two, three] = nodes as [Node, Node, Node];
    await waitFor(() => nodes.every((n) => n.transport.stats().connections === 4), 'all connections up');
    one.peerEvents.length = 0;
    two.peerEvents.length = 0;
    await three.transport.close();
    await waitFor(() => one.peerEvents.includes('down:3') && two.peerEvents.includes('down:3'), 'down:3 on both');
    // Its ports refuse while it is gone: it stays down, and nobody else is reported.
    await sleep(100);
    expect(one.peerEvents.every((e) => e === 'down:3')).toBe(true);
    await three.restart();
    await waitFor(() => one.peerEvents.at(-1) === 'up:3' && two.peerEvents.at(-1) === 'up:3', 'up:3 on both');
  });

  test('a peer behind a silent partition is never reported down', async () => {
    const { peers: [a1, a2], relayPorts } = await addressesAndRelayPorts([1, 2], 2);
    const q = await PartitionRelay.start(a1!.quorumPort, relayPorts[0]!);
    const e = await PartitionRelay.start(a1!.electionPort, relayPorts[1]!);
    relays = [q, e];
    // Server 2 reaches server 1 only through the relays; server 1 (lower id) never dials 2.
    const one = new Node(1, [a1!, a2!], {});
    const two = new Node(2, [{ ...a1!, quorumPort: q.port, electionPort: e.port }, a2!], { connectTimeoutMs: 200 });
    nodes = [one, two];
    await Promise.all(nodes.map((n) => n.transport.start()));
    await waitFor(() => two.transport.stats().connections === 2, 'connections up');
    q.partition();
    e.partition();
    // Traffic and reconnect attempts go nowhere; nothing says the process died.
    two.transport.send(1, { kind: 'ack', zxid: 1n });
    await sleep(600);
    expect(two.peerEvents.filter((x) => x.startsWith('down'))).toEqual([]);
  });
});
