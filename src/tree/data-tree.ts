/**
 * The data tree (ZooKeeper's DataTree): reads with watch registration, and writes that
 * arrive only as txns (processTxn), already decided by the request pipeline. Applying a txn
 * never throws on bad input but reports a KeeperException code, and re-applying txns over a
 * fuzzy snapshot converges to the tree the txns built (ZooKeeper's replay rules).
 */
import {
  Code,
  EventType,
  JuteDecodeError,
  JuteReader,
  KeeperException,
  KeeperState,
  OpCode,
  type ACL,
  type Stat,
  type TxnBody,
  type TxnHeader,
} from '../jute/index.js';
import { toStat, type DataNode, type ZNode } from './data-node.js';
import { CONTAINER_EPHEMERAL_OWNER, ttlEphemeralOwner } from './ephemeral-type.js';
import { NodeTable } from './node-table.js';
import { baseName, childPath, isSpecialPath, parentOf, pathProblem, ROOT_PATH } from './paths.js';
import { readSnapshot, readSnapshotInSteps, runToEnd, SNAPSHOT_CHUNK_NODES_DEFAULT, wholeSource, writeSnapshot, type ReadSignal, type SnapshotSource } from './snapshot.js';
import { TreeWatches } from './tree-watches.js';
import { NO_ZXID, type WatchKind, type Watcher } from './watches.js';

export interface ProcessTxnResult {
  clientId: bigint;
  cxid: number;
  zxid: bigint;
  type: number;
  /** 0, or the KeeperException code the txn met (a multi reports its first failing op). */
  err: number;
  /** The path the txn wrote ('' for txns without one); for creates, the full (sequential) path. */
  path: string;
  stat?: Stat;
  multiResult?: ProcessTxnResult[];
}

export interface SetWatchesLists {
  data: readonly string[];
  exist: readonly string[];
  child: readonly string[];
  persistent: readonly string[];
  persistentRecursive: readonly string[];
}

/** Txn types a multi may contain. */
const MULTI_OP_TYPES: ReadonlySet<number> = new Set([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
  OpCode.delete,
  OpCode.deleteContainer,
  OpCode.setData,
  OpCode.setACL,
  OpCode.check,
  OpCode.error,
]);

export class DataTree {
  /** zxid of the last txn applied (a multi counts once it is whole). */
  lastProcessedZxid = 0n;

  private table: NodeTable;
  private readonly watches = new TreeWatches();

  constructor() {
    this.table = new NodeTable();
    this.table.addSpecialNodes();
  }

  /** Nodes in the tree as ZooKeeper counts them (znode_count): the root counts twice there. */
  get nodeCount(): number {
    return this.table.size + 1;
  }

  /** Sum of path lengths and data lengths, as ZooKeeper computes it (root counted twice). */
  approximateDataSize(): number {
    return this.table.dataSize;
  }

  /** The tree digest: ZooKeeper's digest version 2, as a signed 64-bit long. */
  digest(): bigint {
    return this.table.digest;
  }

  /**
   * digest() once every node is counted, else null: counting a million loaded znodes at once
   * stalls the server for seconds, so an observer (mntr) waits for the idle steps instead.
   */
  countedDigest(): bigint | null {
    return this.table.countedDigest;
  }

  /**
   * A loaded snapshot's nodes enter the digest lazily; a server calls this in idle steps so
   * that the first digest asked for (mntr, a peer's check) does not pay for them all at once.
   * True once every node is counted.
   */
  countDigests(max: number): boolean {
    return this.table.countDigests(max);
  }

  /** Run `replay` with the digests of the nodes it creates and changes counted later (countDigests). */
  async withDigestsDeferred<T>(replay: () => Promise<T>): Promise<T> {
    this.setDigestsDeferred(true);
    try {
      return await replay();
    } finally {
      this.setDigestsDeferred(false);
    }
  }

  /** While on, the nodes txns create and change enter the digest later (countDigests), as loaded ones do. */
  setDigestsDeferred(on: boolean): void {
    this.table.deferDigests = on;
  }

  // --- reads ---

  getNode(path: string): DataNode | undefined {
    return this.table.get(path);
  }

  /** exists: with a watcher, registers an exist watch even when the node is missing. */
  statNode(path: string, watcher?: Watcher): Stat {
    if (watcher !== undefined) this.watches.add(path, watcher, 'exist');
    return toStat(this.mustGet(path));
  }

  getData(path: string, watcher?: Watcher): { data: Buffer | null; stat: Stat } {
    const node = this.mustGet(path);
    if (watcher !== undefined) this.watches.add(path, watcher, 'data');
    return { data: node.data, stat: toStat(node) };
  }

