/**
 * A real TCP peer on 127.0.0.1 whose replies the test writes by hand, to drive the client
 * into situations a healthy ZooKeeper never produces (wrong xids, huge frames, silence).
 */
import net from 'node:net';
import {
  ConnectRequest,
  ConnectResponse,
  JuteReader,
  JuteWriter,
  ReplyHeader,
  RequestHeader,
} from '../../../src/jute/index.js';

export interface Request {
  xid: number;
  type: number;
  /** The body after the RequestHeader. */
  body: JuteReader;
}

/** One accepted connection; frames are parsed with plain concatenation, independent of the client's decoder. */
export class Peer {
  readonly frames: Buffer[] = [];
  dataEvents = 0;
  private buffered = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.dataEvents++;
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4) {
        const len = this.buffered.readInt32BE(0);
        if (this.buffered.length < 4 + len) break;
        this.frames.push(this.buffered.subarray(4, 4 + len));
        this.buffered = this.buffered.subarray(4 + len);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Wait until `n` frames have arrived in total (or the peer closed). */
  async waitFrames(n: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      if (this.closed) throw new Error(`peer closed after ${this.frames.length} of ${n} frames`);
      if (Date.now() > deadline) throw new Error(`only ${this.frames.length} of ${n} frames within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  connectRequest(): ConnectRequest & { readOnly: boolean } {
    const r = new JuteReader(this.frames[0]!);
    const req = ConnectRequest.read(r);
    return { ...req, readOnly: r.remaining > 0 ? r.readBool() : false };
  }

  /** The i-th frame after the ConnectRequest. */
  request(i: number): Request {
    const r = new JuteReader(this.frames[i + 1]!);
    const h = RequestHeader.read(r);
    return { xid: h.xid, type: h.type, body: r };
  }

  send(build: (w: JuteWriter) => void): void {
    const w = new JuteWriter();
    const at = w.reserveLength();
    build(w);
    w.patchLength(at);
    this.socket.write(w.toBuffer());
  }

  accept(sessionId: bigint, timeOut = 30_000): void {
    this.send((w) => {
      ConnectResponse.write(w, { protocolVersion: 0, timeOut, sessionId, passwd: Buffer.alloc(16, 9) });
      w.writeBool(false);
    });
  }

  reply(xid: number, zxid: bigint, err: number, body?: (w: JuteWriter) => void): void {
    this.send((w) => {
      ReplyHeader.write(w, { xid, zxid, err });
      body?.(w);
    });
  }
}

export class ScriptedServer {
  readonly peers: Peer[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: net.Server) {
    server.on('connection', (socket) => {
      this.peers.push(new Peer(socket));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async start(): Promise<ScriptedServer> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new ScriptedServer(server);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The n-th accepted connection (0-based), once it has sent its ConnectRequest. */
  async peer(n: number, timeoutMs = 5_000): Promise<Peer> {
    const deadline = Date.now() + timeoutMs;
    while (this.peers.length <= n) {
      if (Date.now() > deadline) throw new Error(`no connection #${n} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    const peer = this.peers[n]!;
    await peer.waitFrames(1, timeoutMs);
    return peer;
  }

  async close(): Promise<void> {
    for (const p of this.peers) p.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
