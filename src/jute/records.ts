/**
 * The records of zookeeper.jute, field for field (the wire and disk formats of
 * ZooKeeper 3.5–3.9). Names follow ZooKeeper's classes.
 */
import { bool, buffer, int, long, record, ustring, vector, type Infer } from './schema.js';

// --- org.apache.zookeeper.data ---
export const Id = record({ scheme: ustring, id: ustring });
export type Id = Infer<typeof Id>;
export const ACL = record({ perms: int, id: Id });
export type ACL = Infer<typeof ACL>;
export const ACLs = vector(ACL);

export const Stat = record({
  czxid: long,
  mzxid: long,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  dataLength: int,
  numChildren: int,
  pzxid: long,
});
export type Stat = Infer<typeof Stat>;

export const StatPersisted = record({
  czxid: long,
  mzxid: long,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  pzxid: long,
});
export type StatPersisted = Infer<typeof StatPersisted>;

// --- org.apache.zookeeper.proto ---
/**
 * ConnectRequest. Clients since 3.4 append a `readOnly` boolean; older ones do not, so
 * the connection layer decodes that trailing byte only when it is present.
 */
export const ConnectRequest = record({
  protocolVersion: int,
  lastZxidSeen: long,
  timeOut: int,
  sessionId: long,
  passwd: buffer,
});
export type ConnectRequest = Infer<typeof ConnectRequest>;
export const ConnectResponse = record({
  protocolVersion: int,
  timeOut: int,
  sessionId: long,
  passwd: buffer,
});
export type ConnectResponse = Infer<typeof ConnectResponse>;

export const SetWatches = record({
  relativeZxid: long,
  dataWatches: vector(ustring),
  existWatches: vector(ustring),
  childWatches: vector(ustring),
});
export type SetWatches = Infer<typeof SetWatches>;
export const SetWatches2 = record({
  relativeZxid: long,
  dataWatches: vector(ustring),
  existWatches: vector(ustring),
  childWatches: vector(ustring),
  persistentWatches: vector(ustring),
  persistentRecursiveWatches: vector(ustring),
});
export type SetWatches2 = Infer<typeof SetWatches2>;

export const RequestHeader = record({ xid: int, type: int });
export type RequestHeader = Infer<typeof RequestHeader>;
export const MultiHeader = record({ type: int, done: bool, err: int });
export type MultiHeader = Infer<typeof MultiHeader>;
export const AuthPacket = record({ type: int, scheme: ustring, auth: buffer });
export type AuthPacket = Infer<typeof AuthPacket>;
export const ReplyHeader = record({ xid: int, zxid: long, err: int });
export type ReplyHeader = Infer<typeof ReplyHeader>;

