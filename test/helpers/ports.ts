/** Free loopback ports, assigned by the OS so that parallel test files never collide. */
import net from 'node:net';

const MAX_PORTS = 64;

function listenEphemeral(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function portOf(server: net.Server): number {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('listening socket has no TCP port');
  return addr.port;
}

/** One OS-assigned free port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/** n distinct free ports: all are held open at once so the OS cannot hand out one twice. */
export async function freePorts(n: number): Promise<number[]> {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PORTS) {
    throw new RangeError(`freePorts(n): n must be an integer in [1, ${MAX_PORTS}], got ${n}`);
  }
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listenEphemeral());
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map(close));
  }
}

/** Whether nothing listens on `port` of 127.0.0.1 (the connection is refused). */
export function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}
