/**
 * Adler-32 (RFC 1950), the checksum ZooKeeper puts on every txn log record and snapshot.
 * Incremental: pass the previous value to continue over the next piece.
 */
const MOD_ADLER = 65521;
/** Largest run of bytes before `b` could exceed 2^32 (zlib's NMAX); reducing then keeps sums small. */
const RUN_MAX = 5552;

export const ADLER32_INITIAL = 1;

export function adler32(data: Uint8Array, previous: number = ADLER32_INITIAL): number {
  let a = previous & 0xffff;
  let b = (previous >>> 16) & 0xffff;
  let i = 0;
  const n = data.length;
  while (i < n) {
    const runEnd = Math.min(i + RUN_MAX, n);
    for (; i < runEnd; i++) {
      a += data[i]!;
      b += a;
    }
    a %= MOD_ADLER;
    b %= MOD_ADLER;
  }
  return ((b << 16) | a) >>> 0;
}
