/**
 * ZKDatabase's snapshots over the real storage code (MemoryFs): one asked for while another
 * is written is taken after it (through the host's `again`), not skipped; a SNAP encoded in
 * pieces while txns apply installs, with those txns replayed, as the tree that sent it.
 */
import { describe, expect, it } from 'vitest';
import { JuteDecodeError, JuteTruncatedError, OpCode, Perms, type LoggedTxn } from '../../../src/jute/index.js';
import { SNAPSHOT_READ_STEP_NODES } from '../../../src/tree/index.js';
import { FileSnapStore, FileTxnLog, MemoryFs } from '../../../src/storage/index.js';
import { decodeSnapshot, ZKDatabase } from '../../../src/server/zk-database.js';
import { createLogger } from '../../../src/server/log.js';
import { ArrivingSnapshot, SnapshotAbandoned } from '../../../src/server/quorum/arriving-snapshot.js';

const DIR = '/data/version-2';

async function database(): Promise<{ db: ZKDatabase; snaps: FileSnapStore }> {
  const fs = new MemoryFs();
  const snaps = await FileSnapStore.open({ fs, dir: DIR, log: () => undefined });
  const txnLog = await FileTxnLog.open({ fs, dir: DIR, preAllocSize: 4096, log: () => undefined });
  return { db: new ZKDatabase(txnLog, snaps, createLogger({ level: 'error' })), snaps };
}

describe('ZKDatabase snapshots', () => {
  it('a snapshot asked for while one is written follows it, once however often it was asked', async () => {
    const { db, snaps } = await database();
    let again = 0;
    db.again = () => {
      again++;
      void db.takeSnapshot();
    };
    const first = db.takeSnapshot();
    expect(await db.takeSnapshot()).toBeNull();
    expect(await db.takeSnapshot()).toBeNull();
    expect((await first)?.zxid).toBe(0n);
    await new Promise((r) => setTimeout(r, 50));
    expect(again).toBe(1);
    expect(await snaps.list()).toEqual([0n]);
    await db.close();
  });

  it('nothing follows once the database is closing', async () => {
    const { db } = await database();
    let again = 0;
    db.again = () => again++;
    const first = db.takeSnapshot();
    void db.takeSnapshot();
    await db.close();
    await first;
    expect(again).toBe(0);
  });
});

const OPEN = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
function txn(zxid: bigint, body: LoggedTxn['body']): LoggedTxn {
  return { hdr: { clientId: 1n, cxid: 1, zxid, time: 1_700_000_000_000n + zxid, type: body.type }, body };
}
/** As the leader's pipeline writes it: the parent's cversion after this create, so that a replay is idempotent. */
const create = (zxid: bigint, path: string, parentCVersion: number): LoggedTxn =>
  txn(zxid, { type: OpCode.create, record: { path, data: Buffer.from(`v${zxid}`), acl: OPEN, ephemeral: false, parentCVersion } });

/** Apply as a replay does: a txn the state already holds is answered with an error, not applied twice. */
function replay(db: ZKDatabase, t: LoggedTxn): void {
  try {
    db.applyTxn(t);
  } catch {
    // NODEEXISTS / NONODE over a fuzzy snapshot
  }
}

