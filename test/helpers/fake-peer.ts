/**
 * An attacker on the peer ports: a raw connection that speaks zablab's peer wire format
 * (codec.ts) and claims a member id. It knows the protocol but not the ensemble's secret:
 * by default it offers a nonce and answers a challenge with a proof made of random bytes.
 * It records every frame and byte it receives, so that a test can check what leaked.
 *
 * It speaks this checkout's protocol version unless given another build's wire format
 * (`peerWireOf`): an older zablab (before protocol version 3) has no nonce, challenge or proof.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { JuteWriter } from '../../src/jute/index.js';
import { encodeApp, type AppMessage } from '../../src/server/quorum/app-messages.js';
import * as codec from '../../src/server/quorum/codec.js';
import type { Channel, Handshake, PeerFrame } from '../../src/server/quorum/codec.js';
import { newNonce, proofOf, PROOF_BYTES } from '../../src/server/quorum/peer-auth.js';
import type { Message } from '../../src/zab/index.js';

const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * A zablab build's peer wire format: its codec.ts and app-messages.ts encoders. Messages of an
 * older version lack fields this checkout's have (the encoder leaves them out; decoded frames
 * miss them).
 */
export interface PeerWire {
  readonly PEER_PROTOCOL_VERSION: number;
  encodeHandshake(h: Handshake): Buffer;
  encodeMessage(msg: Message): Buffer;
  /** Absent before protocol version 3 (no quorum authentication). */
  encodeProof?: (proof: Buffer) => Buffer;
  FrameDecoder: new (maxFrameBytes: number) => { push(chunk: Buffer, onFrame: (f: PeerFrame) => void): void };
  encodeApp(m: AppMessage): Uint8Array;
}

/** This checkout's wire format. */
export const THIS_WIRE: PeerWire = { ...codec, encodeApp };

/**
 * The wire format of the built zablab checkout at `root` (its dist/server/quorum/codec.js and
 * app-messages.js), so that a fake speaks whatever protocol version that checkout's servers do.
 * Rejects, saying what is missing, when the checkout is not built or lacks these modules.
 */
export async function peerWireOf(root: string): Promise<PeerWire> {
  const dir = path.join(path.resolve(root), 'dist', 'server', 'quorum');
  const load = async (file: string): Promise<Record<string, unknown>> => (await import(pathToFileURL(path.join(dir, file)).href)) as Record<string, unknown>;
  const c = await load('codec.js');
  const app = await load('app-messages.js');
  const wire: Record<string, unknown> = { ...c, encodeApp: app['encodeApp'] };
  for (const name of ['encodeHandshake', 'encodeMessage', 'FrameDecoder', 'encodeApp'] as const) {
    if (typeof wire[name] !== 'function') throw new Error(`${dir} has no ${name}: not a zablab peer codec this helper knows`);
  }
  if (typeof wire['PEER_PROTOCOL_VERSION'] !== 'number') throw new Error(`${dir}/codec.js exports no PEER_PROTOCOL_VERSION`);
  return wire as unknown as PeerWire;
}

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
  /** The wire format to speak (default THIS_WIRE). */
  wire?: PeerWire;
}

export class FakePeer {
  readonly frames: PeerFrame[] = [];
  readonly bytes: Buffer[] = [];
  closed = false;
  /** The proof it sent, if challenged (to replay it on another connection). */
  sentProof: Buffer | undefined;
  private readonly decoder: InstanceType<PeerWire['FrameDecoder']>;
  private readonly wire: PeerWire;
  readonly done: Promise<void>;

  private constructor(
    readonly socket: net.Socket,
    readonly claimedId: number,
    readonly channel: Channel,
    readonly nonce: Buffer | undefined,
    private readonly opts: FakePeerOptions,
  ) {
    this.wire = opts.wire ?? THIS_WIRE;
    this.decoder = new this.wire.FrameDecoder(MAX_FRAME_BYTES);
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
    const wire = opts.wire ?? THIS_WIRE;
    // A build without quorum authentication has no nonce in its handshake.
    const nonce = opts.auth === 'none' || wire.encodeProof === undefined ? undefined : (opts.nonce ?? newNonce());
    const peer = new FakePeer(socket, claimedId, channel, nonce, opts);
    socket.write(wire.encodeHandshake({ serverId: claimedId, channel, ...(nonce === undefined ? {} : { nonce }) }));
    return peer;
  }

