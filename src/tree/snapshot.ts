/**
 * The tree in ZooKeeper's snapshot layout (DataTree.serialize): the ACL table
 * `int count, (long index, vector<ACL>)*`, then the nodes in pre-order as
 * `(ustring path, buffer data, long aclIndex, StatPersisted stat)*` with the root written as
 * '', then the end marker path '/'.
 */
import { ACLs, JuteDecodeError, JuteReader, JuteTruncatedError, JuteWriter, type ACL } from '../jute/index.js';
import { ZNode } from './data-node.js';
import { NodeTable, UNRESOLVED_ACL } from './node-table.js';
import { ROOT_PATH } from './paths.js';

/** Snapshot pieces hold at most this many nodes by default... */
export const SNAPSHOT_CHUNK_NODES_DEFAULT = 1000;
/** ...and are cut once they pass this many bytes, so one large node never holds a piece up. */
export const SNAPSHOT_CHUNK_BYTES_MAX = 1 << 20;

/**
 * Encode the table in pieces, each a view of one reused buffer that is valid until the
 * generator is resumed (copy it to keep it). Each node is encoded when its piece is built, so
 * txns may apply between pieces (a fuzzy snapshot, as ZooKeeper's). Nodes go in the table's insertion order,
 * parents before children, which is all a reader needs (ZooKeeper's reader included); it spares
 * a pre-order walk a path concatenation, a lookup and a children copy per node.
 *
 * Nodes created after `upTo` (the last txn applied when the snapshot began) are left out: the
 * replay from the snapshot's zxid creates them. That also keeps a node deleted and created
 * again while the pieces are written from appearing twice (the new one is inserted last).
 */
export function* writeSnapshot(table: NodeTable, chunkNodes: number, upTo: bigint): Generator<Buffer> {
  const perChunk = Math.max(1, Math.floor(chunkNodes));
  const w = new JuteWriter(SNAPSHOT_CHUNK_BYTES_MAX + 64 * 1024);
  const acls = table.aclCache.entries();
  w.writeInt(acls.length);
  for (const [index, acl] of acls) {
    w.writeLong(index);
    ACLs.write(w, acl as ACL[]);
  }
  let inChunk = 0;
  const root = table.get(ROOT_PATH)!;
  writeNode(w, '', root);
  for (const [path, node] of table.entries()) {
    if (node === root || node.stat.czxid > upTo) continue;
    writeNode(w, path, node);
    if (++inChunk >= perChunk || w.length >= SNAPSHOT_CHUNK_BYTES_MAX) {
      yield w.view();
      w.reset();
      inChunk = 0;
    }
  }
  w.writeString(ROOT_PATH);
  yield w.view();
}

/** One node; StatPersisted's fields in its jute order, written out (the schema's generic loop costs a tenth of a snapshot). */
function writeNode(w: JuteWriter, path: string, node: ZNode): void {
  w.writeString(path);
  w.writeBuffer(node.data);
  w.writeLong(node.aclIndex);
  const s = node.stat;
  w.writeLong(s.czxid);
  w.writeLong(s.mzxid);
  w.writeLong(s.ctime);
  w.writeLong(s.mtime);
  w.writeInt(s.version);
  w.writeInt(s.cversion);
  w.writeInt(s.aversion);
  w.writeLong(s.ephemeralOwner);
  w.writeLong(s.pzxid);
}

/** Nodes a stepped read (readSnapshotInSteps) decodes between two yields: a few ms at a time. */
export const SNAPSHOT_READ_STEP_NODES = 2000;

/** Decode a table, stopping after the end marker; JuteDecodeError on anything malformed. */
export function readSnapshot(r: JuteReader): NodeTable {
  return runToEnd(readSnapshotInSteps(wholeSource(r), Infinity));
}

/** A stepped computation run to its end in one go (its source holds every byte: it never asks for more). */
export function runToEnd<T>(steps: Generator<ReadSignal, T>): T {
  for (;;) {
    const s = steps.next();
    if (s.done === true) return s.value;
  }
}

/**
 * What a stepped read yields: 'step' after every `stepNodes` records (a turn for the event
 * loop), 'more' when the bytes it has ran out before the snapshot's end (push the next piece).
 */
export type ReadSignal = 'step' | 'more';

/**
 * Where a stepped read takes its bytes: one buffer, or pieces that arrive in order (a SNAP off
 * the wire). A record the bytes end inside of is read again, whole, once more bytes have come.
 */
