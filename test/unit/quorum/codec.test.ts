import { describe, expect, test } from 'vitest';
import {
  decodeFrame,
  decodeHandshake,
  decodeMessage,
  encodeChallenge,
  encodeHandshake,
  encodeFrames,
  encodeMessage,
  encodeProof,
  encodeSnapChunks,
  encodeSnapEnd,
  encodeSnapHead,
  FrameDecoder,
  FrameKind,
  HANDSHAKE_MAX_FRAME_BYTES,
  PEER_MAGIC,
  PEER_PROTOCOL_VERSION,
  PeerProtocolError,
  type PeerFrame,
} from '../../../src/server/quorum/codec.js';
import { ArrivingSnapshot, SnapshotAbandoned } from '../../../src/server/quorum/arriving-snapshot.js';
import type { Message, MessageKind } from '../../../src/zab/index.js';
import { seededRandom } from '../../helpers/random.js';

const big = Buffer.alloc(20_000, 0xab);

/** Every kind of message, with edge values. A new kind fails compilation here until it has samples. */
const samples: { [K in MessageKind]: Extract<Message, { kind: K }>[] } = {
  notification: [
    { kind: 'notification', state: 'LOOKING', leader: 3, zxid: 0x100000002n, electionEpoch: 7n, peerEpoch: 1n, recovering: false },
    { kind: 'notification', state: 'FOLLOWING', leader: 0, zxid: 0n, electionEpoch: 0n, peerEpoch: 0n, recovering: true },
    { kind: 'notification', state: 'LEADING', leader: 255, zxid: -1n, electionEpoch: 2n ** 63n - 1n, peerEpoch: -(2n ** 63n), recovering: false },
    { kind: 'notification', state: 'OBSERVING', leader: Number.MAX_SAFE_INTEGER, zxid: 5n, electionEpoch: 1n, peerEpoch: 1n, recovering: false },
  ],
  followerinfo: [
    { kind: 'followerinfo', acceptedEpoch: 4n, lastZxid: 0x400000010n, observer: false, recovering: true },
    { kind: 'followerinfo', acceptedEpoch: 0n, lastZxid: 0n, observer: true, recovering: false },
  ],
  leaderinfo: [{ kind: 'leaderinfo', newEpoch: 5n }],
  ackepoch: [{ kind: 'ackepoch', epoch: 5n, currentEpoch: 4n, lastZxid: 0x4000000ffn }],
  diff: [{ kind: 'diff', zxid: 0x500000000n }],
  trunc: [{ kind: 'trunc', zxid: 0x300000007n }],
  snap: [
    { kind: 'snap', zxid: 0x500000000n, snapshot: Buffer.from('a whole tree') },
    { kind: 'snap', zxid: 1n },
    { kind: 'snap', zxid: 2n, snapshot: Buffer.alloc(0) },
    { kind: 'snap', zxid: 3n, snapshot: big },
  ],
  proposal: [
    { kind: 'proposal', txn: { zxid: 0x500000001n, data: Buffer.from([1, 2, 3]), trace: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
    { kind: 'proposal', txn: { zxid: 0x500000002n, data: Buffer.alloc(0) } },
    { kind: 'proposal', txn: { zxid: 0x500000003n, data: big, trace: 'ünïcode ✓' } },
  ],
  commit: [{ kind: 'commit', zxid: 0x500000001n }],
  inform: [
    { kind: 'inform', txn: { zxid: 0x500000001n, data: Buffer.from('x') } },
    { kind: 'inform', txn: { zxid: 0x500000002n, data: Buffer.from('y'), trace: 't' } },
  ],
  newleader: [{ kind: 'newleader', zxid: 0x500000000n }],
  ack: [{ kind: 'ack', zxid: 0x500000001n }],
  uptodate: [{ kind: 'uptodate', zxid: 0x500000001n }],
  ping: [{ kind: 'ping', zxid: 0x500000001n }],
  pingreply: [{ kind: 'pingreply', zxid: 0x500000001n }],
  app: [
    { kind: 'app', payload: Buffer.from('forwarded request') },
    { kind: 'app', payload: Buffer.alloc(0) },
  ],
};

const all: Message[] = Object.values(samples).flat();

/** The frame body: what follows the 4-byte length prefix. */
function bodyOf(frame: Buffer): Buffer {
  return frame.subarray(4);
}

/** A byte stream cut at random places, as a socket may hand it over. */
function cutAnywhere(stream: Buffer, seed: number): Buffer[] {
  const rnd = seededRandom(seed);
  const pieces: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const n = 1 + Math.floor(rnd() * 20_000);
    pieces.push(stream.subarray(at, at + n));
    at += n;
  }
  return pieces;
}

/**
 * The frames of a byte stream, a SNAP's pieces joined (the decoder hands them over as they
 * came). A SNAP announced as arriving must end as a message carrying the very pieces announced.
 */
function decodeStream(chunks: Buffer[], max = 1 << 20): PeerFrame[] {
  const d = new FrameDecoder(max);
  const out: PeerFrame[] = [];
  let arriving: ArrivingSnapshot | null = null;
  const onFrame = (f: PeerFrame): void => {
    if (f.type === 'snapArriving') {
      expect(arriving).toBeNull();
      arriving = f.snapshot;
      return;
    }
    if (f.type === 'message' && f.msg.kind === 'snap' && arriving !== null) {
      expect(f.msg.snapshot).toBe(arriving.pieces);
      arriving = null;
    }
    out.push(joinedSnap(f));
  };
  for (const c of chunks) d.push(c, onFrame);
  return out;
}

function joinedSnap(f: PeerFrame): PeerFrame {
  if (f.type !== 'message' || f.msg.kind !== 'snap' || !Array.isArray(f.msg.snapshot)) return f;
  return { type: 'message', msg: { ...f.msg, snapshot: Buffer.concat(f.msg.snapshot as Uint8Array[]) } };
}

function expectProtocolError(fn: () => unknown, reason?: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PeerProtocolError);
    expect((e as PeerProtocolError).code).toBe('ZABLAB_PEER_PROTOCOL');
    if (reason !== undefined) expect((e as PeerProtocolError).reason).toBe(reason);
    return;
  }
  throw new Error('expected a PeerProtocolError, nothing was thrown');
}

