/**
 * An attacker on the peer ports: a raw connection that speaks zablab's peer wire format
 * (codec.ts) and claims a member id. It knows the protocol but not the ensemble's secret:
 * by default it offers a nonce and answers a challenge with a proof made of random bytes.
 * It records every frame and byte it receives, so that a test can check what leaked.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { encodeHandshake, encodeMessage, encodeProof, FrameDecoder, type Channel, type PeerFrame } from '../../src/server/quorum/codec.js';
import { newNonce, proofOf, PROOF_BYTES } from '../../src/server/quorum/peer-auth.js';
import type { Message } from '../../src/zab/index.js';

const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export interface FakePeerOptions {
  /**
   * How it answers a challenge: 'guess' (default) a random proof, 'none' it sends no nonce at
   * all (a peer without quorum.auth), or a secret to compute real proofs with (a member, or
   * one with the wrong secret); then `acceptorId` is the id of the server it dials.
   */
  auth?: 'guess' | 'none' | { secret: crypto.KeyObject; acceptorId: number };
  /** Dial with TLS, with these options (certificate, CA, ...). */
  tls?: tls.ConnectionOptions;
  /** Use this nonce instead of a fresh one (a replayed handshake). */
  nonce?: Buffer;
  /** Answer the challenge with this proof instead (a replayed proof). */
  proof?: Buffer;
  host?: string;
}

export class FakePeer {
  readonly frames: PeerFrame[] = [];
  readonly bytes: Buffer[] = [];
  closed = false;
  /** The proof it sent, if challenged (to replay it on another connection). */
  sentProof: Buffer | undefined;
  private readonly decoder = new FrameDecoder(MAX_FRAME_BYTES);
  readonly done: Promise<void>;

  private constructor(
    readonly socket: net.Socket,
    readonly claimedId: number,
    readonly channel: Channel,
    readonly nonce: Buffer | undefined,
    private readonly opts: FakePeerOptions,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.bytes.push(chunk);
      try {
        this.decoder.push(chunk, (f) => this.onFrame(f));
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    this.done = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  /** Connects to a peer port and sends a handshake claiming `claimedId`. Rejects when the connection cannot be made. */
  static async dial(port: number, claimedId: number, channel: Channel, opts: FakePeerOptions = {}): Promise<FakePeer> {
    const host = opts.host ?? '127.0.0.1';
    const socket = opts.tls === undefined ? net.connect({ host, port }) : tls.connect({ host, port, ...opts.tls });
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls === undefined ? 'connect' : 'secureConnect', resolve);
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed while connecting')));
    });
    const nonce = opts.auth === 'none' ? undefined : (opts.nonce ?? newNonce());
    const peer = new FakePeer(socket, claimedId, channel, nonce, opts);
    socket.write(encodeHandshake({ serverId: claimedId, channel, ...(nonce === undefined ? {} : { nonce }) }));
    return peer;
  }

  private onFrame(f: PeerFrame): void {
    this.frames.push(f);
    if (f.type !== 'challenge' || this.nonce === undefined) return;
    const auth = this.opts.auth ?? 'guess';
    let proof: Buffer;
    if (this.opts.proof !== undefined) proof = this.opts.proof;
    else if (auth === 'guess' || auth === 'none') proof = crypto.randomBytes(PROOF_BYTES);
    else proof = proofOf(auth.secret, 'dialer', { channel: this.channel, dialerId: this.claimedId, acceptorId: auth.acceptorId, dialerNonce: this.nonce, acceptorNonce: f.nonce });
    this.sentProof = proof;
    this.socket.write(encodeProof(proof));
  }

  send(msg: Message): void {
    if (!this.closed) this.socket.write(encodeMessage(msg));
  }

  /** Messages received (handshake frames left out). */
  messages(): Message[] {
    return this.frames.flatMap((f) => (f.type === 'message' ? [f.msg] : []));
  }

  /** Everything received, as one buffer. */
  received(): Buffer {
    return Buffer.concat(this.bytes);
  }

  /** Resolves with the first message of `kind`, or undefined once the connection closed or `timeoutMs` passed. */
  async waitFor(kind: Message['kind'], timeoutMs: number): Promise<Message | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.messages().find((x) => x.kind === kind);
      if (m !== undefined || this.closed || Date.now() > deadline) return m;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Resolves once the acceptor answered the handshake (true), or closed the connection or `timeoutMs` passed (false). */
  async answered(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.frames.some((f) => f.type === 'handshake')) return true;
      if (this.closed || Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Resolves true once the other side closed the connection, false after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([this.done.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
