/**
 * The peer wire format: one frame layout for every ZAB message and for the handshake.
 *
 *   int32 length (of what follows) | uint16 magic 'ZB' | uint8 version | uint8 kind code | body
 *
 * Bodies are jute-style big-endian: int, long, buffer = int length + bytes, string = int
 * length + utf8. Kind codes reuse ZooKeeper's Leader packet numbers where ZooKeeper has one
 * (PROPOSAL 2 ... ACKEPOCH 18) so that a packet capture reads familiar; FOLLOWERINFO and
 * OBSERVERINFO keep their two codes and decode to `followerinfo` with `observer` set.
 */
import { JuteDecodeError, JuteReader, JuteWriter } from '../../jute/index.js';
import { snapshotLength, type Message, type PeerState, type SnapshotBytes, type Txn } from '../../zab/index.js';
import { ArrivingSnapshot } from './arriving-snapshot.js';

export const PEER_MAGIC = 0x5a42; // 'ZB'
/**
 * 2: notifications and FOLLOWERINFO say whether the sender is recovering from storage damage.
 * 3: the handshake carries a nonce and a proof, and CHALLENGE and PROOF frames exist (quorum authentication, peer-auth.ts).
 * 5: a SNAP frame gives the snapshot's length, and the snapshot follows in SNAP_CHUNK frames.
 * 6: a SNAP may be streamed: its frame gives the length as -2 (not known yet), chunks follow as
 *    the leader encodes them, and a SNAP_END frame gives the length they added up to.
 */
export const PEER_PROTOCOL_VERSION = 6;

/** Bytes of the length prefix. */
export const LENGTH_PREFIX_BYTES = 4;
/** magic + version + kind: the smallest legal frame body. */
export const FRAME_HEADER_BYTES = 4;
/** Default frame limit (a txn is at most jute.maxbuffer; a SNAP's tree travels in chunks). */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
/**
 * A SNAP's snapshot travels in frames of this much at most, after the SNAP frame that gives
 * its length: a tree of a million znodes (~200 MB) is bigger than any sane frame limit.
 */
export const SNAP_CHUNK_BYTES = 4 * 1024 * 1024;
/** The largest snapshot a SNAP may carry (jute lengths are signed 32-bit). */
export const MAX_SNAPSHOT_BYTES = 0x7fffffff;
/** A SNAP frame's length field: no snapshot follows (the sender's host fills it in)... */
const SNAP_NO_SNAPSHOT = -1;
/** ...or a streamed one follows, whose length its SNAP_END frame gives. */
const SNAP_STREAMED = -2;
/** Election frames are notifications only: a few longs. */
export const ELECTION_MAX_FRAME_BYTES = 1024;
/** A handshake is at most 85 bytes of body (id, channel, nonce, proof); anything much bigger before it is garbage. */
export const HANDSHAKE_MAX_FRAME_BYTES = 128;
/** Nonces and proofs are 32 bytes (peer-auth.ts); absent ones are empty on the wire. */
const AUTH_FIELD_BYTES = 32;

export type Channel = 'election' | 'quorum';

/**
 * The dialer's first frame, and the acceptor's answer once it accepts. Magic and version ride
 * in the frame header. With quorum authentication the dialer's carries its nonce and the
 * acceptor's its proof.
 */
export interface Handshake {
  serverId: number;
  channel: Channel;
  nonce?: Buffer;
  proof?: Buffer;
}

/** Handshake frames, then messages once the connection is established. */
export type PeerFrame =
  | { type: 'handshake'; handshake: Handshake }
  /** The acceptor's nonce: the dialer must answer with a proof. */
  | { type: 'challenge'; nonce: Buffer }
  | { type: 'proof'; proof: Buffer }
  | { type: 'message'; msg: Message }
  /**
   * A SNAP whose snapshot of `total` bytes follows in snapChunk frames (FrameDecoder puts them
   * together); `total` null: streamed, ended by a snapEnd frame.
   */
  | { type: 'snapHead'; zxid: bigint; total: number | null }
  | { type: 'snapChunk'; bytes: Buffer }
  | { type: 'snapEnd'; total: number }
  /** FrameDecoder's, at a SNAP's frame: its snapshot as the chunks arrive (the message follows at the end). */
  | { type: 'snapArriving'; snapshot: ArrivingSnapshot };

