/**
 * Reference-counted ACL cache (ZooKeeper's ReferenceCountedACLCache): nodes share ACL lists
 * by index, and snapshots store the index per node plus one table of the lists. Indexes are
 * never reused, so an index taken from an older (fuzzy) snapshot never names the wrong list.
 */
import type { ACL } from '../jute/index.js';
import { OPEN_ACL_UNSAFE } from './acl.js';

/** The index ZooKeeper uses for a null ACL (read as OPEN_ACL_UNSAFE). */
export const OPEN_UNSAFE_ACL_ID = -1n;

interface Entry {
  acl: readonly ACL[];
  key: string;
  refs: number;
  index: bigint;
}

function sameAcl(a: readonly ACL[], b: readonly ACL[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.perms !== y.perms || x.id.scheme !== y.id.scheme || x.id.id !== y.id.id) return false;
  }
  return true;
}

/** One string per list, unambiguous (every part length-prefixed); built for every create. */
function aclKey(acl: readonly ACL[]): string {
  let key = '';
  for (const a of acl) key += `${a.perms}:${a.id.scheme.length}:${a.id.scheme}${a.id.id.length}:${a.id.id};`;
  return key;
}

export class ACLCache {
  private readonly byIndex = new Map<bigint, Entry>();
  private readonly byKey = new Map<string, bigint>();
  private lastIndex = 0n;
  /** The entry acquire() found last; used again while it is still referenced. */
  private lastAcquired: Entry | null = null;

  get size(): number {
    return this.byIndex.size;
  }

  /** The index for this list, taking one reference to it. */
  acquire(acl: readonly ACL[]): bigint {
    // Creates mostly repeat the ACL of the create before: compared in place, no key is built.
    const last = this.lastAcquired;
    if (last !== null && last.refs > 0 && sameAcl(acl, last.acl)) {
      last.refs++;
      return last.index;
    }
    const key = aclKey(acl);
    let index = this.byKey.get(key);
    if (index === undefined) {
      index = ++this.lastIndex;
      const copy = Object.freeze(acl.map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id } })));
      this.byIndex.set(index, { acl: copy, key, refs: 0, index });
      this.byKey.set(key, index);
    }
    const entry = this.byIndex.get(index)!;
    entry.refs++;
    this.lastAcquired = entry;
    return index;
  }

  /** Drop one reference; the list is forgotten when nobody uses it. */
  release(index: bigint): void {
    const e = this.byIndex.get(index);
    if (e === undefined) return;
    if (--e.refs <= 0) {
      this.byIndex.delete(index);
      this.byKey.delete(e.key);
    }
  }

  /** The list for an index, or undefined when the index is unknown. */
  lookup(index: bigint): readonly ACL[] | undefined {
    if (index === OPEN_UNSAFE_ACL_ID) return OPEN_ACL_UNSAFE;
    return this.byIndex.get(index)?.acl;
  }

  /** Add a list under a given index (loading a snapshot), with no reference yet. */
  load(index: bigint, acl: readonly ACL[]): void {
    const key = aclKey(acl);
    const frozen = Object.freeze([...acl]);
    this.byIndex.set(index, { acl: frozen, key, refs: 0, index });
    this.byKey.set(key, index);
    if (index > this.lastIndex) this.lastIndex = index;
  }

  /** Take a reference to a loaded index; false when the index is unknown. */
  addUsage(index: bigint): boolean {
    if (index === OPEN_UNSAFE_ACL_ID) return true;
    const e = this.byIndex.get(index);
    if (e === undefined) return false;
    e.refs++;
    return true;
  }

  /** Never hand out an index at or below `index` (one seen in a snapshot). */
  reserveUpTo(index: bigint): void {
    if (index > this.lastIndex) this.lastIndex = index;
  }

  /** Forget loaded lists that no node uses. */
  purgeUnused(): void {
    for (const [index, e] of this.byIndex) {
      if (e.refs <= 0) {
        this.byIndex.delete(index);
        this.byKey.delete(e.key);
      }
    }
  }

  /** A copy of the table, as the snapshot writes it. */
  entries(): [bigint, readonly ACL[]][] {
    return [...this.byIndex].map(([index, e]) => [index, e.acl]);
  }
}
