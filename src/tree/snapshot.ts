/**
 * The tree in ZooKeeper's snapshot layout (DataTree.serialize): the ACL table
 * `int count, (long index, vector<ACL>)*`, then the nodes in pre-order as
 * `(ustring path, buffer data, long aclIndex, StatPersisted stat)*` with the root written as
 * '', then the end marker path '/'.
 */
import { ACLs, JuteDecodeError, JuteWriter, StatPersisted, type ACL, type JuteReader } from '../jute/index.js';
import { ZNode } from './data-node.js';
import { NodeTable, UNRESOLVED_ACL } from './node-table.js';
import { baseName, childPath, parentOf, ROOT_PATH } from './paths.js';

/** Snapshot pieces hold at most this many nodes by default... */
export const SNAPSHOT_CHUNK_NODES_DEFAULT = 1000;
/** ...and are cut once they pass this many bytes, so one large node never holds a piece up. */
export const SNAPSHOT_CHUNK_BYTES_MAX = 1 << 20;

/**
 * Encode the table in pieces. Each node is encoded when its piece is built (its children
 * list taken at that moment, as ZooKeeper does), so txns may apply between pieces.
 */
export function* writeSnapshot(table: NodeTable, chunkNodes: number): Generator<Buffer> {
  const perChunk = Math.max(1, Math.floor(chunkNodes));
  let w = new JuteWriter(4096);
  const acls = table.aclCache.entries();
  w.writeInt(acls.length);
  for (const [index, acl] of acls) {
    w.writeLong(index);
    ACLs.write(w, acl as ACL[]);
  }
  let inChunk = 0;
  const pending: string[] = [ROOT_PATH];
  while (pending.length > 0) {
    const path = pending.pop()!;
    const node = table.get(path);
    if (node === undefined) continue; // deleted since its parent was written
    w.writeString(path === ROOT_PATH ? '' : path);
    w.writeBuffer(node.data);
    w.writeLong(node.aclIndex);
    StatPersisted.write(w, node.stat);
    const children = [...node.children];
    for (let i = children.length - 1; i >= 0; i--) pending.push(childPath(path, children[i]!));
    if (++inChunk >= perChunk || w.length >= SNAPSHOT_CHUNK_BYTES_MAX) {
      yield w.toBuffer();
      w = new JuteWriter(4096);
      inChunk = 0;
    }
  }
  w.writeString(ROOT_PATH);
  yield w.toBuffer();
}

/** Decode a table, stopping after the end marker; JuteDecodeError on anything malformed. */
export function readSnapshot(r: JuteReader): NodeTable {
  const table = new NodeTable();
  const count = r.readInt();
  if (count < 0 || count > r.remaining) throw new JuteDecodeError(`bad ACL table size ${count} in snapshot`);
  for (let i = 0; i < count; i++) {
    const index = r.readLong();
    table.aclCache.load(index, ACLs.read(r));
  }
  const unresolved: ZNode[] = [];
  // One bigint per ACL index rather than one per node (a Map's bigint keys compare by value).
  const indexes = new Map<bigint, bigint>();
  for (let path = r.readString(); path !== ROOT_PATH; path = r.readString()) {
    if (path === null) throw new JuteDecodeError('null path in snapshot');
    const data = r.readBuffer();
    const read = r.readLong();
    let aclIndex = indexes.get(read);
    if (aclIndex === undefined) indexes.set(read, (aclIndex = read));
    const stat = readStat(r);
    const acl = table.aclCache.lookup(aclIndex);
    const node = new ZNode(data, (acl ?? UNRESOLVED_ACL) as ACL[], aclIndex, stat);
    if (acl === undefined) {
      table.aclCache.reserveUpTo(aclIndex);
      unresolved.push(node);
    } else {
      table.aclCache.addUsage(aclIndex);
    }
    link(table, path, node);
  }
  if (!table.has(ROOT_PATH)) throw new JuteDecodeError('snapshot has no root node');
  for (const node of unresolved) {
    const index = table.aclCache.acquire(UNRESOLVED_ACL);
    node.aclIndex = index;
    node.acl = table.resolveAcl(index);
  }
  table.aclCache.purgeUnused();
  table.addSpecialNodes();
  return table;
}

/**
 * StatPersisted in its jute order, sharing equal values: most nodes never changed after their
 * create (mzxid = pzxid = czxid, mtime = ctime) and are not ephemeral, and each bigint read is
 * an allocation of its own that a million-node tree keeps.
 */
function readStat(r: JuteReader): StatPersisted {
  const czxid = r.readLong();
  const mzxid = r.readLong();
  const ctime = r.readLong();
  const mtime = r.readLong();
  const version = r.readInt();
  const cversion = r.readInt();
  const aversion = r.readInt();
  const ephemeralOwner = r.readLong();
  const pzxid = r.readLong();
  return {
    czxid,
    mzxid: mzxid === czxid ? czxid : mzxid,
    ctime,
    mtime: mtime === ctime ? ctime : mtime,
    version,
    cversion,
    aversion,
    ephemeralOwner: ephemeralOwner === 0n ? NOT_EPHEMERAL : ephemeralOwner,
    pzxid: pzxid === czxid ? czxid : pzxid === mzxid ? mzxid : pzxid,
  };
}

const NOT_EPHEMERAL = 0n;

function link(table: NodeTable, path: string, node: ZNode): void {
  if (path === '') {
    if (table.size > 0) throw new JuteDecodeError('snapshot root node is not first');
    table.insert(ROOT_PATH, node);
    return;
  }
  // Structure only (no character rules): the path must name a child of its parent exactly once.
  // Parent and name are cut once here: this runs for every node of a tree that may hold millions.
  const slash = path.lastIndexOf('/');
  const parentPath = slash === 0 ? ROOT_PATH : path.slice(0, slash);
  const wellFormed = path.charCodeAt(0) === 0x2f && slash < path.length - 1 && (slash === 0 || parentPath !== ROOT_PATH);
  if (!wellFormed) throw new JuteDecodeError(`bad path ${JSON.stringify(path)} in snapshot`);
  const parent = table.get(parentPath);
  if (parent === undefined) throw new JuteDecodeError(`snapshot names ${path} before its parent ${parentPath}`);
  const before = table.size;
  table.insert(path, node);
  if (table.size === before) throw new JuteDecodeError(`repeated path ${JSON.stringify(path)} in snapshot`);
  parent.addChild(path.slice(slash + 1));
}
