/**
 * Agreement with Apache ZooKeeper 3.8.0 itself, on files it wrote (see fixtures/README.md):
 * replaying its txn log must give, after every txn, the tree digest ZooKeeper logged with
 * that txn; every node must end with the data, Stat and ACL ZooKeeper served; and its own
 * snapshot must load into the same tree.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeLoggedTxn, JuteReader, type LoggedTxn } from '../../../src/jute/index.js';
import { DataTree, DIGEST_VERSION } from '../../../src/tree/index.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

/** Entries of a ZooKeeper txn log: FileHeader, then (crc, length, txn bytes, 'B')*. */
function readTxnLog(buf: Buffer): LoggedTxn[] {
  const r = new JuteReader(buf);
  expect(r.readInt()).toBe(0x5a4b4c47); // 'ZKLG'
  r.readInt();
  r.readLong();
  const txns: LoggedTxn[] = [];
  while (r.remaining >= 12) {
    r.readLong();
    const length = r.readInt();
    if (length === 0) break;
    txns.push(decodeLoggedTxn(Buffer.from(r.readRaw(length))));
    expect(r.readByte()).toBe(0x42);
  }
  return txns;
}

interface ServedNode {
  data: string | null;
  stat: Record<string, string | number>;
  acl: { perms: number; scheme: string; id: string }[];
}

describe('agreement with Apache ZooKeeper 3.8.0', () => {
  const txns = readTxnLog(fixture('zk-3.8.0-txnlog.bin'));

  it('replaying its txn log gives the digest it logged after every txn', () => {
    const tree = new DataTree();
    expect(txns.length).toBe(34);
    for (const t of txns) {
      tree.processTxn(t.hdr, t.body);
      expect(t.digest?.version).toBe(DIGEST_VERSION);
      expect({ zxid: t.hdr.zxid, digest: tree.digest() }).toEqual({ zxid: t.hdr.zxid, digest: t.digest!.treeDigest });
    }
    expect(tree.lastProcessedZxid).toBe(34n);
  });

  it('ends with the data, Stat and ACL it served for every node, and its znode count and data size', () => {
    const tree = new DataTree();
    for (const t of txns) tree.processTxn(t.hdr, t.body);
    const served = JSON.parse(fixture('zk-3.8.0-nodes.json').toString('utf8')) as Record<string, ServedNode>;
    for (const [path, z] of Object.entries(served)) {
      const { data, stat } = tree.getData(path);
      expect({ path, data: data === null ? null : data.toString('hex') }).toEqual({ path, data: z.data });
      const ours = Object.fromEntries(Object.entries(stat).map(([k, v]) => [k, String(v)]));
      const theirs = Object.fromEntries(Object.entries(z.stat).map(([k, v]) => [k, String(v)]));
      expect({ path, stat: ours }).toEqual({ path, stat: theirs });
      const acl = tree.getACL(path).acl.map((a) => ({ perms: a.perms, scheme: a.id.scheme, id: a.id.id }));
      expect({ path, acl }).toEqual({ path, acl: z.acl });
    }
    expect(tree.getChildren('/').children.length).toBe(served['/']!.stat.numChildren);
    // mntr on that server: zk_znode_count 14, zk_approximate_data_size 112.
    expect(tree.nodeCount).toBe(14);
    expect(tree.approximateDataSize()).toBe(112);
    expect([...tree.containers()]).toEqual(['/cont']);
    expect([...tree.ttls()]).toEqual(['/ttlnode']);
  });

  it('loads its snapshot into the same tree, with the digest it stored', () => {
    const r = new JuteReader(fixture('zk-3.8.0-snapshot.bin'));
    expect(r.readInt()).toBe(0x5a4b534e); // 'ZKSN'
    r.readInt();
    r.readLong();
    const sessions = r.readInt();
    for (let i = 0; i < sessions; i++) {
      r.readLong();
      r.readInt();
    }
    const loaded = DataTree.readFrom(r);
    r.readLong(); // CRC
    expect(r.readString()).toBe('/');
    const digestZxid = r.readLong();
    expect(r.readInt()).toBe(DIGEST_VERSION);
    const storedDigest = r.readLong();
    expect(digestZxid).toBe(34n);
    expect(loaded.digest()).toBe(storedDigest);

    const replayed = new DataTree();
    for (const t of txns) replayed.processTxn(t.hdr, t.body);
    expect(loaded.digest()).toBe(replayed.digest());
    expect(loaded.nodeCount).toBe(replayed.nodeCount);
    for (const path of ['/a', '/a/b', '/secure', '/cont', '/ttlnode', '/zookeeper/config']) {
      expect(loaded.getData(path)).toEqual(replayed.getData(path));
      expect(loaded.getACL(path)).toEqual(replayed.getACL(path));
    }
  });
});
