/** Errors of the client: ZooKeeper's wire codes for failed operations, ZABLAB_* codes for the rest. */
import { Code, codeName } from '../jute/index.js';
import type { MultiResult } from './ops.js';

/** A failed ZooKeeper operation; `code` is the wire error code (see `Code`). */
export class ZkError extends Error {
  constructor(
    readonly code: number,
    readonly path?: string,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? (path === undefined ? codeName(code) : `${codeName(code)} for ${path}`), options);
    this.name = 'ZkError';
  }

  /** The code's name as ZooKeeper spells it, e.g. `NONODE`. */
  get codeName(): string {
    return codeName(this.code);
  }
}

/** A multi that the server rejected as a whole: no op was applied. */
export class ZkMultiError extends ZkError {
  constructor(
    code: number,
    path: string | undefined,
    /** One result per op: the failing op carries its code, others OK or RUNTIMEINCONSISTENCY. */
    readonly results: MultiResult[],
  ) {
    super(code, path, `multi failed: ${codeName(code)}${path === undefined ? '' : ` for ${path}`}; no op was applied`);
    this.name = 'ZkMultiError';
  }
}

/**
 * The server broke the protocol (a frame over the size limit, a reply to a request that was
 * not sent). The connection is dropped; requests in flight fail with CONNECTIONLOSS whose
 * `cause` is this error.
 */
export class ZkProtocolError extends Error {
  constructor(
    readonly code: 'ZABLAB_CLIENT_FRAME_TOO_LARGE' | 'ZABLAB_CLIENT_XID_MISMATCH' | 'ZABLAB_CLIENT_BAD_REPLY',
    message: string,
  ) {
    super(message);
    this.name = 'ZkProtocolError';
  }
}

/** Too many calls are waiting for the connection; nothing was sent. */
export class ZkClientBusyError extends Error {
  readonly code = 'ZABLAB_CLIENT_QUEUE_FULL';
  constructor(limit: number) {
    super(`${limit} requests are already waiting to be sent; await earlier calls before issuing more`);
    this.name = 'ZkClientBusyError';
  }
}

export function connectionLoss(why: string, cause?: unknown): ZkError {
  return new ZkError(Code.CONNECTIONLOSS, undefined, `CONNECTIONLOSS: ${why}`, { cause });
}
