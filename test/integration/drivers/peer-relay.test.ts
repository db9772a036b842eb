/**
 * The harness's peer relay on real sockets (loopback): it forwards both ways; a cut stops a
 * relayed connection's bytes in both directions without closing it and holds new connections
 * unconnected; a heal delivers what waited, connects the held ones on, and passes on a close
 * that happened during the cut; an election connection's first message names the relay's
 * port for the way back; outside a cut a relay port refuses a dialer while the peer's port does
 * not listen (Linux).
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerRelay } from '../../../src/harness/drivers/peer-relay.js';
import { initialMessage } from '../../../src/harness/drivers/zk-initial-message.js';

/** A peer's port: remembers what each accepted connection sent and whether it ended. */
class Peer {
  readonly conns: { socket: net.Socket; data: Buffer; ended: boolean }[] = [];
  private constructor(readonly server: net.Server) {
    server.on('connection', (socket) => {
      const c = { socket, data: Buffer.alloc(0), ended: false };
      this.conns.push(c);
      socket.on('data', (d: Buffer) => (c.data = Buffer.concat([c.data, d])));
      socket.on('end', () => (c.ended = true));
      socket.on('error', () => undefined);
    });
  }
  static async start(): Promise<Peer> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new Peer(server);
  }
  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }
  close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function dial(to: { host: string; port: number }): Promise<{ socket: net.Socket; received: () => string; closed: () => boolean }> {
  const socket = net.connect(to);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let got = '';
  let closed = false;
  socket.on('data', (d: Buffer) => (got += d.toString()));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return { socket, received: () => got, closed: () => closed };
}

function quorumOf(relay: PeerRelay, from: number, to: number): { host: string; port: number } {
  const r = relay.route(from, to);
  return { host: r.host, port: r.quorumPort };
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('peer relay', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(): Promise<{ relay: PeerRelay; quorum2: Peer; election1: Peer; election2: Peer }> {
    const [quorum1, election1, quorum2, election2] = await Promise.all([Peer.start(), Peer.start(), Peer.start(), Peer.start()]);
    const relay = await PeerRelay.open([
      { id: 1, quorumPort: quorum1.port, electionPort: election1.port },
      { id: 2, quorumPort: quorum2.port, electionPort: election2.port },
    ]);
    cleanup.push(async () => {
      await relay.close();
      await Promise.all([quorum1, election1, quorum2, election2].map((p) => p.close()));
    });
    return { relay, quorum2, election1, election2 };
  }

  it('forwards both ways; a cut silences a connection without closing it; a heal delivers what waited', async () => {
    const { relay, quorum2 } = await setup();
    const c = await dial(quorumOf(relay, 1, 2));
    c.socket.write('hello');
    await until('the peer to get hello', () => quorum2.conns[0]?.data.toString() === 'hello');
    quorum2.conns[0]!.socket.write('back');
    await until('the answer', () => c.received() === 'back');

    relay.setCut(1, 2, true);
    expect(relay.isCut(2, 1)).toBe(true);
    c.socket.write(' during the cut');
    quorum2.conns[0]!.socket.write(' and back');
    await sleep(300);
    expect(quorum2.conns[0]!.data.toString()).toBe('hello');
    expect(c.received()).toBe('back');
    expect(c.closed()).toBe(false);

    relay.setCut(1, 2, false);
    await until('what waited, delivered', () => quorum2.conns[0]?.data.toString() === 'hello during the cut' && c.received() === 'back and back');
  });

  it('holds a new connection during a cut (the peer sees none), connects it on at the heal, and passes on a close made meanwhile', async () => {
    const { relay, quorum2 } = await setup();
    relay.setCut(1, 2, true);
    const c = await dial(quorumOf(relay, 1, 2));
    c.socket.write('queued');
    await sleep(300);
    expect(quorum2.conns).toHaveLength(0);
    const d = await dial(quorumOf(relay, 1, 2));
    d.socket.end('bye');
    await sleep(200);
    relay.setCut(1, 2, false);
    await until('both connections on at the peer', () => quorum2.conns.length === 2);
    await until('the queued bytes and the close', () => quorum2.conns.some((x) => x.data.toString() === 'queued') && quorum2.conns.some((x) => x.data.toString() === 'bye' && x.ended));
    expect(c.closed()).toBe(false);
  });

  it.skipIf(process.platform !== 'linux')("refuses a dialer while the peer's port does not listen, as the peer would, except during a cut (held)", async () => {
    const { relay, quorum2 } = await setup();
    const to = quorumOf(relay, 1, 2);
    await quorum2.close();
    const refused = async (): Promise<boolean> =>
      new Promise((resolve) => {
        const s = net.connect(to);
        s.once('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
      });
    const deadline = Date.now() + 5_000;
    while (!(await refused())) {
      if (Date.now() > deadline) throw new Error('the relay port still accepts 5 s after the peer stopped listening');
      await sleep(50);
    }
    relay.setCut(1, 2, true);
    // The port listens again (at once, give or take a listen call) and holds what comes.
    await sleep(100);
    const held = await dial(to);
    await sleep(200);
    expect(held.closed()).toBe(false);
    relay.setCut(1, 2, false);
  });

  it("rewrites an election connection's first message to the relay's port for the way back", async () => {
    const { relay, election2 } = await setup();
    const c = await dial({ host: relay.route(1, 2).host, port: relay.route(1, 2).electionPort });
    c.socket.write(initialMessage(1n, '127.0.0.1:1'));
    const want = initialMessage(1n, `${relay.route(2, 1).host}:${relay.route(2, 1).electionPort}`);
    await until('the rewritten message', () => election2.conns[0]?.data.equals(want) === true);
  });
});