  private onFrame(f: PeerFrame): void {
    this.frames.push(f);
    const encodeProof = this.wire.encodeProof;
    if (f.type !== 'challenge' || this.nonce === undefined || encodeProof === undefined) return;
    const auth = this.opts.auth ?? 'guess';
    let proof: Buffer;
    if (this.opts.proof !== undefined) proof = this.opts.proof;
    else if (auth === 'guess' || auth === 'none') proof = crypto.randomBytes(PROOF_BYTES);
    else proof = proofOf(auth.secret, 'dialer', { channel: this.channel, dialerId: this.claimedId, acceptorId: auth.acceptorId, dialerNonce: this.nonce, acceptorNonce: f.nonce });
    this.sentProof = proof;
    this.socket.write(encodeProof(proof));
  }

  send(msg: Message): void {
    if (!this.closed) this.socket.write(this.wire.encodeMessage(msg));
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

/**
 * A fake learner: dials a leader's quorum port as `claimedId` and runs discovery and sync as
 * far as the leader lets it (FOLLOWERINFO; ACKEPOCH once LEADERINFO came; the ACK of NEWLEADER).
 * Null when it cannot even connect (a TLS port refuses it).
 */
export async function fakeLearner(quorumPort: number, claimedId: number, opts: FakePeerOptions = {}): Promise<FakePeer | null> {
  let fake: FakePeer;
  try {
    fake = await FakePeer.dial(quorumPort, claimedId, 'quorum', opts);
  } catch {
    return null;
  }
  // Goes on as soon as the leader answers the handshake (or refuses it), before the real member redials.
  await fake.answered(2000);
  fake.send({ kind: 'followerinfo', acceptedEpoch: 0n, lastZxid: 0n, observer: false, recovering: false });
  const info = await fake.waitFor('leaderinfo', 3000);
  if (info?.kind === 'leaderinfo') fake.send({ kind: 'ackepoch', epoch: info.newEpoch, currentEpoch: 0n, lastZxid: 0n });
  const newleader = await fake.waitFor('newleader', 3000);
  if (newleader?.kind === 'newleader') fake.send({ kind: 'ack', zxid: newleader.zxid });
  return fake;
}

/**
 * The payload of an APP message a learner forwards to its leader: a client request of session
 * `sessionId` (`write` writes its record), carrying `super` auth.
 */
export function forgedSuperRequest(sessionId: bigint, cxid: number, type: number, write: (w: JuteWriter) => void, wire: PeerWire = THIS_WIRE): Uint8Array {
  const w = new JuteWriter(64);
  write(w);
  return wire.encodeApp({ kind: 'request', sessionId, cxid, type, body: w.toBuffer(), authInfo: [{ scheme: 'super', id: 'super' }], trace: '' });
}

/** A member's peer ports, as a flood aims at them. */
export interface PeerPorts {
  id: number;
  quorumPort: number;
  electionPort: number;
}

/** How often a flood dials each port, and how long each fake stays open. */
export const FLOOD_INTERVAL_MS = 50;
const FLOOD_HOLD_MS = 200;

/**
 * Every 50 ms (20 Hz), on every member's quorum and election port, a handshake claiming another
 * member's id (and, on an election port, a LOOKING notification for that id with a high epoch),
 * each closed after 200 ms. Returns the stop, which also closes the fakes still open.
 */
export function floodPeerPorts(members: readonly PeerPorts[], opts: FakePeerOptions = {}): () => void {
  const open = new Set<FakePeer>();
  const ids = members.map((s) => s.id);
  const timer = setInterval(() => {
    for (const s of members) {
      for (const channel of ['quorum', 'election'] as const) {
        const others = ids.filter((id) => id !== s.id);
        const claimed = others[Math.floor(Math.random() * others.length)]!;
        FakePeer.dial(channel === 'quorum' ? s.quorumPort : s.electionPort, claimed, channel, opts).then(
          (f) => {
            open.add(f);
            void f.done.then(() => open.delete(f));
            if (channel === 'election') f.send({ kind: 'notification', state: 'LOOKING', leader: claimed, zxid: 1n << 40n, electionEpoch: 1000n, peerEpoch: 1000n, recovering: false });
            setTimeout(() => f.close(), FLOOD_HOLD_MS);
          },
          () => undefined,
        );
      }
    }
  }, FLOOD_INTERVAL_MS);
  return () => {
    clearInterval(timer);
    for (const f of open) f.close();
  };
}