/** Kind codes on the wire. */
export const FrameKind = {
  HANDSHAKE: 0,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  INFORM: 8,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
  NOTIFICATION: 64,
  PINGREPLY: 65,
  APP: 66,
  CHALLENGE: 67,
  PROOF: 68,
  SNAP_CHUNK: 69,
  SNAP_END: 70,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export type PeerProtocolReason =
  | 'bad-length'
  | 'frame-too-large'
  | 'bad-magic'
  | 'bad-version'
  | 'unknown-kind'
  | 'truncated'
  | 'trailing-bytes'
  | 'bad-value'
  | 'unexpected-frame';

/** Bytes from a peer that do not follow this protocol; the connection cannot be trusted after it. */
export class PeerProtocolError extends Error {
  readonly code = 'ZABLAB_PEER_PROTOCOL';
  constructor(
    readonly reason: PeerProtocolReason,
    message: string,
  ) {
    super(message);
    this.name = 'PeerProtocolError';
  }
}

// ServerState ordinals, as ZooKeeper's notifications carry them.
const STATE_CODES: Record<PeerState, number> = { LOOKING: 0, FOLLOWING: 1, LEADING: 2, OBSERVING: 3 };
const STATES: readonly PeerState[] = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'];
const CHANNEL_CODES: Record<Channel, number> = { election: 1, quorum: 2 };

// ---------------------------------------------------------------------------------------
// Encoding

/**
 * The whole frame for `msg`, length prefix included (for a SNAP with a snapshot: its frame
 * and the SNAP_CHUNK frames after it, in one buffer). Throws RangeError on a non-integer id.
 */
export function encodeMessage(msg: Message, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  const frames = encodeFrames(msg, maxFrameBytes);
  return frames.length === 1 ? frames[0]! : Buffer.concat(frames);
}

/**
 * encodeMessage's bytes in pieces to write in order: one frame, or for a SNAP with a
 * snapshot its frame and each chunk frame's header and bytes (views of the snapshot's own
 * pieces: a snapshot as big as the tree is never copied into one buffer).
 */
export function encodeFrames(msg: Message, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer[] {
  if (msg.kind === 'snap' && msg.snapshot !== undefined) return encodeSnap(msg.zxid, msg.snapshot, Math.min(SNAP_CHUNK_BYTES, maxFrameBytes - FRAME_HEADER_BYTES));
  const w = new JuteWriter(LENGTH_PREFIX_BYTES + FRAME_HEADER_BYTES + bodySizeHint(msg));
  const at = w.reserveLength();
  writeHeader(w, kindCodeOf(msg));
  writeBody(w, msg);
  w.patchLength(at);
  // The writer is discarded, so its view is ours; sized by the hint, it wastes nothing.
  return [w.view()];
}

function encodeSnap(zxid: bigint, snapshot: SnapshotBytes, chunkBytes: number): Buffer[] {
  const total = snapshotLength(snapshot);
  if (total > MAX_SNAPSHOT_BYTES) throw new RangeError(`a snapshot of ${total} bytes is over the ${MAX_SNAPSHOT_BYTES}-byte limit of a SNAP`);
  const out: Buffer[] = [encodeSnapHead(zxid, total)];
  for (const part of snapshot instanceof Uint8Array ? [snapshot] : snapshot) out.push(...encodeSnapChunks(part, chunkBytes));
  return out;
}

/** A SNAP frame whose snapshot of `total` bytes follows, or (null) is streamed until a SNAP_END frame. */
export function encodeSnapHead(zxid: bigint, total: number | null): Buffer {
  const head = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + FRAME_HEADER_BYTES + 12);
  const at = writeHeaderAt(head, head.writeInt32BE(FRAME_HEADER_BYTES + 12, 0), FrameKind.SNAP);
  head.writeBigInt64BE(BigInt.asIntN(64, zxid), at);
  head.writeInt32BE(total ?? SNAP_STREAMED, at + 8);
  return head;
}

/** SNAP_CHUNK frames for a piece of a snapshot: each frame's header, then a view of its bytes. */
export function encodeSnapChunks(part: Uint8Array, chunkBytes: number): Buffer[] {
  const out: Buffer[] = [];
  for (let from = 0; from < part.length; from += chunkBytes) {
    const n = Math.min(chunkBytes, part.length - from);
    const header = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + FRAME_HEADER_BYTES);
    writeHeaderAt(header, header.writeInt32BE(FRAME_HEADER_BYTES + n, 0), FrameKind.SNAP_CHUNK);
    out.push(header, Buffer.from(part.buffer, part.byteOffset + from, n));
  }
  return out;
}