  getChildren(path: string, watcher?: Watcher): { children: string[]; stat: Stat } {
    const node = this.mustGet(path);
    if (watcher !== undefined) this.watches.add(path, watcher, 'child');
    return { children: [...node.children], stat: toStat(node) };
  }

  /** Number of descendants of path (0 when it does not exist). */
  getAllChildrenNumber(path: string): number {
    if (path === ROOT_PATH) return this.table.size - 1;
    const node = this.table.get(path);
    if (node === undefined) return 0;
    let count = 0;
    const stack: [string, ZNode][] = [[path, node]];
    while (stack.length > 0) {
      const [p, n] = stack.pop()!;
      for (const c of n.children) {
        const cp = childPath(p, c);
        const cn = this.table.get(cp);
        if (cn === undefined) continue;
        count++;
        stack.push([cp, cn]);
      }
    }
    return count;
  }

  getACL(path: string): { acl: ACL[]; stat: Stat } {
    const node = this.mustGet(path);
    return { acl: node.acl.map((a) => ({ perms: a.perms, id: { ...a.id } })), stat: toStat(node) };
  }

  getEphemerals(sessionId: bigint): ReadonlySet<string> {
    return new Set(this.table.ephemerals.get(sessionId));
  }

  /** Ephemeral znodes, counted without the copy ephemeralSessions makes. */
  ephemeralCount(): number {
    let n = 0;
    for (const paths of this.table.ephemerals.values()) n += paths.size;
    return n;
  }

  ephemeralSessions(): ReadonlyMap<bigint, ReadonlySet<string>> {
    return new Map([...this.table.ephemerals].map(([id, paths]) => [id, new Set(paths)]));
  }

  containers(): ReadonlySet<string> {
    return new Set(this.table.containers);
  }

  ttls(): ReadonlySet<string> {
    return new Set(this.table.ttls);
  }

  // --- txns ---

  /**
   * Apply one txn (a multi as a whole), firing the watches it triggers with the txn's zxid.
   * Errors are reported in the result, never thrown. Replays over a fuzzy snapshot are
   * tolerated as in ZooKeeper: a create of an existing node reports NODEEXISTS but still
   * adopts the txn's ACL and raises the parent's cversion/pzxid; a delete of a missing node
   * reports NONODE but still raises the parent's pzxid; a delete of a node that (in the
   * restored snapshot) has children removes the subtree, whose creates follow in the log.
   */
  processTxn(hdr: TxnHeader, body: TxnBody): ProcessTxnResult {
    const rc = this.applyTxn(hdr, body);
    if (rc.zxid > this.lastProcessedZxid) this.lastProcessedZxid = rc.zxid;
    return rc;
  }

  private applyTxn(hdr: TxnHeader, body: TxnBody): ProcessTxnResult {
    const rc: ProcessTxnResult = {
      clientId: hdr.clientId,
      cxid: hdr.cxid,
      zxid: hdr.zxid,
      type: hdr.type,
      err: Code.OK,
      path: '',
    };
    try {
      this.applyBody(hdr, body, rc);
    } catch (e) {
      if (!(e instanceof KeeperException)) throw e;
      rc.err = e.code;
    }
    const parentCVersion = createParentCVersion(body);
    if (rc.err === Code.NODEEXISTS && parentCVersion !== undefined) {
      // A node deleted and created again inside the fuzzy window: the create still counts
      // for the parent's cversion (see ZooKeeper's DataTree.processTxn).
      try {
        this.setCversionPzxid(parentOf(rc.path), parentCVersion, hdr.zxid);
      } catch (e) {
        if (!(e instanceof KeeperException)) throw e;
        rc.err = e.code;
      }
    }
    return rc;
  }

