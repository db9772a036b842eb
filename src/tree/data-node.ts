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
  stat: StatPersisted;
  readonly children: ReadonlySet<string>;
}

/** What a leaf's `children` is: most znodes are leaves, and a Set each cost ~100 bytes of a million-node tree. */
const NO_CHILDREN: ReadonlySet<string> = new Set<string>();

export class ZNode implements DataNode {
  /** Null while the node has no children. */
  private kids: Set<string> | null = null;
  /** This node's digest; -1: to be recomputed; NOT_COUNTED: loaded, not yet in the tree digest (see NodeTable). */
  digestCache = -1;

  constructor(
    public data: Buffer | null,
    public acl: ACL[],
    /** Index of `acl` in the tree's ACL cache; what snapshots store. */
    public aclIndex: bigint,
    public stat: StatPersisted,
  ) {}

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

/** A fresh StatPersisted as a create txn fills it. */
export function createStat(zxid: bigint, time: bigint, ephemeralOwner: bigint): StatPersisted {
  return {
    czxid: zxid,
    mzxid: zxid,
    ctime: time,
    mtime: time,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner,
    pzxid: zxid,
  };
}

export function emptyStatPersisted(): StatPersisted {
  return createStat(0n, 0n, 0n);
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
