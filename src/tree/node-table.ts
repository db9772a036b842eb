/**
 * The znodes by path and everything derived from them that must never drift: the ACL cache
 * references, the tree digest, the approximate data size, and the ephemeral / container /
 * TTL indexes. Every insert, removal and change of a node goes through here.
 */
import type { ACL } from '../jute/index.js';
import { ACLCache, OPEN_UNSAFE_ACL_ID } from './acl-cache.js';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from './acl.js';
import { ZNode } from './data-node.js';
import { nodeDigest } from './digest.js';
import { ephemeralTypeOf } from './ephemeral-type.js';
import { baseName, CONFIG_NODE, parentOf, PROC_ZOOKEEPER, QUOTA_ZOOKEEPER, ROOT_PATH } from './paths.js';

/**
 * What a node gets when a fuzzy snapshot names an ACL index its ACL table lacks (the node's
 * ACL changed after the table was written). Replaying the log sets the real ACL; until then
 * the node grants nothing to anyone but super users, so a bad snapshot fails closed.
 */
export const UNRESOLVED_ACL: readonly ACL[] = Object.freeze([{ perms: 0, id: { scheme: 'world', id: 'anyone' } }]);

/** Fold the number part of the digest sum well before it could lose precision (2^53). */
const DIGEST_FOLD_AT = 2 ** 52;
/** digestCache of a node loaded from a snapshot whose digest is not yet in the sum. */
const NOT_COUNTED = -2;

export class NodeTable {
  readonly aclCache = new ACLCache();
  readonly ephemerals = new Map<bigint, Set<string>>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  private readonly nodes = new Map<string, ZNode>();
  /**
   * Sum of node digests as bigint + number: node digests are 32-bit, so the number part
   * stays exact until it is folded into the bigint, and a change costs no bigint math.
   */
  private digestFolded = 0n;
  private digestPending = 0;
  /** Sum of path length + data length over nodes, as ZooKeeper's approximateDataSize. */
  private dataSizeSum = 0;
  /**
   * Nodes loaded without their digest: three CRC32s per node are a second of a million-node
   * load, and nothing needs the digest until someone asks for it (countDigests does it in steps).
   */
  private uncounted = 0;
  private counting: Iterator<[string, ZNode]> | null = null;
  /**
   * While set (a recovery replaying the log), new and changed nodes enter the digest later, as
   * a loaded snapshot's do: a create's digest and its parent's new one are two CRC32s per txn
   * that nothing reads before the server serves.
   */
  deferDigests = false;
  /** The last parent a write looked up: consecutive writes mostly go under one parent. */
  private parentPath = '';
  private parentNode: ZNode | undefined;

  get size(): number {
    return this.nodes.size;
  }

  get dataSize(): number {
    return this.dataSizeSum;
  }

  get digest(): bigint {
    if (this.uncounted > 0) this.countDigests(Infinity);
    return BigInt.asIntN(64, this.digestFolded + BigInt(this.digestPending));
  }

  /** The digest if every node is in it; null while some are still to be counted (no stall). */
  get countedDigest(): bigint | null {
    return this.uncounted > 0 ? null : this.digest;
  }

  /** Add up to `max` loaded nodes' digests to the sum; true once every node is counted. */
  countDigests(max: number): boolean {
    let counted = 0;
    while (this.uncounted > 0 && counted < max) {
      this.counting ??= this.nodes.entries();
      const next = this.counting.next();
      if (next.done === true) {
        this.counting = null;
        continue;
      }
      const [path, node] = next.value;
      if (node.digestCache !== NOT_COUNTED) continue;
      node.digestCache = -1;
      this.uncounted--;
      counted++;
      this.addDigest(this.digestOf(path, node));
    }
    if (this.uncounted === 0) this.counting = null;
    return this.uncounted === 0;
  }

  get(path: string): ZNode | undefined {
    return this.nodes.get(path);
  }

  has(path: string): boolean {
    return this.nodes.has(path);
  }

  /** get() for the parent of a write: a lookup in a million-entry map is a cache miss, a string compare is not. */
  getParent(path: string): ZNode | undefined {
    if (path === this.parentPath && this.parentNode !== undefined) return this.parentNode;
    const node = this.nodes.get(path);
    this.parentPath = path;
    this.parentNode = node;
    return node;
  }

  /**
   * Every node in insertion order, which puts each parent before its children: a node is
   * created under an existing parent, and a parent cannot be deleted (and re-inserted last)
   * while it has children. Live, as a Map iterator is: nodes deleted before they are reached
   * are skipped, nodes added meanwhile come at the end.
   */
  entries(): IterableIterator<[string, ZNode]> {
    return this.nodes.entries();
  }

  /** A node as a create txn makes it, holding a reference to `acl` in the cache. */
  newNode(data: Buffer | null, acl: readonly ACL[], zxid: bigint, time: bigint, ephemeralOwner: bigint): ZNode {
    const index = this.aclCache.acquire(acl);
    return new ZNode(data, this.resolveAcl(index), index, zxid, zxid, time, time, 0, 0, 0, ephemeralOwner, zxid);
  }

  resolveAcl(index: bigint): ACL[] {
    return (this.aclCache.lookup(index) ?? UNRESOLVED_ACL) as ACL[];
  }

  /** Point a node at another ACL (the caller already holds a reference to aclIndex). */
  setNodeAcl(node: ZNode, aclIndex: bigint): void {
    this.aclCache.release(node.aclIndex);
    node.aclIndex = aclIndex;
    node.acl = this.resolveAcl(aclIndex);
  }

