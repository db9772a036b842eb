/**
 * A TCP relay on 127.0.0.1 that plays a network partition the way `docker network
 * disconnect` does: packets vanish, and no FIN or RST ever reaches either end.
 *
 * - `partition()`: connections already relayed go silent for good (nothing forwarded, and a
 *   close on one side is not passed to the other: the other side's socket stays open,
 *   half-open as after a peer died unseen); new connections are accepted and swallowed.
 * - `heal()`: new connections are relayed again; the silenced ones stay silent and open.
 */
import net from 'node:net';

interface Pair {
  a: net.Socket;
  b: net.Socket | null;
  /** Silenced by a partition: forwards nothing, propagates no close. */
  dead: boolean;
}

export class PartitionRelay {
  private partitioned = false;
  private readonly pairs = new Set<Pair>();

  private constructor(
    private readonly server: net.Server,
    private readonly targetPort: number,
  ) {
    server.on('connection', (s) => this.relay(s));
  }

  /** A relay to `targetPort`, listening on `listenPort` (take it from the batch of the servers' ports). */
  static async start(targetPort: number, listenPort: number): Promise<PartitionRelay> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', resolve);
    });
    return new PartitionRelay(server, targetPort);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  partition(): void {
    this.partitioned = true;
    for (const p of this.pairs) p.dead = true;
  }

  heal(): void {
    this.partitioned = false;
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.a.destroy();
      p.b?.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(inbound: net.Socket): void {
    const pair: Pair = { a: inbound, b: null, dead: this.partitioned };
    this.pairs.add(pair);
    inbound.on('error', () => undefined);
    if (pair.dead) {
      inbound.on('data', () => undefined); // read and discard, as a black hole would
      inbound.on('close', () => this.pairs.delete(pair));
      return;
    }
    const outbound = net.connect({ host: '127.0.0.1', port: this.targetPort });
    outbound.on('error', () => undefined);
    pair.b = outbound;
    const forward = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (!pair.dead) to.write(chunk);
      });
      from.on('close', () => {
        if (!pair.dead) {
          to.destroy();
          this.pairs.delete(pair);
        }
      });
    };
    forward(inbound, outbound);
    forward(outbound, inbound);
  }
}
