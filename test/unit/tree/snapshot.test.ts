import { describe, expect, it } from 'vitest';
import { Code, JuteDecodeError, JuteWriter, OpCode, Perms, type TxnBody } from '../../../src/jute/index.js';
import { checkACL, DataTree, digestOf, parentOf } from '../../../src/tree/index.js';
import { Driver, dumpTree, OPEN, READ_ONLY, type LoggedEntry } from './helpers.js';

const S1 = 0x2000000000001n;
const S2 = 0x2000000000002n;

function sample(): Driver {
  const d = new Driver(new DataTree());
  d.create('/app', { data: Buffer.from('config') });
  d.create('/app/locks', { container: true });
  d.create('/app/locks/l-', { ephemeral: true, sequential: true, session: S1 });
  d.create('/app/ttl', { ttl: 5000n, data: null });
  d.create('/secure', { acl: [{ perms: Perms.ALL, id: { scheme: 'digest', id: digestOf('bob:pw') } }] });
  d.create('/ro', { acl: READ_ONLY, data: Buffer.alloc(3000, 7) });
  d.create('/ünï', { ephemeral: true, session: S2 });
  d.setData('/app', 'config2');
  d.delete('/app/ttl');
  d.create('/app/ttl', { ttl: 7000n });
  return d;
}

/** The ustring encoding of a path, to spot when a snapshot piece has written a node. */
function encodedPath(path: string): Buffer {
  const w = new JuteWriter();
  w.writeString(path);
  return w.toBuffer();
}

function expectSameTree(a: DataTree, b: DataTree): void {
  expect(dumpTree(a)).toBe(dumpTree(b));
  expect(a.digest()).toBe(b.digest());
  expect(a.nodeCount).toBe(b.nodeCount);
  expect(a.approximateDataSize()).toBe(b.approximateDataSize());
  expect(a.ephemeralSessions()).toEqual(b.ephemeralSessions());
  expect(a.containers()).toEqual(b.containers());
  expect(a.ttls()).toEqual(b.ttls());
}

/**
 * A snapshot taken while txns keep applying: `during(path)` runs after each piece (one node
 * per piece) and may apply txns. Returns the snapshot and the txns applied after it began.
 */
function fuzzySnapshot(d: Driver, during: (written: Buffer) => void): { bytes: Buffer; replay: LoggedEntry[] } {
  const chunks: Buffer[] = [];
  const gen = d.tree.serializeChunks(1);
  let first = true;
  let startLog = 0;
  for (;;) {
    if (first) startLog = d.log.length; // the snapshot starts at the first piece
    const next = gen.next();
    if (next.done === true) break;
    first = false;
    chunks.push(Buffer.from(next.value)); // a view of a reused buffer
    during(Buffer.concat(chunks));
  }
  return { bytes: Buffer.concat(chunks), replay: d.log.slice(startLog) };
}

function restore(bytes: Buffer, replay: LoggedEntry[]): DataTree {
  const t = DataTree.deserialize(bytes);
  for (const { hdr, body } of replay) t.processTxn(hdr, body);
  return t;
}