describe('peer codec round trip', () => {
  test.each(Object.entries(samples))('%s: every sample decodes to what was encoded', (kind, msgs) => {
    expect(msgs.length, `no samples for ${kind}`).toBeGreaterThan(0);
    for (const msg of msgs) {
      expect(msg.kind).toBe(kind);
      const frame = encodeMessage(msg);
      if (msg.kind === 'snap' && msg.snapshot !== undefined) {
        // The SNAP frame, then the snapshot in chunk frames: the stream decoder puts them together.
        expect(frame.readInt32BE(0)).toBe(4 + 12);
        expect(decodeStream([frame])).toEqual([{ type: 'message', msg }]);
        continue;
      }
      expect(frame.readInt32BE(0)).toBe(frame.length - 4);
      expect(decodeMessage(bodyOf(frame))).toEqual(msg);
    }
  });

  test('a SNAP bigger than the frame limit travels in chunk frames within it, split anywhere on the way', () => {
    const tree = Buffer.alloc(300_000);
    for (let i = 0; i < tree.length; i++) tree[i] = (i * 7919) & 0xff;
    const max = 64 * 1024;
    const msg: Message = { kind: 'snap', zxid: 0x700000005n, snapshot: tree };
    const stream = Buffer.concat([encodeMessage({ kind: 'ack', zxid: 1n }), encodeMessage(msg, max), encodeMessage({ kind: 'ack', zxid: 2n })]);
    const pieces = cutAnywhere(stream, 11);
    const frames = decodeStream(pieces, max);
    expect(frames).toEqual([
      { type: 'message', msg: { kind: 'ack', zxid: 1n } },
      { type: 'message', msg },
      { type: 'message', msg: { kind: 'ack', zxid: 2n } },
    ]);
  });

  test("a SNAP given as the leader's pieces goes out as views of them and arrives as one snapshot", () => {
    const parts = [Buffer.alloc(100_000, 1), Buffer.alloc(100_000, 2), Buffer.alloc(7, 3)];
    const max = 64 * 1024;
    const frames = encodeFrames({ kind: 'snap', zxid: 9n, snapshot: parts }, max);
    // Head frame, then per chunk a header and a view of the piece (no copy of the tree).
    expect(frames.filter((f) => parts.some((p) => f.buffer === p.buffer)).reduce((n, f) => n + f.length, 0)).toBe(200_007);
    expect(Math.max(...frames.map((f) => f.length))).toBeLessThanOrEqual(max);
    const whole = Buffer.concat(parts);
    expect(Buffer.concat(frames)).toEqual(encodeMessage({ kind: 'snap', zxid: 9n, snapshot: parts }, max));
    expect(decodeStream([Buffer.concat(frames)], max)).toEqual([{ type: 'message', msg: { kind: 'snap', zxid: 9n, snapshot: whole } }]);
  });

  test("an arriving SNAP's pieces reach a reader as they come; a stream that ends mid-SNAP abandons it", async () => {
    const parts = [Buffer.alloc(70_000, 1), Buffer.alloc(5, 2), Buffer.alloc(130_001, 3)];
    const max = 64 * 1024;
    const frames = [encodeSnapHead(9n, null), ...parts.map((p) => Buffer.concat(encodeSnapChunks(p, max - 4))), encodeSnapEnd(200_006)];
    const d = new FrameDecoder(max);
    const announced: ArrivingSnapshot[] = [];
    const messages: PeerFrame[] = [];
    const onFrame = (f: PeerFrame): void => void (f.type === 'snapArriving' ? announced.push(f.snapshot) : messages.push(f));
    d.push(frames[0]!, onFrame);
    expect(announced.map((a) => a.zxid)).toEqual([9n]);
    const read: number[] = [];
    const reader = (async () => {
      for await (const piece of announced[0]!.read()) read.push(piece.length);
    })();
    d.push(frames[1]!, onFrame);
    await new Promise((resolve) => setImmediate(resolve));
    // The first chunk is read before the rest is on the wire.
    expect(read.reduce((n, l) => n + l, 0)).toBe(70_000);
    expect(messages).toEqual([]);
    d.push(Buffer.concat(frames.slice(2)), onFrame);
    await reader;
    expect(read.reduce((n, l) => n + l, 0)).toBe(200_006);
    expect(messages.length).toBe(1);

    // A connection that closes mid-SNAP: its reader throws, and whoever listens hears it once.
    const cut = new FrameDecoder(max);
    let half: ArrivingSnapshot | null = null;
    cut.push(Buffer.concat(frames.slice(0, 2)), (f) => void (f.type === 'snapArriving' && (half = f.snapshot)));
    let told = 0;
    half!.whenAbandoned(() => told++);
    const failed = (async () => {
      for await (const _ of half!.read());
    })();
    cut.abandon();
    await expect(failed).rejects.toThrow(SnapshotAbandoned);
    expect(half!.abandoned).toBe(true);
    expect(told).toBe(1);
  });

  test('SNAP chunks out of place, or more than announced, break the stream', () => {
    const snap = encodeMessage({ kind: 'snap', zxid: 1n, snapshot: Buffer.alloc(100, 1) }, 64);
    const head = snap.subarray(0, 20);
    const firstChunk = snap.subarray(20, 20 + 4 + 4 + 60);
    expectProtocolError(() => decodeStream([firstChunk], 1 << 20), 'unexpected-frame');
    expectProtocolError(() => decodeStream([head, encodeMessage({ kind: 'ack', zxid: 1n })], 1 << 20), 'unexpected-frame');
    expectProtocolError(() => decodeStream([head, firstChunk, firstChunk], 1 << 20), 'bad-length');
  });

  test('a streamed SNAP (length not known at its start) arrives whole at its SNAP_END, split anywhere on the way', () => {
    const parts = [Buffer.alloc(70_000, 1), Buffer.alloc(5, 2), Buffer.alloc(130_001, 3)];
    const max = 64 * 1024;
    const stream = Buffer.concat([
      encodeSnapHead(0x700000005n, null),
      ...parts.flatMap((p) => encodeSnapChunks(p, max - 4)),
      encodeSnapEnd(200_006),
      encodeMessage({ kind: 'ack', zxid: 2n }),
    ]);
    const pieces = cutAnywhere(stream, 12);
    expect(decodeStream(pieces, max)).toEqual([
      { type: 'message', msg: { kind: 'snap', zxid: 0x700000005n, snapshot: Buffer.concat(parts) } },
      { type: 'message', msg: { kind: 'ack', zxid: 2n } },
    ]);
    // Handed over as the chunks came, never joined into one buffer of the tree.
    const d = new FrameDecoder(max);
    const got: PeerFrame[] = [];
    d.push(stream, (f) => got.push(f));
    const first = got.find((f) => f.type === 'message');
    const snap = first?.type === 'message' ? first.msg : null;
    expect(snap?.kind === 'snap' && Array.isArray(snap.snapshot) && snap.snapshot.length).toBeGreaterThan(3);
    expect(snap?.kind === 'snap' && Math.max(...(snap.snapshot as Uint8Array[]).map((p) => p.length))).toBeLessThanOrEqual(max - 4);
    // An empty one too: head, end.
    expect(decodeStream([encodeSnapHead(1n, null), encodeSnapEnd(0)], max)).toEqual([{ type: 'message', msg: { kind: 'snap', zxid: 1n, snapshot: Buffer.alloc(0) } }]);
  });

  test('a streamed SNAP whose end disagrees with its chunks, or that another frame interrupts, breaks the stream', () => {
    const head = encodeSnapHead(1n, null);
    const chunk = Buffer.concat(encodeSnapChunks(Buffer.alloc(100, 1), 1024));
    expectProtocolError(() => decodeStream([head, chunk, encodeSnapEnd(99)], 1 << 20), 'bad-length');
    expectProtocolError(() => decodeStream([head, chunk, encodeSnapEnd(101)], 1 << 20), 'bad-length');
    expectProtocolError(() => decodeStream([head, chunk, encodeMessage({ kind: 'ack', zxid: 1n })], 1 << 20), 'unexpected-frame');
    expectProtocolError(() => decodeStream([head, chunk, head], 1 << 20), 'unexpected-frame');
    expectProtocolError(() => decodeStream([encodeSnapEnd(0)], 1 << 20), 'unexpected-frame');
    // SNAP_END belongs to a streamed SNAP only: one whose length was announced ends by its length.
    expectProtocolError(() => decodeStream([encodeSnapHead(1n, 200), chunk, encodeSnapEnd(100)], 1 << 20), 'unexpected-frame');
    const badEnd = encodeSnapEnd(0);
    badEnd.writeInt32BE(-1, 8);
    expectProtocolError(() => decodeStream([head, badEnd], 1 << 20), 'bad-value');
    const badHead = encodeSnapHead(1n, null);
    badHead.writeInt32BE(-3, 16);
    expectProtocolError(() => decodeStream([badHead], 1 << 20), 'bad-value');
  });

  test('frames carry the ZB magic, version 1 and ZooKeeper packet numbers', () => {
    const f = encodeMessage({ kind: 'proposal', txn: { zxid: 1n, data: Buffer.alloc(0) } });
    expect(f.readUInt16BE(4)).toBe(PEER_MAGIC);
    expect(f.toString('latin1', 4, 6)).toBe('ZB');
    expect(f[6]).toBe(PEER_PROTOCOL_VERSION);
    expect(f[7]).toBe(2); // Leader.PROPOSAL
    expect(encodeMessage({ kind: 'followerinfo', acceptedEpoch: 0n, lastZxid: 0n, observer: false, recovering: false })[7]).toBe(11);
    expect(encodeMessage({ kind: 'followerinfo', acceptedEpoch: 0n, lastZxid: 0n, observer: true, recovering: false })[7]).toBe(16); // OBSERVERINFO
    expect(encodeMessage({ kind: 'ack', zxid: 0n })[7]).toBe(3);
  });

  test('every kind has its own code (followerinfo has two: FOLLOWERINFO and OBSERVERINFO)', () => {
    const codes = new Map<number, string>();
    for (const msg of all) {
      const code = encodeMessage(msg)[7]!;
      const seen = codes.get(code);
      if (seen !== undefined) expect(seen).toBe(msg.kind);
      codes.set(code, msg.kind);
    }
    expect(new Set(codes.values()).size).toBe(Object.keys(samples).length);
  });

  test('handshakes round trip and are not messages', () => {
    for (const h of [{ serverId: 1, channel: 'election' as const }, { serverId: 200, channel: 'quorum' as const }]) {
      const f = encodeHandshake(h);
      expect(f[7]).toBe(FrameKind.HANDSHAKE);
      expect(decodeHandshake(bodyOf(f))).toEqual(h);
      expectProtocolError(() => decodeMessage(bodyOf(f)), 'unexpected-frame');
    }
    expectProtocolError(() => decodeHandshake(bodyOf(encodeMessage({ kind: 'ack', zxid: 1n }))), 'unexpected-frame');
  });

  test('handshakes carry a 32-byte nonce and proof when authenticating; challenge and proof frames round trip', () => {
    const nonce = Buffer.alloc(32, 7);
    const proof = Buffer.alloc(32, 9);
    const hello = { serverId: 3, channel: 'election' as const, nonce };
    expect(decodeHandshake(bodyOf(encodeHandshake(hello)))).toEqual(hello);
    const answer = { serverId: 1, channel: 'quorum' as const, proof };
    expect(decodeHandshake(bodyOf(encodeHandshake(answer)))).toEqual(answer);
    expect(encodeHandshake({ ...hello, proof }).length - 4).toBeLessThanOrEqual(HANDSHAKE_MAX_FRAME_BYTES);
    expect(decodeFrame(bodyOf(encodeChallenge(nonce)))).toEqual({ type: 'challenge', nonce });
    expect(decodeFrame(bodyOf(encodeProof(proof)))).toEqual({ type: 'proof', proof });
    expect(encodeChallenge(nonce)[7]).toBe(FrameKind.CHALLENGE);
    // A nonce or proof of another length is refused, never truncated or padded.
    expectProtocolError(() => decodeHandshake(bodyOf(encodeHandshake({ ...hello, nonce: Buffer.alloc(31) }))), 'bad-value');
    expectProtocolError(() => decodeFrame(bodyOf(encodeProof(Buffer.alloc(0)))), 'bad-value');
    expectProtocolError(() => decodeFrame(bodyOf(encodeChallenge(Buffer.alloc(33)))), 'bad-value');
  });
});

