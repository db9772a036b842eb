/**
 * One TCP connection to one server, plaintext or TLS (ZooKeeper's secureClientPort): the
 * ConnectRequest handshake, framing, batched writes (all frames queued in one event-loop turn
 * go out in one socket write), and liveness (ping when idle for a third of the session
 * timeout; drop the connection when the server has been silent for two thirds of it).
 */
import net from 'node:net';
import tls from 'node:tls';
import { ConnectRequest, ConnectResponse, JuteReader, JuteWriter } from '../jute/index.js';
import { FrameDecoder } from './framing.js';
import type { HostPort } from './connect-string.js';

/** Bounds for a batch writer's first allocation, sized from the previous batch. */
const OUT_MIN_BYTES = 512;
const OUT_MAX_INITIAL_BYTES = 64 * 1024;
/** Flush at once past this many queued bytes rather than wait for the end of the turn. */
const FLUSH_BYTES = 256 * 1024;
const KEEPALIVE_MIN_PERIOD_MS = 10;

/**
 * TLS to the server (as zookeeper.client.secure with zookeeper.ssl.*): the CA certificates the
 * server's certificate must chain to, and the client's own certificate and key when the server
 * asks for one (ssl.clientAuth=need or want), all PEM. The server's certificate must name the
 * host connected to (an IP address SAN for an address).
 */
export interface ClientTlsOptions {
  ca: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name to check the server's certificate against, when it is not the host connected to. */
  servername?: string;
}

export interface Handshake {
  request: ConnectRequest;
  readOnly: boolean;
}

export interface Established {
  conn: Connection;
  response: ConnectResponse;
  /** The server is in read-only mode (only when the client asked for readOnly). */
  readOnly: boolean;
}

export class ConnectTimeoutError extends Error {
  readonly code = 'ZABLAB_CLIENT_CONNECT_TIMEOUT';
  constructor(where: string, ms: number) {
    super(`no ConnectResponse from ${where} within ${ms} ms`);
    this.name = 'ConnectTimeoutError';
  }
}

export class ConnectionClosedError extends Error {
  readonly code = 'ZABLAB_CLIENT_CONNECTION_CLOSED';
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionClosedError';
  }
}

export class Connection {
  /** Frames after the ConnectResponse. */
  onFrame: (frame: Buffer) => void = () => undefined;
  /** Called once, when the connection is gone for whatever reason. */
  onClose: (err: Error) => void = () => undefined;

  private readonly decoder: FrameDecoder;
  private out: JuteWriter | null = null;
  /** Bytes in the last flushed batch: the next batch is likely about as big. */
  private lastBatchBytes = OUT_MIN_BYTES;
  private flushScheduled = false;
  private closed = false;
  private lastSendMs = Date.now();
  private lastRecvMs = Date.now();
  private keepAlive: NodeJS.Timeout | null = null;

