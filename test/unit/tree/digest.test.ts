import { describe, expect, it } from 'vitest';
import { OpCode } from '../../../src/jute/index.js';
import { DataTree } from '../../../src/tree/index.js';
import { Driver, READ_ONLY } from './helpers.js';

/** digest() of build() below, computed in a separate process from compiled code. */
const PINNED_DIGEST = 8304403360n;

function build(mutate?: (d: Driver) => void): DataTree {
  const d = new Driver(new DataTree());
  d.create('/a', { data: Buffer.from('x') });
  d.create('/a/b');
  d.setData('/a', 'y');
  mutate?.(d);
  return d.tree;
}

describe('tree digest', () => {
  it('is equal for trees built by the same txns, and survives a snapshot round trip', () => {
    expect(build().digest()).toBe(build().digest());
    expect(DataTree.deserialize(build().serialize()).digest()).toBe(build().digest());
  });

  it('differs when data, a Stat field or the set of nodes differs', () => {
    const base = build().digest();
    expect(build((d) => d.setData('/a/b', 'z')).digest()).not.toBe(base);
    expect(build((d) => d.create('/c')).digest()).not.toBe(base);
    expect(build((d) => d.setACL('/a', READ_ONLY)).digest()).not.toBe(base); // aversion moved
    expect(build((d) => d.apply({ type: OpCode.delete, record: { path: '/a/gone' } })).digest()).not.toBe(base); // pzxid moved
  });

  it('ignores ACL contents and everything under /zookeeper/, as ZooKeeper does', () => {
    const a = build((d) => d.apply({ type: OpCode.setACL, record: { path: '/a', acl: READ_ONLY, version: 0 } }));
    expect(a.digest()).toBe(build((d) => d.apply({ type: OpCode.check, record: { path: '/a', version: 0 } })).digest());
    const q = build((d) => d.create('/zookeeper/quota/x'));
    // /zookeeper/quota's own stat is not digested, so only the zxid bookkeeping differs: none.
    expect(q.digest()).toBe(build((d) => d.apply({ type: OpCode.check, record: { path: '/', version: 0 } })).digest());
  });

  it('a loaded tree counts its digests later, in steps, and changes before that keep the digest exact', () => {
    const d = new Driver(new DataTree());
    for (let i = 0; i < 50; i++) d.create(`/n${i}`, { data: Buffer.from(`v${i}`) });
    const bytes = d.tree.serialize();
    const startLog = d.log.length;
    d.setData('/n3', 'changed');
    d.apply({ type: OpCode.delete, record: { path: '/n7' } });
    d.create('/n7', { data: Buffer.from('again') });
    const want = d.tree.digest();

    const stepped = DataTree.deserialize(bytes);
    for (const { hdr, body } of d.log.slice(startLog)) stepped.processTxn(hdr, body); // touches loaded nodes first
    let steps = 0;
    while (!stepped.countDigests(7)) {
      expect(stepped.countedDigest()).toBeNull(); // what mntr shows meanwhile: no digest, no stall
      steps++;
    }
    expect(steps).toBeGreaterThanOrEqual(6);
    expect(stepped.countedDigest()).toBe(want);
    expect(stepped.digest()).toBe(want);

    const atOnce = DataTree.deserialize(bytes);
    for (const { hdr, body } of d.log.slice(startLog)) atOnce.processTxn(hdr, body);
    expect(atOnce.digest()).toBe(want); // asked before any step: counted there and then
    expect(atOnce.countDigests(1)).toBe(true);
  });

  it('a replay with digests deferred ends at the same digest, whether counted in steps meanwhile, after or when asked', async () => {
    const d = new Driver(new DataTree());
    for (let i = 0; i < 30; i++) d.create(`/n${i}`, { data: Buffer.from(`v${i}`) });
    const bytes = d.tree.serialize();
    const startLog = d.log.length;
    for (let i = 0; i < 30; i++) d.create(`/n${i}/c`, { data: Buffer.from(`c${i}`) }); // parents loaded, children new
    d.setData('/n3', 'changed');
    d.apply({ type: OpCode.delete, record: { path: '/n7/c' } });
    d.apply({ type: OpCode.delete, record: { path: '/n7' } });
    d.create('/n7', { data: Buffer.from('again') });
    const want = d.tree.digest();
    const replay = (tree: DataTree, between?: () => void): Promise<void> =>
      tree.withDigestsDeferred(async () => {
        for (const { hdr, body } of d.log.slice(startLog)) {
          tree.processTxn(hdr, body);
          between?.();
        }
      });

    const stepped = DataTree.deserialize(bytes);
    await replay(stepped, () => stepped.countDigests(3)); // counting runs while the replay defers
    const after = { hdr: { clientId: 1n, cxid: 1, zxid: 1000n, time: 1n, type: OpCode.setData }, body: { type: OpCode.setData, record: { path: '/n5', data: Buffer.from('after'), version: 1 } } } as const;
    stepped.processTxn(after.hdr, after.body); // counted at once again
    while (!stepped.countDigests(4));
    const eager = DataTree.deserialize(bytes);
    for (const { hdr, body } of d.log.slice(startLog)) eager.processTxn(hdr, body);
    eager.processTxn(after.hdr, after.body);
    expect(stepped.digest()).toBe(eager.digest());
    expect(stepped.digest()).not.toBe(want);

    const asked = DataTree.deserialize(bytes);
    await replay(asked);
    expect(asked.digest()).toBe(want);
  });

  it('is a pure function of the txns: a pinned value, as ZooKeeper DigestCalculator v2 computes it', () => {
    // Nothing random or order-dependent goes in, so every process computes this value; the
    // ZooKeeper fixture test shows the same algorithm reproduces Java's digests.
    expect(build().digest()).toBe(PINNED_DIGEST);
  });
});
