/**
 * PrepRequestProcessor: turns a write request into a txn, validating it against the tree
 * *plus* the writes already decided but not yet applied (outstanding changes), so that
 * pipelined writes see each other (create /a then create /a/b in one batch).
 * A failed write still becomes a txn (an ErrorTxn) with its own zxid, as in ZooKeeper.
 */
import {
  Code,
  CheckVersionRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  JuteReader,
  KeeperException,
  MultiHeader,
  OpCode,
  Perms,
  SetACLRequest,
  SetDataRequest,
  isContainer,
  isEphemeral,
  isSequential,
  isTTL,
  type ACL,
  type LoggedTxn,
  type StatPersisted,
  type TxnBody,
  type TxnHeader,
} from '../jute/index.js';
import { checkACL, copyStat, fixupACL, validatePath, sequentialSuffix, type AuthId, type DataTree, type ProviderRegistry } from '../tree/index.js';
import type { Request } from './request.js';
import type { SessionTracker } from './sessions.js';

export const CONTAINER_EPHEMERAL_OWNER = -0x8000000000000000n;
const EXTENDED_MASK = BigInt.asIntN(64, 0xff00000000000000n);
const TTL_MAX = 0x000000ffffffffffn;

/** EphemeralType.get: is this owner a real session (NORMAL ephemeral)? */
export function isNormalEphemeralOwner(owner: bigint, extendedTypes: boolean): boolean {
  if (owner === 0n || owner === CONTAINER_EPHEMERAL_OWNER) return false;
  if (extendedTypes && (owner & EXTENDED_MASK) === EXTENDED_MASK) return false;
  return true;
}

export function ttlEphemeralOwner(ttl: bigint): bigint {
  if (ttl <= 0n || ttl > TTL_MAX) throw new KeeperException(Code.BADARGUMENTS);
  return EXTENDED_MASK | ttl;
}

/** A pending change to one path: the node as it will be once earlier txns apply. */
interface ChangeRecord {
  zxid: bigint;
  path: string;
  /** null: the node will not exist. */
  stat: StatPersisted | null;
  childCount: number;
  acl: ACL[];
}

export interface PrepContext {
  tree: DataTree;
  sessions: SessionTracker;
  extendedTypesEnabled: boolean;
  skipACL: boolean;
  superDigest?: string;
  /** The schemes ACLs may name (digest and ip unless zoo.cfg registers more). */
  providers?: ProviderRegistry;
  /** Wall clock for TxnHeader.time. */
  nowMs(): number;
}

export class PrepRequestProcessor {
  private readonly outstanding: ChangeRecord[] = [];
  private readonly outstandingByPath = new Map<string, ChangeRecord>();

  constructor(private readonly ctx: PrepContext) {}

  get outstandingChanges(): number {
    return this.outstanding.length;
  }

  /** Txns up to `zxid` are applied to the tree: their change records are no longer needed. */
  applied(zxid: bigint): void {
    let n = 0;
    while (n < this.outstanding.length && this.outstanding[n]!.zxid <= zxid) {
      const cr = this.outstanding[n]!;
      if (this.outstandingByPath.get(cr.path) === cr) this.outstandingByPath.delete(cr.path);
      n++;
    }
    if (n > 0) this.outstanding.splice(0, n);
  }

  /** Forget every pending change (on shutdown or when a leader loses its role). */
  reset(): void {
    this.outstanding.length = 0;
    this.outstandingByPath.clear();
  }

  /** Prepare a write as txn `zxid`: sets req.txn (always, for writes) and req.err. */
  prep(req: Request, zxid: bigint): void {
    const hdr: TxnHeader = {
      clientId: req.sessionId,
      cxid: req.cxid,
      zxid,
      time: BigInt(this.ctx.nowMs()),
      type: req.type,
    };
    try {
      const body =
        req.type === OpCode.multi ? this.prepMulti(req, hdr) : this.prepOne(req.type, new JuteReader(req.body), req, hdr);
      req.txn = { hdr, body };
      req.err = Code.OK;
    } catch (e) {
      const code = errorCode(e);
      hdr.type = OpCode.error;
      req.txn = { hdr, body: { type: OpCode.error, record: { err: code } } };
      req.err = code;
    }
  }

