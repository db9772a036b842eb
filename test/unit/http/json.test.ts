/** toJson: ZooKeeper's AdminServer writes 64-bit ids as plain JSON integers; ours must be exact too. */
import { describe, expect, it } from 'vitest';
import { JsonTooLargeError, toJson } from '../../../src/server/http/index.js';

describe('toJson', () => {
  it('writes a session id beyond 2^53 with every digit', () => {
    const sid = 72057778130059265n; // as ZooKeeper 3.8 printed it in `cons`
    const text = toJson({ session_id: sid, ids: [sid, -1n] });
    expect(text).toBe('{"session_id":72057778130059265,"ids":[72057778130059265,-1]}');
    // JSON.stringify of the same value as a number would have rounded it.
    expect(JSON.stringify({ session_id: Number(sid) })).not.toContain('72057778130059265');
  });

  it('matches JSON.stringify for everything but bigints', () => {
    const v = { a: 'quote " backslash \\ newline \n tab \t \u0001 €', b: [1, 2.5, -0.125, true, false, null], c: {}, d: [] };
    expect(toJson(v)).toBe(JSON.stringify(v));
  });

  it('writes non-finite numbers as null, like JSON.stringify', () => {
    expect(toJson([Number.NaN, Number.POSITIVE_INFINITY])).toBe('[null,null]');
  });

  it('refuses to build an answer beyond its limit instead of truncating it', () => {
    const big = { paths: Array.from({ length: 1000 }, (_, i) => `/node-${i}`) };
    expect(() => toJson(big, 1000)).toThrow(JsonTooLargeError);
    expect(toJson(big, 1_000_000).length).toBeGreaterThan(1000);
  });
});
