/**
 * Adler-32 as zlib computes it (values from zlib.adler32), whatever the alignment and length of
 * the bytes, in one call or continued over pieces: the word-at-a-time loop must agree with the
 * byte-wise definition everywhere, or every log record and snapshot would read as damaged.
 */
import { describe, expect, it } from 'vitest';
import { ADLER32_INITIAL, adler32 } from '../../../src/storage/index.js';

function reference(data: Uint8Array, previous = ADLER32_INITIAL): number {
  let a = previous & 0xffff;
  let b = previous >>> 16;
  for (const x of data) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function pseudoRandom(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('adler32', () => {
  it('matches zlib', () => {
    expect(adler32(Buffer.alloc(0))).toBe(1);
    expect(adler32(Buffer.from('a'))).toBe(6422626);
    expect(adler32(Buffer.from('Wikipedia'))).toBe(300286872);
    expect(adler32(Buffer.alloc(100_000, 255))).toBe(345649196); // sums at their largest
    const ramp = Buffer.alloc(256 * 4099);
    for (let i = 0; i < ramp.length; i++) ramp[i] = i & 0xff;
    expect(adler32(ramp)).toBe(2484074008);
  });

  it('agrees with the byte-wise definition at every alignment and length, in one call or in pieces', () => {
    const bytes = pseudoRandom(70_000, 7);
    const ones = Buffer.alloc(70_000, 0xff);
    for (const source of [bytes, ones]) {
      for (const offset of [0, 1, 2, 3, 5]) {
        for (const length of [0, 1, 3, 4, 63, 64, 65, 67, 2_563, 2_564, 5_552, 5_553, 20_001, 69_000]) {
          const view = source.subarray(offset, offset + length);
          expect(adler32(view), `offset ${offset} length ${length}`).toBe(reference(view));
        }
      }
      const whole = adler32(source);
      let pieced = ADLER32_INITIAL;
      for (let at = 0; at < source.length; at += 4_097) pieced = adler32(source.subarray(at, at + 4_097), pieced);
      expect(pieced).toBe(whole);
    }
  });
});
