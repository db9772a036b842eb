/**
 * The cheap forms telemetry keeps on the hot path, checked against the plain ones: ids as
 * words (spelled out and parsed exactly as the W3C traceparent has them), zxid map keys
 * (distinct for every zxid, large epochs too), a txn's time read in place.
 */
import { describe, expect, it } from 'vitest';
import { OpCode, TxnHeader, JuteReader, encodeLoggedTxn } from '../../../src/jute/index.js';
import { SpanRecorder, SpanSampler, parseTraceparentLite, traceIdUnderRatio } from '../../../src/telemetry/index.js';
import { IdSource, formatTraceparentWords, parseIdsHex, parseTraceparentWords, spanIdHex, traceIdHex, type MutableIdWords } from '../../../src/telemetry/ids.js';
import { txnTimeMs } from '../../../src/telemetry/instrument.js';
import { traceWordsUnderRatio } from '../../../src/telemetry/sampler.js';
import { ZxidMap } from '../../../src/telemetry/zxid-map.js';
import { makeZxid } from '../../../src/zab/index.js';

const words = (): MutableIdWords => ({ t0: 0, t1: 0, t2: 0, t3: 0, s0: 0, s1: 0 });
const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');

describe('ids as words', () => {
  it('a traceparent reads back as the text it came as, and parses as the regular expression of W3C trace context does', () => {
    for (let i = 0; i < 500; i++) {
      const tp = `00-${hex(32)}-${hex(16)}-${i % 2 === 0 ? '01' : '00'}`;
      const w = words();
      expect(parseTraceparentWords(tp, w)).toBe(true);
      expect(formatTraceparentWords(w, i % 2 === 0)).toBe(tp);
      expect(traceIdHex(w)).toBe(parseTraceparentLite(tp)!.traceId);
      expect(spanIdHex(w)).toBe(parseTraceparentLite(tp)!.spanId);
    }
    const good = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    const malformed = [
      good.toUpperCase(),
      good.replace('00-', '01-'),
      good.slice(1),
      `${good}0`,
      good.replace('-cd', '_cd'),
      `00-${'0'.repeat(32)}-${'cd'.repeat(8)}-01`,
      `00-${'ab'.repeat(16)}-${'0'.repeat(16)}-01`,
      `00-${'ab'.repeat(15)}ag-${'cd'.repeat(8)}-01`,
      `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-0x`,
      `00-${'ab'.repeat(15)}a\u0101-${'cd'.repeat(8)}-01`,
    ];
    for (const tp of malformed) {
      expect(parseTraceparentWords(tp, words()), tp).toBe(false);
      expect(parseTraceparentLite(tp), tp).toBeNull();
    }
    expect(parseIdsHex('ab'.repeat(16), 'cd'.repeat(8), words())).toBe(true);
    expect(parseIdsHex('ab'.repeat(16), 'cd'.repeat(7), words())).toBe(false);
  });

  it('drawn ids are never all zero and do not repeat; the ratio sampler decides words as it decides their text', () => {
    const ids = new IdSource();
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const w = words();
      ids.draw(w);
      const t = traceIdHex(w);
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(spanIdHex(w)).not.toBe('0'.repeat(16));
      seen.add(t);
      for (const ratio of [0, 0.3, 1]) expect(traceWordsUnderRatio(w, ratio)).toBe(traceIdUnderRatio(t, ratio));
    }
    expect(seen.size).toBe(20_000);
  });

  it('a child of a remote traceparent is in its trace, under its span, with a span id of its own', () => {
    const r = new SpanRecorder(1, new SpanSampler({ name: 'parentbased_always_on', ratio: 1 }), []);
    const parent = `00-${'12'.repeat(16)}-${'34'.repeat(8)}-01`;
    const child = r.remoteChild('c', parent, 'follower');
    expect(child.recording).toBe(true);
    const tp = child.traceparent();
    expect(tp).toMatch(new RegExp(`^00-${'12'.repeat(16)}-[0-9a-f]{16}-01$`));
    expect(tp.slice(36, 52)).not.toBe('34'.repeat(8));
    const grandchild = r.child('g', child, 'follower');
    expect(grandchild.context().traceId).toBe('12'.repeat(16));
  });
});

describe('the in-flight table by zxid', () => {
  it('tells zxids apart exactly, epochs past 2^21 and counters near 2^32 included', () => {
    const zxids = [
      0n,
      makeZxid(1n, 1n),
      makeZxid(0x1f_ffffn, 0xffff_ffffn),
      makeZxid(0x20_0000n, 0xffff_fffen),
      makeZxid(0x20_0001n, 2n),
      makeZxid(0xffff_ffffn, 3n),
      makeZxid(0x7fff_ffffn, 4n),
    ];
    const m = new ZxidMap<bigint>(8, () => undefined);
    for (const z of zxids) m.set(z, z);
    expect(m.size).toBe(zxids.length);
    // Other bigint objects of the same values find them; the same counter in another epoch does not.
    for (const z of zxids) expect(m.get(BigInt(z.toString()))).toBe(z);
    for (const z of zxids.slice(1)) expect(m.get(z + (1n << 32n)), String(z)).toBeUndefined();
    expect(m.take(makeZxid(0x20_0001n, 2n))).toBe(makeZxid(0x20_0001n, 2n));
    expect(m.has(makeZxid(0x20_0001n, 2n))).toBe(false);
    expect(m.size).toBe(zxids.length - 1);
  });

  it('is bounded: a zxid `capacity` later, or the same counter of a later epoch, evicts the one it replaces', () => {
    const evicted: bigint[] = [];
    const m = new ZxidMap<bigint>(4, (v) => evicted.push(v));
    for (let i = 1n; i <= 6n; i++) m.set(makeZxid(1n, i), i);
    expect(evicted).toEqual([1n, 2n]);
    expect(m.size).toBe(4);
    expect(new Set(m.values())).toEqual(new Set([3n, 4n, 5n, 6n]));
    m.set(makeZxid(2n, 3n), 33n);
    expect(evicted).toEqual([1n, 2n, 3n]);
    expect(m.get(makeZxid(1n, 3n))).toBeUndefined();
    m.clear();
    expect([m.size, [...m.values()]]).toEqual([0, []]);
  });
});

describe('a txn header’s time, read in place', () => {
  it('is the time the header decodes to', () => {
    for (const time of [0n, 1n, BigInt(Date.now()), 0x7fff_ffff_ffffn, -5n]) {
      const data = encodeLoggedTxn({
        hdr: { clientId: 0x1234n, cxid: 7, zxid: makeZxid(3n, 9n), time, type: OpCode.setData },
        body: { type: OpCode.setData, record: { path: '/a', data: Buffer.from('v'), version: 1 } },
      });
      expect(txnTimeMs(data)).toBe(Number(TxnHeader.read(new JuteReader(data)).time));
      expect(txnTimeMs(data.subarray(0, 31))).toBeNull();
    }
  });
});
