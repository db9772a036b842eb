/**
 * Errors of the HTTP face. Every error answer has one shape:
 *   {"error": {"code": "NONODE", "zkCode": -101, "message": "..."}}
 * `code` is ZooKeeper's name for the result and `zkCode` its number when the error is a
 * ZooKeeper result (every /v1/znodes and /v1/children error is); otherwise `code` is a
 * ZABLAB_HTTP_* code and `zkCode` is null.
 */
import { Code, codeName } from '../../jute/index.js';

export type HttpErrorCode =
  | 'ZABLAB_HTTP_NOT_FOUND'
  | 'ZABLAB_HTTP_BAD_REQUEST'
  | 'ZABLAB_HTTP_UNSUPPORTED_MEDIA_TYPE'
  | 'ZABLAB_HTTP_NOT_QUORUM'
  | 'ZABLAB_HTTP_FAULT_ARGUMENT'
  | 'ZABLAB_HTTP_METRICS_UNAVAILABLE'
  | 'ZABLAB_HTTP_INTERNAL'
  | 'ZABLAB_HTTP_LISTEN'
  | 'ZABLAB_HTTP_UNAUTHORIZED'
  | 'ZABLAB_HTTP_NO_CREDENTIALS'
  | 'ZABLAB_HTTP_FORBIDDEN_HOST'
  | 'ZABLAB_HTTP_CROSS_ORIGIN';

export interface ErrorBody {
  error: { code: string; zkCode: number | null; message: string };
}

/** An error answer: an HTTP status and the body above. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly zkCode: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }

  body(): ErrorBody {
    return { error: { code: this.code, zkCode: this.zkCode, message: this.message } };
  }
}

/** A zablab-level error (not a ZooKeeper result). */
export function zablabError(statusCode: number, code: HttpErrorCode, message: string): HttpError {
  return new HttpError(statusCode, code, null, message);
}

/** A ZooKeeper result code as an error answer; `message` says what to do about it. */
export function keeperError(zkCode: number, message: string): HttpError {
  return new HttpError(statusForCode(zkCode), codeName(zkCode), zkCode, message);
}

/**
 * HTTP status for a ZooKeeper result. NOTEMPTY is a 409 like NODEEXISTS and BADVERSION:
 * the request was well formed, the znode's current state refused it.
 */
export function statusForCode(zkCode: number): number {
  switch (zkCode) {
    case Code.OK:
      return 200;
    case Code.NONODE:
      return 404;
    case Code.NODEEXISTS:
    case Code.BADVERSION:
    case Code.NOTEMPTY:
    case Code.NOCHILDRENFOREPHEMERALS:
      return 409;
    case Code.BADARGUMENTS:
    case Code.INVALIDACL:
    case Code.MARSHALLINGERROR:
      return 400;
    case Code.NOAUTH:
      return 403;
    case Code.AUTHFAILED:
      return 401;
    case Code.UNIMPLEMENTED:
      return 501;
    case Code.QUOTAEXCEEDED:
      return 413;
    case Code.CONNECTIONLOSS:
    case Code.SESSIONEXPIRED:
    case Code.SESSIONMOVED:
    case Code.OPERATIONTIMEOUT:
    case Code.REQUESTTIMEOUT:
    case Code.THROTTLEDOP:
      return 503;
    default:
      return 500;
  }
}

/** What a user should know about a ZooKeeper result on `path`. */
export function describeCode(zkCode: number, path: string): string {
  switch (zkCode) {
    case Code.NONODE:
      return `${path} does not exist (or, for a create, its parent does not)`;
    case Code.NODEEXISTS:
      return `${path} already exists`;
    case Code.BADVERSION:
      return `${path} is not at the expected version; read it again and retry with its current version`;
    case Code.NOTEMPTY:
      return `${path} has children; delete them first`;
    case Code.NOCHILDRENFOREPHEMERALS:
      return `the parent of ${path} is ephemeral and cannot have children`;
    case Code.NOAUTH:
      return `the ACL of ${path} does not allow this to an unauthenticated HTTP client`;
    case Code.BADARGUMENTS:
      return `the server refused the arguments for ${path}`;
    case Code.CONNECTIONLOSS:
      return 'the server lost its leader while the request was in flight; retry (a write may or may not have been applied)';
    case Code.SESSIONEXPIRED:
      return "the HTTP face's session expired; retry";
    default:
      return `${codeName(zkCode)} for ${path}`;
  }
}
