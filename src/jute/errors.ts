/** KeeperException.Code: the error codes carried in ReplyHeader.err. */
export const Code = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  REQUESTTIMEOUT: -122,
  RECONFIGDISABLED: -123,
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const codeNames = new Map<number, string>(Object.entries(Code).map(([k, v]) => [v, k]));
export function codeName(code: number): string {
  return codeNames.get(code) ?? `UNKNOWN(${code})`;
}

/**
 * A failed ZooKeeper operation, carrying the wire error code. Thrown by the data tree and
 * the request pipeline; the connection layer turns it into ReplyHeader.err.
 *
 * It is an answer, not a bug, so it carries no stack trace: capturing one costs microseconds,
 * and replaying a log over a fuzzy snapshot throws one NodeExists per txn the snapshot
 * already holds (a second per ~300k txns, measured).
 */
export class KeeperException extends Error {
  readonly code: number;
  readonly path?: string;

  constructor(code: number, path?: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(path === undefined ? codeName(code) : `${codeName(code)} for ${path}`);
    Error.stackTraceLimit = limit;
    this.code = code;
    if (path !== undefined) this.path = path;
    this.name = 'KeeperException';
  }
}
