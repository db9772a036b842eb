/** tree: the data tree — znodes, Stat, paths, ephemerals, containers/TTLs, watches, ACLs, digest, snapshots. */
export {
  baseName,
  childPath,
  CONFIG_NODE,
  isSpecialPath,
  parentOf,
  pathProblem,
  PROC_ZOOKEEPER,
  QUOTA_ZOOKEEPER,
  ROOT_PATH,
  sequentialSuffix,
  validatePath,
  ZOOKEEPER_NODE_SUBTREE,
} from './paths.js';
export { NO_ZXID } from './watches.js';
export type { WatchedEvent, Watcher, WatchKind } from './watches.js';
export {
  checkACL,
  CREATOR_ALL_ACL,
  DEFAULT_PROVIDERS,
  digestOf,
  digestProvider,
  fixupACL,
  Ids,
  ipProvider,
  isDistinguishedName,
  isSuper,
  OPEN_ACL_UNSAFE,
  ProviderRegistry,
  READ_ACL_UNSAFE,
  saslProvider,
  x509Provider,
} from './acl.js';
export type { AuthId, AuthProvider } from './acl.js';
export {
  CONTAINER_EPHEMERAL_OWNER,
  clientEphemeralOwner,
  ephemeralTypeOf,
  MAX_EXTENDED_SERVER_ID,
  TTL_MS_MAX,
  ttlEphemeralOwner,
  ttlOf,
} from './ephemeral-type.js';
export type { EphemeralType } from './ephemeral-type.js';
export { copyStat, toStat } from './data-node.js';
export type { DataNode } from './data-node.js';
export { DIGEST_VERSION, nodeDigest } from './digest.js';
export { DataTree } from './data-tree.js';
export { PieceSource, readWhole, SNAPSHOT_CHUNK_BYTES_MAX, SNAPSHOT_CHUNK_NODES_DEFAULT, SNAPSHOT_READ_STEP_NODES, wholeSource } from './snapshot.js';
export type { ReadSignal, SnapshotSource } from './snapshot.js';
export type { ProcessTxnResult, SetWatchesLists } from './data-tree.js';
