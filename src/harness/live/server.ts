/**
 * The live view's HTTP server, on 127.0.0.1 only: `/` is the page, `/live.json` the state
 * with its regions rendered. GET and HEAD only; nothing else is served.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LiveError } from './errors.js';
import { CONTENT_SECURITY_POLICY, LIVE_JSON, livePage } from './page.js';
import { renderRegions } from './render.js';
import type { LiveState } from './state.js';

export const LIVE_HOST = '127.0.0.1';

/** `--live` / `--port`: a port from 0 (any free one) to 65535, or a usage-level error naming the option. */
export function livePort(text: string, option: string): number {
  const t = text.trim();
  if (t === '') return 0;
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n > 65_535) {
    throw new LiveError('ZABLAB_LIVE_PORT', `${option} takes a port from 1 to 65535 (or 0 for any free one), got "${text}"`);
  }
  return n;
}

export class LiveServer {
  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://${LIVE_HOST}:${this.port}/`;
  }

  static async start(state: LiveState, port: number, title: string): Promise<LiveServer> {
    const page = livePage(title);
    let hosts = new Set<string>();
    const server = http.createServer((req, res) => {
      const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
      // Another name for this address (DNS rebinding) would let any web page read it.
      if (!hosts.has(req.headers.host ?? '')) {
        res.writeHead(421, { ...headers, 'content-type': 'text/plain' }).end('ask for this page by its address, 127.0.0.1 or localhost\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { ...headers, allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
        return;
      }
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/') {
        res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CONTENT_SECURITY_POLICY }).end(req.method === 'HEAD' ? undefined : page);
        return;
      }
      if (path === `/${LIVE_JSON}`) {
        const snapshot = state.snapshot();
        const body = JSON.stringify({ ...snapshot, regions: renderRegions(snapshot) });
        res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EADDRINUSE'
            ? `port ${port} on ${LIVE_HOST} is in use; choose another port (or 0 for any free one)`
            : err.code === 'EACCES'
              ? `port ${port} on ${LIVE_HOST} needs privileges; choose a port above 1023`
              : err.message;
        reject(new LiveError('ZABLAB_LIVE_PORT', `live view: ${why}`));
      });
      server.listen(port, LIVE_HOST, () => resolve());
    });
    // A page left open must not keep the process alive once the bench is over.
    server.unref();
    const bound = (server.address() as AddressInfo).port;
    hosts = new Set([`${LIVE_HOST}:${bound}`, `localhost:${bound}`]);
    return new LiveServer(server, bound);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