describe('FrameDecoder', () => {
  const stream = Buffer.concat([encodeHandshake({ serverId: 2, channel: 'quorum' }), ...all.filter((m) => m.kind !== 'snap' && m.kind !== 'proposal').map(encodeMessage)]);
  const expected = decodeStream([stream]);

  test('a stream of many frames decodes in order', () => {
    expect(expected[0]).toEqual({ type: 'handshake', handshake: { serverId: 2, channel: 'quorum' } });
    expect(expected.length).toBe(1 + all.filter((m) => m.kind !== 'snap' && m.kind !== 'proposal').length);
  });

  test('split at every offset, or fed a byte at a time, it yields the same frames', () => {
    for (let k = 0; k <= stream.length; k++) {
      expect(decodeStream([stream.subarray(0, k), stream.subarray(k)])).toEqual(expected);
    }
    expect(decodeStream(Array.from(stream, (b) => Buffer.from([b])))).toEqual(expected);
  });

  test('decoded buffers do not alias the chunk they came from', () => {
    const chunk = encodeMessage({ kind: 'app', payload: Buffer.from('keep me') });
    const [f] = decodeStream([chunk]);
    chunk.fill(0);
    expect(f).toEqual({ type: 'message', msg: { kind: 'app', payload: Buffer.from('keep me') } });
  });

  test('a frame over the limit is refused before its body arrives', () => {
    const d = new FrameDecoder(1024);
    const f = encodeMessage({ kind: 'app', payload: Buffer.alloc(2000) });
    expectProtocolError(() => d.push(f.subarray(0, 4), () => undefined), 'frame-too-large');
    // The stream is broken for good.
    expectProtocolError(() => d.push(encodeMessage({ kind: 'ack', zxid: 1n }), () => undefined), 'frame-too-large');
  });

  test('the limit can be raised between frames (after the handshake)', () => {
    const d = new FrameDecoder(64);
    const out: PeerFrame[] = [];
    const big = encodeMessage({ kind: 'app', payload: Buffer.alloc(500) });
    d.push(Buffer.concat([encodeHandshake({ serverId: 1, channel: 'quorum' }), big]), (f) => {
      out.push(f);
      d.maxFrameBytes = 1024;
    });
    expect(out.map((f) => f.type)).toEqual(['handshake', 'message']);
  });
});

