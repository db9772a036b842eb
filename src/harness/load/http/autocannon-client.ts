/**
 * The members of autocannon 9's per-connection HTTP client (lib/httpClient.js) that the http
 * driver uses beyond autocannon's public API, and why:
 *
 *  - `_doRequest()` is called once per free pipelining lane (`pipelining` times when a socket
 *    opens, then once per response) and sends the request list's next request at once. The
 *    driver replaces it to decide *when* a lane sends: at once in closed loop; at the
 *    request's slot of a smooth rate schedule in open loop; never once stop() began.
 *    autocannon's own `overallRate` cannot give open-loop latency: each connection may send
 *    rate/connections requests per one-second bucket, sends them as a burst at the bucket's
 *    start and drops what a stall kept it from sending, so most of a one-second stall is
 *    never seen by any request; and its coordinated-omission correction assumes a 1 ms
 *    interval whatever the rate (`Math.ceil(1 / rate)`).
 *  - `_connect()` opens a new socket after an error, an end or a timeout, at once and
 *    forever; the driver delays it while the member refuses connections (it is down), so a
 *    down member is not hammered in a loop that takes CPU from the servers.
 *  - `conn`, the current socket: requests sent on an older socket died with it.
 *  - `opts.hostname` and `opts.port`, where `_connect()` connects, and `_resetConnection()`
 *    (drop the socket and autocannon's queue of its requests, then `_connect()`): the driver
 *    moves a connection to another member when its own is down.
 *  - `destroyed` and `destroy()`: the client is finished.
 *
 * hookClient() checks they are there, so an autocannon upgrade that changes them fails with
 * a clear error instead of measuring wrong.
 */
import type { Socket } from 'node:net';
import { HarnessError } from '../../errors.js';

export interface AutocannonClientInternals {
  conn: Socket | undefined;
  opts: { hostname: string; port: number | string };
  destroyed: boolean;
  _doRequest(): void;
  _connect(): void;
  _resetConnection(): void;
  destroy(): void;
}

export interface ClientHooks {
  /** Replaces `_doRequest`: a lane of the current socket is free. */
  laneFree(): void;
  /** Replaces `_connect`: autocannon wants a new socket. */
  reconnect(): void;
}

/** autocannon's own methods, bound to the client, for the hooks to call. */
export interface ClientOriginals {
  sendNext(): void;
  connect(): void;
}

export function hookClient(client: unknown, hooks: ClientHooks): { internals: AutocannonClientInternals; originals: ClientOriginals } {
  const c = client as Partial<AutocannonClientInternals> | null;
  if (
    c === null ||
    typeof c !== 'object' ||
    typeof c._doRequest !== 'function' ||
    typeof c._connect !== 'function' ||
    typeof c._resetConnection !== 'function' ||
    typeof c.destroy !== 'function' ||
    c.destroyed !== false ||
    typeof c.opts?.hostname !== 'string'
  ) {
    throw new HarnessError(
      'ZABLAB_BENCH_LOAD',
      "the http load driver needs autocannon 9's client (_doRequest, _connect, _resetConnection, destroy, opts.hostname); this autocannon differs: install the version in package-lock.json (npm ci)",
    );
  }
  const internals = c as AutocannonClientInternals;
  const originals: ClientOriginals = { sendNext: internals._doRequest.bind(internals), connect: internals._connect.bind(internals) };
  internals._doRequest = () => hooks.laneFree();
  internals._connect = () => hooks.reconnect();
  return { internals, originals };
}