/** The frame that ends a streamed SNAP: the length its chunks added up to. */
export function encodeSnapEnd(total: number): Buffer {
  const frame = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + FRAME_HEADER_BYTES + 4);
  frame.writeInt32BE(total, writeHeaderAt(frame, frame.writeInt32BE(FRAME_HEADER_BYTES + 4, 0), FrameKind.SNAP_END));
  return frame;
}

function writeHeaderAt(out: Buffer, at: number, kind: FrameKind): number {
  at = out.writeUInt16BE(PEER_MAGIC, at);
  out[at++] = PEER_PROTOCOL_VERSION;
  out[at++] = kind;
  return at;
}

export function encodeHandshake(h: Handshake): Buffer {
  const w = new JuteWriter(LENGTH_PREFIX_BYTES + FRAME_HEADER_BYTES + 17 + 2 * AUTH_FIELD_BYTES);
  const at = w.reserveLength();
  writeHeader(w, FrameKind.HANDSHAKE);
  w.writeLong(idToLong(h.serverId));
  w.writeByte(CHANNEL_CODES[h.channel]);
  w.writeBuffer(h.nonce ?? EMPTY);
  w.writeBuffer(h.proof ?? EMPTY);
  w.patchLength(at);
  return w.toBuffer();
}

export function encodeChallenge(nonce: Buffer): Buffer {
  return authFrame(FrameKind.CHALLENGE, nonce);
}

export function encodeProof(proof: Buffer): Buffer {
  return authFrame(FrameKind.PROOF, proof);
}

const EMPTY = Buffer.alloc(0);

function authFrame(kind: FrameKind, field: Buffer): Buffer {
  const w = new JuteWriter(LENGTH_PREFIX_BYTES + FRAME_HEADER_BYTES + 4 + field.length);
  const at = w.reserveLength();
  writeHeader(w, kind);
  w.writeBuffer(field);
  w.patchLength(at);
  return w.toBuffer();
}

function writeHeader(w: JuteWriter, kind: FrameKind): void {
  w.writeByte(PEER_MAGIC >> 8);
  w.writeByte(PEER_MAGIC & 0xff);
  w.writeByte(PEER_PROTOCOL_VERSION);
  w.writeByte(kind);
}

export function kindCodeOf(msg: Message): FrameKind {
  switch (msg.kind) {
    case 'notification':
      return FrameKind.NOTIFICATION;
    case 'followerinfo':
      return msg.observer ? FrameKind.OBSERVERINFO : FrameKind.FOLLOWERINFO;
    case 'leaderinfo':
      return FrameKind.LEADERINFO;
    case 'ackepoch':
      return FrameKind.ACKEPOCH;
    case 'diff':
      return FrameKind.DIFF;
    case 'trunc':
      return FrameKind.TRUNC;
    case 'snap':
      return FrameKind.SNAP;
    case 'proposal':
      return FrameKind.PROPOSAL;
    case 'commit':
      return FrameKind.COMMIT;
    case 'inform':
      return FrameKind.INFORM;
    case 'newleader':
      return FrameKind.NEWLEADER;
    case 'ack':
      return FrameKind.ACK;
    case 'uptodate':
      return FrameKind.UPTODATE;
    case 'ping':
      return FrameKind.PING;
    case 'pingreply':
      return FrameKind.PINGREPLY;
    case 'app':
      return FrameKind.APP;
  }
}

function bodySizeHint(msg: Message): number {
  switch (msg.kind) {
    case 'proposal':
    case 'inform':
      return 8 + 4 + msg.txn.data.length + 4 + (msg.txn.trace?.length ?? 0) * 3;
    case 'snap':
      return 8 + 4;
    case 'app':
      return 4 + msg.payload.length;
    case 'notification':
      return 4 + 8 * 4 + 1;
    case 'followerinfo':
      return 17;
    case 'ackepoch':
      return 24;
    case 'leaderinfo':
    case 'diff':
    case 'trunc':
    case 'commit':
    case 'newleader':
    case 'ack':
    case 'uptodate':
    case 'ping':
    case 'pingreply':
      return 16;
  }
}

