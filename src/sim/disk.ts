/**
 * A server's simulated disk: a durable part (epochs, snapshot, txn log) and the persist ops
 * written but not yet fsynced. A crash keeps some prefix of the un-fsynced ops (what the
 * kernel happened to write back, in order) and may leave a torn record at the end of the
 * log, which recovery detects and drops — it never trusts data that was not durable.
 */
import type { PeerDisk, PersistOp, Txn, Zxid } from '../zab/index.js';
import { zxidHex } from '../zab/index.js';
import { decodeSnapshot, decodeWrite, indexOfZxid, type AppliedEntry } from './state.js';

export interface SnapshotImage {
  /** zxid of the last applied txn in the image (0 for the empty state). */
  readonly zxid: Zxid;
  readonly entries: readonly AppliedEntry[];
}

/** What a host restores after a crash. */
export interface Recovery {
  disk: PeerDisk;
  snapshot: SnapshotImage;
  /** A torn record at the log's tail was found and discarded. */
  tornDropped: boolean;
}

/** The disk was asked to do something no correct host would: a bug in the core or the host. */
export class SimDiskError extends Error {
  readonly code = 'ZABLAB_SIM_DISK';
}

/** Bound on un-fsynced ops: a host that never fsyncs is broken. */
export const PENDING_OPS_MAX = 100_000;

export const EMPTY_SNAPSHOT: SnapshotImage = { zxid: 0n, entries: [] };

export class SimDisk {
  acceptedEpoch = 0n;
  currentEpoch = 0n;
  snapshot: SnapshotImage = EMPTY_SNAPSHOT;
  /** Durable log records after the snapshot, in zxid order. */
  log: Txn[] = [];
  /** A partially written record after the log (left by a crash); recovery drops it. */
  private tornTail: Txn | null = null;
  /** Written, not yet fsynced, in order. */
  pending: PersistOp[] = [];
  fsyncs = 0;

  /** Start from a given durable state (scripted scenarios). */
  static from(state: { acceptedEpoch: bigint; currentEpoch: bigint; snapshot?: SnapshotImage; log?: Txn[] }): SimDisk {
    const d = new SimDisk();
    d.acceptedEpoch = state.acceptedEpoch;
    d.currentEpoch = state.currentEpoch;
    d.snapshot = state.snapshot ?? EMPTY_SNAPSHOT;
    for (const t of state.log ?? []) d.appendDurable(t);
    return d;
  }

  get lastDurableZxid(): Zxid {
    return this.log.length > 0 ? this.log[this.log.length - 1]!.zxid : this.snapshot.zxid;
  }

  write(ops: readonly PersistOp[]): void {
    if (this.pending.length + ops.length > PENDING_OPS_MAX) {
      throw new SimDiskError(`more than ${PENDING_OPS_MAX} persist ops waiting for fsync`);
    }
    for (const op of ops) this.pending.push(op);
  }

  /** Make every written op durable. */
  fsync(): void {
    this.fsyncs++;
    const ops = this.pending;
    this.pending = [];
    for (const op of ops) this.applyDurable(op);
  }

  /**
   * Lose the process. The first `keep` un-fsynced ops reached the disk; when `torn`, the next
   * op, if it is an append, left some of its records intact and one torn record after them.
   */
  crash(keep: number, torn: boolean): void {
    const ops = this.pending;
    this.pending = [];
    const k = Math.max(0, Math.min(keep, ops.length));
    for (let i = 0; i < k; i++) this.applyDurable(ops[i]!);
    const next = ops[k];
    if (torn && next?.kind === 'append' && next.txns.length > 0) {
      const intact = Math.floor(next.txns.length / 2);
      for (let i = 0; i < intact; i++) this.appendDurable(next.txns[i]!);
      this.tornTail = next.txns[intact]!;
    }
  }

  /** Read back the durable state; a torn tail fails its checksum and is dropped. */
  recover(): Recovery {
    if (this.pending.length > 0) throw new SimDiskError('recover() with un-fsynced ops: crash() first');
    const tornDropped = this.tornTail !== null;
    this.tornTail = null;
    return {
      disk: {
        acceptedEpoch: this.acceptedEpoch,
        currentEpoch: this.currentEpoch,
        appliedZxid: this.snapshot.zxid,
        log: this.log.slice(),
      },
      snapshot: this.snapshot,
      tornDropped,
    };
  }

  /**
   * The host saved a snapshot of its applied state (atomically, durably); older log records
   * are purged. Snapshots are fuzzy: the state may be ahead of the durable log (committed txns
   * applied before their fsync); later appends of txns the snapshot holds are then skipped.
   */
  saveSnapshot(image: SnapshotImage): void {
    if (image.zxid < this.snapshot.zxid) {
      throw new SimDiskError(`snapshot at ${zxidHex(image.zxid)} is older than the one on disk (${zxidHex(this.snapshot.zxid)})`);
    }
    this.snapshot = image;
    let i = 0;
    while (i < this.log.length && this.log[i]!.zxid <= image.zxid) i++;
    this.log = this.log.slice(i);
  }

  /** Is the txn (zxid, writeId) durable here, in the log or in the snapshot? */
  holdsDurably(zxid: Zxid, writeId: number): boolean {
    if (zxid <= this.snapshot.zxid) {
      const i = indexOfZxid(this.snapshot.entries, zxid);
      return i >= 0 && this.snapshot.entries[i]!.writeId === writeId;
    }
    const i = indexOfZxid(this.log, zxid);
    return i >= 0 && decodeWrite(this.log[i]!.data) === writeId;
  }

  private appendDurable(t: Txn): void {
    if (t.zxid <= this.snapshot.zxid) return; // Already in the (fuzzy) snapshot.
    if (t.zxid <= this.lastDurableZxid) {
      throw new SimDiskError(`append of ${zxidHex(t.zxid)} after ${zxidHex(this.lastDurableZxid)}: the log must grow in zxid order`);
    }
    this.log.push(t);
  }

  private applyDurable(op: PersistOp): void {
    switch (op.kind) {
      case 'append':
        for (const t of op.txns) this.appendDurable(t);
        return;
      case 'truncate': {
        if (op.zxid < this.snapshot.zxid) {
          throw new SimDiskError(`truncate to ${zxidHex(op.zxid)} below the snapshot at ${zxidHex(this.snapshot.zxid)}`);
        }
        let n = this.log.length;
        while (n > 0 && this.log[n - 1]!.zxid > op.zxid) n--;
        this.log.length = n;
        return;
      }
      case 'installSnapshot': {
        const entries = decodeSnapshot(op.snapshot);
        const last = entries.length > 0 ? entries[entries.length - 1]!.zxid : 0n;
        if (last !== op.zxid) {
          throw new SimDiskError(`snapshot image ends at ${zxidHex(last)} but is labelled ${zxidHex(op.zxid)}`);
        }
        this.snapshot = { zxid: op.zxid, entries };
        this.log = [];
        return;
      }
      case 'acceptedEpoch':
        this.acceptedEpoch = op.epoch;
        return;
      case 'currentEpoch':
        this.currentEpoch = op.epoch;
        return;
      case 'recovered':
        return;
    }
  }
}
