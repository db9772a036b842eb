/** Real PeerTransports on 127.0.0.1, with what each one received and logged. */
import net from 'node:net';
import { createLogger } from '../../../src/server/log.js';
import { FaultController } from '../../../src/server/quorum/faults.js';
import { PeerTransport, type PeerAddress, type TransportOptions } from '../../../src/server/quorum/transport.js';
import type { Message } from '../../../src/zab/index.js';
import { freePorts } from '../../helpers/ports.js';

export interface Received {
  from: number;
  msg: Message;
}

/** A transport and everything observable about it. */
export class Node {
  readonly received: Received[] = [];
  /** onDisconnect calls, in order, interleaved with deliveries as `events`. */
  readonly disconnects: number[] = [];
  readonly events: ({ type: 'msg'; from: number; msg: Message } | { type: 'disconnect'; peer: number })[] = [];
  /** onPeerDown / onPeerUp calls, as `down:N` / `up:N`. */
  readonly peerEvents: string[] = [];
  readonly logLines: string[] = [];
  readonly faults = new FaultController();
  transport: PeerTransport;

  constructor(
    readonly id: number,
    readonly peers: PeerAddress[],
    private readonly extra: Partial<TransportOptions>,
  ) {
    this.transport = this.create();
  }

  private create(): PeerTransport {
    const t = new PeerTransport({
      selfId: this.id,
      peers: this.peers,
      reconnectDelayMs: 20,
      log: createLogger({ serverId: this.id, level: 'debug', write: (l) => void this.logLines.push(l) }),
      faults: this.faults,
      ...this.extra,
    });
    t.onMessage = (from, msg) => {
      this.received.push({ from, msg });
      this.events.push({ type: 'msg', from, msg });
    };
    t.onDisconnect = (peer) => {
      this.disconnects.push(peer);
      this.events.push({ type: 'disconnect', peer });
    };
    t.onPeerDown = (peer) => void this.peerEvents.push(`down:${peer}`);
    t.onPeerUp = (peer) => void this.peerEvents.push(`up:${peer}`);
    return t;
  }

  /** A fresh transport for the same id and ports (a restarted server). */
  async restart(): Promise<void> {
    await this.transport.close();
    this.transport = this.create();
    await this.transport.start();
  }

  from(peer: number): Message[] {
    return this.received.filter((r) => r.from === peer).map((r) => r.msg);
  }

  warnings(): string[] {
    return this.logLines.filter((l) => / WARN /.test(l));
  }
}

/** Addresses for `ids` on fresh loopback ports. */
export async function addresses(ids: number[]): Promise<PeerAddress[]> {
  return (await addressesAndRelayPorts(ids, 0)).peers;
}

/**
 * Addresses for `ids` and `relays` more ports, all from one batch: a relay listening on port 0
 * could be handed a port just freed for a server that has not bound it yet (CI saw it).
 */
export async function addressesAndRelayPorts(ids: number[], relays: number): Promise<{ peers: PeerAddress[]; relayPorts: number[] }> {
  const ports = await freePorts(ids.length * 2 + relays);
  const peers = ids.map((id, i) => ({ id, host: '127.0.0.1', quorumPort: ports[2 * i]!, electionPort: ports[2 * i + 1]! }));
  return { peers, relayPorts: ports.slice(ids.length * 2) };
}

export async function ensemble(ids: number[], extra: Partial<TransportOptions> = {}, start: number[] = ids): Promise<Node[]> {
  const peers = await addresses(ids);
  const nodes = ids.map((id) => new Node(id, peers, extra));
  await Promise.all(nodes.filter((n) => start.includes(n.id)).map((n) => n.transport.start()));
  return nodes;
}

export async function closeAll(nodes: Node[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.transport.close()));
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A TCP relay on 127.0.0.1 whose connections a test can kill (both ends see the close). */
export class KillableProxy {
  private readonly sockets = new Set<net.Socket>();
  /** The dialers' sockets: what `stopReading` stops reading. */
  private readonly inbound = new Set<net.Socket>();
  private constructor(private readonly server: net.Server) {}

  /** A proxy to `targetPort`, listening on `listenPort` (take it from the batch of the servers' ports). */
  static async start(targetPort: number, listenPort: number): Promise<KillableProxy> {
    const server = net.createServer();
    const proxy = new KillableProxy(server);
    server.on('connection', (inbound) => {
      proxy.inbound.add(inbound);
      inbound.on('close', () => proxy.inbound.delete(inbound));
      const outbound = net.connect({ host: '127.0.0.1', port: targetPort });
      for (const [a, b] of [[inbound, outbound], [outbound, inbound]] as const) {
        proxy.sockets.add(a);
        a.on('data', (chunk: Buffer) => void b.write(chunk));
        a.on('close', () => {
          proxy.sockets.delete(a);
          b.destroy();
        });
        a.on('error', () => a.destroy());
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', resolve);
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Read nothing more from the dialers (a listener that stopped reading: the dialers' sends back up). */
  stopReading(): void {
    for (const s of this.inbound) s.pause();
  }

  resumeReading(): void {
    for (const s of this.inbound) s.resume();
  }

  /** Reset every relayed connection. */
  killConnections(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.resetAndDestroy();
    return n / 2;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A raw socket to a port, to play a misbehaving peer. */
export async function rawConnect(port: number): Promise<{ socket: net.Socket; data: Buffer[]; closed: Promise<void> }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const data: Buffer[] = [];
  socket.on('data', (c: Buffer) => void data.push(c));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, data, closed };
}
