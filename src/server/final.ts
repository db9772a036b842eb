/**
 * FinalRequestProcessor: the reply to every request — reads are answered from the tree
 * (with ACL checks and watch registration), writes from the result of applying their txn.
 */
import {
  AddWatchRequest,
  CheckWatchesRequest,
  Code,
  Create2Response,
  CreateResponse,
  ErrorResponse,
  ExistsRequest,
  GetACLRequest,
  GetAllChildrenNumberRequest,
  GetChildren2Request,
  GetChildrenRequest,
  GetDataRequest,
  GetEphemeralsRequest,
  JuteReader,
  JuteWriter,
  KeeperException,
  MultiHeader,
  OpCode,
  Perms,
  RemoveWatchesRequest,
  SetWatches,
  SetWatches2,
  Stat,
  SyncRequest,
  WatcherType,
  type ACL,
} from '../jute/index.js';
import { checkACL, type AuthId, type DataTree, type ProcessTxnResult, type ProviderRegistry, type Watcher } from '../tree/index.js';

export interface ReadContext {
  tree: DataTree;
  skipACL: boolean;
  superDigest?: string;
  providers?: ProviderRegistry;
}

function checkRead(ctx: ReadContext, acl: ACL[], perm: number, authInfo: AuthId[]): void {
  if (!ctx.skipACL) checkACL(acl, perm, authInfo, ctx.superDigest, undefined, ctx.providers);
}

function nodeOrThrow(tree: DataTree, path: string) {
  const n = tree.getNode(path);
  if (!n) throw new KeeperException(Code.NONODE, path);
  return n;
}

function noNul(path: string): void {
  if (path.includes('\0')) throw new KeeperException(Code.BADARGUMENTS, path);
}

/**
 * Answer a read-only request. Returns the response body (or null). Throws KeeperException
 * for user-level failures; any other throw means the request bytes were malformed.
 */