export interface SnapshotSource {
  readonly reader: JuteReader;
  /** No more bytes will come: running out is a truncated snapshot. */
  readonly ended: boolean;
  /** Keep the bytes from `offset` of the reader on (the record that begins there is read again), then yield 'more'. */
  keepFrom(offset: number): void;
}

/** A source of one buffer's bytes, all there. */
export function wholeSource(r: JuteReader): SnapshotSource {
  return {
    reader: r,
    ended: true,
    keepFrom: () => {
      throw new Error('invariant: a whole snapshot asked for more bytes');
    },
  };
}

const NO_BYTES = Buffer.alloc(0);

/** How much of the next piece a record cut between two pieces is read from, with the rest of the last one. */
const BRIDGE_BYTES = 64 * 1024;

/**
 * A source fed pieces in order. A record cut between two pieces is read from a small bridge:
 * the rest of the last piece and the start of the next. Once the reader is past the rest, it
 * reads the next piece itself, so the pieces are never copied whole: a copy of each 4 MiB
 * piece was 225 MB of buffers at 1M znodes, and the collections they set off paused a
 * learner for 400 ms. A record longer than the bridge has the rest of its piece joined to it.
 */
export class PieceSource implements SnapshotSource {
  ended = false;
  private r = new JuteReader(NO_BYTES);
  private bytes: Buffer = NO_BYTES;
  /** While reading a bridge: the piece it began and how many bytes of the bridge came before it. */
  private bridged: { piece: Buffer; before: number } | null = null;

  get reader(): JuteReader {
    const b = this.bridged;
    if (b !== null && this.r.offset >= b.before) {
      this.bridged = null;
      this.bytes = b.piece;
      this.r = new JuteReader(b.piece, this.r.offset - b.before);
    }
    return this.r;
  }

  keepFrom(offset: number): void {
    const b = this.bridged;
    if (b !== null) {
      // The record is longer than the bridge: keep it and all of its piece after the bridge.
      this.bridged = null;
      this.bytes = Buffer.concat([this.bytes.subarray(offset), b.piece.subarray(this.bytes.length - b.before)]);
    } else {
      this.bytes = this.bytes.subarray(offset);
    }
    this.r = new JuteReader(this.bytes);
  }

  push(piece: Buffer): void {
    if (this.ended) throw new Error('invariant: a piece after the end of a snapshot');
    const rest = this.bytes.subarray(this.r.offset);
    if (rest.length === 0 || piece.length === 0) {
      this.bytes = rest.length === 0 ? piece : Buffer.concat([rest, piece]);
      this.bridged = null;
    } else {
      this.bytes = Buffer.concat([rest, piece.subarray(0, BRIDGE_BYTES)]);
      this.bridged = piece.length > BRIDGE_BYTES ? { piece, before: rest.length } : null;
    }
    this.r = new JuteReader(this.bytes);
  }

  end(): void {
    this.ended = true;
  }
}

/**
 * Read `read` from the source, again from the same place with more bytes each time they run
 * out before the record does. Only for reads that change nothing until they return.
 */
export function* readWhole<T>(src: SnapshotSource, read: (r: JuteReader) => T): Generator<ReadSignal, T> {
  for (;;) {
    const mark = src.reader.offset;
    try {
      return read(src.reader);
    } catch (err) {
      if (!(err instanceof JuteTruncatedError) || src.ended) throw err;
      src.keepFrom(mark);
      yield 'more';
    }
  }
}

/**
 * readSnapshot that yields after every `stepNodes` nodes, so that a caller can decode a large
 * tree over many turns of its event loop (a learner installing a leader's SNAP of a million
 * znodes would otherwise stall for seconds), and when its source needs another piece. The
 * table is the generator's return value; the reader stops right after the end marker.
 */