function writeBody(w: JuteWriter, msg: Message): void {
  switch (msg.kind) {
    case 'notification':
      w.writeInt(STATE_CODES[msg.state]);
      w.writeLong(idToLong(msg.leader));
      w.writeLong(msg.zxid);
      w.writeLong(msg.electionEpoch);
      w.writeLong(msg.peerEpoch);
      w.writeBool(msg.recovering);
      return;
    case 'followerinfo':
      w.writeLong(msg.acceptedEpoch);
      w.writeLong(msg.lastZxid);
      w.writeBool(msg.recovering);
      return;
    case 'leaderinfo':
      w.writeLong(msg.newEpoch);
      return;
    case 'ackepoch':
      w.writeLong(msg.epoch);
      w.writeLong(msg.currentEpoch);
      w.writeLong(msg.lastZxid);
      return;
    case 'snap':
      w.writeLong(msg.zxid);
      w.writeInt(msg.snapshot === undefined ? -1 : snapshotLength(msg.snapshot));
      return;
    case 'proposal':
    case 'inform':
      writeTxn(w, msg.txn);
      return;
    case 'app':
      w.writeBuffer(msg.payload);
      return;
    case 'diff':
    case 'trunc':
    case 'commit':
    case 'newleader':
    case 'ack':
    case 'uptodate':
    case 'ping':
    case 'pingreply':
      w.writeLong(msg.zxid);
      return;
  }
}

function writeTxn(w: JuteWriter, txn: Txn): void {
  w.writeLong(txn.zxid);
  w.writeBuffer(txn.data);
  w.writeString(txn.trace ?? '');
}

function idToLong(id: number): bigint {
  if (!Number.isSafeInteger(id)) throw new RangeError(`server id must be an integer, got ${id}`);
  return BigInt(id);
}

// ---------------------------------------------------------------------------------------
// Decoding

/** Decode one frame body (the bytes after the length prefix): a handshake or a message. */
export function decodeFrame(frame: Buffer): PeerFrame {
  const kind = checkHeader(frame);
  const r = new JuteReader(frame, FRAME_HEADER_BYTES);
  let out: PeerFrame;
  try {
    out = readFrame(r, kind);
  } catch (e) {
    if (e instanceof JuteDecodeError) throw new PeerProtocolError('truncated', `${kindName(kind)} frame: ${e.message}`);
    throw e;
  }
  if (r.remaining !== 0) {
    throw new PeerProtocolError('trailing-bytes', `${kindName(kind)} frame has ${r.remaining} bytes after its body`);
  }
  return out;
}

/** Decode a frame body that must hold a message (not a handshake). */
export function decodeMessage(frame: Buffer): Message {
  const f = decodeFrame(frame);
  if (f.type !== 'message') throw new PeerProtocolError('unexpected-frame', 'expected a message frame, got a handshake');
  return f.msg;
}

export function decodeHandshake(frame: Buffer): Handshake {
  const f = decodeFrame(frame);
  if (f.type !== 'handshake') throw new PeerProtocolError('unexpected-frame', `expected a handshake frame, got ${frameName(f)}`);
  return f.handshake;
}

/** What a frame is, for log lines and errors. */
export function frameName(f: PeerFrame): string {
  return f.type === 'message' ? f.msg.kind : f.type;
}

function readFrame(r: JuteReader, kind: number): PeerFrame {
  switch (kind) {
    case FrameKind.HANDSHAKE:
      return { type: 'handshake', handshake: readHandshake(r) };
    case FrameKind.CHALLENGE:
      return { type: 'challenge', nonce: authField(r, 'challenge nonce', true)! };
    case FrameKind.PROOF:
      return { type: 'proof', proof: authField(r, 'proof', true)! };
    case FrameKind.SNAP: {
      const zxid = r.readLong();
      const total = r.readInt();
      if (total === SNAP_NO_SNAPSHOT) return { type: 'message', msg: { kind: 'snap', zxid } };
      if (total === SNAP_STREAMED) return { type: 'snapHead', zxid, total: null };
      if (total < 0) throw new PeerProtocolError('bad-value', `SNAP snapshot length ${total}`);
      return { type: 'snapHead', zxid, total };
    }
    case FrameKind.SNAP_CHUNK:
      return { type: 'snapChunk', bytes: r.readRaw(r.remaining) };
    case FrameKind.SNAP_END: {
      const total = r.readInt();
      if (total < 0) throw new PeerProtocolError('bad-value', `SNAP_END snapshot length ${total}`);
      return { type: 'snapEnd', total };
    }
    default:
      return { type: 'message', msg: readBody(r, kind) };
  }
}

