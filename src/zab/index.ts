/** zab: the ZAB protocol core — pure (no I/O, clock or randomness). See peer.ts for the Ready contract. */
export { Peer } from './peer.js';
export type { LogRead, PeerConfig, PeerDisk, PeerEvent, PeerTicks, PersistOp, Ready, SyncMode } from './peer.js';
export { History } from './history.js';
export { QuorumVerifier } from './quorum.js';
export type { ServerId } from './quorum.js';
export type { Envelope, Message, MessageKind, Notification, PeerState, QuorumMessage, Txn } from './messages.js';
export { collectedSnapStream, isElectionMessage, snapshotLength } from './messages.js';
export type { SnapStream, SnapshotBytes } from './messages.js';
export { totalOrderPredicate } from './vote.js';
export type { Vote } from './vote.js';
export { COUNTER_MAX, counterOf, epochOf, makeZxid, zxidHex } from './zxid.js';
export type { Zxid } from './zxid.js';