  /** Apply a change to a node's data or stat, keeping the tree digest current. */
  change(path: string, node: ZNode, mutate: () => void): void {
    this.uncount(path, node);
    this.dataSizeSum -= nodeSize(path, node);
    mutate();
    if (this.deferDigests) {
      this.countLater(node);
    } else {
      node.digestCache = -1;
      this.addDigest(this.digestOf(path, node));
    }
    this.dataSizeSum += nodeSize(path, node);
  }

  /** Add a node (linking it into its parent's children is the caller's business). */
  insert(path: string, node: ZNode): void {
    if (!this.setNew(path, node)) throw duplicateError(path);
    if (this.deferDigests) this.countLater(node);
    else this.addDigest(this.digestOf(path, node));
    this.indexNode(path, node);
  }

  /**
   * insert() for a snapshot being loaded: the node's digest is counted later (countDigests).
   * False when the table held the path already (a snapshot that names a path twice is damaged).
   */
  insertLoaded(path: string, node: ZNode): boolean {
    if (!this.setNew(path, node)) return false;
    this.countLater(node);
    this.indexNode(path, node);
    return true;
  }

  /** Add a path the table should not hold; false when it did (its node is then replaced). */
  private setNew(path: string, node: ZNode): boolean {
    const before = this.nodes.size;
    this.nodes.set(path, node);
    return this.nodes.size !== before;
  }

  /** A node whose digest is not in the sum (taken out, or never added) is counted by countDigests. */
  private countLater(node: ZNode): void {
    node.digestCache = NOT_COUNTED;
    this.uncounted++;
  }

  private indexNode(path: string, node: ZNode): void {
    this.dataSizeSum += nodeSize(path, node);
    const owner = node.stat.ephemeralOwner;
    switch (ephemeralTypeOf(owner)) {
      case 'container':
        this.containers.add(path);
        break;
      case 'ttl':
        this.ttls.add(path);
        break;
      case 'normal': {
        let paths = this.ephemerals.get(owner);
        if (paths === undefined) {
          paths = new Set();
          this.ephemerals.set(owner, paths);
        }
        paths.add(path);
        break;
      }
      case 'void':
        break;
    }
  }

  /** Drop a node and its ACL reference (unlinking it from its parent is the caller's business). */
  remove(path: string, node: ZNode): void {
    this.nodes.delete(path);
    if (path === this.parentPath) this.parentNode = undefined;
    this.uncount(path, node);
    this.dataSizeSum -= nodeSize(path, node);
    this.aclCache.release(node.aclIndex);
    const owner = node.stat.ephemeralOwner;
    switch (ephemeralTypeOf(owner)) {
      case 'container':
        this.containers.delete(path);
        break;
      case 'ttl':
        this.ttls.delete(path);
        break;
      case 'normal': {
        const paths = this.ephemerals.get(owner);
        paths?.delete(path);
        if (paths?.size === 0) this.ephemerals.delete(owner);
        break;
      }
      case 'void':
        break;
    }
  }

  /** '/', '/zookeeper', '/zookeeper/quota' (open ACL) and '/zookeeper/config' (read-only), where missing. */
  addSpecialNodes(): void {
    const open = (): ZNode => new ZNode(Buffer.alloc(0), OPEN_ACL_UNSAFE as ACL[], OPEN_UNSAFE_ACL_ID, 0n, 0n, 0n, 0n, 0, 0, 0, 0n, 0n);
    if (!this.nodes.has(ROOT_PATH)) this.insert(ROOT_PATH, open());
    for (const path of [PROC_ZOOKEEPER, QUOTA_ZOOKEEPER]) {
      if (this.nodes.has(path)) continue;
      this.nodes.get(parentOf(path))!.addChild(baseName(path));
      this.insert(path, open());
    }
    if (!this.nodes.has(CONFIG_NODE)) {
      this.nodes.get(PROC_ZOOKEEPER)!.addChild(baseName(CONFIG_NODE));
      const node = this.newNode(Buffer.alloc(0), READ_ACL_UNSAFE, 0n, 0n, 0n);
      // ZooKeeper sets this ACL with setACL(..., version -1), which leaves aversion at -1.
      node.aversion = -1;
      this.insert(CONFIG_NODE, node);
    }
  }

  private addDigest(delta: number): void {
    this.digestPending += delta;
    if (Math.abs(this.digestPending) > DIGEST_FOLD_AT) {
      this.digestFolded += BigInt(this.digestPending);
      this.digestPending = 0;
    }
  }

  /** Take a node's digest out of the sum (a loaded node not yet counted is not in it). */
  private uncount(path: string, node: ZNode): void {
    if (node.digestCache === NOT_COUNTED) {
      node.digestCache = -1;
      this.uncounted--;
      return;
    }
    this.addDigest(-this.digestOf(path, node));
  }

  private digestOf(path: string, node: ZNode): number {
    if (node.digestCache < 0) node.digestCache = nodeDigest(path, node.data, node.stat);
    return node.digestCache;
  }
}

/** ZooKeeper keeps the root under both '' and '/', so it counts the root (and its data) twice. */
function nodeSize(path: string, node: ZNode): number {
  const dataLength = node.data?.length ?? 0;
  return path === ROOT_PATH ? 1 + 2 * dataLength : path.length + dataLength;
}

/** A create checks its parent's children for the name, which must agree with the table. */
function duplicateError(path: string): Error {
  return new Error(`invariant: ${path} was in the node table but not among its parent's children`);
}