export function processRead(
  ctx: ReadContext,
  type: number,
  body: Buffer,
  authInfo: AuthId[],
  sessionId: bigint,
  watcher: Watcher | null,
): Buffer | null {
  const r = new JuteReader(body);
  const w = new JuteWriter();
  const tree = ctx.tree;
  switch (type) {
    case OpCode.exists: {
      const q = ExistsRequest.read(r);
      noNul(q.path);
      // No permission is checked for exists (ZooKeeper 3.5–3.8 behaviour, which clients rely on).
      Stat.write(w, tree.statNode(q.path, q.watch && watcher ? watcher : undefined));
      return w.toBuffer();
    }
    case OpCode.getData: {
      const q = GetDataRequest.read(r);
      writeGetData(ctx, w, q.path, q.watch ? watcher : null, authInfo);
      return w.toBuffer();
    }
    case OpCode.getChildren: {
      const q = GetChildrenRequest.read(r);
      const children = getChildren(ctx, q.path, q.watch ? watcher : null, authInfo).children;
      writeStrings(w, children);
      return w.toBuffer();
    }
    case OpCode.getChildren2: {
      const q = GetChildren2Request.read(r);
      const res = getChildren(ctx, q.path, q.watch ? watcher : null, authInfo);
      writeStrings(w, res.children);
      Stat.write(w, res.stat);
      return w.toBuffer();
    }
    case OpCode.getAllChildrenNumber: {
      const q = GetAllChildrenNumberRequest.read(r);
      const n = nodeOrThrow(tree, q.path);
      checkRead(ctx, n.acl, Perms.READ, authInfo);
      w.writeInt(tree.getAllChildrenNumber(q.path));
      return w.toBuffer();
    }
    case OpCode.getACL: {
      const q = GetACLRequest.read(r);
      const n = nodeOrThrow(tree, q.path);
      checkRead(ctx, n.acl, Perms.READ | Perms.ADMIN, authInfo);
      const { acl, stat } = tree.getACL(q.path);
      let shown = acl;
      try {
        checkRead(ctx, n.acl, Perms.ADMIN, authInfo);
      } catch {
        // Without ADMIN, digest ids are shown with their hash masked (ZooKeeper does the same).
        shown = acl.map((a) =>
          a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: a.id.id.replace(/:.*/s, ':x') } } : a,
        );
      }
      w.writeInt(shown.length);
      for (const a of shown) {
        w.writeInt(a.perms);
        w.writeString(a.id.scheme);
        w.writeString(a.id.id);
      }
      Stat.write(w, stat);
      return w.toBuffer();
    }
    case OpCode.getEphemerals: {
      const q = GetEphemeralsRequest.read(r);
      const prefix = q.prefixPath.trim();
      const all = [...tree.getEphemerals(sessionId)];
      writeStrings(w, prefix === '' || prefix === '/' ? all : all.filter((p) => p.startsWith(q.prefixPath)));
      return w.toBuffer();
    }
    case OpCode.sync: {
      const q = SyncRequest.read(r);
      w.writeString(q.path);
      return w.toBuffer();
    }
    case OpCode.setWatches: {
      const q = SetWatches.read(r);
      if (watcher) {
        tree.setWatches(
          q.relativeZxid,
          { data: q.dataWatches, exist: q.existWatches, child: q.childWatches, persistent: [], persistentRecursive: [] },
          watcher,
        );
      }
      return null;
    }
    case OpCode.setWatches2: {
      const q = SetWatches2.read(r);
      if (watcher) {
        tree.setWatches(
          q.relativeZxid,
          {
            data: q.dataWatches,
            exist: q.existWatches,
            child: q.childWatches,
            persistent: q.persistentWatches,
            persistentRecursive: q.persistentRecursiveWatches,
          },
          watcher,
        );
      }
      return null;
    }
    case OpCode.addWatch: {
      const q = AddWatchRequest.read(r);
      if (q.mode !== 0 && q.mode !== 1) throw new KeeperException(Code.BADARGUMENTS, q.path);
      if (watcher) tree.addWatch(q.path, watcher, q.mode === 0 ? 'persistent' : 'persistentRecursive');
      ErrorResponse.write(w, { err: 0 });
      return w.toBuffer();
    }
    case OpCode.checkWatches: {
      const q = CheckWatchesRequest.read(r);
      if (!watcher || !validWatcherType(q.type) || !tree.containsWatch(q.path, q.type, watcher)) {
        throw new KeeperException(Code.NOWATCHER, q.path);
      }
      return null;
    }
    case OpCode.removeWatches: {
      const q = RemoveWatchesRequest.read(r);
      if (!watcher || !validWatcherType(q.type) || !tree.removeWatch(q.path, q.type, watcher)) {
        throw new KeeperException(Code.NOWATCHER, q.path);
      }
      return null;
    }
    case OpCode.whoAmI: {
      // ClientInfo per auth id; a digest id shows only its user name, as ZooKeeper's providers do.
      w.writeInt(authInfo.length);
      for (const a of authInfo) {
        w.writeString(a.scheme);
        w.writeString(a.scheme === 'digest' ? a.id.split(':')[0]! : a.id);
      }
      return w.toBuffer();
    }
    case OpCode.multiRead:
      return processMultiRead(ctx, r, w, authInfo, watcher);
    case OpCode.ping:
      return null;
    default:
      throw new KeeperException(Code.UNIMPLEMENTED);
  }
}

function validWatcherType(t: number): boolean {
  return t >= WatcherType.Children && t <= WatcherType.PersistentRecursive;
}

function writeStrings(w: JuteWriter, xs: readonly string[]): void {
  w.writeInt(xs.length);
  for (const x of xs) w.writeString(x);
}

function writeGetData(ctx: ReadContext, w: JuteWriter, path: string, watcher: Watcher | null, authInfo: AuthId[]): void {
  const n = nodeOrThrow(ctx.tree, path);
  checkRead(ctx, n.acl, Perms.READ, authInfo);
  const res = ctx.tree.getData(path, watcher ?? undefined);
  w.writeBuffer(res.data);
  Stat.write(w, res.stat);
}