describe('snapshot round trip', () => {
  it('restores data, Stat, ACLs, ephemerals, containers, TTLs and the digest', () => {
    const d = sample();
    const back = DataTree.deserialize(d.tree.serialize());
    expectSameTree(back, d.tree);
    expect(back.getData('/app').data!.toString()).toBe('config2');
    expect(back.getData('/app/ttl').data).toEqual(Buffer.from(''));
    expect(back.getData('/app/locks/l-0000000000').stat.ephemeralOwner).toBe(S1);
    expect(back.getACL('/zookeeper/config')).toEqual(d.tree.getACL('/zookeeper/config'));
  });

  it('keeps null data distinct from empty data', () => {
    const d = new Driver(new DataTree());
    d.create('/null', { data: null });
    d.create('/empty', { data: Buffer.alloc(0) });
    const back = DataTree.deserialize(d.tree.serialize());
    expect(back.getData('/null').data).toBeNull();
    expect(back.getData('/empty').data).toEqual(Buffer.alloc(0));
  });

  it('comes in pieces of at most chunkNodes nodes, ending with the "/" marker', () => {
    const d = sample();
    const pieces = Array.from(d.tree.serializeChunks(2), (p) => Buffer.from(p));
    // Every node once, two per piece; the end marker closes the last piece (or gets its own).
    const nodes = d.tree.nodeCount - 1;
    expect(pieces.length).toBe(Math.ceil(nodes / 2) + (nodes % 2 === 0 ? 1 : 0));
    expect(pieces.at(-1)!.subarray(-5)).toEqual(encodedPath('/'));
    expect(Buffer.concat(pieces)).toEqual(d.tree.serialize());
  });

  it('cuts a piece early when it grows past the byte limit', () => {
    const d = new Driver(new DataTree());
    for (let i = 0; i < 3; i++) d.create(`/big${i}`, { data: Buffer.alloc(700_000) });
    const pieces = Array.from(d.tree.serializeChunks(1000), (p) => Buffer.from(p));
    expect(pieces.length).toBeGreaterThan(1);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(2 * 1024 * 1024);
  });

  it('writes the root as "" and the ACL table first, as ZooKeeper does', () => {
    const bytes = new DataTree().serialize();
    // ACL table: one entry (index 1 = READ world:anyone, /zookeeper/config's ACL).
    expect(bytes.readInt32BE(0)).toBe(1);
    expect(bytes.readBigInt64BE(4)).toBe(1n);
    const afterTable = 4 + 8 + 4 + (4 + 4 + 5 + 4 + 6);
    expect(bytes.readInt32BE(afterTable)).toBe(0); // '' — the root's path
  });
});

describe('deserialize refuses bad bytes with JuteDecodeError', () => {
  const good = sample().tree.serialize();
  it.each([
    ['truncated', good.subarray(0, good.length - 3)],
    ['empty', Buffer.alloc(0)],
    ['trailing bytes', Buffer.concat([good, Buffer.from([0])])],
    ['a negative ACL table size', Buffer.from([0xff, 0xff, 0xff, 0xfe])],
  ])('%s', (_what, bytes) => {
    expect(() => DataTree.deserialize(bytes)).toThrow(JuteDecodeError);
  });

  it.each([
    ['a node listed before its parent', ['/orphan/child'], /before its parent/],
    ['a path with an empty element', ['//child'], /bad path/],
    ['a path ending in /', ['/a', '/a/'], /bad path/],
    ['a relative path', ['child'], /bad path/],
    ['a node twice', ['/a', '/a'], /repeated path/],
    ['the root twice', [''], /root node is not first/],
  ])('%s', (_what, more, message) => {
    const w = new JuteWriter();
    w.writeInt(0);
    for (const path of ['', ...more]) {
      w.writeString(path);
      w.writeBuffer(null);
      w.writeLong(-1n);
      for (let i = 0; i < 4; i++) w.writeLong(0n);
      for (let i = 0; i < 3; i++) w.writeInt(0);
      w.writeLong(0n);
      w.writeLong(0n);
    }
    w.writeString('/');
    expect(() => DataTree.deserialize(w.toBuffer())).toThrow(message);
    expect(() => DataTree.deserialize(w.toBuffer())).toThrow(JuteDecodeError);
  });

  it('random corruption never escapes as anything but JuteDecodeError', () => {
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 300; i++) {
      const bad = Buffer.from(good);
      for (let j = 0; j < 3; j++) bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
      try {
        DataTree.deserialize(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(JuteDecodeError);
      }
    }
  });
});

