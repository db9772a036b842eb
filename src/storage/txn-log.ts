import type { LoggedTxn } from '../jute/index.js';

/** What one fsync of the txn log covered; feeds ZooKeeper's `fsynctime` metric. */
export interface FsyncInfo {
  durationMs: number;
  txns: number;
  bytes: number;
}

/** One txn as the log holds it: encodeLoggedTxn's bytes. */
export interface LoggedEntry {
  zxid: bigint;
  entry: Buffer;
}

/** A run of the history read back from the log (readHistory), or why the log cannot give it. */
export type HistoryRead = { kind: 'ok'; entries: LoggedEntry[]; bytes: number } | { kind: 'missing'; why: string };

/**
 * The write-ahead txn log. One writer: the caller appends in zxid order and commits;
 * a txn is durable once a commit() issued after its append() resolves.
 */
export interface TxnLog {
  /** Buffer one txn for the log; bytes are not durable until commit() resolves. zxids must increase. */
  append(txn: LoggedTxn): void;
  /** append() of a txn already encoded (encodeLoggedTxn's bytes, which carry its zxid): no second encoding. */
  appendEntry(entry: Uint8Array): void;
  /**
   * Group commit: one write + one fsync covers every txn appended since the last commit.
   * Concurrent callers share the fsync in flight (the next batch starts when it ends).
   * Resolves when durable.
   */
  commit(): Promise<void>;
  /**
   * Txns with zxid > afterZxid in order, across files: those durable when the iteration
   * starts. Stops at a torn or corrupt tail (does not throw).
   */
  read(afterZxid: bigint): AsyncIterable<LoggedTxn>;
  /**
   * The txns in (after, upTo] as one unbroken run of this server's history, for a DIFF to a
   * learner at `after` (ZooKeeper's getProposalsFromTxnLog). 'missing' unless the log holds
   * `after` itself and every txn from it to `upTo`, each following the one before (counters
   * run on, or a file's link names the txn before it), durable, in at most `maxBytes` bytes.
   */
  readHistory(after: bigint, upTo: bigint, maxBytes: number): Promise<HistoryRead>;
  /**
   * Where the log's history ends: the zxid of the last txn appended (durable or not), or the
   * zxid of a snapshot a truncate() was told it sits under, when that is later; 0n for an
   * empty log. The next append must be above it.
   */
  lastLoggedZxid(): bigint;
  /** Start a new file at the next append (ZooKeeper rolls the log when a snapshot is taken). */
  rollLog(): void;
  /**
   * Drop every txn with zxid > zxid. ZAB's TRUNC: the history now ends at the last txn kept
   * (zxid itself may be no txn, e.g. a new epoch's 0x<epoch>00000000). Under a SNAP installed
   * at zxid (`opts.snapshot`): the history ends at zxid, and the next file says it follows it.
   * Durable when it resolves. Commits pending txns first.
   */
  truncate(zxid: bigint, opts?: { snapshot?: boolean }): Promise<void>;
  /** Commits what is pending, then releases the files. Later calls throw ZABLAB_STORAGE_CLOSED. */
  close(): Promise<void>;
  /** Called after every fsync of the log, with its duration and what it covered. */
  onFsync?: (info: FsyncInfo) => void;
}
