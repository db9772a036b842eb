/** A znode and the Stat a client sees for it. */
import type { ACL, Stat, StatPersisted } from '../jute/index.js';
import { clientEphemeralOwner } from './ephemeral-type.js';

/**
 * A znode as the tree stores it. Treat it as read-only: the tree owns every field, and the
 * ACL list is shared (frozen) between all nodes that use the same ACL.
 */
export interface DataNode {
  data: Buffer | null;
  acl: ACL[];
  /** The node's StatPersisted, live: it changes with the node (copyStat to keep one). */
  readonly stat: StatPersisted;
  readonly children: ReadonlySet<string>;
}

/** What a leaf's `children` is: most znodes are leaves, and a Set each cost ~100 bytes of a million-node tree. */
const NO_CHILDREN: ReadonlySet<string> = new Set<string>();

/**
 * The node holds its StatPersisted fields itself, and `stat` is the node: one object per znode
 * instead of two is a million fewer for the garbage collector to trace in a million-node tree.
 */
export class ZNode implements DataNode, StatPersisted {
  /** Null while the node has no children. */
  private kids: Set<string> | null = null;
  /** This node's digest; -1: to be recomputed; NOT_COUNTED: loaded, not yet in the tree digest (see NodeTable). */
  digestCache = -1;

  constructor(
    public data: Buffer | null,
    public acl: ACL[],
    /** Index of `acl` in the tree's ACL cache; what snapshots store. */
    public aclIndex: bigint,
    public czxid: bigint,
    public mzxid: bigint,
    public ctime: bigint,
    public mtime: bigint,
    public version: number,
    public cversion: number,
    public aversion: number,
    public ephemeralOwner: bigint,
    public pzxid: bigint,
  ) {}

  get stat(): StatPersisted {
    return this;
  }

  get children(): ReadonlySet<string> {
    return this.kids ?? NO_CHILDREN;
  }

  addChild(name: string): void {
    (this.kids ??= new Set()).add(name);
  }

  removeChild(name: string): void {
    if (this.kids === null) return;
    this.kids.delete(name);
    if (this.kids.size === 0) this.kids = null;
  }
}

/** A StatPersisted of its own, that does not change with the node it came from. */
export function copyStat(s: StatPersisted): StatPersisted {
  return {
    czxid: s.czxid,
    mzxid: s.mzxid,
    ctime: s.ctime,
    mtime: s.mtime,
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: s.ephemeralOwner,
    pzxid: s.pzxid,
  };
}

/**
 * The Stat a client sees. StatPersisted.cversion counts child creations only (a delete does
 * not touch it, so replaying txns stays idempotent); clients see creations plus deletions,
 * which is 2 * creations - children still present, as ZooKeeper reports it.
 */
export function toStat(node: DataNode): Stat {
  const s = node.stat;
  const numChildren = node.children.size;
  return {
    czxid: s.czxid,
    mzxid: s.mzxid,
    ctime: s.ctime,
    mtime: s.mtime,
    version: s.version,
    cversion: (Math.imul(s.cversion, 2) - numChildren) | 0,
    aversion: s.aversion,
    ephemeralOwner: clientEphemeralOwner(s.ephemeralOwner),
    dataLength: node.data === null ? 0 : node.data.length,
    numChildren,
    pzxid: s.pzxid,
  };
}
