/**
 * The simulated state machine: the applied sequence of txns. A txn's data is the id of the
 * client write that produced it (4 bytes, big-endian), so every txn is unique and a lost or
 * duplicated write is visible. A snapshot is the applied sequence, serialized.
 */
import type { Zxid } from '../zab/index.js';

export interface AppliedEntry {
  readonly zxid: Zxid;
  readonly writeId: number;
}

const ENTRY_BYTES = 12;
/** Bound on a snapshot's entries (the simulator's runs are far smaller). */
export const SNAPSHOT_ENTRIES_MAX = 1_000_000;

export class SimStateError extends Error {
  readonly code = 'ZABLAB_SIM_STATE';
}

export function encodeWrite(writeId: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, writeId >>> 0);
  return b;
}

export function decodeWrite(data: Uint8Array): number {
  if (data.length !== 4) throw new SimStateError(`txn data has ${data.length} bytes, expected a 4-byte write id`);
  return ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
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

export function encodeSnapshot(entries: readonly AppliedEntry[]): Uint8Array {
  const b = new Uint8Array(4 + entries.length * ENTRY_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, entries.length);
  let o = 4;
  for (const e of entries) {
    v.setBigUint64(o, e.zxid);
    v.setUint32(o + 8, e.writeId);
    o += ENTRY_BYTES;
  }
  return b;
}

export function decodeSnapshot(bytes: Uint8Array): AppliedEntry[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) throw new SimStateError('snapshot shorter than its header');
  const n = v.getUint32(0);
  if (n > SNAPSHOT_ENTRIES_MAX || bytes.byteLength !== 4 + n * ENTRY_BYTES) {
    throw new SimStateError(`snapshot of ${bytes.byteLength} bytes does not hold ${n} entries`);
  }
  const out: AppliedEntry[] = new Array<AppliedEntry>(n);
  let o = 4;
  for (let i = 0; i < n; i++) {
    out[i] = { zxid: v.getBigUint64(o), writeId: v.getUint32(o + 8) };
    o += ENTRY_BYTES;
  }
  return out;
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