  private prepMulti(req: Request, hdr: TxnHeader): TxnBody {
    const r = new JuteReader(req.body);
    const txns: TxnBody[] = [];
    let failed: number | null = null;
    const mark = this.outstanding.length;
    for (let i = 0; ; i++) {
      if (i > MAX_MULTI_OPS) throw new KeeperException(Code.MARSHALLINGERROR);
      const mh = MultiHeader.read(r);
      if (mh.done) break;
      if (!isRecordWriteOp(mh.type) || mh.type === OpCode.setACL) throw new KeeperException(Code.MARSHALLINGERROR);
      // Decode even after a failure: the op's bytes must be consumed.
      const op = readWriteOp(mh.type, r);
      if (failed !== null) {
        txns.push({ type: OpCode.error, record: { err: Code.RUNTIMEINCONSISTENCY } });
        continue;
      }
      try {
        txns.push(this.prepOp(op, req, hdr));
      } catch (e) {
        failed = errorCode(e);
        txns.push({ type: OpCode.error, record: { err: failed } });
        this.rollback(mark);
      }
    }
    if (failed !== null) req.err = failed;
    return { type: OpCode.multi, txns };
  }

  private rollback(mark: number): void {
    const dropped = this.outstanding.splice(mark);
    for (const cr of dropped) if (this.outstandingByPath.get(cr.path) === cr) this.outstandingByPath.delete(cr.path);
    // Earlier records for those paths become visible again.
    for (const cr of dropped) {
      for (let i = this.outstanding.length - 1; i >= 0; i--) {
        const prev = this.outstanding[i]!;
        if (prev.path === cr.path) {
          this.outstandingByPath.set(cr.path, prev);
          break;
        }
      }
    }
  }

  private prepOne(type: number, r: JuteReader, req: Request, hdr: TxnHeader): TxnBody {
    switch (type) {
      case OpCode.createSession: {
        const timeOut = r.readInt();
        this.ctx.sessions.track(req.sessionId, timeOut);
        return { type: OpCode.createSession, record: { timeOut } };
      }
      case OpCode.closeSession:
        return this.prepCloseSession(req, hdr);
      case OpCode.deleteContainer:
        return this.prepDeleteContainer(r.readString() ?? '', hdr);
      case OpCode.reconfig:
        throw new KeeperException(Code.RECONFIGDISABLED);
      default:
        if (!isRecordWriteOp(type)) throw new KeeperException(Code.UNIMPLEMENTED);
        return this.prepOp(readWriteOp(type, r), req, hdr);
    }
  }

  private prepOp(op: WriteOp, req: Request, hdr: TxnHeader): TxnBody {
    switch (op.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        return this.prepCreate(op.type, op.record, -1n, req, hdr);
      case OpCode.createTTL:
        return this.prepCreate(op.type, op.record, op.record.ttl, req, hdr);
      case OpCode.delete:
        return this.prepDelete(op.record, req, hdr);
      case OpCode.setData:
        return this.prepSetData(op.record, req, hdr);
      case OpCode.setACL:
        return this.prepSetACL(op.record, req, hdr);
      case OpCode.check:
        return this.prepCheck(op.record, req);
    }
  }

  private record(path: string): ChangeRecord {
    const cr = this.outstandingByPath.get(path);
    if (cr) {
      if (cr.stat === null) throw new KeeperException(Code.NONODE, path);
      return cr;
    }
    const n = this.ctx.tree.getNode(path);
    if (!n) throw new KeeperException(Code.NONODE, path);
    return { zxid: -1n, path, stat: copyStat(n.stat), childCount: n.children.size, acl: n.acl };
  }

  private exists(path: string): boolean {
    const cr = this.outstandingByPath.get(path);
    if (cr) return cr.stat !== null;
    return this.ctx.tree.getNode(path) !== undefined;
  }

  private add(cr: ChangeRecord): void {
    this.outstanding.push(cr);
    this.outstandingByPath.set(cr.path, cr);
  }

  private checkACL(acl: ACL[], perm: number, authInfo: AuthId[]): void {
    if (this.ctx.skipACL) return;
    checkACL(acl, perm, authInfo, this.ctx.superDigest, undefined, this.ctx.providers);
  }

  private parentOf(path: string): string {
    const i = path.lastIndexOf('/');
    if (i === -1 || path.includes('\0')) throw new KeeperException(Code.BADARGUMENTS, path);
    return i === 0 ? '/' : path.slice(0, i);
  }

