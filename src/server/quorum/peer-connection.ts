/**
 * One TCP connection to a peer on one channel: frames in (decoded, in order), frames out
 * (batched: everything written in one event-loop turn leaves in one corked write, because
 * ZAB sends many small messages).
 */
import type net from 'node:net';
import tls from 'node:tls';
import { FrameDecoder, PeerProtocolError, type Channel, type Handshake, type PeerFrame } from './codec.js';

export interface TransportCounters {
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  messagesDropped: number;
}

export interface ConnectionEvents {
  frame(conn: PeerConnection, frame: PeerFrame, wireBytes: number): void;
  /** Fires once, unless the connection was closed with `silent`. `protocol` is set when the peer broke the protocol. */
  closed(conn: PeerConnection, reason: string, protocol: PeerProtocolError | undefined): void;
}

export type Direction = 'in' | 'out';

/** Errors that mean the other end is closed or nobody listens there. */
const PEER_ENDED_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

/** How long a gracefully closed connection may take to drain before it is destroyed. */
const GRACEFUL_CLOSE_MS = 2000;

export class PeerConnection {
  /** The peer's server id: expected (outgoing) or claimed in its handshake (incoming). */
  peerId: number | undefined;
  /** Handshakes exchanged; messages may flow. */
  established = false;
  /** Closed because the deadline of armTimeout passed. */
  timedOut = false;
  /** The other end closed, reset or refused it: its process may be gone (not: we closed it, or a timeout). */
  endedByPeer = false;
  /** Quorum authentication (peer-auth.ts): the nonce we sent, and the one the peer sent. */
  nonce: Buffer | undefined;
  peerNonce: Buffer | undefined;
  /** Incoming: the dialer's handshake, held until the dialer has proven it (or needs not). */
  hello: Handshake | undefined;
  /** The first byte received, if any: a TLS record (0x16) on a plaintext port means the peer has sslQuorum and we do not. */
  firstByte: number | undefined;
  private closed = false;
  private readonly decoder: FrameDecoder;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingMessages = 0;
  private flushScheduled = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly socket: net.Socket,
    readonly channel: Channel,
    readonly direction: Direction,
    maxFrameBytes: number,
    private readonly counters: TransportCounters,
    private readonly events: ConnectionEvents,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.setNoDelay(true); // we batch ourselves; Nagle would only add latency to ACKs
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (!this.closed && PEER_ENDED_CODES.has(e.code ?? '')) this.endedByPeer = true;
      this.close(errorReason(socket, e));
    });
    socket.on('close', () => {
      if (!this.closed) this.endedByPeer = true;
      this.close('connection closed by peer');
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** "127.0.0.1:2888" of the other end, for log lines. */
  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** Bytes written but not yet on the wire: ours plus the socket's buffer. */
  get backlogBytes(): number {
    return this.pendingBytes + this.socket.writableLength;
  }

  /** Raise the frame limit once the handshake says who the peer is. */
  setMaxFrameBytes(n: number): void {
    this.decoder.maxFrameBytes = n;
  }

  /** Queue a frame for this turn's batch. `isMessage` = false for handshakes (not counted as messages). */
  write(frame: Buffer, isMessage: boolean): void {
    if (this.closed) return;
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    if (isMessage) this.pendingMessages++;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Close unless something clears this first (handshake deadline). */
  armTimeout(ms: number, reason: string): void {
    this.disarmTimeout();
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.close(reason);
    }, ms);
    this.timer.unref();
  }

  disarmTimeout(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Close the connection. `silent` skips the closed event (the transport closed it itself).
   * `graceful` first sends what this turn wrote, then ends the stream: the peer receives
   * everything written before the close. Otherwise unsent frames are gone.
   */
  close(reason: string, protocol?: PeerProtocolError, silent = false, graceful = false): void {
    if (this.closed) return;
    if (graceful) this.flush();
    this.closed = true;
    this.decoder.abandon();
    this.disarmTimeout();
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingMessages = 0;
    if (graceful) {
      this.socket.end();
      // A peer that does not read must not hold the socket open.
      setTimeout(() => this.socket.destroy(), GRACEFUL_CLOSE_MS).unref();
    } else {
      this.socket.destroy();
    }
    if (!silent) this.events.closed(this, reason, protocol);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.pending.length === 0) return;
    const frames = this.pending;
    this.counters.bytesSent += this.pendingBytes;
    this.counters.messagesSent += this.pendingMessages;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingMessages = 0;
    // cork + many writes + uncork = one writev: no copy, one syscall.
    this.socket.cork();
    for (const f of frames) this.socket.write(f);
    this.socket.uncork();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.counters.bytesReceived += chunk.length;
    this.firstByte ??= chunk[0];
    try {
      this.decoder.push(chunk, (frame, wireBytes) => {
        if (!this.closed) this.events.frame(this, frame, wireBytes);
      });
    } catch (e) {
      if (!(e instanceof PeerProtocolError)) throw e;
      this.close(e.message, e);
    }
  }
}

/** An errno code says it all, except during a TLS handshake, where the TLS reason says which certificate or alert. */
function errorReason(socket: net.Socket, e: NodeJS.ErrnoException): string {
  const overTls = socket instanceof tls.TLSSocket;
  // EPROTO over TLS is a failed TLS handshake; other errno codes (ECONNREFUSED, ...) are the network's.
  if (e.code !== undefined && /^E[A-Z]+$/.test(e.code) && !(overTls && e.code === 'EPROTO')) return e.code;
  if (!overTls) return e.code ?? e.message;
  // OpenSSL's messages start with a hex prefix; keep its reason ("sslv3 alert bad certificate").
  const openssl = /SSL routines:[^:]*:([^:\n]+)/.exec(e.message)?.[1]?.trim();
  const text = openssl !== undefined ? `${e.code ?? 'error'} (${openssl})` : e.code === undefined ? e.message : `${e.code}: ${e.message.split('\n')[0]!.trim()}`;
  return `TLS: ${text}`;
}
