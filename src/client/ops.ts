/**
 * Request bodies that need more than one record: create (four opcodes by mode), multi and
 * multiRead. Everything else is one record from src/jute and is written inline by the client.
 */
import { createHash } from 'node:crypto';
import {
  ACL,
  CheckVersionRequest,
  Code,
  Create2Response,
  CreateRequest,
  CreateResponse,
  CreateTTLRequest,
  DeleteRequest,
  ErrorResponse,
  GetChildrenRequest,
  GetChildrenResponse,
  GetDataRequest,
  GetDataResponse,
  Id,
  MultiHeader,
  OpCode,
  Perms,
  SetDataRequest,
  SetDataResponse,
  Stat,
  isContainer,
  isTTL,
  type JuteReader,
  type JuteWriter,
} from '../jute/index.js';
import { ZkError } from './errors.js';

// --- ACLs (ZooDefs.Ids) ---
export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
export const CREATOR_ALL_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }];
export const READ_ACL_UNSAFE: ACL[] = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];

/** The `digest` id for user:password, as the server derives it (base64 of SHA-1 of `user:password`). */
export function digestId(user: string, password: string): Id {
  const hash = createHash('sha1').update(`${user}:${password}`).digest('base64');
  return { scheme: 'digest', id: `${user}:${hash}` };
}

// --- create ---
export interface CreateOptions {
  /** CreateMode; default PERSISTENT. */
  mode?: number;
  /** Default OPEN_ACL_UNSAFE. */
  acl?: ACL[];
  /** Milliseconds; required for the TTL modes, refused for the others. */
  ttl?: bigint;
}

export interface CreateCall {
  type: number;
  write(w: JuteWriter): void;
}

/**
 * The create request for a mode. `plainType` is the opcode for modes that are neither TTL nor
 * container: create2 for a single create (to get the Stat back), create inside a multi.
 */
export function createCall(path: string, data: Buffer | null, opts: CreateOptions, plainType: number): CreateCall {
  const mode = opts.mode ?? 0;
  const acl = opts.acl ?? OPEN_ACL_UNSAFE;
  if (isTTL(mode)) {
    const ttl = opts.ttl;
    if (ttl === undefined || ttl <= 0n) {
      throw new ZkError(Code.BADARGUMENTS, path, `BADARGUMENTS: a TTL create mode needs opts.ttl > 0 (ms) for ${path}`);
    }
    return { type: OpCode.createTTL, write: (w) => CreateTTLRequest.write(w, { path, data, acl, flags: mode, ttl }) };
  }
  if (opts.ttl !== undefined) {
    throw new ZkError(Code.BADARGUMENTS, path, `BADARGUMENTS: opts.ttl needs a TTL create mode for ${path}`);
  }
  const type = isContainer(mode) ? OpCode.createContainer : plainType;
  return { type, write: (w) => CreateRequest.write(w, { path, data, acl, flags: mode }) };
}

// --- multi ---
export type MultiOp =
  | ({ op: 'create'; path: string; data?: Buffer | null } & CreateOptions)
  | { op: 'delete'; path: string; version?: number }
  | { op: 'setData'; path: string; data: Buffer | null; version?: number }
  | { op: 'check'; path: string; version: number };

export type MultiResult =
  | { op: 'create'; path: string; stat: Stat | null }
  | { op: 'delete' }
  | { op: 'setData'; stat: Stat }
  | { op: 'check' }
  | { op: 'error'; err: number };

export type MultiReadOp = { op: 'getData'; path: string } | { op: 'getChildren'; path: string };

export type MultiReadResult =
  | { op: 'getData'; data: Buffer | null; stat: Stat }
  | { op: 'getChildren'; children: string[] }
  | { op: 'error'; err: number };

const MULTI_END = { type: -1, done: true, err: -1 };
export const MAX_MULTI_OPS = 10_000;

function checkOpCount(n: number): void {
  if (n > MAX_MULTI_OPS) {
    throw new ZkError(Code.BADARGUMENTS, undefined, `BADARGUMENTS: a multi may hold at most ${MAX_MULTI_OPS} ops, got ${n}`);
  }
}

