/** A client request as it travels through the pipeline (ZooKeeper's `Request`). */
import { OpCode, type LoggedTxn } from '../jute/index.js';
import type { TraceSpan } from '../telemetry/index.js';
import type { AuthId } from '../tree/index.js';

/** Where a request's reply goes; implemented by client connections (and by the HTTP face). */
export interface RequestOrigin {
  /** Called once, in request order per origin, when the request is done. */
  complete(req: Request, reply: Reply): void;
}

export interface Reply {
  err: number;
  zxid: bigint;
  /** The response record bytes (without ReplyHeader); null when there is none. */
  body: Buffer | null;
}

export interface Request {
  readonly sessionId: bigint;
  readonly cxid: number;
  readonly type: number;
  /** The request record bytes after the RequestHeader. */
  readonly body: Buffer;
  readonly origin: RequestOrigin | null;
  readonly authInfo: AuthId[];
  /** performance.now() when the server read it; for latency stats. */
  readonly receivedAtMs: number;
  /** Set by prep for requests that become txns. */
  txn?: LoggedTxn;
  /** Set by prep when the request failed before becoming a txn (read ops fail at apply time). */
  err: number;
  /** The request's span, kept here by the server's telemetry (a map would cost more per request). */
  traceSpan?: TraceSpan | undefined;
}

/** Requests that change state: prep turns each into a txn with a zxid. */
export function isWriteOp(type: number): boolean {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
    case OpCode.delete:
    case OpCode.deleteContainer:
    case OpCode.setData:
    case OpCode.setACL:
    case OpCode.check:
    case OpCode.multi:
    case OpCode.reconfig:
    case OpCode.createSession:
    case OpCode.closeSession:
      return true;
    default:
      return false;
  }
}
