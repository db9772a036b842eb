/** zablab's pipelined ZooKeeper client (speaks the client-port protocol; imports only jute). */
export { ZkClient } from './client.js';
export type { WatchedEvent, ZkClientEvents, ZkClientOptions, ZkState } from './client.js';
export { ZkClientBusyError, ZkError, ZkMultiError, ZkProtocolError } from './errors.js';
export { FrameDecoder } from './framing.js';
export type { ClientTlsOptions } from './connection.js';
export { ConnectStringError, parseConnectString } from './connect-string.js';
export type { ConnectString, HostPort } from './connect-string.js';
export { CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, digestId } from './ops.js';
export type { CreateOptions, MultiOp, MultiReadOp, MultiReadResult, MultiResult } from './ops.js';
/** The values addWatch takes and watch events carry (re-exported so that callers need not import jute). */
export { AddWatchMode, EventType } from '../jute/index.js';