describe('ZKDatabase SNAP encoding', () => {
  it("encodes in chunks between turns while txns apply; the learner's install plus replay is the sender's tree", async () => {
    const { db: leader } = await database();
    let zxid = 0n;
    replay(leader, create(++zxid, '/a', 1));
    for (let i = 0; i < 3000; i++) replay(leader, create(++zxid, `/a/n${i}`, i + 1));
    const start = zxid;
    const later: LoggedTxn[] = [];
    let turns = 0;
    // Between pieces: new nodes, deletes of nodes not yet written and of ones already written, a data change.
    const chunks: Buffer[] = [];
    const bytes = await leader.snapshotChunks(4096, async (c) => void chunks.push(c), async () => {
      turns++;
      const batch = [
        create(++zxid, `/a/new${turns}`, 3000 + turns),
        txn(++zxid, { type: OpCode.delete, record: { path: `/a/n${3000 - turns}` } }),
        txn(++zxid, { type: OpCode.delete, record: { path: `/a/n${turns}` } }),
        txn(++zxid, { type: OpCode.setData, record: { path: `/a/n${1500 + turns}`, data: Buffer.from('changed'), version: 1 } }),
      ];
      for (const t of batch) {
        replay(leader, t);
        later.push(t);
      }
    });
    expect(turns).toBeGreaterThan(1);
    expect(chunks.length).toBeGreaterThan(1);
    expect(bytes).toBe(chunks.reduce((n, c) => n + c.length, 0));
    for (const c of chunks.slice(0, -1)) expect(c.length).toBe(4096);
    // Each chunk is the receiver's to keep: kept as they came, they decode to the tree below.
    const { db: learner } = await database();
    const before = learner.tree;
    let yields = 0;
    // Decoded in steps, and swapped in whole: between steps the learner still has its old tree.
    // Records cross the 4 KiB chunks anywhere: each is read again, whole, once the next chunk is there.
    const decoded = await decodeSnapshot(chunks, async () => {
      yields++;
      expect(learner.tree).toBe(before);
    });
    // A turn after every SNAPSHOT_READ_STEP_NODES of the 3,000+ znodes, and one before it is done.
    expect(yields).toBeGreaterThanOrEqual(Math.floor(3001 / SNAPSHOT_READ_STEP_NODES) + 1);
    expect(learner.tree).toBe(before);
    learner.installDecoded(decoded, start);
    expect(learner.tree).not.toBe(before);
    for (const t of later) replay(learner, t);
    expect(learner.tree.nodeCount).toBe(leader.tree.nodeCount);
    expect(learner.tree.digest()).toBe(leader.tree.digest());
    await leader.close();
    await learner.close();
  });
});

/** A whole SNAP's bytes, as a learner receives them. */
async function snapOf(db: ZKDatabase): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await db.snapshotChunks(1 << 20, async (c) => void chunks.push(c), async () => undefined);
  return Buffer.concat(chunks);
}