  private applyBody(hdr: TxnHeader, body: TxnBody, rc: ProcessTxnResult): void {
    switch (body.type) {
      case OpCode.create:
      case OpCode.create2: {
        const t = body.record;
        rc.path = t.path;
        const owner = t.ephemeral ? hdr.clientId : 0n;
        rc.stat = this.createNode(t.path, t.data, t.acl, owner, t.parentCVersion, hdr);
        return;
      }
      case OpCode.createContainer: {
        const t = body.record;
        rc.path = t.path;
        rc.stat = this.createNode(t.path, t.data, t.acl, CONTAINER_EPHEMERAL_OWNER, t.parentCVersion, hdr);
        return;
      }
      case OpCode.createTTL: {
        const t = body.record;
        rc.path = t.path;
        rc.stat = this.createNode(t.path, t.data, t.acl, ttlEphemeralOwner(t.ttl), t.parentCVersion, hdr);
        return;
      }
      case OpCode.delete:
      case OpCode.deleteContainer:
        rc.path = body.record.path;
        this.deleteNode(body.record.path, hdr.zxid);
        return;
      case OpCode.setData: {
        const t = body.record;
        rc.path = t.path;
        rc.stat = this.setData(t.path, t.data, t.version, hdr);
        return;
      }
      case OpCode.setACL: {
        const t = body.record;
        rc.path = t.path;
        rc.stat = this.setACL(t.path, t.acl, t.version);
        return;
      }
      case OpCode.check:
        rc.path = body.record.path;
        return;
      case OpCode.multi:
        this.applyMulti(hdr, body.txns, rc);
        return;
      case OpCode.createSession:
        return;
      case OpCode.closeSession:
        this.killSession(hdr.clientId, hdr.zxid, body.record.paths2Delete);
        return;
      case OpCode.error:
        rc.err = body.record.err;
        return;
    }
  }

  /**
   * A multi is all-or-nothing: the pipeline turns every op of a failed multi into an
   * ErrorTxn, and any op that is not an error in a multi that holds one is not applied
   * (reported OK before the failing op, RUNTIMEINCONSISTENCY after it).
   */
  private applyMulti(hdr: TxnHeader, txns: TxnBody[], rc: ProcessTxnResult): void {
    for (const t of txns) {
      if (!MULTI_OP_TYPES.has(t.type)) throw new KeeperException(Code.BADARGUMENTS);
    }
    rc.multiResult = [];
    const failed = txns.some((t) => t.type === OpCode.error);
    let postFailed = false;
    for (const t of txns) {
      let sub = t;
      if (t.type === OpCode.error) {
        postFailed = true;
      } else if (failed) {
        sub = { type: OpCode.error, record: { err: postFailed ? Code.RUNTIMEINCONSISTENCY : Code.OK } };
      }
      const subRc = this.applyTxn({ ...hdr, type: sub.type }, sub);
      rc.multiResult.push(subRc);
      if (subRc.err !== Code.OK && rc.err === Code.OK) rc.err = subRc.err;
    }
  }

  private createNode(
    path: string,
    data: Buffer | null,
    acl: readonly ACL[],
    ephemeralOwner: bigint,
    parentCVersion: number,
    hdr: TxnHeader,
  ): Stat {
    const { parentPath, childName } = splitForWrite(path);
    const parent = this.table.getParent(parentPath);
    if (parent === undefined) throw new KeeperException(Code.NONODE, path);
    // The parent's children answer first: a small set, where a miss in the table of every path
    // is a cache miss (a microsecond per create of a million-node replay).
    const existing = parent.children.has(childName) ? this.table.get(path) : undefined;
    if (existing !== undefined) {
      // Replay over a fuzzy snapshot: the snapshot's ACL table may predate this node's ACL.
      this.table.setNodeAcl(existing, this.table.aclCache.acquire(acl));
      throw new KeeperException(Code.NODEEXISTS, path);
    }
    this.table.change(parentPath, parent, () => {
      const cversion = parentCVersion === -1 ? (parent.stat.cversion + 1) | 0 : parentCVersion;
      // A replayed create of a node that was deleted in the fuzzy window must not move
      // cversion and pzxid backwards.
      if (cversion > parent.stat.cversion) {
        parent.stat.cversion = cversion;
        parent.stat.pzxid = hdr.zxid;
      }
      parent.addChild(childName);
    });
    const node = this.table.newNode(data, acl, hdr.zxid, hdr.time, ephemeralOwner);
    this.table.insert(path, node);
    this.watches.nodeCreated(path, parentPath, hdr.zxid);
    return toStat(node);
  }

  private deleteNode(path: string, zxid: bigint): void {
    const { parentPath, childName } = splitForWrite(path);
    if (isSpecialPath(path)) throw new KeeperException(Code.BADARGUMENTS, path);
    const parent = this.table.get(parentPath);
    if (parent === undefined) throw new KeeperException(Code.NONODE, path);
    const node = this.table.get(path);
    if (node !== undefined && node.children.size > 0) this.deleteDescendants(path, node, zxid);
    // Even when the node is already gone (deleted in a fuzzy snapshot's window), the parent's
    // pzxid still moves forward.
    this.table.change(parentPath, parent, () => {
      parent.removeChild(childName);
      if (zxid > parent.stat.pzxid) parent.stat.pzxid = zxid;
    });
    if (node === undefined) throw new KeeperException(Code.NONODE, path);
    this.table.remove(path, node);
    this.watches.nodeDeleted(path, parentPath, zxid);
  }

