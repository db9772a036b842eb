/**
 * Whatever txns arrive — well formed or not — processTxn never throws, and the tree stays
 * consistent: every node is linked from its parent, the indexes agree with the nodes, and
 * the incrementally kept digest and data size equal a recomputation from scratch.
 */
import { describe, expect, it } from 'vitest';
import { OpCode, type ACL, type TxnBody } from '../../../src/jute/index.js';
import { DataTree, ephemeralTypeOf } from '../../../src/tree/index.js';
import { OPEN, READ_ONLY } from './helpers.js';

function checkInvariants(tree: DataTree): void {
  let count = 0;
  let size = 0;
  const ephemerals = new Map<bigint, Set<string>>();
  const walk = (path: string): void => {
    const node = tree.getNode(path);
    expect(node, path).toBeDefined();
    count++;
    size += (path === '/' ? 1 : path.length) + (node!.data?.length ?? 0) * (path === '/' ? 2 : 1);
    const owner = node!.stat.ephemeralOwner;
    if (ephemeralTypeOf(owner) === 'normal') {
      if (!ephemerals.has(owner)) ephemerals.set(owner, new Set());
      ephemerals.get(owner)!.add(path);
    }
    for (const c of node!.children) walk(path === '/' ? `/${c}` : `${path}/${c}`);
  };
  walk('/');
  expect(tree.nodeCount).toBe(count + 1);
  expect(tree.approximateDataSize()).toBe(size);
  expect(tree.ephemeralSessions()).toEqual(ephemerals);
  expect(DataTree.deserialize(tree.serialize()).digest()).toBe(tree.digest());
}

describe('tree invariants under arbitrary txns', () => {
  it.each([1, 2, 3, 4, 5])('seed %i', (seed) => {
    let s = seed;
    const rand = (n: number): number => {
      s = (s * 48271) % 2147483647;
      return s % n;
    };
    const pieces = ['a', 'b', '', '.', 'zookeeper', 'config', 'x/y'];
    const path = (): string => {
      if (rand(20) === 0) return ['', 'no-slash', '/', '//', '/a/', '/zookeeper', '/zookeeper/config'][rand(7)]!;
      let p = '';
      for (let i = rand(3); i >= 0; i--) p += '/' + pieces[rand(pieces.length)];
      return p;
    };
    const acls: ACL[][] = [OPEN, READ_ONLY, []];
    const body = (depth: number): TxnBody => {
      switch (rand(depth > 0 ? 10 : 11)) {
        case 0:
        case 1:
          return {
            type: OpCode.create,
            record: { path: path(), data: rand(3) === 0 ? null : Buffer.alloc(rand(5)), acl: acls[rand(3)]!, ephemeral: rand(2) === 0, parentCVersion: rand(5) - 1 },
          };
        case 2:
          return { type: OpCode.createContainer, record: { path: path(), data: null, acl: OPEN, parentCVersion: -1 } };
        case 3:
          return { type: OpCode.createTTL, record: { path: path(), data: null, acl: OPEN, parentCVersion: -1, ttl: BigInt(rand(3)) * 1000n - 1000n } };
        case 4:
          return { type: OpCode.delete, record: { path: path() } };
        case 5:
          return { type: OpCode.setData, record: { path: path(), data: Buffer.alloc(rand(4)), version: rand(3) } };
        case 6:
          return { type: OpCode.setACL, record: { path: path(), acl: acls[rand(3)]!, version: rand(3) } };
        case 7:
          return { type: OpCode.closeSession, record: { paths2Delete: rand(2) === 0 ? [] : [path()] } };
        case 8:
          return { type: OpCode.error, record: { err: -rand(120) } };
        case 9:
          return { type: OpCode.check, record: { path: path(), version: 0 } };
        default:
          return { type: OpCode.multi, txns: Array.from({ length: rand(4) }, () => body(depth + 1)) };
      }
    };
    const tree = new DataTree();
    for (let zxid = 1n; zxid <= 1500n; zxid++) {
      const b = body(0);
      const session = BigInt(1 + rand(3));
      expect(() => tree.processTxn({ clientId: session, cxid: 0, zxid, time: zxid, type: b.type }, b)).not.toThrow();
      if (zxid % 100n === 0n) checkInvariants(tree);
    }
    checkInvariants(tree);
    expect(tree.lastProcessedZxid).toBe(1500n);
  });
});