/** A nonce or proof: exactly 32 bytes, or (when optional) empty for none. */
function authField(r: JuteReader, what: string, required: boolean): Buffer | undefined {
  const b = r.readBuffer();
  if ((b === null || b.length === 0) && !required) return undefined;
  if (b === null || b.length !== AUTH_FIELD_BYTES) {
    throw new PeerProtocolError('bad-value', `${what} of ${b?.length ?? 0} bytes; it must be ${AUTH_FIELD_BYTES}`);
  }
  return b;
}

function checkHeader(frame: Buffer): number {
  if (frame.length < FRAME_HEADER_BYTES) {
    throw new PeerProtocolError('bad-length', `frame of ${frame.length} bytes is shorter than the ${FRAME_HEADER_BYTES}-byte header`);
  }
  const magic = frame.readUInt16BE(0);
  if (magic !== PEER_MAGIC) {
    throw new PeerProtocolError('bad-magic', `bad magic 0x${magic.toString(16).padStart(4, '0')} (expected 0x5a42): the peer is not a zablab server`);
  }
  const version = frame[2]!;
  if (version !== PEER_PROTOCOL_VERSION) {
    throw new PeerProtocolError('bad-version', `peer speaks protocol version ${version}, this server speaks ${PEER_PROTOCOL_VERSION}; run the same zablab version on every server`);
  }
  return frame[3]!;
}

function readHandshake(r: JuteReader): Handshake {
  const serverId = longToId(r.readLong(), 'handshake server id');
  const code = r.readByte();
  const channel = code === CHANNEL_CODES.election ? 'election' : code === CHANNEL_CODES.quorum ? 'quorum' : undefined;
  if (channel === undefined) throw new PeerProtocolError('bad-value', `unknown channel code ${code} in handshake`);
  const h: Handshake = { serverId, channel };
  const nonce = authField(r, 'handshake nonce', false);
  const proof = authField(r, 'handshake proof', false);
  if (nonce !== undefined) h.nonce = nonce;
  if (proof !== undefined) h.proof = proof;
  return h;
}

function readBody(r: JuteReader, kind: number): Message {
  switch (kind) {
    case FrameKind.NOTIFICATION: {
      const stateCode = r.readInt();
      const state = STATES[stateCode];
      if (state === undefined) throw new PeerProtocolError('bad-value', `unknown peer state ${stateCode} in notification`);
      const leader = longToId(r.readLong(), 'notification leader');
      return {
        kind: 'notification',
        state,
        leader,
        zxid: r.readLong(),
        electionEpoch: r.readLong(),
        peerEpoch: r.readLong(),
        recovering: r.readBool(),
      };
    }
    case FrameKind.FOLLOWERINFO:
    case FrameKind.OBSERVERINFO:
      return {
        kind: 'followerinfo',
        acceptedEpoch: r.readLong(),
        lastZxid: r.readLong(),
        observer: kind === FrameKind.OBSERVERINFO,
        recovering: r.readBool(),
      };
    case FrameKind.LEADERINFO:
      return { kind: 'leaderinfo', newEpoch: r.readLong() };
    case FrameKind.ACKEPOCH:
      return { kind: 'ackepoch', epoch: r.readLong(), currentEpoch: r.readLong(), lastZxid: r.readLong() };
    case FrameKind.PROPOSAL:
      return { kind: 'proposal', txn: readTxn(r) };
    case FrameKind.INFORM:
      return { kind: 'inform', txn: readTxn(r) };
    case FrameKind.APP:
      return { kind: 'app', payload: requiredBuffer(r, 'app payload') };
    case FrameKind.DIFF:
      return { kind: 'diff', zxid: r.readLong() };
    case FrameKind.TRUNC:
      return { kind: 'trunc', zxid: r.readLong() };
    case FrameKind.COMMIT:
      return { kind: 'commit', zxid: r.readLong() };
    case FrameKind.NEWLEADER:
      return { kind: 'newleader', zxid: r.readLong() };
    case FrameKind.ACK:
      return { kind: 'ack', zxid: r.readLong() };
    case FrameKind.UPTODATE:
      return { kind: 'uptodate', zxid: r.readLong() };
    case FrameKind.PING:
      return { kind: 'ping', zxid: r.readLong() };
    case FrameKind.PINGREPLY:
      return { kind: 'pingreply', zxid: r.readLong() };
    default:
      throw new PeerProtocolError('unknown-kind', `unknown frame kind ${kind}; the peer may run a newer zablab`);
  }
}

