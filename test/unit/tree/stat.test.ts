import { describe, expect, it } from 'vitest';
import { Code, OpCode, Perms } from '../../../src/jute/index.js';
import { DataTree } from '../../../src/tree/index.js';
import { Driver, OPEN, READ_ONLY, Recorder } from './helpers.js';

describe('a fresh tree', () => {
  it('holds the nodes ZooKeeper creates, counted as mntr counts them', () => {
    const tree = new DataTree();
    expect(tree.getChildren('/').children).toEqual(['zookeeper']);
    expect(tree.getChildren('/zookeeper').children.sort()).toEqual(['config', 'quota']);
    // Apache ZooKeeper 3.8 reports zk_znode_count 5 and zk_approximate_data_size 44 when empty.
    expect(tree.nodeCount).toBe(5);
    expect(tree.approximateDataSize()).toBe(44);
    expect(tree.getAllChildrenNumber('/')).toBe(3);
  });

  it('makes /zookeeper/config world-readable only, with aclVersion -1 as ZooKeeper does', () => {
    const tree = new DataTree();
    const { acl, stat } = tree.getACL('/zookeeper/config');
    expect(acl).toEqual(READ_ONLY);
    expect(stat.aversion).toBe(-1);
    expect(tree.getACL('/').acl).toEqual(OPEN);
  });

  it('throws NONODE for reads of missing nodes', () => {
    const tree = new DataTree();
    for (const read of [() => tree.getData('/x'), () => tree.getChildren('/x'), () => tree.statNode('/x'), () => tree.getACL('/x')]) {
      expect(read).toThrow(expect.objectContaining({ code: Code.NONODE, path: '/x' }));
    }
  });
});

describe('Stat bookkeeping', () => {
  it('create fills czxid/mzxid/pzxid and ctime/mtime from the txn, and bumps the parent', () => {
    const d = new Driver(new DataTree());
    d.create('/a');
    const rc = d.create('/a/b', { data: Buffer.from('hello') });
    expect(rc.err).toBe(Code.OK);
    expect(rc.path).toBe('/a/b');
    const { stat } = d.tree.getData('/a/b');
    expect(stat).toEqual({
      czxid: 2n,
      mzxid: 2n,
      pzxid: 2n,
      ctime: 1_000_002n,
      mtime: 1_000_002n,
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: 0n,
      dataLength: 5,
      numChildren: 0,
    });
    expect(rc.stat).toEqual(stat);
    const parent = d.tree.statNode('/a');
    expect(parent.cversion).toBe(1);
    expect(parent.pzxid).toBe(2n);
    expect(parent.numChildren).toBe(1);
    expect(parent.mzxid).toBe(1n);
  });

  it('delete moves the parent pzxid; clients see cversion count creations and deletions', () => {
    const d = new Driver(new DataTree());
    d.create('/a');
    d.create('/a/b');
    d.create('/a/c');
    d.delete('/a/b');
    const parent = d.tree.statNode('/a');
    expect(parent.numChildren).toBe(1);
    expect(parent.cversion).toBe(3);
    expect(parent.pzxid).toBe(4n);
    // The persisted cversion counts creations only (what snapshots store).
    expect(d.tree.getNode('/a')!.stat.cversion).toBe(2);
    expect(d.tree.getChildren('/a').children).toEqual(['c']);
  });

  it('setData stores the new version from the txn and moves mzxid/mtime, not ctime', () => {
    const d = new Driver(new DataTree());
    d.create('/a', { data: Buffer.from('1') });
    const rc = d.setData('/a', 'twenty');
    expect(rc.stat).toMatchObject({ version: 1, mzxid: 2n, mtime: 1_000_002n, ctime: 1_000_001n, czxid: 1n, dataLength: 6 });
    expect(d.tree.getData('/a').data).toEqual(Buffer.from('twenty'));
    d.setData('/a', null);
    expect(d.tree.getData('/a')).toMatchObject({ data: null, stat: { version: 2, dataLength: 0 } });
  });

  it('setACL changes the ACL and aversion only', () => {
    const d = new Driver(new DataTree());
    d.create('/a');
    const before = d.tree.statNode('/a');
    const rc = d.setACL('/a', READ_ONLY);
    expect(rc.stat).toEqual({ ...before, aversion: 1 });
    expect(d.tree.getACL('/a').acl).toEqual(READ_ONLY);
  });

  it('sequential names come from the parent cversion, so they never repeat after deletes', () => {
    const d = new Driver(new DataTree());
    d.create('/q');
    expect(d.create('/q/n-', { sequential: true }).path).toBe('/q/n-0000000000');
    expect(d.create('/q/n-', { sequential: true }).path).toBe('/q/n-0000000001');
    d.delete('/q/n-0000000001');
    expect(d.create('/q/n-', { sequential: true }).path).toBe('/q/n-0000000002');
  });

  it('getAllChildrenNumber counts all descendants', () => {
    const d = new Driver(new DataTree());
    d.create('/a');
    d.create('/a/b');
    d.create('/a/b/c');
    d.create('/a/d');
    d.create('/ab');
    expect(d.tree.getAllChildrenNumber('/a')).toBe(3);
    expect(d.tree.getAllChildrenNumber('/a/b/c')).toBe(0);
    expect(d.tree.getAllChildrenNumber('/missing')).toBe(0);
    expect(d.tree.getAllChildrenNumber('/')).toBe(8);
  });

  it('keeps nodeCount and approximateDataSize current', () => {
    const d = new Driver(new DataTree());
    d.create('/abc', { data: Buffer.alloc(10) });
    expect(d.tree.nodeCount).toBe(6);
    expect(d.tree.approximateDataSize()).toBe(44 + 4 + 10);
    d.setData('/abc', Buffer.alloc(3));
    d.setData('/', Buffer.alloc(2));
    // ZooKeeper keys the root under both '' and '/', so root data counts twice.
    expect(d.tree.approximateDataSize()).toBe(44 + 4 + 3 + 4);
    d.delete('/abc');
    expect(d.tree.nodeCount).toBe(5);
    expect(d.tree.approximateDataSize()).toBe(44 + 4);
  });

  it('lastProcessedZxid follows applied txns', () => {
    const d = new Driver(new DataTree());
    d.create('/a');
    d.create('/a'); // NODEEXISTS still counts as processed
    expect(d.tree.lastProcessedZxid).toBe(2n);
  });
});

