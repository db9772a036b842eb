/** Faults injected through the transport's hook, on real connections. */
import { afterEach, describe, expect, test } from 'vitest';
import type { Message } from '../../../src/zab/index.js';
import { seededRandom } from '../../helpers/random.js';
import { closeAll, ensemble, sleep, waitFor, type Node } from './helpers.js';

let nodes: Node[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

function note(epoch: number, leader = 1): Message {
  return { kind: 'notification', state: 'LOOKING', leader, zxid: 0n, electionEpoch: BigInt(epoch), peerEpoch: 0n, recovering: false };
}

async function connected(ns: Node[], each: number): Promise<void> {
  await waitFor(() => ns.every((n) => n.transport.stats().connections === each), 'all connections up');
}

describe('fault hook', () => {
  test('cut isolates one edge in both directions and closes its connections; heal restores it', async () => {
    nodes = await ensemble([1, 2, 3]);
    const [one, two, three] = nodes;
    await connected(nodes, 4);

    one!.faults.cut(2);
    await waitFor(() => one!.disconnects.length === 1 && two!.disconnects.length === 1, 'onDisconnect on both ends of the cut edge');
    expect(one!.disconnects).toEqual([2]);
    expect(two!.disconnects).toEqual([1]);
    one!.transport.send(2, note(1));
    two!.transport.send(1, note(2, 2));
    one!.transport.send(3, note(3));
    three!.transport.send(1, { kind: 'ack', zxid: 3n });
    await waitFor(() => three!.received.length === 1 && one!.received.length === 1, 'the uncut edges still work');
    await sleep(200); // server 2 keeps dialing server 1 meanwhile, and is refused
    expect(one!.from(2)).toEqual([]);
    expect(two!.from(1)).toEqual([]);
    expect(one!.transport.stats().connections).toBe(2);
    expect(two!.transport.stats().connections).toBe(2);

    one!.faults.heal(2);
    await connected(nodes, 4);
    one!.transport.send(2, { kind: 'commit', zxid: 10n });
    two!.transport.send(1, { kind: 'ack', zxid: 10n });
    await waitFor(() => two!.from(1).length > 0 && one!.from(2).some((m) => m.kind === 'ack' && m.zxid === 10n), 'traffic after heal');
    expect(two!.from(1)).toEqual([{ kind: 'commit', zxid: 10n }]);
    // Server 2's own view had no cut: it queued its notification, like a retransmission, and
    // delivered it once the edge healed — never during the cut.
    expect(one!.from(2).filter((m) => m.kind === 'notification')).toEqual([note(2, 2)]);
  });

  test('a quorum message to a cut peer is dropped and reported with onDisconnect', async () => {
    nodes = await ensemble([1, 2]);
    const [one] = nodes;
    await connected(nodes, 2);
    one!.faults.cut(2);
    await waitFor(() => one!.disconnects.length === 1, 'the cut');
    one!.transport.send(2, { kind: 'ping', zxid: 1n });
    await waitFor(() => one!.disconnects.length === 2, 'the dropped ping reported');
    expect(one!.transport.stats().messagesDropped).toBe(1);
  });

  test('delay holds messages back on both channels and never reorders a stream', async () => {
    nodes = await ensemble([1, 2]);
    const [one, two] = nodes;
    await connected(nodes, 2);
    two!.faults.setDelay(1, 200);
    const t0 = Date.now();
    two!.transport.send(1, { kind: 'proposal', txn: { zxid: 1n, data: Buffer.from('x') } });
    two!.transport.send(1, note(1, 2));
    await waitFor(() => one!.received.length === 2, 'delayed messages');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);

    // A long delay followed by none: the later message waits for the earlier one.
    two!.faults.setDelay('*', 300);
    two!.transport.send(1, { kind: 'ack', zxid: 2n });
    two!.faults.setDelay(1, 0);
    two!.faults.setDelay('*', 0);
    two!.transport.send(1, { kind: 'ack', zxid: 3n });
    await sleep(100);
    expect(one!.received).toHaveLength(2);
    await waitFor(() => one!.received.length === 4, 'both acks');
    expect(one!.received.slice(2).map((r) => r.msg)).toEqual([
      { kind: 'ack', zxid: 2n },
      { kind: 'ack', zxid: 3n },
    ]);
    expect(one!.disconnects).toEqual([]);
    expect(two!.disconnects).toEqual([]);
  });

  test('drop rate drops election messages silently, as decided by the injected random source', async () => {
    nodes = await ensemble([1, 2]);
    const [one, two] = nodes;
    await connected(nodes, 2);
    const seed = 42;
    two!.faults.setDropRate(1, 0.5, seededRandom(seed));
    for (let i = 0; i < 200; i++) two!.transport.send(1, note(i, 2));
    const replay = seededRandom(seed);
    const kept = Array.from({ length: 200 }, (_, i) => i).filter(() => replay() >= 0.5);
    await waitFor(() => one!.received.length === kept.length, 'the kept notifications');
    await sleep(50);
    expect(one!.received.map((r) => Number((r.msg as { electionEpoch: bigint }).electionEpoch))).toEqual(kept);
    expect(two!.disconnects).toEqual([]);
    expect(two!.transport.stats().messagesDropped).toBe(200 - kept.length);
  });

  test('a dropped quorum message breaks the connection (as lost TCP segments would); what came before it still arrives', async () => {
    nodes = await ensemble([1, 2]);
    const [one, two] = nodes;
    await connected(nodes, 2);
    two!.transport.send(1, { kind: 'ack', zxid: 1n });
    two!.faults.setDropRate('*', 1, () => 0);
    two!.transport.send(1, { kind: 'ack', zxid: 2n });
    two!.transport.send(1, { kind: 'ack', zxid: 3n }); // before onDisconnect: lost too
    await waitFor(() => two!.disconnects.length === 1 && one!.disconnects.length === 1, 'the boundary on both sides');
    two!.faults.setDropRate('*', 0, () => 0);
    two!.transport.send(1, { kind: 'ack', zxid: 4n });
    await waitFor(() => one!.received.length === 2, 'the message after the boundary');
    expect(one!.events).toEqual([
      { type: 'msg', from: 2, msg: { kind: 'ack', zxid: 1n } },
      { type: 'disconnect', peer: 2 },
      { type: 'msg', from: 2, msg: { kind: 'ack', zxid: 4n } },
    ]);
    expect(two!.disconnects).toEqual([1]);
  });
});