/** MultiOperationRecord; `toServer` applies the chroot to each path. */
export function writeMulti(w: JuteWriter, ops: MultiOp[], toServer: (p: string) => string): void {
  checkOpCount(ops.length);
  for (const op of ops) {
    const path = toServer(op.path);
    switch (op.op) {
      case 'create': {
        const call = createCall(path, op.data ?? null, op, OpCode.create);
        MultiHeader.write(w, { type: call.type, done: false, err: -1 });
        call.write(w);
        break;
      }
      case 'delete':
        MultiHeader.write(w, { type: OpCode.delete, done: false, err: -1 });
        DeleteRequest.write(w, { path, version: op.version ?? -1 });
        break;
      case 'setData':
        MultiHeader.write(w, { type: OpCode.setData, done: false, err: -1 });
        SetDataRequest.write(w, { path, data: op.data, version: op.version ?? -1 });
        break;
      case 'check':
        MultiHeader.write(w, { type: OpCode.check, done: false, err: -1 });
        CheckVersionRequest.write(w, { path, version: op.version });
        break;
    }
  }
  MultiHeader.write(w, MULTI_END);
}

/** MultiResponse of a multi; `toClient` strips the chroot from created paths. */
export function readMultiResults(r: JuteReader, toClient: (p: string) => string): MultiResult[] {
  const out: MultiResult[] = [];
  for (let h = MultiHeader.read(r); !h.done; h = MultiHeader.read(r)) {
    out.push(readMultiResult(r, h.type, toClient));
    checkOpCount(out.length);
  }
  return out;
}

function readMultiResult(r: JuteReader, type: number, toClient: (p: string) => string): MultiResult {
  switch (type) {
    case OpCode.create:
      return { op: 'create', path: toClient(CreateResponse.read(r).path), stat: null };
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer: {
      const rsp = Create2Response.read(r);
      return { op: 'create', path: toClient(rsp.path), stat: rsp.stat };
    }
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { op: 'delete' };
    case OpCode.setData:
      return { op: 'setData', stat: SetDataResponse.read(r).stat };
    case OpCode.check:
      return { op: 'check' };
    case OpCode.error:
      return { op: 'error', err: ErrorResponse.read(r).err };
    default:
      throw new ZkError(Code.MARSHALLINGERROR, undefined, `MARSHALLINGERROR: unknown op type ${type} in a multi reply`);
  }
}

/**
 * The error a failed multi reports: the first result whose code is neither OK nor the
 * RUNTIMEINCONSISTENCY given to the ops that were rolled back. Null when the multi succeeded.
 */
export function multiFailure(results: MultiResult[]): { index: number; err: number } | null {
  let fallback: { index: number; err: number } | null = null;
  for (const [index, res] of results.entries()) {
    if (res.op !== 'error') continue;
    if (res.err !== Code.OK && res.err !== Code.RUNTIMEINCONSISTENCY) return { index, err: res.err };
    if (res.err !== Code.OK) fallback ??= { index, err: res.err };
  }
  return fallback;
}

export function writeMultiRead(w: JuteWriter, ops: MultiReadOp[], toServer: (p: string) => string): void {
  checkOpCount(ops.length);
  for (const op of ops) {
    const path = toServer(op.path);
    switch (op.op) {
      case 'getData':
        MultiHeader.write(w, { type: OpCode.getData, done: false, err: -1 });
        GetDataRequest.write(w, { path, watch: false });
        break;
      case 'getChildren':
        MultiHeader.write(w, { type: OpCode.getChildren, done: false, err: -1 });
        GetChildrenRequest.write(w, { path, watch: false });
        break;
    }
  }
  MultiHeader.write(w, MULTI_END);
}

export function readMultiReadResults(r: JuteReader): MultiReadResult[] {
  const out: MultiReadResult[] = [];
  for (let h = MultiHeader.read(r); !h.done; h = MultiHeader.read(r)) {
    switch (h.type) {
      case OpCode.getData: {
        const rsp = GetDataResponse.read(r);
        out.push({ op: 'getData', data: rsp.data, stat: rsp.stat });
        break;
      }
      case OpCode.getChildren:
        out.push({ op: 'getChildren', children: GetChildrenResponse.read(r).children });
        break;
      case OpCode.error:
        out.push({ op: 'error', err: ErrorResponse.read(r).err });
        break;
      default:
        throw new ZkError(Code.MARSHALLINGERROR, undefined, `MARSHALLINGERROR: unknown op type ${h.type} in a multiRead reply`);
    }
    checkOpCount(out.length);
  }
  return out;
}