describe('txns that cannot apply', () => {
  it('report the error code and leave the tree as it was', () => {
    const d = new Driver(new DataTree());
    d.create('/a');
    d.create('/a/b');
    const before = d.tree.digest();
    const cases: [() => { err: number }, number][] = [
      [() => d.create('/missing/child'), Code.NONODE],
      [() => d.delete('/x/nope'), Code.NONODE],
      [() => d.setData('/nope', 'x'), Code.NONODE],
      [() => d.setACL('/nope', OPEN), Code.NONODE],
      [() => d.delete('/'), Code.BADARGUMENTS],
      [() => d.delete('/zookeeper/config'), Code.BADARGUMENTS],
      [() => d.apply({ type: OpCode.delete, record: { path: 'relative' } }), Code.BADARGUMENTS],
      [() => d.apply({ type: OpCode.delete, record: { path: '' } }), Code.BADARGUMENTS],
      [() => d.create('/a/'), Code.BADARGUMENTS],
      [() => d.create('/ttl', { ttl: 0n }), Code.BADARGUMENTS],
      [() => d.create('/ttl', { ttl: 1n << 41n }), Code.BADARGUMENTS],
    ];
    for (const [op, expected] of cases) expect(op().err).toBe(expected);
    expect(d.tree.digest()).toBe(before);
    expect(d.tree.getChildren('/').children.sort()).toEqual(['a', 'zookeeper']);
  });

  it('a delete of a missing node still moves the parent pzxid (fuzzy snapshot replay rule)', () => {
    const d = new Driver(new DataTree());
    d.create('/a');
    const rc = d.delete('/a/gone');
    expect(rc.err).toBe(Code.NONODE);
    expect(d.tree.statNode('/a')).toMatchObject({ pzxid: 2n, cversion: 0, numChildren: 0 });
  });

  it('a delete of a node with children (only a fuzzy replay can produce one) removes the whole subtree', () => {
    const d = new Driver(new DataTree());
    d.create('/a');
    d.create('/a/b');
    d.create('/a/b/c', { ephemeral: true, session: 7n });
    const w = new Recorder();
    d.tree.getData('/a/b/c', w);
    d.tree.getData('/a', w);
    const rc = d.delete('/a');
    expect(rc.err).toBe(Code.OK);
    for (const p of ['/a', '/a/b', '/a/b/c']) expect(d.tree.getNode(p)).toBeUndefined();
    expect(d.tree.getEphemerals(7n).size).toBe(0);
    expect(d.tree.nodeCount).toBe(5);
    expect(w.seen()).toEqual(['NodeDeleted /a/b/c', 'NodeDeleted /a']);
  });

  it('an error txn reports its code', () => {
    const d = new Driver(new DataTree());
    expect(d.apply({ type: OpCode.error, record: { err: Code.BADVERSION } }).err).toBe(Code.BADVERSION);
  });

  it('does not check ACLs: that is the pipeline job before the txn exists', () => {
    const d = new Driver(new DataTree());
    d.create('/locked', { acl: [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }] });
    expect(d.create('/locked/child').err).toBe(Code.OK);
  });
});