export function* readSnapshotInSteps(src: SnapshotSource, stepNodes: number): Generator<ReadSignal, NodeTable> {
  const table = new NodeTable();
  const acls = yield* readWhole(src, readAclTable);
  for (const [index, acl] of acls) table.aclCache.load(index, acl);
  const unresolved: ZNode[] = [];
  const time: SharedTime = { value: 0n, hi: 0, lo: 0 };
  // One bigint per ACL index rather than one per node (a Map's bigint keys compare by value).
  const indexes = new Map<bigint, bigint>();
  let inStep = 0;
  for (;;) {
    const r = src.reader;
    const mark = r.offset;
    let path: string | null;
    let node: ZNode;
    let acl: readonly ACL[] | undefined;
    // Reads only, so that a node the bytes end inside of is read again whole.
    try {
      path = r.readString();
      if (path === ROOT_PATH) break;
      if (path === null) throw new JuteDecodeError('null path in snapshot');
      const data = r.readBuffer();
      const read = r.readLong();
      let aclIndex = indexes.get(read);
      if (aclIndex === undefined) indexes.set(read, (aclIndex = read));
      acl = table.aclCache.lookup(aclIndex);
      node = readNode(r, time, data, (acl ?? UNRESOLVED_ACL) as ACL[], aclIndex);
    } catch (err) {
      if (!(err instanceof JuteTruncatedError) || src.ended) throw err;
      src.keepFrom(mark);
      yield 'more';
      continue;
    }
    if (acl === undefined) {
      table.aclCache.reserveUpTo(node.aclIndex);
      unresolved.push(node);
    } else {
      table.aclCache.addUsage(node.aclIndex);
    }
    link(table, path, node);
    if (++inStep >= stepNodes) {
      inStep = 0;
      yield 'step';
    }
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

/** The ACL table: `int count, (long index, vector<ACL>)*`. */
function readAclTable(r: JuteReader): [bigint, ACL[]][] {
  const count = r.readInt();
  if (count < 0) throw new JuteDecodeError(`bad ACL table size ${count} in snapshot`);
  // Each entry is at least 12 bytes: a count beyond the bytes left is bytes still to come.
  if (count > r.remaining) throw new JuteTruncatedError(`ACL table of ${count} entries, ${r.remaining} bytes left`);
  const acls: [bigint, ACL[]][] = [];
  for (let i = 0; i < count; i++) {
    const index = r.readLong();
    acls.push([index, ACLs.read(r)]);
  }
  return acls;
}

/** The last ctime read: a bulk of creates shares its millisecond. */
interface SharedTime {
  value: bigint;
  hi: number;
  lo: number;
}

/**
 * A node with its StatPersisted read in jute order, sharing equal values instead of allocating
 * a bigint for each: most nodes never changed after their create (mzxid = pzxid = czxid,
 * mtime = ctime), are not ephemeral, and were created in the same millisecond as the node before them.
 */
function readNode(r: JuteReader, time: SharedTime, data: Buffer | null, acl: ACL[], aclIndex: bigint): ZNode {
  const czHi = r.peekInt(0);
  const czLo = r.peekInt(4);
  const czxid = r.readLong();
  const mzHi = r.peekInt(0);
  const mzLo = r.peekInt(4);
  const mzxid = r.readLongOr(czxid, czHi, czLo);
  const ctHi = r.peekInt(0);
  const ctLo = r.peekInt(4);
  const ctime = r.readLongOr(time.value, time.hi, time.lo);
  if (ctime !== time.value) {
    time.value = ctime;
    time.hi = ctHi;
    time.lo = ctLo;
  }
  const mtime = r.readLongOr(ctime, ctHi, ctLo);
  const version = r.readInt();
  const cversion = r.readInt();
  const aversion = r.readInt();
  const ephemeralOwner = r.readLongOr(NOT_EPHEMERAL, 0, 0);
  const pzxid = r.peekInt(0) === czHi && r.peekInt(4) === czLo ? r.readLongOr(czxid, czHi, czLo) : r.readLongOr(mzxid, mzHi, mzLo);
  return new ZNode(data, acl, aclIndex, czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid);
}

const NOT_EPHEMERAL = 0n;

function link(table: NodeTable, path: string, node: ZNode): void {
  if (path === '') {
    if (table.size > 0) throw new JuteDecodeError('snapshot root node is not first');
    table.insertLoaded(ROOT_PATH, node);
    return;
  }
  // Structure only (no character rules): the path must name a child of its parent exactly once.
  // Parent and name are cut once here: this runs for every node of a tree that may hold millions.
  const slash = path.lastIndexOf('/');
  const parentPath = slash === 0 ? ROOT_PATH : path.slice(0, slash);
  const wellFormed = path.charCodeAt(0) === 0x2f && slash < path.length - 1 && (slash === 0 || parentPath !== ROOT_PATH);
  if (!wellFormed) throw new JuteDecodeError(`bad path ${JSON.stringify(path)} in snapshot`);
  // Siblings follow each other in a snapshot, so the parent is mostly the one looked up last.
  const parent = table.getParent(parentPath);
  if (parent === undefined) throw new JuteDecodeError(`snapshot names ${path} before its parent ${parentPath}`);
  if (!table.insertLoaded(path, node)) throw new JuteDecodeError(`repeated path ${JSON.stringify(path)} in snapshot`);
  parent.addChild(path.slice(slash + 1));
}