describe('fuzzy snapshots converge after replaying the txns that followed their start', () => {
  it('nodes created after the snapshot began are left out, and their replayed creates make them', () => {
    const d = sample();
    let done = false;
    const { bytes, replay } = fuzzySnapshot(d, () => {
      if (done) return;
      done = true;
      // /app is not written yet, but its new child was created after the snapshot began.
      d.create('/zz-late', { data: Buffer.from('late') });
      d.create('/app/late-child');
    });
    const back = DataTree.deserialize(bytes);
    expect(back.getNode('/app/late-child')).toBeUndefined();
    expect(back.getNode('/zz-late')).toBeUndefined();
    const results = replay.map(({ hdr, body }) => back.processTxn(hdr, body));
    expect(results.map((r) => r.err)).toEqual([Code.OK, Code.OK]);
    expectSameTree(back, d.tree);
  });

  it('a node written into a snapshot named before its create (ZooKeeper writes these): the replayed create is NODEEXISTS and changes nothing', () => {
    const d = sample();
    const startLog = d.log.length;
    d.create('/app/late-child', { data: Buffer.from('x') });
    d.setData('/app', Buffer.from('after'));
    const back = DataTree.deserialize(d.tree.serialize());
    const results = d.log.slice(startLog).map(({ hdr, body }) => back.processTxn(hdr, body));
    expect(results.map((r) => r.err)).toEqual([Code.NODEEXISTS, Code.OK]);
    expectSameTree(back, d.tree);
  });

  it('a node deleted and created again while the pieces are written appears once', () => {
    const d = sample();
    d.create('/again');
    let done = false;
    const { bytes, replay } = fuzzySnapshot(d, (written) => {
      if (done || !written.includes(encodedPath('/again'))) return;
      done = true;
      d.delete('/again');
      d.create('/again', { data: Buffer.from('second') });
    });
    const back = DataTree.deserialize(bytes);
    for (const { hdr, body } of replay) back.processTxn(hdr, body);
    expectSameTree(back, d.tree);
    expect(back.getData('/again').data!.toString()).toBe('second');
  });

  it('a node deleted before it was written: the replayed delete is NONODE, the parent pzxid still moves', () => {
    const d = sample();
    d.create('/victim-parent');
    d.create('/victim-parent/v');
    let done = false;
    const { bytes, replay } = fuzzySnapshot(d, (written) => {
      if (done || !written.includes(encodedPath('/victim-parent'))) return;
      done = true;
      d.delete('/victim-parent/v');
    });
    const back = DataTree.deserialize(bytes);
    expect(back.getNode('/victim-parent/v')).toBeUndefined();
    expect(back.getNode('/victim-parent')!.children.has('v')).toBe(false);
    expect(replay.map(({ hdr, body }) => back.processTxn(hdr, body).err)).toEqual([Code.NONODE]);
    expectSameTree(back, d.tree);
  });

  it('setData before and after a node is written replays to the same data and version', () => {
    const d = sample();
    d.create('/s1');
    d.create('/s2');
    let step = 0;
    const { bytes, replay } = fuzzySnapshot(d, (written) => {
      if (step === 0) {
        d.setData('/s2', 'before-visit'); // captured in the snapshot, replayed again
        step = 1;
      } else if (step === 1 && written.includes(encodedPath('/s1'))) {
        d.setData('/s1', 'after-visit'); // not captured, replay applies it
        d.setData('/s1', 'after-visit-2');
        step = 2;
      }
    });
    const back = restore(bytes, replay);
    expect(back.getData('/s1')).toMatchObject({ data: Buffer.from('after-visit-2'), stat: { version: 2 } });
    expect(back.getData('/s2')).toMatchObject({ data: Buffer.from('before-visit'), stat: { version: 1 } });
    expectSameTree(back, d.tree);
  });

  it('an ACL first used after the ACL table was written: the node fails closed until replay sets it', () => {
    const d = sample();
    d.create('/later');
    const fresh = [{ perms: Perms.READ, id: { scheme: 'ip', id: '10.0.0.0/8' } }];
    let done = false;
    const { bytes, replay } = fuzzySnapshot(d, () => {
      if (done) return;
      done = true;
      d.setACL('/later', fresh); // table already written; /later not yet
    });
    const back = DataTree.deserialize(bytes);
    const acl = back.getNode('/later')!.acl;
    expect(() => checkACL(acl, Perms.READ, [{ scheme: 'ip', id: '10.1.1.1' }])).toThrow(
      expect.objectContaining({ code: Code.NOAUTH }),
    );
    for (const { hdr, body } of replay) back.processTxn(hdr, body);
    expect(back.getACL('/later').acl).toEqual(fresh);
    expectSameTree(back, d.tree);
  });

  it('a node deleted and created again by another session in the window keeps the newer parent cversion', () => {
    const d = sample();
    d.create('/q');
    d.create('/q/e', { ephemeral: true, session: S1 });
    let done = false;
    const { bytes, replay } = fuzzySnapshot(d, (written) => {
      if (done || !written.includes(encodedPath('/q/e'))) return;
      done = true;
      d.closeSession(S1, ['/q/e']);
      d.create('/q/e', { ephemeral: true, session: S2 });
    });
    const back = restore(bytes, replay);
    expect(back.getData('/q/e').stat.ephemeralOwner).toBe(S2);
    expectSameTree(back, d.tree);
  });

  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('random workload, seed %i', (seed) => {
    let s = seed;
    const rand = (n: number): number => {
      s = (s * 48271) % 2147483647;
      return s % n;
    };
    const d = new Driver(new DataTree());
    const names = ['a', 'b', 'c', 'd'];
    const acls = [OPEN, READ_ONLY, [{ perms: Perms.ALL, id: { scheme: 'digest', id: `u${seed}:x` } }]];
    const sessions = [S1, S2, 0x2000000000003n];
    const randomPath = (): string => {
      const depth = 1 + rand(3);
      let p = '';
      for (let i = 0; i < depth; i++) p += '/' + names[rand(names.length)];
      return p;
    };
    const step = (): void => {
      const p = randomPath();
      const exists = d.tree.getNode(p) !== undefined;
      const parentExists = d.tree.getNode(parentOf(p)) !== undefined;
      switch (rand(8)) {
        case 0:
        case 1:
          if (!exists && parentExists && d.tree.getNode(parentOf(p))!.stat.ephemeralOwner === 0n)
            d.create(p, { data: Buffer.from(String(rand(1000))), acl: acls[rand(3)], ephemeral: rand(3) === 0, session: sessions[rand(3)] });
          return;
        case 2:
          if (parentExists && d.tree.getNode(parentOf(p))!.stat.ephemeralOwner === 0n) d.create(p + '-', { sequential: true });
          return;
        case 3:
          if (exists && d.tree.getNode(p)!.children.size === 0) d.delete(p);
          return;
        case 4:
          if (exists) d.setData(p, rand(2) === 0 ? null : String(rand(1e6)));
          return;
        case 5:
          if (exists) d.setACL(p, acls[rand(3)]!);
          return;
        case 6: {
          const session = sessions[rand(3)]!;
          if (rand(4) === 0) d.closeSession(session, [...d.tree.getEphemerals(session)]);
          return;
        }
        default: {
          const a = `/m${rand(3)}`;
          const ok = d.tree.getNode(a) === undefined;
          const txns: TxnBody[] = ok
            ? [d.createTxn(a), { type: OpCode.setData, record: { path: '/zookeeper', data: Buffer.from('m'), version: rand(9) } }]
            : [{ type: OpCode.error, record: { err: Code.NODEEXISTS } }, { type: OpCode.error, record: { err: Code.RUNTIMEINCONSISTENCY } }];
          d.apply({ type: OpCode.multi, txns });
        }
      }
    };
    for (let i = 0; i < 200; i++) step();
    const { bytes, replay } = fuzzySnapshot(d, () => {
      for (let i = rand(8); i > 0; i--) step();
    });
    const start = d.log.length - replay.length;
    for (let i = 0; i < 10; i++) step(); // txns after the snapshot ended are in the log too
    expectSameTree(restore(bytes, d.log.slice(start)), d.tree);
  });
});
