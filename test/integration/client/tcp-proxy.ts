/**
 * A real TCP relay on 127.0.0.1 between a client and a server, which a test can cut:
 * `blackhole()` keeps connections open but forwards nothing (a partitioned or frozen
 * server, as the client sees it); `restore()` forwards again for new connections.
 */
import net from 'node:net';

export class TcpProxy {
  private blackholed = false;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (inbound) => this.relay(inbound));
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TcpProxy(server, target);
  }

  get connectString(): string {
    return `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Stop forwarding on every connection, current and new; nothing is closed. */
  blackhole(): void {
    this.blackholed = true;
  }

  /** Forward again: connections cut by blackhole() are closed, new ones are relayed. */
  restore(): void {
    this.blackholed = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  private relay(inbound: net.Socket): void {
    this.track(inbound);
    if (this.blackholed) {
      inbound.on('data', () => undefined);
      return;
    }
    const outbound = net.connect(this.target);
    this.track(outbound);
    const forward = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (!this.blackholed) to.write(chunk);
      });
      from.on('close', () => to.destroy());
    };
    forward(inbound, outbound);
    forward(outbound, inbound);
  }
}