function readTxn(r: JuteReader): Txn {
  const zxid = r.readLong();
  const data = requiredBuffer(r, 'txn data');
  const trace = r.readString();
  if (trace === null) throw new PeerProtocolError('bad-value', 'txn trace is null; an absent trace is the empty string');
  return trace === '' ? { zxid, data } : { zxid, data, trace };
}

function requiredBuffer(r: JuteReader, what: string): Buffer {
  const b = r.readBuffer();
  if (b === null) throw new PeerProtocolError('bad-value', `${what} is null`);
  return b;
}

function longToId(v: bigint, what: string): number {
  if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new PeerProtocolError('bad-value', `${what} ${v} is out of range`);
  }
  return Number(v);
}

function kindName(kind: number): string {
  for (const [name, code] of Object.entries(FrameKind)) if (code === kind) return name;
  return `kind ${kind}`;
}

// ---------------------------------------------------------------------------------------
// Stream framing

/**
 * Splits a byte stream into frames and decodes them. Never buffers more than one frame (and
 * the chunks of one SNAP's snapshot, up to the length its SNAP frame gave), and refuses a
 * length over `maxFrameBytes` before allocating it. The limit may be raised between frames
 * (after a handshake). After a PeerProtocolError the stream is unusable.
 */
/** A SNAP's chunks so far; `total` null: streamed (a SNAP_END frame ends it). */
interface ArrivingSnap {
  total: number | null;
  parts: ArrivingSnapshot;
  have: number;
  wireBytes: number;
}

export class FrameDecoder {
  private readonly lengthBuf = Buffer.alloc(LENGTH_PREFIX_BYTES);
  private lengthHave = 0;
  private body: Buffer | null = null;
  private bodyHave = 0;
  private failed: PeerProtocolError | null = null;
  /** A SNAP whose chunks are arriving. */
  private snap: ArrivingSnap | null = null;

  constructor(public maxFrameBytes: number) {}

  /** Bytes of an incomplete frame held right now. */
  get buffered(): number {
    return (this.body === null ? this.lengthHave : LENGTH_PREFIX_BYTES + this.bodyHave) + (this.snap?.have ?? 0);
  }

  /**
   * Feed bytes; `onFrame` gets each decoded frame in order, with its size on the wire.
   * Throws PeerProtocolError (and keeps throwing) once the stream is broken.
   */
  push(chunk: Buffer, onFrame: (frame: PeerFrame, wireBytes: number) => void): void {
    if (this.failed !== null) throw this.failed;
    try {
      this.consume(chunk, onFrame);
    } catch (e) {
      if (e instanceof PeerProtocolError) this.failed = e;
      throw e;
    }
  }