  private prepCreate(
    type: number,
    c: CreateRequest,
    ttl: bigint,
    req: Request,
    hdr: TxnHeader,
  ): TxnBody {
    const mode = c.flags;
    if (mode < 0 || mode > 6) throw new KeeperException(Code.BADARGUMENTS, c.path);
    if (isTTL(mode)) {
      if (!this.ctx.extendedTypesEnabled) throw new KeeperException(Code.UNIMPLEMENTED);
      ttlEphemeralOwner(ttl);
    } else if (ttl >= 0n) {
      throw new KeeperException(Code.BADARGUMENTS, c.path);
    }
    if (type === OpCode.createContainer && !isContainer(mode)) throw new KeeperException(Code.BADARGUMENTS, c.path);
    this.ctx.sessions.checkSession(req.sessionId);
    let path = c.path;
    // A sequential path may end in '/', the suffix completes it.
    validatePath(path, isSequential(mode));
    const parentPath = this.parentOf(path);
    const acl = fixupACL(path, req.authInfo, c.acl, this.ctx.providers);
    const parent = this.record(parentPath);
    this.checkACL(parent.acl, Perms.CREATE, req.authInfo);
    const parentStat = parent.stat!;
    if (isSequential(mode)) path += sequentialSuffix(parentStat.cversion);
    validatePath(path);
    if (this.exists(path)) throw new KeeperException(Code.NODEEXISTS, path);
    if (isNormalEphemeralOwner(parentStat.ephemeralOwner, this.ctx.extendedTypesEnabled)) {
      throw new KeeperException(Code.NOCHILDRENFOREPHEMERALS, path);
    }
    const newCversion = parentStat.cversion + 1;
    let owner = 0n;
    if (isContainer(mode)) owner = CONTAINER_EPHEMERAL_OWNER;
    else if (isTTL(mode)) owner = ttlEphemeralOwner(ttl);
    else if (isEphemeral(mode)) owner = req.sessionId;
    this.add({
      zxid: hdr.zxid,
      path: parentPath,
      stat: { ...parentStat, cversion: newCversion, pzxid: hdr.zxid },
      childCount: parent.childCount + 1,
      acl: parent.acl,
    });
    this.add({
      zxid: hdr.zxid,
      path,
      stat: {
        czxid: hdr.zxid,
        mzxid: hdr.zxid,
        pzxid: hdr.zxid,
        ctime: hdr.time,
        mtime: hdr.time,
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeralOwner: owner,
      },
      childCount: 0,
      acl,
    });
    const data = c.data;
    if (type === OpCode.createContainer) {
      return { type, record: { path, data, acl, parentCVersion: newCversion } };
    }
    if (type === OpCode.createTTL) {
      return { type, record: { path, data, acl, parentCVersion: newCversion, ttl } };
    }
    return {
      type: type === OpCode.create2 ? OpCode.create2 : OpCode.create,
      record: { path, data, acl, ephemeral: isEphemeral(mode), parentCVersion: newCversion },
    };
  }

  private prepDelete(d: DeleteRequest, req: Request, hdr: TxnHeader): TxnBody {
    this.ctx.sessions.checkSession(req.sessionId);
    const path = d.path;
    const parentPath = this.parentOfForDelete(path);
    const parent = this.record(parentPath);
    this.checkACL(parent.acl, Perms.DELETE, req.authInfo);
    const node = this.record(path);
    checkAndIncVersion(node.stat!.version, d.version, path);
    if (node.childCount > 0) throw new KeeperException(Code.NOTEMPTY, path);
    this.removeRecords(path, parentPath, parent, hdr.zxid);
    return { type: OpCode.delete, record: { path } };
  }

  private prepDeleteContainer(path: string, hdr: TxnHeader): TxnBody {
    const parentPath = this.parentOfForDelete(path);
    const node = this.record(path);
    if (node.childCount > 0) throw new KeeperException(Code.NOTEMPTY, path);
    if (isNormalEphemeralOwner(node.stat!.ephemeralOwner, this.ctx.extendedTypesEnabled)) {
      throw new KeeperException(Code.BADVERSION, path);
    }
    const parent = this.record(parentPath);
    this.removeRecords(path, parentPath, parent, hdr.zxid);
    return { type: OpCode.deleteContainer, record: { path } };
  }

  private parentOfForDelete(path: string): string {
    if (path === '/' || path === '/zookeeper' || path.startsWith('/zookeeper/')) {
      // ZooKeeper refuses to delete its special nodes with BADARGUMENTS.
      if (path === '/' || isSpecialPath(path)) throw new KeeperException(Code.BADARGUMENTS, path);
    }
    validatePath(path);
    return this.parentOf(path);
  }

  private removeRecords(path: string, parentPath: string, parent: ChangeRecord, zxid: bigint): void {
    this.add({
      zxid,
      path: parentPath,
      stat: { ...parent.stat!, pzxid: zxid },
      childCount: parent.childCount - 1,
      acl: parent.acl,
    });
    this.add({ zxid, path, stat: null, childCount: 0, acl: [] });
  }