describe('malformed frames', () => {
  const ack = bodyOf(encodeMessage({ kind: 'ack', zxid: 9n }));

  function withLength(len: number, rest: Buffer = Buffer.alloc(0)): Buffer {
    const b = Buffer.alloc(4);
    b.writeInt32BE(len);
    return Buffer.concat([b, rest]);
  }

  test('negative and too-short lengths', () => {
    expectProtocolError(() => decodeStream([withLength(-1)]), 'bad-length');
    expectProtocolError(() => decodeStream([withLength(-2147483648)]), 'bad-length');
    expectProtocolError(() => decodeStream([withLength(0)]), 'bad-length');
    expectProtocolError(() => decodeStream([withLength(3, Buffer.from('ZB\x01'))]), 'bad-length');
    expectProtocolError(() => decodeFrame(Buffer.from([0x5a])), 'bad-length');
  });

  test('bad magic, bad version, unknown kind', () => {
    const b = Buffer.from(ack);
    b[0] = 0x47; // 'GET ...'
    expectProtocolError(() => decodeFrame(b), 'bad-magic');
    const v = Buffer.from(ack);
    v[2] = 1; // a server of the version before recovering peers
    expectProtocolError(() => decodeFrame(v), 'bad-version');
    for (const kind of [1, 6, 7, 9, 19, 63, 71, 255]) {
      const k = Buffer.from(ack);
      k[3] = kind;
      expectProtocolError(() => decodeFrame(k), 'unknown-kind');
    }
  });

  test('truncated bodies and trailing bytes', () => {
    for (const msg of all) {
      const body = bodyOf(encodeMessage(msg));
      for (const cut of [4, body.length - 1, Math.floor(body.length / 2)]) {
        if (cut < 4 || cut >= body.length) continue;
        expectProtocolError(() => decodeFrame(body.subarray(0, cut)));
      }
      expectProtocolError(() => decodeFrame(Buffer.concat([body, Buffer.from([0])])), 'trailing-bytes');
    }
  });

  test('bad values: unknown state, null txn data, null trace, unknown channel, out-of-range id', () => {
    const n = Buffer.from(bodyOf(encodeMessage(samples.notification[0]!)));
    n.writeInt32BE(4, 4);
    expectProtocolError(() => decodeFrame(n), 'bad-value');
    const p = Buffer.from(bodyOf(encodeMessage({ kind: 'proposal', txn: { zxid: 1n, data: Buffer.alloc(0) } })));
    p.writeInt32BE(-1, 12); // data length
    expectProtocolError(() => decodeFrame(p));
    p.writeInt32BE(0, 12);
    p.writeInt32BE(-1, 16); // trace length
    expectProtocolError(() => decodeFrame(p), 'bad-value');
    const h = Buffer.from(bodyOf(encodeHandshake({ serverId: 1, channel: 'quorum' })));
    h[12] = 9;
    expectProtocolError(() => decodeFrame(h), 'bad-value');
    h[12] = 2;
    h.writeBigInt64BE(2n ** 60n, 4);
    expectProtocolError(() => decodeFrame(h), 'bad-value');
  });

  test('fuzz: random bytes and mutated frames throw nothing but PeerProtocolError', () => {
    const rnd = seededRandom(0x5a42);
    const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
    const valid = all.filter((m) => m.kind !== 'snap' || m.snapshot !== big).map(encodeMessage);
    valid.push(encodeHandshake({ serverId: 3, channel: 'election' }));
    let decoded = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      let input: Buffer;
      const mode = i % 4;
      if (mode === 0) {
        input = Buffer.from(Array.from({ length: int(0, 64) }, () => int(0, 255)));
      } else {
        input = Buffer.from(valid[int(0, valid.length - 1)]!);
        if (mode === 1) {
          for (let k = int(1, 4); k > 0; k--) input[int(0, input.length - 1)] = int(0, 255);
        } else if (mode === 2) {
          input = input.subarray(0, int(0, input.length - 1));
        } else {
          input.writeInt32BE(int(-8, input.length + 8), 0);
        }
      }
      // Through the stream decoder, in random chunks.
      const d = new FrameDecoder(4096);
      try {
        let off = 0;
        while (off < input.length) {
          const n = int(1, input.length - off);
          d.push(input.subarray(off, off + n), () => decoded++);
          off += n;
        }
      } catch (e) {
        if (!(e instanceof PeerProtocolError)) throw new Error(`case ${i} threw ${String(e)}`);
        refused++;
      }
      // And the body alone, directly.
      try {
        decodeFrame(input.subarray(4));
      } catch (e) {
        if (!(e instanceof PeerProtocolError)) throw new Error(`case ${i} (direct) threw ${String(e)}`);
      }
    }
    // Both outcomes occur, so the fuzzing reaches past the header checks.
    expect(decoded).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(1000);
  });
});