export const GetDataRequest = record({ path: ustring, watch: bool });
export type GetDataRequest = Infer<typeof GetDataRequest>;
export const SetDataRequest = record({ path: ustring, data: buffer, version: int });
export type SetDataRequest = Infer<typeof SetDataRequest>;
export const ReconfigRequest = record({
  joiningServers: ustring,
  leavingServers: ustring,
  newMembers: ustring,
  curConfigId: long,
});
export type ReconfigRequest = Infer<typeof ReconfigRequest>;
export const SetDataResponse = record({ stat: Stat });
export type SetDataResponse = Infer<typeof SetDataResponse>;
export const GetSASLRequest = record({ token: buffer });
export const SetSASLRequest = record({ token: buffer });
export const SetSASLResponse = record({ token: buffer });
export const CreateRequest = record({ path: ustring, data: buffer, acl: ACLs, flags: int });
export type CreateRequest = Infer<typeof CreateRequest>;
export const CreateTTLRequest = record({ path: ustring, data: buffer, acl: ACLs, flags: int, ttl: long });
export type CreateTTLRequest = Infer<typeof CreateTTLRequest>;
export const DeleteRequest = record({ path: ustring, version: int });
export type DeleteRequest = Infer<typeof DeleteRequest>;
export const GetChildrenRequest = record({ path: ustring, watch: bool });
export type GetChildrenRequest = Infer<typeof GetChildrenRequest>;
export const GetAllChildrenNumberRequest = record({ path: ustring });
export type GetAllChildrenNumberRequest = Infer<typeof GetAllChildrenNumberRequest>;
export const GetChildren2Request = record({ path: ustring, watch: bool });
export type GetChildren2Request = Infer<typeof GetChildren2Request>;
export const CheckVersionRequest = record({ path: ustring, version: int });
export type CheckVersionRequest = Infer<typeof CheckVersionRequest>;
export const SyncRequest = record({ path: ustring });
export type SyncRequest = Infer<typeof SyncRequest>;
export const SyncResponse = record({ path: ustring });
export type SyncResponse = Infer<typeof SyncResponse>;
export const GetACLRequest = record({ path: ustring });
export type GetACLRequest = Infer<typeof GetACLRequest>;
export const SetACLRequest = record({ path: ustring, acl: ACLs, version: int });
export type SetACLRequest = Infer<typeof SetACLRequest>;
export const SetACLResponse = record({ stat: Stat });
export type SetACLResponse = Infer<typeof SetACLResponse>;
export const AddWatchRequest = record({ path: ustring, mode: int });
export type AddWatchRequest = Infer<typeof AddWatchRequest>;
export const WatcherEvent = record({ type: int, state: int, path: ustring });
export type WatcherEvent = Infer<typeof WatcherEvent>;
export const ErrorResponse = record({ err: int });
export type ErrorResponse = Infer<typeof ErrorResponse>;
export const CreateResponse = record({ path: ustring });
export type CreateResponse = Infer<typeof CreateResponse>;
export const Create2Response = record({ path: ustring, stat: Stat });
export type Create2Response = Infer<typeof Create2Response>;
export const ExistsRequest = record({ path: ustring, watch: bool });
export type ExistsRequest = Infer<typeof ExistsRequest>;
export const ExistsResponse = record({ stat: Stat });
export type ExistsResponse = Infer<typeof ExistsResponse>;
export const GetDataResponse = record({ data: buffer, stat: Stat });
export type GetDataResponse = Infer<typeof GetDataResponse>;
export const GetChildrenResponse = record({ children: vector(ustring) });
export type GetChildrenResponse = Infer<typeof GetChildrenResponse>;
export const GetAllChildrenNumberResponse = record({ totalNumber: int });
export type GetAllChildrenNumberResponse = Infer<typeof GetAllChildrenNumberResponse>;
export const GetChildren2Response = record({ children: vector(ustring), stat: Stat });
export type GetChildren2Response = Infer<typeof GetChildren2Response>;
export const GetACLResponse = record({ acl: ACLs, stat: Stat });
export type GetACLResponse = Infer<typeof GetACLResponse>;
export const CheckWatchesRequest = record({ path: ustring, type: int });
export type CheckWatchesRequest = Infer<typeof CheckWatchesRequest>;
export const RemoveWatchesRequest = record({ path: ustring, type: int });
export type RemoveWatchesRequest = Infer<typeof RemoveWatchesRequest>;
export const GetEphemeralsRequest = record({ prefixPath: ustring });
export type GetEphemeralsRequest = Infer<typeof GetEphemeralsRequest>;
export const GetEphemeralsResponse = record({ ephemerals: vector(ustring) });
export type GetEphemeralsResponse = Infer<typeof GetEphemeralsResponse>;
/** whoAmI has no jute class of its own in older files: a vector of ClientInfo. */
export const ClientInfo = record({ authScheme: ustring, user: ustring });
export type ClientInfo = Infer<typeof ClientInfo>;
export const WhoAmIResponse = record({ clientInfo: vector(ClientInfo) });
export type WhoAmIResponse = Infer<typeof WhoAmIResponse>;

// --- org.apache.zookeeper.server.quorum ---
export const LearnerInfo = record({ serverid: long, protocolVersion: int, configVersion: long });
export type LearnerInfo = Infer<typeof LearnerInfo>;
export const QuorumPacket = record({ type: int, zxid: long, data: buffer, authinfo: vector(Id) });
export type QuorumPacket = Infer<typeof QuorumPacket>;

// --- org.apache.zookeeper.server.persistence ---
export const FileHeader = record({ magic: int, version: int, dbid: long });
export type FileHeader = Infer<typeof FileHeader>;

// --- org.apache.zookeeper.txn ---
export const TxnDigest = record({ version: int, treeDigest: long });
export type TxnDigest = Infer<typeof TxnDigest>;
export const TxnHeader = record({ clientId: long, cxid: int, zxid: long, time: long, type: int });
export type TxnHeader = Infer<typeof TxnHeader>;
export const CreateTxn = record({ path: ustring, data: buffer, acl: ACLs, ephemeral: bool, parentCVersion: int });
export type CreateTxn = Infer<typeof CreateTxn>;
export const CreateTTLTxn = record({ path: ustring, data: buffer, acl: ACLs, parentCVersion: int, ttl: long });
export type CreateTTLTxn = Infer<typeof CreateTTLTxn>;
export const CreateContainerTxn = record({ path: ustring, data: buffer, acl: ACLs, parentCVersion: int });
export type CreateContainerTxn = Infer<typeof CreateContainerTxn>;
export const DeleteTxn = record({ path: ustring });
export type DeleteTxn = Infer<typeof DeleteTxn>;
export const SetDataTxn = record({ path: ustring, data: buffer, version: int });
export type SetDataTxn = Infer<typeof SetDataTxn>;
export const CheckVersionTxn = record({ path: ustring, version: int });
export type CheckVersionTxn = Infer<typeof CheckVersionTxn>;
export const SetACLTxn = record({ path: ustring, acl: ACLs, version: int });
export type SetACLTxn = Infer<typeof SetACLTxn>;
export const CreateSessionTxn = record({ timeOut: int });
export type CreateSessionTxn = Infer<typeof CreateSessionTxn>;
export const CloseSessionTxn = record({ paths2Delete: vector(ustring) });
export type CloseSessionTxn = Infer<typeof CloseSessionTxn>;
export const ErrorTxn = record({ err: int });
export type ErrorTxn = Infer<typeof ErrorTxn>;
export const Txn = record({ type: int, data: buffer });
export type Txn = Infer<typeof Txn>;
export const MultiTxn = record({ txns: vector(Txn) });
export type MultiTxn = Infer<typeof MultiTxn>;
