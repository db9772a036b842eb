/**
 * The tree digest, computed exactly as ZooKeeper's DigestCalculator (digest version 2): a
 * node's digest is CRC32 over its path, its data and 60 bytes of its StatPersisted; the tree
 * digest is the 64-bit wrapping sum of all node digests (AdHash), so it can be updated in
 * O(1) per change and is comparable with the TxnDigest ZooKeeper writes into its txn log.
 */
import { crc32 } from 'node:zlib';
import type { StatPersisted } from '../jute/index.js';
import { ZOOKEEPER_NODE_SUBTREE } from './paths.js';

export const DIGEST_VERSION = 2;

const STAT_BYTES = 60;
const statScratch = Buffer.alloc(STAT_BYTES);

/**
 * DataView writes are builtins (Buffer's BigInt writes allocate) and wrap like Java's
 * casts instead of throwing; this runs on every change to the tree.
 */
const statView = new DataView(statScratch.buffer, statScratch.byteOffset, STAT_BYTES);

/** Whether a path counts toward the digest: everything under '/zookeeper/' is left out. */
export function isDigested(path: string): boolean {
  return !path.startsWith(ZOOKEEPER_NODE_SUBTREE);
}

/** One node's digest (an unsigned 32-bit CRC), 0 for nodes left out of the digest. */
export function nodeDigest(path: string, data: Buffer | null, stat: StatPersisted): number {
  if (!isDigested(path)) return 0;
  statView.setBigInt64(0, stat.czxid);
  statView.setBigInt64(8, stat.mzxid);
  statView.setBigInt64(16, stat.pzxid);
  statView.setBigInt64(24, stat.ctime);
  statView.setBigInt64(32, stat.mtime);
  statView.setInt32(40, stat.version);
  statView.setInt32(44, stat.cversion);
  statView.setInt32(48, stat.aversion);
  statView.setBigInt64(52, stat.ephemeralOwner);
  // '/' and '' are the same node (the root) in ZooKeeper; it always digests as ''.
  let crc = crc32(path === '/' ? '' : path);
  if (data !== null) crc = crc32(data, crc);
  return crc32(statScratch, crc);
}
