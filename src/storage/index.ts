/**
 * storage: the txn log and snapshots, in ZooKeeper's file names and formats, with in-memory
 * twins for tests and the simulator; the snapCount policy; recovery; autopurge.
 */
export type { TxnLog, FsyncInfo } from './txn-log.js';
export type { SnapStore } from './snap-store.js';
export { FileTxnLog, DEFAULT_PRE_ALLOC_SIZE } from './file-txn-log.js';
export { MAX_PENDING_BYTES } from './append-rules.js';
export type { FileTxnLogOptions } from './file-txn-log.js';
export { MemoryTxnLog } from './memory-txn-log.js';
export { FileSnapStore } from './file-snap-store.js';
export type { FileSnapStoreOptions } from './file-snap-store.js';
export { MemorySnapStore } from './memory-snap-store.js';
export { SnapshotPolicy, DEFAULT_SNAP_COUNT, MIN_SNAP_COUNT } from './snapshot-policy.js';
export { purgeTxnLogs, PurgeTask, MIN_SNAP_RETAIN_COUNT } from './purge.js';
export type { PurgeOptions, PurgeTaskOptions } from './purge.js';
export { StorageError } from './errors.js';
export type { StorageErrorCode } from './errors.js';
export { adler32 } from './adler32.js';
export { VERSION_DIR, versionDir, makeLogName, makeSnapshotName, zxidFromName } from './files.js';
export { TXNLOG_MAGIC, DEFAULT_MAX_TXN_SIZE } from './log-format.js';
export { SNAP_MAGIC } from './snap-format.js';
