import { describe, expect, test } from 'vitest';
import { FrameDecoder, ZkProtocolError } from '../../../src/client/index.js';
import { GetDataResponse, JuteReader, JuteWriter, ReplyHeader } from '../../../src/jute/index.js';

function frame(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function decodeChunks(chunks: Buffer[], max = 1 << 20): Buffer[] {
  const d = new FrameDecoder(max);
  const out: Buffer[] = [];
  // Copy each frame: the decoder may hand out views into the chunk.
  for (const c of chunks) d.push(c, (f) => out.push(Buffer.from(f)));
  return out;
}

const bodies = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(3000, 7), Buffer.from([1, 2, 3])];
const stream = Buffer.concat(bodies.map(frame));

/** Same frames, compared with Buffer.equals (deep equality on big buffers is slow). */
function sameFrames(got: Buffer[], want: Buffer[]): boolean {
  return got.length === want.length && got.every((g, i) => g.equals(want[i]!));
}

describe('FrameDecoder', () => {
  test('a stream split into two chunks at every offset yields the same frames', () => {
    for (let k = 0; k <= stream.length; k++) {
      const got = decodeChunks([stream.subarray(0, k), stream.subarray(k)]);
      expect(sameFrames(got, bodies), `split at ${k}`).toBe(true);
    }
  });

  test('a stream fed one byte at a time yields the same frames', () => {
    const chunks = Array.from(stream, (b) => Buffer.from([b]));
    expect(sameFrames(decodeChunks(chunks), bodies)).toBe(true);
  });

  test('a stream cut into three pieces at many offsets yields the same frames', () => {
    for (let a = 0; a < stream.length; a += 37) {
      for (let b = a; b <= stream.length; b += 53) {
        const got = decodeChunks([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]);
        expect(sameFrames(got, bodies), `cut at ${a} and ${b}`).toBe(true);
      }
    }
  });

  test('a getData reply split at every offset decodes to the same data and stat', () => {
    const w = new JuteWriter();
    ReplyHeader.write(w, { xid: 42, zxid: 0x1_0000_0005n, err: 0 });
    const stat = {
      czxid: 3n, mzxid: 5n, ctime: 1700000000000n, mtime: 1700000000001n, version: 2, cversion: 0,
      aversion: 0, ephemeralOwner: 0n, dataLength: 6, numChildren: 0, pzxid: 3n,
    };
    GetDataResponse.write(w, { data: Buffer.from('zablab'), stat });
    const bytes = frame(w.toBuffer());
    for (let k = 0; k <= bytes.length; k++) {
      const [f] = decodeChunks([bytes.subarray(0, k), bytes.subarray(k)]);
      const r = new JuteReader(f!);
      expect(ReplyHeader.read(r)).toEqual({ xid: 42, zxid: 0x1_0000_0005n, err: 0 });
      expect(GetDataResponse.read(r)).toEqual({ data: Buffer.from('zablab'), stat });
    }
  });

  test('nothing is emitted until a frame is complete, and the partial frame is held', () => {
    const d = new FrameDecoder(1024);
    const out: Buffer[] = [];
    const one = frame(Buffer.from('abcdef'));
    d.push(one.subarray(0, 6), (f) => out.push(f));
    expect(out).toEqual([]);
    expect(d.buffered).toBe(6);
    d.push(one.subarray(6), (f) => out.push(f));
    expect(out).toEqual([Buffer.from('abcdef')]);
    expect(d.buffered).toBe(0);
  });

  test('a frame over the limit is refused before its body arrives', () => {
    const d = new FrameDecoder(1024);
    const header = Buffer.alloc(4);
    header.writeInt32BE(1025);
    expect(() => d.push(header, () => undefined)).toThrow(ZkProtocolError);
    try {
      new FrameDecoder(1024).push(header, () => undefined);
    } catch (err) {
      expect((err as ZkProtocolError).code).toBe('ZABLAB_CLIENT_FRAME_TOO_LARGE');
      expect((err as Error).message).toMatch(/1025 bytes; the limit is 1024/);
    }
  });

  test('a negative length is refused, also when the length arrives in pieces', () => {
    const header = Buffer.from([0xff, 0xff, 0xff, 0xfe]);
    const d = new FrameDecoder(1024);
    d.push(header.subarray(0, 2), () => undefined);
    expect(() => d.push(header.subarray(2), () => undefined)).toThrow(/frame of -2 bytes/);
  });

  test('a frame exactly at the limit is accepted', () => {
    const body = Buffer.alloc(1024, 1);
    expect(decodeChunks([frame(body)], 1024)).toEqual([body]);
  });
});
