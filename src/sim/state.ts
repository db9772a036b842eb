/**
 * The simulated clients' writes, as real ZooKeeper txns: write w creates the znode `/w<w>`
 * holding w, so every txn is unique and a lost or duplicated write is visible in the data
 * tree itself. The applied sequence the checkers compare is read back from the tree: the
 * `/w*` znodes in czxid order. Between servers, a learner forwards a write (or a SYNC) to the
 * leader as a small app payload, as a server forwards a client's request.
 */
import { OpCode, Perms, encodeLoggedTxn, type LoggedTxn } from '../jute/index.js';
import type { DataTree } from '../tree/index.js';
import type { Zxid } from '../zab/index.js';

export interface AppliedEntry {
  readonly zxid: Zxid;
  readonly writeId: number;
}

/** The simulated clients' session (every write is made in it). */
export const SIM_SESSION = 0x5a1b1ab5n;
const OPEN_ACL = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const WRITE_PATH = /^w(\d+)$/;

export class SimStateError extends Error {
  readonly code = 'ZABLAB_SIM_STATE';
}

/**
 * The txn a leader proposes for write `writeId` at `zxid`. The parent's cversion is an
 * absolute value (as ZooKeeper's prep computes it), so that replaying the txn over a fuzzy
 * snapshot that already holds it changes nothing.
 */
export function writeTxn(zxid: Zxid, writeId: number): Uint8Array {
  const data = Buffer.from(encodeWrite(writeId));
  const txn: LoggedTxn = {
    hdr: { clientId: SIM_SESSION, cxid: writeId, zxid, time: 0n, type: OpCode.create },
    body: { type: OpCode.create, record: { path: `/w${writeId}`, data, acl: OPEN_ACL, ephemeral: false, parentCVersion: writeId } },
  };
  return encodeLoggedTxn(txn);
}

/** The write a txn carries, or null for a txn that is not one of ours. */
export function writeIdOf(txn: LoggedTxn): number | null {
  if (txn.body.type !== OpCode.create) return null;
  const m = WRITE_PATH.exec(txn.body.record.path.slice(1));
  return m === null ? null : Number(m[1]);
}

/** The writes a tree holds with czxid at or below `upTo`, in zxid order: the applied sequence. */
export function appliedFromTree(tree: DataTree, upTo: Zxid): AppliedEntry[] {
  const root = tree.getNode('/');
  if (root === undefined) throw new SimStateError('the tree has no root');
  const out: AppliedEntry[] = [];
  for (const name of root.children) {
    const m = WRITE_PATH.exec(name);
    if (m === null) continue;
    const zxid = tree.getNode(`/${name}`)!.stat.czxid;
    if (zxid <= upTo) out.push({ zxid, writeId: Number(m[1]) });
  }
  return out.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
}

export function encodeWrite(writeId: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, writeId >>> 0);
  return b;
}

/** The write id of a forwarded write, or null for any other payload. */
export function decodeWrite(payload: Uint8Array): number | null {
  if (payload.length !== 4) return null;
  return ((payload[0]! << 24) | (payload[1]! << 16) | (payload[2]! << 8) | payload[3]!) >>> 0;
}

/** A client's SYNC forwarded by a learner: 'SYNC' + id (8 bytes, never a write's 4). */
const SYNC_MAGIC = 0x53594e43;

export function encodeSync(syncId: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, SYNC_MAGIC);
  v.setUint32(4, syncId >>> 0);
  return b;
}

/** The sync id of a SYNC payload, or null for a forwarded write. */
export function decodeSync(payload: Uint8Array): number | null {
  if (payload.length !== 8) return null;
  const v = new DataView(payload.buffer, payload.byteOffset, 8);
  return v.getUint32(0) === SYNC_MAGIC ? v.getUint32(4) : null;
}

/** Index of the entry with this zxid in a zxid-ordered array, or -1. */
export function indexOfZxid<T extends { zxid: Zxid }>(items: readonly T[], zxid: Zxid): number {
  let lo = 0;
  let hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const z = items[mid]!.zxid;
    if (z === zxid) return mid;
    if (z < zxid) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