  /**
   * The pipeline never deletes a node that has children, so children here come from a fuzzy
   * snapshot: they belong to a later incarnation of the node, and their creates follow in
   * the log. Removing them (deepest first) lets that replay rebuild them; ZooKeeper instead
   * leaves them in its path map as orphans, which later replays can no longer reattach.
   */
  private deleteDescendants(path: string, node: ZNode, zxid: bigint): void {
    const preOrder: string[] = [];
    const pending = [...node.children].map((c) => childPath(path, c));
    while (pending.length > 0) {
      const p = pending.pop()!;
      preOrder.push(p);
      for (const c of this.table.get(p)?.children ?? []) pending.push(childPath(p, c));
    }
    for (let i = preOrder.length - 1; i >= 0; i--) this.deleteIgnoringMissing(preOrder[i]!, zxid);
  }

  private setData(path: string, data: Buffer | null, version: number, hdr: TxnHeader): Stat {
    const node = this.mustGet(path);
    this.table.change(path, node, () => {
      node.data = data;
      node.stat.mtime = hdr.time;
      node.stat.mzxid = hdr.zxid;
      node.stat.version = version;
    });
    this.watches.nodeDataChanged(path, hdr.zxid);
    return toStat(node);
  }

  private setACL(path: string, acl: readonly ACL[], version: number): Stat {
    const node = this.mustGet(path);
    this.table.setNodeAcl(node, this.table.aclCache.acquire(acl));
    this.table.change(path, node, () => {
      node.stat.aversion = version;
    });
    return toStat(node);
  }

  /** Raise a node's cversion (and set its pzxid) unless it is already at least newCversion. */
  private setCversionPzxid(path: string, newCversion: number, zxid: bigint): void {
    const node = this.mustGet(path);
    const cversion = newCversion === -1 ? (node.stat.cversion + 1) | 0 : newCversion;
    if (cversion <= node.stat.cversion) return;
    this.table.change(path, node, () => {
      node.stat.cversion = cversion;
      node.stat.pzxid = zxid;
    });
  }

  /** closeSession: delete the paths the txn names, then any other ephemeral the session holds. */
  private killSession(sessionId: bigint, zxid: bigint, paths2Delete: readonly string[]): void {
    const remaining = new Set(this.table.ephemerals.get(sessionId));
    for (const p of paths2Delete) {
      remaining.delete(p);
      this.deleteIgnoringMissing(p, zxid);
    }
    for (const p of remaining) this.deleteIgnoringMissing(p, zxid);
  }

  private deleteIgnoringMissing(path: string, zxid: bigint): void {
    try {
      this.deleteNode(path, zxid);
    } catch (e) {
      if (!(e instanceof KeeperException)) throw e;
    }
  }

  // --- watches ---

  addWatch(path: string, watcher: Watcher, kind: WatchKind): void {
    this.watches.add(path, watcher, kind);
  }

  /** The connection closed: drop all its watches. */
  removeWatcher(watcher: Watcher): void {
    this.watches.removeWatcher(watcher);
  }

  /** checkWatches: whether the watcher holds a watch of this WatcherType on path. */
  containsWatch(path: string, type: number, watcher: Watcher): boolean {
    return this.watches.contains(path, type, watcher);
  }

  /**
   * removeWatches: drop the watcher's watches of this WatcherType on path; false when there
   * were none (the server answers NOWATCHER). Like ZooKeeper's server, this sends no event:
   * the client library reports DataWatchRemoved/ChildWatchRemoved/PersistentWatchRemoved
   * to its own watchers when the request succeeds.
   */
  removeWatch(path: string, type: number, watcher: Watcher): boolean {
    return this.watches.remove(path, type, watcher);
  }

  /**
   * setWatches after a reconnect: what changed after relativeZxid (the last zxid the client
   * saw) fires at once and is not re-armed; everything else is re-armed. Persistent watches
   * are always re-armed.
   */
  setWatches(relativeZxid: bigint, w: SetWatchesLists, watcher: Watcher): void {
    const fire = (type: number, path: string): void =>
      watcher.process({ type, state: KeeperState.SyncConnected, path, zxid: NO_ZXID });
    for (const path of w.data) {
      const node = this.table.get(path);
      if (node === undefined) fire(EventType.NodeDeleted, path);
      else if (node.stat.mzxid > relativeZxid) fire(EventType.NodeDataChanged, path);
      else this.watches.add(path, watcher, 'data');
    }
    for (const path of w.exist) {
      if (this.table.has(path)) fire(EventType.NodeCreated, path);
      else this.watches.add(path, watcher, 'exist');
    }
    for (const path of w.child) {
      const node = this.table.get(path);
      if (node === undefined) fire(EventType.NodeDeleted, path);
      else if (node.stat.pzxid > relativeZxid) fire(EventType.NodeChildrenChanged, path);
      else this.watches.add(path, watcher, 'child');
    }
    for (const path of w.persistent) this.watches.add(path, watcher, 'persistent');
    for (const path of w.persistentRecursive) this.watches.add(path, watcher, 'persistentRecursive');
  }