  private consume(chunk: Buffer, onFrame: (frame: PeerFrame, wireBytes: number) => void): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.body !== null) {
        const body = this.body;
        const take = Math.min(body.length - this.bodyHave, chunk.length - off);
        chunk.copy(body, this.bodyHave, off, off + take);
        this.bodyHave += take;
        off += take;
        if (this.bodyHave < body.length) return;
        this.body = null;
        this.emit(decodeFrame(body), LENGTH_PREFIX_BYTES + body.length, onFrame, true);
        continue;
      }
      if (this.lengthHave === 0 && chunk.length - off >= LENGTH_PREFIX_BYTES) {
        const len = this.checkLength(chunk.readInt32BE(off));
        off += LENGTH_PREFIX_BYTES;
        if (chunk.length - off >= len) {
          // Whole frame in this chunk: decode from a view (decoding copies what it keeps).
          const frame = chunk.subarray(off, off + len);
          off += len;
          this.emit(decodeFrame(frame), LENGTH_PREFIX_BYTES + len, onFrame);
        } else {
          this.startBody(len);
        }
        continue;
      }
      const take = Math.min(LENGTH_PREFIX_BYTES - this.lengthHave, chunk.length - off);
      chunk.copy(this.lengthBuf, this.lengthHave, off, off + take);
      this.lengthHave += take;
      off += take;
      if (this.lengthHave < LENGTH_PREFIX_BYTES) return;
      this.lengthHave = 0;
      this.startBody(this.checkLength(this.lengthBuf.readInt32BE(0)));
    }
  }

  /** Pass a frame on, putting a SNAP's chunks together first. */
  /** `owned`: the frame's bytes are a buffer of its own (a body put together from several reads), not a view of the caller's chunk. */
  private emit(f: PeerFrame, wireBytes: number, onFrame: (frame: PeerFrame, wireBytes: number) => void, owned = false): void {
    const snap = this.snap;
    if (snap !== null) {
      snap.wireBytes += wireBytes;
      if (f.type === 'snapEnd' && snap.total === null) {
        if (f.total !== snap.have) throw new PeerProtocolError('bad-length', `a streamed SNAP's chunks carry ${snap.have} bytes, its end says ${f.total}`);
        this.deliverSnap(snap, onFrame);
        return;
      }
      if (f.type !== 'snapChunk') {
        const of = snap.total === null ? 'a streamed SNAP' : `a SNAP's ${snap.total}`;
        throw new PeerProtocolError('unexpected-frame', `${frameName(f)} frame after ${snap.have} of ${of} snapshot bytes`);
      }
      const limit = snap.total ?? MAX_SNAPSHOT_BYTES;
      if (snap.have + f.bytes.length > limit) {
        throw new PeerProtocolError('bad-length', `SNAP chunks carry more than the ${limit} bytes ${snap.total === null ? 'a SNAP may hold' : 'the SNAP announced'}`);
      }
      // A view of the caller's chunk is copied; a body of its own is kept as it is (a SNAP's 4 MiB chunks).
      snap.parts.add(owned ? f.bytes : Buffer.from(f.bytes));
      snap.have += f.bytes.length;
      if (snap.have === snap.total) this.deliverSnap(snap, onFrame);
      return;
    }
    if (f.type === 'snapChunk' || f.type === 'snapEnd') throw new PeerProtocolError('unexpected-frame', `a ${frameName(f)} frame without a SNAP before it`);
    if (f.type === 'snapHead') {
      this.snap = { total: f.total, parts: new ArrivingSnapshot(f.zxid), have: 0, wireBytes };
      if (f.total === 0) this.deliverSnap(this.snap, onFrame);
      else onFrame({ type: 'snapArriving', snapshot: this.snap.parts }, 0);
      return;
    }
    onFrame(f, wireBytes);
  }

  /** The stream ends here (its connection closed): a SNAP whose chunks were arriving never completes. */
  abandon(): void {
    this.snap?.parts.abandon();
    this.snap = null;
  }

  private deliverSnap(snap: ArrivingSnap, onFrame: (frame: PeerFrame, wireBytes: number) => void): void {
    this.snap = null;
    snap.parts.complete();
    // The pieces as they came: the learner writes and decodes them in order, never one buffer of the tree.
    onFrame({ type: 'message', msg: { kind: 'snap', zxid: snap.parts.zxid, snapshot: snap.parts.pieces } }, snap.wireBytes);
  }

  private checkLength(len: number): number {
    if (len < FRAME_HEADER_BYTES) {
      throw new PeerProtocolError('bad-length', `frame length ${len} is below the ${FRAME_HEADER_BYTES}-byte header`);
    }
    if (len > this.maxFrameBytes) {
      throw new PeerProtocolError('frame-too-large', `frame of ${len} bytes exceeds the ${this.maxFrameBytes}-byte limit`);
    }
    return len;
  }

  private startBody(len: number): void {
    this.body = Buffer.allocUnsafe(len);
    this.bodyHave = 0;
  }
}