  private constructor(
    private readonly socket: net.Socket,
    readonly where: string,
    maxFrameBytes: number,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.destroy(err));
    socket.on('end', () => this.destroy(new ConnectionClosedError(`${where} closed the connection`)));
    socket.on('close', () => this.destroy(new ConnectionClosedError(`connection to ${where} closed`)));
  }

  /** Connect and handshake; rejects on timeout, abort, refusal or a closed socket. */
  static open(
    target: HostPort,
    handshake: Handshake,
    timeoutMs: number,
    maxFrameBytes: number,
    signal: AbortSignal,
    secure: ClientTlsOptions | null = null,
  ): Promise<Established> {
    const where = `${target.host}:${target.port}`;
    return new Promise((resolve, reject) => {
      const socket = secure === null ? net.connect({ host: target.host, port: target.port }) : tls.connect({ host: target.host, port: target.port, ...secure });
      const conn = new Connection(socket, where, maxFrameBytes);
      const timer = setTimeout(() => conn.destroy(new ConnectTimeoutError(where, timeoutMs)), timeoutMs);
      const onAbort = (): void => conn.destroy(new ConnectionClosedError('client closed'));
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      conn.onClose = (err) => {
        settle();
        reject(err);
      };
      conn.onFrame = (frame) => {
        settle();
        const r = new JuteReader(frame);
        const response = ConnectResponse.read(r);
        // Servers since 3.4 append a readOnly flag; older ones do not.
        const readOnly = r.remaining > 0 ? r.readBool() : false;
        conn.onFrame = () => undefined;
        conn.onClose = () => undefined;
        resolve({ conn, response, readOnly });
      };
      // A TLS socket may carry frames once its handshake is done.
      socket.once(secure === null ? 'connect' : 'secureConnect', () => {
        conn.writeFrame((w) => {
          ConnectRequest.write(w, handshake.request);
          w.writeBool(handshake.readOnly);
        });
      });
      if (signal.aborted) onAbort();
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queue one frame; `build` writes its body. Sent at the end of this event-loop turn. */
  writeFrame(build: (w: JuteWriter) => void): void {
    if (this.closed) return;
    const w = (this.out ??= this.newBatch());
    const at = w.reserveLength();
    try {
      build(w);
    } catch (err) {
      this.discardFrom(at);
      throw err;
    }
    w.patchLength(at);
    this.lastSendMs = Date.now();
    if (w.length >= FLUSH_BYTES) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Ping (via `ping`) when idle; drop the connection when the server is silent too long. */
  startKeepAlive(sessionTimeoutMs: number, ping: () => void): void {
    const readTimeoutMs = Math.floor((sessionTimeoutMs * 2) / 3);
    const pingIdleMs = Math.floor(sessionTimeoutMs / 3);
    const periodMs = Math.max(KEEPALIVE_MIN_PERIOD_MS, Math.floor(sessionTimeoutMs / 10));
    this.lastRecvMs = Date.now();
    this.keepAlive = setInterval(() => {
      const now = Date.now();
      if (now - this.lastRecvMs > readTimeoutMs) {
        this.destroy(new ConnectionClosedError(`${this.where} sent nothing for ${now - this.lastRecvMs} ms (read timeout ${readTimeoutMs} ms)`));
      } else if (now - this.lastSendMs >= pingIdleMs) {
        ping();
      }
    }, periodMs);
    this.keepAlive.unref();
  }

  /** Close the socket (after sending what is queued when `graceful`). */
  destroy(err: Error, graceful = false): void {
    if (this.closed) return;
    if (graceful) this.flush();
    this.closed = true;
    if (this.keepAlive !== null) clearInterval(this.keepAlive);
    if (graceful) this.socket.end();
    else this.socket.destroy();
    this.onClose(err);
  }

  private newBatch(): JuteWriter {
    const guess = this.lastBatchBytes + (this.lastBatchBytes >> 2);
    return new JuteWriter(Math.min(OUT_MAX_INITIAL_BYTES, Math.max(OUT_MIN_BYTES, guess)));
  }

  private flush(): void {
    this.flushScheduled = false;
    const w = this.out;
    if (w === null || this.closed) return;
    this.out = null;
    this.lastBatchBytes = w.length;
    // The writer is dropped, so its buffer can go to the socket without a copy.
    this.socket.write(w.view());
  }

  /** Drop a half-written frame (its body failed to encode), keeping the frames before it. */
  private discardFrom(at: number): void {
    const kept = this.out!.view().subarray(0, at);
    this.out = null;
    if (kept.length > 0) {
      const w = new JuteWriter(Math.max(OUT_MIN_BYTES, kept.length));
      w.writeRaw(kept);
      this.out = w;
    }
  }

  private receive(chunk: Buffer): void {
    this.lastRecvMs = Date.now();
    try {
      this.decoder.push(chunk, (frame) => {
        if (!this.closed) this.onFrame(frame);
      });
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
