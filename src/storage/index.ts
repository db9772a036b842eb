/**
 * storage: the txn log and snapshots, in ZooKeeper's file names and formats, over a file
 * system that is the machine's or one in memory (MemoryFs: for the simulator and tests, with
 * crashes and damage); the snapCount policy; recovery that tells torn tails from damage; autopurge.
 */
export type { TxnLog, FsyncInfo, HistoryRead, LoggedEntry } from './txn-log.js';
export type { SnapStore } from './snap-store.js';
export { FileTxnLog, DEFAULT_PRE_ALLOC_SIZE } from './file-txn-log.js';
export { MAX_PENDING_BYTES } from './append-rules.js';
export type { FileTxnLogOptions } from './file-txn-log.js';
export { FileSnapStore } from './file-snap-store.js';
export type { FileSnapStoreOptions } from './file-snap-store.js';
export { nodeFs, errnoOf } from './fs.js';
export type { OpenFlags, StorageFile, StorageFs } from './fs.js';
export { MemoryFs } from './memory-fs.js';
export type { CrashChoice, MemoryFsOp, MemoryFsOptions } from './memory-fs.js';
export { SnapshotPolicy, DEFAULT_SNAP_COUNT, MIN_SNAP_COUNT } from './snapshot-policy.js';
export { purgeTxnLogs, PurgeTask, MIN_SNAP_RETAIN_COUNT } from './purge.js';
export type { PurgeOptions, PurgeTaskOptions } from './purge.js';
export { StorageDamageError, StorageError } from './errors.js';
export type { DamageSite, StorageErrorCode } from './errors.js';
export { ADLER32_INITIAL, adler32 } from './adler32.js';
export { DAMAGED_PREFIX, VERSION_DIR, setAside, versionDir, makeLogName, makeSnapshotName, zxidFromName } from './files.js';
export { TXNLOG_MAGIC, DEFAULT_MAX_TXN_SIZE, END_MARKER_MAGIC } from './log-format.js';
export { SNAP_MAGIC } from './snap-format.js';
export { planRecovery, planCut, cutHistory, damageSite, describeDamage } from './recovery.js';
export type { CutPlan, DamageFinding, DamageReport, RecoveryInputs, RecoveryPlan } from './recovery.js';
export { readEpochFile, writeEpochFile, readRecovering, markRecovering, clearRecovering, RECOVERING_FILE } from './quorum-files.js';
export type { EpochName, EpochRead } from './quorum-files.js';