  private prepSetData(s: SetDataRequest, req: Request, hdr: TxnHeader): TxnBody {
    this.ctx.sessions.checkSession(req.sessionId);
    validatePath(s.path);
    const node = this.record(s.path);
    this.checkACL(node.acl, Perms.WRITE, req.authInfo);
    const version = checkAndIncVersion(node.stat!.version, s.version, s.path);
    this.add({
      zxid: hdr.zxid,
      path: s.path,
      stat: { ...node.stat!, version, mtime: hdr.time, mzxid: hdr.zxid },
      childCount: node.childCount,
      acl: node.acl,
    });
    return { type: OpCode.setData, record: { path: s.path, data: s.data, version } };
  }

  private prepSetACL(s: SetACLRequest, req: Request, hdr: TxnHeader): TxnBody {
    this.ctx.sessions.checkSession(req.sessionId);
    validatePath(s.path);
    const acl = fixupACL(s.path, req.authInfo, s.acl, this.ctx.providers);
    const node = this.record(s.path);
    this.checkACL(node.acl, Perms.ADMIN, req.authInfo);
    const aversion = checkAndIncVersion(node.stat!.aversion, s.version, s.path);
    this.add({ zxid: hdr.zxid, path: s.path, stat: { ...node.stat!, aversion }, childCount: node.childCount, acl });
    return { type: OpCode.setACL, record: { path: s.path, acl, version: aversion } };
  }

  private prepCheck(c: CheckVersionRequest, req: Request): TxnBody {
    this.ctx.sessions.checkSession(req.sessionId);
    validatePath(c.path);
    const node = this.record(c.path);
    this.checkACL(node.acl, Perms.READ, req.authInfo);
    return { type: OpCode.check, record: { path: c.path, version: checkAndIncVersion(node.stat!.version, c.version, c.path) } };
  }

  private prepCloseSession(req: Request, hdr: TxnHeader): TxnBody {
    // The session's ephemerals as they will be once pending txns apply.
    const es = new Set(this.ctx.tree.getEphemerals(req.sessionId));
    for (const cr of this.outstanding) {
      if (cr.stat === null) es.delete(cr.path);
      else if (cr.stat.ephemeralOwner === req.sessionId) es.add(cr.path);
    }
    for (const p of es) this.add({ zxid: hdr.zxid, path: p, stat: null, childCount: 0, acl: [] });
    this.ctx.sessions.setClosing(req.sessionId);
    return { type: OpCode.closeSession, record: { paths2Delete: [...es] } };
  }
}

/** A bound on ops per multi: each op costs at least a MultiHeader (9 bytes) anyway. */
const MAX_MULTI_OPS = 100_000;

function isRecordWriteOp(type: number): boolean {
  return (
    type === OpCode.setACL ||
    type === OpCode.create ||
    type === OpCode.create2 ||
    type === OpCode.createTTL ||
    type === OpCode.createContainer ||
    type === OpCode.delete ||
    type === OpCode.setData ||
    type === OpCode.check
  );
}

type WriteOp =
  | { type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer; record: CreateRequest }
  | { type: typeof OpCode.createTTL; record: CreateTTLRequest }
  | { type: typeof OpCode.delete; record: DeleteRequest }
  | { type: typeof OpCode.setData; record: SetDataRequest }
  | { type: typeof OpCode.setACL; record: SetACLRequest }
  | { type: typeof OpCode.check; record: CheckVersionRequest };

function readWriteOp(type: number, r: JuteReader): WriteOp {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return { type, record: CreateRequest.read(r) };
    case OpCode.createTTL:
      return { type, record: CreateTTLRequest.read(r) };
    case OpCode.delete:
      return { type, record: DeleteRequest.read(r) };
    case OpCode.setData:
      return { type, record: SetDataRequest.read(r) };
    case OpCode.setACL:
      return { type, record: SetACLRequest.read(r) };
    case OpCode.check:
      return { type, record: CheckVersionRequest.read(r) };
    default:
      throw new KeeperException(Code.MARSHALLINGERROR);
  }
}

function isSpecialPath(path: string): boolean {
  return path === '/zookeeper' || path === '/zookeeper/quota' || path === '/zookeeper/config';
}

function checkAndIncVersion(current: number, expected: number, path: string): number {
  if (expected !== -1 && expected !== current) throw new KeeperException(Code.BADVERSION, path);
  const next = (current + 1) | 0;
  return next === -1 ? 0 : next;
}

function errorCode(e: unknown): number {
  if (e instanceof KeeperException) return e.code;
  // Undecodable request bytes: ZooKeeper answers MARSHALLINGERROR.
  return Code.MARSHALLINGERROR;
}