function getChildren(ctx: ReadContext, path: string, watcher: Watcher | null, authInfo: AuthId[]) {
  const n = nodeOrThrow(ctx.tree, path);
  checkRead(ctx, n.acl, Perms.READ, authInfo);
  return ctx.tree.getChildren(path, watcher ?? undefined);
}

function processMultiRead(
  ctx: ReadContext,
  r: JuteReader,
  w: JuteWriter,
  authInfo: AuthId[],
  watcher: Watcher | null,
): Buffer {
  for (let i = 0; ; i++) {
    if (i > 100_000) throw new KeeperException(Code.MARSHALLINGERROR);
    const mh = MultiHeader.read(r);
    if (mh.done) break;
    if (mh.type !== OpCode.getData && mh.type !== OpCode.getChildren) throw new KeeperException(Code.MARSHALLINGERROR);
    const q = mh.type === OpCode.getData ? GetDataRequest.read(r) : GetChildrenRequest.read(r);
    const sub = new JuteWriter();
    try {
      if (mh.type === OpCode.getData) writeGetData(ctx, sub, q.path, q.watch ? watcher : null, authInfo);
      else writeStrings(sub, getChildren(ctx, q.path, q.watch ? watcher : null, authInfo).children);
      MultiHeader.write(w, { type: mh.type, done: false, err: 0 });
      w.writeRaw(sub.view());
    } catch (e) {
      if (!(e instanceof KeeperException)) throw e;
      MultiHeader.write(w, { type: OpCode.error, done: false, err: e.code });
      ErrorResponse.write(w, { err: e.code });
    }
  }
  MultiHeader.write(w, { type: -1, done: true, err: -1 });
  return w.toBuffer();
}

/** The response body for an applied write, from its ProcessTxnResult. */
export function writeReplyBody(requestType: number, rc: ProcessTxnResult): Buffer | null {
  const w = new JuteWriter();
  switch (requestType) {
    case OpCode.create:
      CreateResponse.write(w, { path: rc.path });
      break;
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      Create2Response.write(w, { path: rc.path, stat: rc.stat ?? emptyStat() });
      break;
    case OpCode.setData:
    case OpCode.setACL:
      Stat.write(w, rc.stat ?? emptyStat());
      break;
    case OpCode.multi:
      writeMultiResponse(w, rc.multiResult ?? []);
      break;
    default:
      return null;
  }
  return w.toBuffer();
}

function writeMultiResponse(w: JuteWriter, results: ProcessTxnResult[]): void {
  for (const sub of results) {
    switch (sub.type) {
      case OpCode.check:
        MultiHeader.write(w, { type: OpCode.check, done: false, err: 0 });
        break;
      case OpCode.create:
        MultiHeader.write(w, { type: OpCode.create, done: false, err: 0 });
        CreateResponse.write(w, { path: sub.path });
        break;
      case OpCode.create2:
      case OpCode.createTTL:
      case OpCode.createContainer:
        MultiHeader.write(w, { type: OpCode.create2, done: false, err: 0 });
        Create2Response.write(w, { path: sub.path, stat: sub.stat ?? emptyStat() });
        break;
      case OpCode.delete:
      case OpCode.deleteContainer:
        MultiHeader.write(w, { type: OpCode.delete, done: false, err: 0 });
        break;
      case OpCode.setData:
        MultiHeader.write(w, { type: OpCode.setData, done: false, err: 0 });
        Stat.write(w, sub.stat ?? emptyStat());
        break;
      default:
        MultiHeader.write(w, { type: OpCode.error, done: false, err: sub.err });
        ErrorResponse.write(w, { err: sub.err });
        break;
    }
  }
  MultiHeader.write(w, { type: -1, done: true, err: -1 });
}

function emptyStat(): Stat {
  return {
    czxid: 0n,
    mzxid: 0n,
    ctime: 0n,
    mtime: 0n,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    dataLength: 0,
    numChildren: 0,
    pzxid: 0n,
  };
}
