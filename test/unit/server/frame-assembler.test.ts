/**
 * The client port's frame reassembly: every frame comes out exactly as sent, whatever the
 * chunking; the cost (bytes copied) is linear in the frame size even when it arrives in
 * 64-byte segments; the length prefix is seen before any of the frame is buffered.
 */
import { describe, expect, it } from 'vitest';
import { FrameAssembler, type FrameSink } from '../../../src/server/frame-assembler.js';
import { Rng } from '../../fuzz/rng.js';

function framed(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function body(n: number, seed: number): Buffer {
  const rng = new Rng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(0, 255);
  return b;
}

/** A sink that keeps copies of the frames and the lengths it saw. */
function collector(maxLength = Infinity): FrameSink & { frames: Buffer[]; lengths: number[] } {
  const frames: Buffer[] = [];
  const lengths: number[] = [];
  return {
    frames,
    lengths,
    onLength: (n) => {
      lengths.push(n);
      return n >= 0 && n <= maxLength;
    },
    onFrame: (f) => {
      frames.push(Buffer.from(f));
      return true;
    },
  };
}

function inSegments(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += size) out.push(Buffer.from(data.subarray(off, off + size)));
  return out;
}

describe('FrameAssembler', () => {
  it('hands out frames that lie whole in a chunk without copying them', () => {
    const a = new FrameAssembler();
    const sink = collector();
    const bodies = [body(10, 1), body(0, 2), body(300, 3)];
    a.push(Buffer.concat(bodies.map(framed)), sink);
    expect(sink.frames).toEqual(bodies);
    expect(a.copiedBytes).toBe(0);
    expect(a.bufferedBytes).toBe(0);
  });

  it('reassembles a 1 MB frame sent in 64-byte segments, copying fewer than 3 bytes per frame byte', () => {
    const frameBytes = 1_000_000;
    const b = body(frameBytes, 4);
    const a = new FrameAssembler();
    const sink = collector();
    const segments = inSegments(framed(b), 64);
    for (const s of segments) a.push(s, sink);
    expect(sink.frames).toHaveLength(1);
    expect(sink.frames[0]!.equals(b)).toBe(true);
    // Linear: each byte once into place, plus the doubling growth (under twice the frame).
    // Joining the pending bytes with every segment would copy about frameBytes² / 128 = 7.8 GB.
    expect(a.copiedBytes).toBeLessThan(3 * frameBytes);
    expect(a.bufferedBytes).toBe(0);
  });

  it('copies linearly for every segment size', () => {
    const frameBytes = 300_000;
    const b = body(frameBytes, 5);
    for (const size of [1, 3, 64, 1000, 65_536]) {
      const a = new FrameAssembler();
      const sink = collector();
      for (const s of inSegments(framed(b), size)) a.push(s, sink);
      expect(sink.frames[0]!.equals(b), `segment size ${size}`).toBe(true);
      expect(a.copiedBytes, `segment size ${size}`).toBeLessThan(3 * frameBytes);
    }
  });

  it('keeps every frame and their order across random chunk boundaries (seeded)', () => {
    const rng = new Rng(0x5eed);
    const bodies = Array.from({ length: 200 }, (_, i) => body(rng.int(0, 5000), 100 + i));
    const stream = Buffer.concat(bodies.map(framed));
    const a = new FrameAssembler();
    const sink = collector();
    for (let off = 0; off < stream.length; ) {
      const n = rng.int(1, 9000);
      a.push(stream.subarray(off, off + n), sink);
      off += n;
    }
    expect(sink.frames).toEqual(bodies);
  });

  it('sees a length prefix split across chunks, and before any of the frame is buffered', () => {
    const a = new FrameAssembler();
    const sink = collector(4096);
    const prefix = framed(Buffer.alloc(0));
    prefix.writeInt32BE(0x7fffffff);
    for (const byte of prefix) a.push(Buffer.from([byte]), sink);
    // The oversized length was refused from its 4 bytes; nothing of the frame was kept.
    expect(sink.lengths).toEqual([0x7fffffff]);
    a.push(Buffer.alloc(10_000), sink);
    expect(sink.lengths).toEqual([0x7fffffff]);
    expect(sink.frames).toEqual([]);
    expect(a.bufferedBytes).toBe(0);
  });

  it('holds memory in proportion to what arrived, not to the announced length', () => {
    const a = new FrameAssembler();
    const sink = collector();
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(1_000_000);
    a.push(Buffer.concat([prefix, Buffer.alloc(100)]), sink);
    expect(a.bufferedBytes).toBeLessThanOrEqual(16 * 1024);
  });

  it('stops reading when the sink says so, after a length or after a frame', () => {
    const frames = [body(5, 6), body(6, 7), body(7, 8)];
    const stream = Buffer.concat(frames.map(framed));
    const seen: Buffer[] = [];
    const a = new FrameAssembler();
    a.push(stream, { onLength: () => true, onFrame: (f) => seen.push(Buffer.from(f)) < 2 });
    a.push(stream, { onLength: () => true, onFrame: (f) => seen.push(Buffer.from(f)) > 0 });
    expect(seen).toEqual(frames.slice(0, 2));
  });
});
