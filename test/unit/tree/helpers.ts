/**
 * Test helpers: a recording watcher, and a tiny stand-in for the request pipeline that
 * turns requests into txns the way ZooKeeper's PrepRequestProcessor does (parentCVersion,
 * sequential names, new versions), so tests drive the tree with realistic txns.
 */
import { OpCode, Perms, type ACL, type TxnBody, type TxnHeader } from '../../../src/jute/index.js';
import {
  copyStat,
  DataTree,
  OPEN_ACL_UNSAFE,
  parentOf,
  sequentialSuffix,
  type ProcessTxnResult,
  type WatchedEvent,
  type Watcher,
} from '../../../src/tree/index.js';

export class Recorder implements Watcher {
  readonly events: WatchedEvent[] = [];
  constructor(readonly name = 'w') {}
  process(event: WatchedEvent): void {
    this.events.push(event);
  }
  /** Events as 'Type path' strings, the easiest form to assert on. */
  seen(): string[] {
    return this.events.map((e) => `${eventName(e.type)} ${e.path}`);
  }
  clear(): void {
    this.events.length = 0;
  }
}

const EVENT_NAMES: Record<number, string> = {
  [-1]: 'None',
  1: 'NodeCreated',
  2: 'NodeDeleted',
  3: 'NodeDataChanged',
  4: 'NodeChildrenChanged',
};
export function eventName(type: number): string {
  return EVENT_NAMES[type] ?? `type${type}`;
}

export interface LoggedEntry {
  hdr: TxnHeader;
  body: TxnBody;
}

export const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ perms: a.perms, id: { ...a.id } }));
export const READ_ONLY: ACL[] = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];

interface CreateOpts {
  data?: Buffer | null;
  acl?: ACL[];
  ephemeral?: boolean;
  sequential?: boolean;
  container?: boolean;
  ttl?: bigint;
  session?: bigint;
}

/** Applies txns to a tree with increasing zxids and keeps them, like a txn log. */
export class Driver {
  zxid = 0n;
  readonly log: LoggedEntry[] = [];
  constructor(readonly tree: DataTree) {}

  apply(body: TxnBody, session = 0x100n): ProcessTxnResult {
    this.zxid++;
    const type = body.type;
    const hdr: TxnHeader = { clientId: session, cxid: Number(this.zxid), zxid: this.zxid, time: 1_000_000n + this.zxid, type };
    this.log.push({ hdr, body });
    return this.tree.processTxn(hdr, body);
  }

  /** The txn a create request becomes (path already made sequential). */
  createTxn(path: string, o: CreateOpts = {}): TxnBody {
    const parent = this.tree.getNode(parentOf(path));
    const cversion = parent?.stat.cversion ?? 0;
    const fullPath = o.sequential === true ? path + sequentialSuffix(cversion) : path;
    const common = { path: fullPath, data: o.data === undefined ? Buffer.from('') : o.data, acl: o.acl ?? OPEN };
    if (o.container === true) return { type: OpCode.createContainer, record: { ...common, parentCVersion: cversion + 1 } };
    if (o.ttl !== undefined) {
      return { type: OpCode.createTTL, record: { ...common, parentCVersion: cversion + 1, ttl: o.ttl } };
    }
    return { type: OpCode.create, record: { ...common, ephemeral: o.ephemeral === true, parentCVersion: cversion + 1 } };
  }

  create(path: string, o: CreateOpts = {}): ProcessTxnResult {
    return this.apply(this.createTxn(path, o), o.session);
  }

  delete(path: string): ProcessTxnResult {
    return this.apply({ type: OpCode.delete, record: { path } });
  }

  setData(path: string, data: string | Buffer | null): ProcessTxnResult {
    const version = (this.tree.getNode(path)?.stat.version ?? 0) + 1;
    const d = typeof data === 'string' ? Buffer.from(data) : data;
    return this.apply({ type: OpCode.setData, record: { path, data: d, version } });
  }

  setACL(path: string, acl: ACL[]): ProcessTxnResult {
    const version = (this.tree.getNode(path)?.stat.aversion ?? 0) + 1;
    return this.apply({ type: OpCode.setACL, record: { path, acl, version } });
  }

  closeSession(session: bigint, paths2Delete: string[] = []): ProcessTxnResult {
    return this.apply({ type: OpCode.closeSession, record: { paths2Delete } }, session);
  }
}

/** Every node with its data, client Stat and ACL, sorted by path: equal trees dump equal. */
export function dumpTree(tree: DataTree): string {
  const out: string[] = [];
  const walk = (path: string): void => {
    const node = tree.getNode(path);
    if (node === undefined) return;
    const { stat } = tree.getData(path);
    out.push(
      JSON.stringify({
        path,
        data: node.data === null ? null : node.data.toString('hex'),
        stat: Object.fromEntries(Object.entries(stat).map(([k, v]) => [k, String(v)])),
        persisted: Object.fromEntries(Object.entries(copyStat(node.stat)).map(([k, v]) => [k, String(v)])),
        acl: node.acl,
      }),
    );
    for (const c of [...node.children].sort()) walk(path === '/' ? `/${c}` : `${path}/${c}`);
  };
  walk('/');
  return out.sort().join('\n');
}
