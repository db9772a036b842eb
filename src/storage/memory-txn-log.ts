/**
 * The txn log in memory, with the file log's contract (group commit, zxid order, size
 * limit, truncate): for tests and the simulator. "Durable" means committed here.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { decodeLoggedTxn, encodeLoggedTxn, type LoggedTxn } from '../jute/index.js';
import { StorageError } from './errors.js';
import { checkEntrySize, checkZxidOrder } from './append-rules.js';
import { GroupCommit } from './group-commit.js';
import { DEFAULT_MAX_TXN_SIZE, RECORD_OVERHEAD } from './log-format.js';
import type { FsyncInfo, TxnLog } from './txn-log.js';

interface Entry {
  zxid: bigint;
  /** Encoded, so that callers cannot change a logged txn through a shared object. */
  bytes: Buffer;
}

export class MemoryTxnLog implements TxnLog {
  onFsync?: (info: FsyncInfo) => void;

  private readonly durable: Entry[] = [];
  private pending: Entry[] = [];
  private pendingBytes = 0;
  private lastZxid = 0n;
  private closed = false;
  private truncating = false;
  private readonly group = new GroupCommit(
    () => this.flush(),
    () => this.pending.length > 0,
  );

  constructor(private readonly maxTxnSize: number = DEFAULT_MAX_TXN_SIZE) {}

  append(txn: LoggedTxn): void {
    this.checkUsable();
    const zxid = txn.hdr.zxid;
    checkZxidOrder(zxid, this.lastZxid);
    const bytes = encodeLoggedTxn(txn);
    checkEntrySize(zxid, bytes.length, this.maxTxnSize, this.pendingBytes);
    this.pending.push({ zxid, bytes });
    this.pendingBytes += bytes.length;
    this.lastZxid = zxid;
  }

  async commit(): Promise<void> {
    if (this.closed) throw closedError();
    await this.group.commit();
  }

  async *read(afterZxid: bigint): AsyncGenerator<LoggedTxn> {
    if (this.closed) throw closedError();
    const upTo = this.durable.length;
    for (let i = 0; i < upTo; i++) {
      const e = this.durable[i];
      if (e === undefined) return; // truncated while reading
      if (e.zxid > afterZxid) yield decodeLoggedTxn(e.bytes);
    }
  }

  lastLoggedZxid(): bigint {
    return this.lastZxid;
  }

  rollLog(): void {
    this.checkUsable();
  }

  async truncate(zxid: bigint): Promise<void> {
    this.checkUsable();
    this.truncating = true;
    try {
      await this.group.commit();
      await this.group.idle();
      let keep = this.durable.length;
      while (keep > 0 && this.durable[keep - 1]!.zxid > zxid) keep--;
      this.durable.length = keep;
      this.lastZxid = this.durable.at(-1)?.zxid ?? 0n;
    } finally {
      this.truncating = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.group.commit();
    await this.group.idle();
  }

  private checkUsable(): void {
    if (this.closed) throw closedError();
    if (this.truncating) {
      throw new StorageError('ZABLAB_STORAGE_BUSY', 'the txn log is being truncated; wait for truncate() to resolve');
    }
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    // Stands in for the disk: the batch becomes durable a turn of the event loop later.
    await nextTurn();
    let bytes = 0;
    for (const e of batch) {
      this.durable.push(e);
      bytes += e.bytes.length + RECORD_OVERHEAD;
    }
    try {
      this.onFsync?.({ durationMs: 0, txns: batch.length, bytes });
    } catch {
      // A metrics callback must not fail the log.
    }
  }
}

function closedError(): StorageError {
  return new StorageError('ZABLAB_STORAGE_CLOSED', 'the txn log is closed');
}
