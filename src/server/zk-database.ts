/**
 * ZKDatabase: the in-memory state (data tree + sessions with their timeouts) and the files
 * that make it durable (txn log + snapshots). Recovery = newest valid snapshot + replay of
 * the log after it; snapshots are fuzzy, so replay must be (and is) idempotent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { JuteReader, JuteWriter, OpCode, type LoggedTxn } from '../jute/index.js';
import { DataTree, type ProcessTxnResult } from '../tree/index.js';
import { FileSnapStore, FileTxnLog, type SnapStore, type TxnLog } from '../storage/index.js';
import type { ZabConfig } from './config.js';
import type { Logger } from './log.js';

export interface SnapshotInfo {
  zxid: bigint;
  durationMs: number;
}

/** Open the txn log (`dataLogDir/version-2`) and snapshots (`dataDir/version-2`) of a server. */
export async function openDatabase(cfg: ZabConfig, log: Logger): Promise<ZKDatabase> {
  const snapDir = path.join(cfg.dataDir, 'version-2');
  const logDir = path.join(cfg.dataLogDir, 'version-2');
  fs.mkdirSync(snapDir, { recursive: true });
  fs.mkdirSync(logDir, { recursive: true });
  const txnLog = await FileTxnLog.open({ dir: logDir, preAllocSize: cfg.preAllocSizeBytes, log: (m) => log.warn(m) });
  const snaps = await FileSnapStore.open({ dir: snapDir, log: (m) => log.warn(m) });
  return new ZKDatabase(txnLog, snaps, log);
}

export class ZKDatabase {
  tree = new DataTree();
  /** Global sessions and their negotiated timeouts, as recorded by txns (ZooKeeper's sessionsWithTimeouts). */
  readonly sessionsWithTimeouts = new Map<bigint, number>();
  private snapshotInFlight: Promise<SnapshotInfo | null> | null = null;

  constructor(
    readonly txnLog: TxnLog,
    readonly snaps: SnapStore,
    private readonly log: Logger,
  ) {}

  get lastProcessedZxid(): bigint {
    return this.tree.lastProcessedZxid;
  }

  /** Load the newest valid snapshot and replay the log after it. Returns the last zxid. */
  async load(): Promise<bigint> {
    const snap = await this.snaps.loadNewest();
    if (snap) {
      this.restoreSnapshot(snap.body);
      this.tree.lastProcessedZxid = snap.zxid;
      this.log.info('loaded snapshot', { zxid: zxidHex(snap.zxid), sessions: this.sessionsWithTimeouts.size });
    }
    let replayed = 0;
    for await (const t of this.txnLog.read(this.tree.lastProcessedZxid)) {
      this.applyTxn(t);
      replayed++;
    }
    if (replayed > 0) this.log.info('replayed txn log', { txns: replayed, lastZxid: zxidHex(this.lastProcessedZxid) });
    return this.lastProcessedZxid;
  }

  /**
   * Quorum mode: load the newest snapshot only. Logged txns after it are returned, not
   * applied — ZAB decides whether they are committed (they may be cut by a TRUNC).
   */
  async loadForQuorum(): Promise<{ snapshotZxid: bigint; tail: LoggedTxn[] }> {
    const snap = await this.snaps.loadNewest();
    if (snap) {
      this.restoreSnapshot(snap.body);
      this.tree.lastProcessedZxid = snap.zxid;
    }
    const tail: LoggedTxn[] = [];
    for await (const t of this.txnLog.read(this.tree.lastProcessedZxid)) tail.push(t);
    this.log.info('loaded for quorum', {
      snapshotZxid: zxidHex(this.tree.lastProcessedZxid),
      loggedAfterSnapshot: tail.length,
    });
    return { snapshotZxid: this.tree.lastProcessedZxid, tail };
  }

  /** The whole applied state as one buffer (a leader's SNAP to a learner). */
  snapshotBytes(): Buffer {
    return Buffer.concat([...this.snapshotBody()]);
  }

  /** Replace the state with a leader's snapshot taken at `zxid`. */
  installSnapshot(bytes: Uint8Array, zxid: bigint): void {
    this.restoreSnapshot(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.tree.lastProcessedZxid = zxid;
  }

  /** Apply one decided, durable txn: the tree plus the session table. */
  applyTxn(t: LoggedTxn): ProcessTxnResult {
    const { hdr, body } = t;
    if (body.type === OpCode.createSession) {
      this.sessionsWithTimeouts.set(hdr.clientId, body.record.timeOut);
    } else if (body.type === OpCode.closeSession) {
      this.sessionsWithTimeouts.delete(hdr.clientId);
    }
    const rc = this.tree.processTxn(hdr, body);
    if (hdr.zxid > this.tree.lastProcessedZxid) this.tree.lastProcessedZxid = hdr.zxid;
    return rc;
  }

  /** Snapshot body: sessions (ZooKeeper's SerializeUtils order), then the tree in pieces. */
  *snapshotBody(): Generator<Buffer> {
    const w = new JuteWriter(64 + this.sessionsWithTimeouts.size * 12);
    w.writeInt(this.sessionsWithTimeouts.size);
    for (const [id, timeout] of this.sessionsWithTimeouts) {
      w.writeLong(id);
      w.writeInt(timeout);
    }
    yield w.toBuffer();
    yield* this.tree.serializeChunks();
  }

  private restoreSnapshot(body: Buffer): void {
    const r = new JuteReader(body);
    const n = r.readCount();
    this.sessionsWithTimeouts.clear();
    for (let i = 0; i < n; i++) {
      const id = r.readLong();
      this.sessionsWithTimeouts.set(id, r.readInt());
    }
    this.tree = DataTree.deserialize(body.subarray(r.offset));
  }

  /**
   * Take a fuzzy snapshot named after the last applied zxid; txns keep applying while the
   * tree is written in pieces. At most one runs at a time (ZooKeeper skips when busy too).
   */
  takeSnapshot(): Promise<SnapshotInfo | null> {
    if (this.snapshotInFlight) {
      this.log.warn('too busy to snapshot, skipping');
      return Promise.resolve(null);
    }
    const zxid = this.lastProcessedZxid;
    const started = performance.now();
    this.snapshotInFlight = this.snaps
      .save(zxid, this.snapshotBody())
      .then(() => {
        const durationMs = performance.now() - started;
        this.log.info('snapshot taken', { zxid: zxidHex(zxid), ms: Math.round(durationMs) });
        return { zxid, durationMs };
      })
      .finally(() => {
        this.snapshotInFlight = null;
      });
    return this.snapshotInFlight;
  }

  async close(): Promise<void> {
    if (this.snapshotInFlight) await this.snapshotInFlight.catch(() => null);
    await this.txnLog.close();
    await this.snaps.close();
  }
}

export function zxidHex(zxid: bigint): string {
  return '0x' + BigInt.asUintN(64, zxid).toString(16);
}