describe('ZKDatabase SNAP install', () => {
  it('decodes a snapshot cut into two pieces at every byte, or into pieces of one byte, to the same state; cut short anywhere, it is truncated', async () => {
    const { db: leader } = await database();
    let zxid = 0n;
    replay(leader, create(++zxid, '/a', 1));
    for (let i = 0; i < 5; i++) replay(leader, create(++zxid, `/a/n${i}`, i + 1));
    replay(leader, txn(++zxid, { type: OpCode.createSession, record: { timeOut: 30_000 } }));
    const snap = await snapOf(leader);
    const expected = await decodeSnapshot([snap], async () => undefined);
    const same = async (pieces: Buffer[]): Promise<void> => {
      const got = await decodeSnapshot(pieces, async () => undefined);
      expect(got.tree.digest()).toBe(expected.tree.digest());
      expect(got.tree.nodeCount).toBe(expected.tree.nodeCount);
      expect([...got.sessions]).toEqual([...expected.sessions]);
    };
    for (let cut = 0; cut <= snap.length; cut++) await same([snap.subarray(0, cut), snap.subarray(cut)]);
    await same(Array.from(snap, (_, i) => snap.subarray(i, i + 1)));
    for (let cut = 0; cut < snap.length; cut++) {
      await expect(decodeSnapshot([snap.subarray(0, cut)], async () => undefined)).rejects.toThrow(JuteDecodeError);
    }
    await leader.close();
  });


  it('decodes pieces larger than the bridge a cut record is read from, and a record longer than the bridge cut between pieces', async () => {
    const { db: leader } = await database();
    let zxid = 0n;
    replay(leader, create(++zxid, '/a', 1));
    for (let i = 0; i < 3000; i++) replay(leader, create(++zxid, `/a/n${i}`, i + 1));
    // Values of 200 KB, longer than the 64 KiB bridge, here and there among small ones.
    for (let i = 0; i < 4; i++) {
      replay(leader, txn(++zxid, { type: OpCode.create, record: { path: `/big${i}`, data: Buffer.alloc(200_000, i + 1), acl: OPEN, ephemeral: false, parentCVersion: i + 2 } }));
      for (let j = 0; j < 500; j++) replay(leader, create(++zxid, `/a/m${i}-${j}`, 3001 + i * 500 + j));
    }
    const snap = await snapOf(leader);
    const expected = leader.tree.digest();
    for (const size of [70_000, 100_003, 250_001, 1 << 20]) {
      const pieces: Buffer[] = [];
      for (let at = 0; at < snap.length; at += size) pieces.push(snap.subarray(at, at + size));
      const got = await decodeSnapshot(pieces, async () => undefined);
      expect(got.tree.digest(), `pieces of ${size} bytes`).toBe(expected);
      expect(got.tree.getNode('/big2')?.data?.length).toBe(200_000);
    }
    await leader.close();
  });

  it('decodes pieces as they arrive: it waits for each, has decoded what came before the last one, and fails if the SNAP is abandoned', async () => {
    const { db: leader } = await database();
    let zxid = 0n;
    replay(leader, create(++zxid, '/a', 1));
    for (let i = 0; i < 3 * SNAPSHOT_READ_STEP_NODES; i++) replay(leader, create(++zxid, `/a/n${i}`, i + 1));
    const snap = await snapOf(leader);
    const size = Math.ceil(snap.length / 8);
    const arriving = new ArrivingSnapshot(zxid);
    let steps = 0;
    const decoded = decodeSnapshot(arriving.read(), async () => {
      steps++;
      await new Promise((resolve) => setImmediate(resolve));
    });
    for (let at = 0; at < snap.length; at += size) {
      arriving.add(snap.subarray(at, at + size));
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    }
    // All but the end is decoded before the SNAP is complete: decoding kept up with the pieces.
    expect(steps).toBeGreaterThanOrEqual(3);
    const before = steps;
    arriving.complete();
    const got = await decoded;
    expect(steps - before).toBeLessThanOrEqual(2);
    expect(got.tree.digest()).toBe(leader.tree.digest());

    const cut = new ArrivingSnapshot(zxid);
    const failing = decodeSnapshot(cut.read(), async () => undefined);
    cut.add(snap.subarray(0, size));
    cut.abandon();
    await expect(failing).rejects.toThrow(SnapshotAbandoned);
    await leader.close();
  });

  it('refuses a SNAP with bytes after the tree and keeps the state it had', async () => {
    const { db: leader } = await database();
    replay(leader, create(1n, '/a', 1));
    const snap = await snapOf(leader);
    const { db: learner } = await database();
    replay(learner, create(1n, '/mine', 1));
    const before = learner.tree;
    await expect(decodeSnapshot([snap, Buffer.from([0])], async () => undefined)).rejects.toThrow(JuteDecodeError);
    await expect(decodeSnapshot([snap.subarray(0, 10), snap.subarray(10, snap.length - 1)], async () => undefined)).rejects.toThrow(JuteTruncatedError);
    expect(learner.tree).toBe(before);
    expect(learner.tree.getNode('/mine')).toBeDefined();
    learner.installDecoded(await decodeSnapshot([snap], async () => undefined), 1n);
    expect(learner.tree.getNode('/a')).toBeDefined();
    expect(learner.tree.getNode('/mine')).toBeUndefined();
    await leader.close();
    await learner.close();
  });
});

describe('ZKDatabase digest counting', () => {
  it('counts in idle steps, once per tree, and again when txns applied with digests deferred left nodes to count', async () => {
    const { db } = await database();
    let zxid = 0n;
    for (let i = 0; i < 50; i++) replay(db, create(++zxid, `/n${i}`, i + 1));
    const { db: loaded } = await database();
    const steps: (() => void)[] = [];
    loaded.installDecoded(await decodeSnapshot([await snapOf(db)], async () => undefined), zxid);
    const runSteps = (): number => {
      let ran = 0;
      while (steps.length > 0) {
        steps.shift()!();
        ran++;
      }
      return ran;
    };
    loaded.countDigestsWhenIdle((step) => steps.push(step));
    loaded.countDigestsAgain(); // under way already: no second stepper
    expect(steps).toHaveLength(1);
    expect(loaded.tree.countedDigest()).toBeNull();
    expect(runSteps()).toBeGreaterThanOrEqual(1);
    expect(loaded.tree.countedDigest()).toBe(db.tree.digest());

    // A resync applies txns with digests deferred (a host that does not serve yet): counted again on demand.
    loaded.tree.setDigestsDeferred(true);
    const t = create(++zxid, '/later', 99);
    replay(loaded, t);
    replay(db, t);
    loaded.tree.setDigestsDeferred(false);
    expect(loaded.tree.countedDigest()).toBeNull();
    loaded.countDigestsAgain();
    expect(runSteps()).toBeGreaterThanOrEqual(1);
    expect(loaded.tree.countedDigest()).toBe(db.tree.digest());
    await db.close();
    await loaded.close();
  });
});
