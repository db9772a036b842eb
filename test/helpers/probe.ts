/**
 * Readiness probe: a server "serves" when a real ZooKeeper handshake succeeds — a
 * ConnectRequest answered by a ConnectResponse carrying a session. A listening socket alone
 * is not enough (ZooKeeper accepts and drops connections until its database is loaded).
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectRequest, ConnectResponse, JuteReader, JuteWriter, OpCode, RequestHeader } from '../../src/jute/index.js';

const ATTEMPT_TIMEOUT_MS = 2_000;
const RETRY_DELAY_MS = 100;
const CLOSE_WAIT_MS = 1_000;
const MAX_FRAME_BYTES = 1024;
const PROBE_SESSION_TIMEOUT_MS = 10_000;

export class ServerNotServingError extends Error {
  readonly code = 'ZABLAB_TEST_NOT_SERVING';
  constructor(host: string, port: number, timeoutMs: number, lastError: string) {
    super(
      `no ZooKeeper session from ${host}:${port} within ${timeoutMs} ms (last attempt: ${lastError}); ` +
        'check the server log for a startup failure',
    );
    this.name = 'ServerNotServingError';
  }
}

function connectFrame(): Buffer {
  const w = new JuteWriter();
  const at = w.reserveLength();
  ConnectRequest.write(w, {
    protocolVersion: 0,
    lastZxidSeen: 0n,
    timeOut: PROBE_SESSION_TIMEOUT_MS,
    sessionId: 0n,
    passwd: Buffer.alloc(16),
  });
  w.writeBool(false); // readOnly
  w.patchLength(at);
  return w.toBuffer();
}

function closeSessionFrame(): Buffer {
  const w = new JuteWriter();
  const at = w.reserveLength();
  RequestHeader.write(w, { xid: 1, type: OpCode.closeSession });
  w.patchLength(at);
  return w.toBuffer();
}

/** One handshake attempt; resolves with the session id, rejects with the reason it failed. */
function handshake(host: string, port: number, attemptMs: number): Promise<bigint> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    let sessionId: bigint | null = null;
    const timer = setTimeout(() => finish(new Error(`no answer within ${attemptMs} ms`)), attemptMs);
    const finish = (err: Error | null): void => {
      clearTimeout(timer);
      socket.destroy();
      if (sessionId !== null) resolve(sessionId);
      else reject(err ?? new Error('connection closed before a ConnectResponse'));
    };
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(connectFrame()));
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(null));
    socket.on('data', (chunk: Buffer) => {
      if (sessionId !== null) return; // the closeSession reply (or nothing) ends it
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const len = received.readInt32BE(0);
      if (len < 0 || len > MAX_FRAME_BYTES) {
        finish(new Error(`bad ConnectResponse length ${len}`));
        return;
      }
      if (received.length < 4 + len) return;
      const rsp = ConnectResponse.read(new JuteReader(received, 4, 4 + len));
      if (rsp.timeOut <= 0 || rsp.sessionId === 0n) {
        finish(new Error('server refused the session'));
        return;
      }
      sessionId = rsp.sessionId;
      // Close the probe session now rather than leave it to expire on the server.
      socket.write(closeSessionFrame());
      socket.end();
      setTimeout(() => finish(null), CLOSE_WAIT_MS).unref();
    });
  });
}

/** Handshake until a session is granted (then close it), or fail after timeoutMs. */
export async function waitForServing(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'never tried';
  for (;;) {
    try {
      await handshake(host, port, Math.max(50, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now())));
      return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() + RETRY_DELAY_MS >= deadline) throw new ServerNotServingError(host, port, timeoutMs, lastError);
    await sleep(RETRY_DELAY_MS);
  }
}