  /** Watches as ZooKeeper counts them: (path, watcher) pairs in the data and child tables. */
  watchCount(): number {
    return this.watches.count;
  }

  /** wchs: connections and paths with a watch, and watches (distinct pairs over both tables). */
  watchSummary(): { connections: number; paths: number; watches: number } {
    return this.watches.summary();
  }

  /** path -> watchers over both tables (wchp). */
  watchesByPath(): Map<string, Watcher[]> {
    return this.watches.byPath();
  }

  /** watcher -> paths over both tables (wchc). */
  watchesByWatcher(): Map<Watcher, string[]> {
    return this.watches.byWatcher();
  }

  // --- snapshots ---

  /**
   * The tree in ZooKeeper's snapshot layout (see snapshot.ts), in pieces of at most
   * chunkNodes nodes (and about SNAPSHOT_CHUNK_BYTES_MAX bytes). Txns may be applied between
   * pieces: the result is then a fuzzy snapshot, made whole by replaying every txn after a
   * lastProcessedZxid read at any moment before the first piece is taken (the generator does
   * nothing until then). Name the snapshot file after that zxid, as ZooKeeper does. Each piece
   * is a view of a reused buffer, valid until the next is taken.
   */
  serializeChunks(chunkNodes = SNAPSHOT_CHUNK_NODES_DEFAULT): Generator<Buffer> {
    return writeSnapshot(this.table, chunkNodes, this.lastProcessedZxid);
  }

  /** The tree in one buffer (small trees and tests; a server writes serializeChunks). */
  serialize(): Buffer {
    return Buffer.concat(Array.from(this.serializeChunks(), (piece) => Buffer.from(piece)));
  }

  /** Inverse of serializeChunks over a whole buffer; throws JuteDecodeError on bad bytes. */
  static deserialize(buf: Buffer): DataTree {
    return runToEnd(DataTree.deserializeInSteps(wholeSource(new JuteReader(buf)), Infinity));
  }

  /**
   * deserialize from a source (one buffer, or pieces as they arrive), yielding after every
   * `stepNodes` nodes and whenever the source must be fed (readSnapshotInSteps). It returns
   * the tree once the source has ended with nothing after the end marker.
   */
  static *deserializeInSteps(src: SnapshotSource, stepNodes: number): Generator<ReadSignal, DataTree> {
    const tree = new DataTree();
    tree.table = yield* readSnapshotInSteps(src, stepNodes);
    while (!src.ended && src.reader.remaining === 0) {
      src.keepFrom(src.reader.offset);
      yield 'more';
    }
    const r = src.reader;
    if (r.remaining !== 0) throw new JuteDecodeError(`${r.remaining} unexpected bytes after the data tree's end marker`);
    return tree;
  }

  /**
   * Read a serialized tree from a reader and stop after its end marker (a snapshot file has
   * more after it). lastProcessedZxid stays 0: the caller knows the snapshot's zxid.
   */
  static readFrom(r: JuteReader): DataTree {
    const tree = new DataTree();
    tree.table = readSnapshot(r);
    return tree;
  }

  private mustGet(path: string): ZNode {
    const node = this.table.get(path);
    if (node === undefined) throw new KeeperException(Code.NONODE, path);
    return node;
  }
}

/** The parentCVersion of a create-family txn, undefined for any other txn. */
function createParentCVersion(body: TxnBody): number | undefined {
  switch (body.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return body.record.parentCVersion;
    case OpCode.delete:
    case OpCode.deleteContainer:
    case OpCode.setData:
    case OpCode.setACL:
    case OpCode.check:
    case OpCode.multi:
    case OpCode.createSession:
    case OpCode.closeSession:
    case OpCode.error:
      return undefined;
  }
}

/**
 * Parent and child name of a path a txn writes; BADARGUMENTS for '/' or a path ZooKeeper
 * would refuse (the pipeline validates first, so only a bad txn gets here).
 */
function splitForWrite(path: string): { parentPath: string; childName: string } {
  if (path === ROOT_PATH || pathProblem(path) !== undefined) throw new KeeperException(Code.BADARGUMENTS, path);
  return { parentPath: parentOf(path), childName: baseName(path) };
}
