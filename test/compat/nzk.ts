/**
 * A promise face over node-zookeeper-client (a real, unmodified ZooKeeper client), typed for
 * the compatibility tests and the fuzz test. Only the client's own public API is used, except
 * `freeze()`, which reaches into its connection to simulate a client whose process hangs.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

// --- the parts of node-zookeeper-client's JavaScript API that we call ---

export interface NzkId {
  scheme: string;
  id: string;
}
export interface NzkAcl {
  permission: number;
  id: NzkId;
}
/** Stat as the client decodes it: longs are 8-byte big-endian buffers. */
interface RawStat {
  czxid: Buffer;
  mzxid: Buffer;
  ctime: Buffer;
  mtime: Buffer;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: Buffer;
  dataLength: number;
  numChildren: number;
  pzxid: Buffer;
}
export interface NzkEvent {
  type: number;
  name: string;
  path: string;
}
export interface NzkError extends Error {
  code: number;
  name: string;
}
type Cb<T extends unknown[]> = (error: NzkError | null, ...results: T) => void;
export type Watcher = (event: NzkEvent) => void;

interface RawTransaction {
  create(path: string, data: Buffer | null, acls: NzkAcl[], mode: number): RawTransaction;
  check(path: string, version: number): RawTransaction;
  setData(path: string, data: Buffer | null, version: number): RawTransaction;
  remove(path: string, version: number): RawTransaction;
  commit(cb: Cb<[RawOpResult[]]>): void;
}
interface RawOpResult {
  type: number;
  path?: string;
  stat?: RawStat;
  err?: number;
}

export interface RawClient {
  connect(): void;
  close(): void;
  on(event: 'connected' | 'disconnected' | 'expired' | 'authenticationFailed', listener: () => void): void;
  once(event: 'connected' | 'disconnected' | 'expired' | 'authenticationFailed', listener: () => void): void;
  removeListener(event: string, listener: () => void): void;
  getSessionId(): Buffer;
  getState(): { name: string; code: number };
  getSessionTimeout(): number;
  addAuthInfo(scheme: string, auth: Buffer): void;
  create(path: string, data: Buffer | null, acls: NzkAcl[], mode: number, cb: Cb<[string]>): void;
  remove(path: string, version: number, cb: Cb<[]>): void;
  exists(path: string, watcher: Watcher | undefined, cb: Cb<[RawStat | null]>): void;
  getData(path: string, watcher: Watcher | undefined, cb: Cb<[Buffer | null, RawStat]>): void;
  setData(path: string, data: Buffer | null, version: number, cb: Cb<[RawStat]>): void;
  getChildren(path: string, watcher: Watcher | undefined, cb: Cb<[string[], RawStat]>): void;
  getACL(path: string, cb: Cb<[NzkAcl[], RawStat]>): void;
  setACL(path: string, acls: NzkAcl[], version: number, cb: Cb<[RawStat]>): void;
  transaction(): RawTransaction;
  connectionManager: { socket?: Socket };
}

interface NzkModule {
  createClient(connectString: string, options?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): RawClient;
  ACL: (new (permission: number, id: NzkId) => NzkAcl) & {
    OPEN_ACL_UNSAFE: NzkAcl[];
    CREATOR_ALL_ACL: NzkAcl[];
    READ_ACL_UNSAFE: NzkAcl[];
  };
  Id: new (scheme: string, id: string) => NzkId;
  Permission: { READ: number; WRITE: number; CREATE: number; DELETE: number; ADMIN: number; ALL: number };
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
  Event: { NODE_CREATED: number; NODE_DELETED: number; NODE_DATA_CHANGED: number; NODE_CHILDREN_CHANGED: number };
  Exception: Record<string, number>;
}

const require = createRequire(import.meta.url);
export const nzk = require('node-zookeeper-client') as NzkModule;

// --- typed results ---

export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

function toStat(s: RawStat): Stat {
  return {
    czxid: s.czxid.readBigInt64BE(0),
    mzxid: s.mzxid.readBigInt64BE(0),
    ctime: s.ctime.readBigInt64BE(0),
    mtime: s.mtime.readBigInt64BE(0),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: s.ephemeralOwner.readBigInt64BE(0),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
    pzxid: s.pzxid.readBigInt64BE(0),
  };
}

/** One op's outcome in a multi: `err` is 0 for an op that succeeded. */
export interface OpResult {
  type: number;
  path?: string;
  stat?: Stat;
  err?: number;
}

/** A failed multi: `code` is the first failing op's error, `results` every op's outcome. */
export class MultiError extends Error {
  constructor(
    readonly code: number,
    readonly results: OpResult[],
  ) {
    super(`multi failed with code ${code}`);
    this.name = 'MultiError';
  }
}

export interface CreateOptions {
  acl?: NzkAcl[];
  mode?: number;
}

export type MultiOp =
  | { op: 'create'; path: string; data?: Buffer | null; acl?: NzkAcl[]; mode?: number }
  | { op: 'check'; path: string; version: number }
  | { op: 'setData'; path: string; data: Buffer | null; version?: number }
  | { op: 'delete'; path: string; version?: number };

/** Upper bound for connecting; a server that does not answer within it fails the test. */
const connectTimeoutMs = 10_000;
const closeTimeoutMs = 10_000;

/**
 * A failed call: the client's error code, plus which op on which path, with the stack of the
 * test line that made the call (the client's own stack only shows its socket handler).
 */
export class ZkCallError extends Error {
  constructor(
    readonly op: string,
    readonly path: string,
    readonly code: number,
    codeName: string,
    callSite: Error,
  ) {
    super(`${op} ${path} failed: ${codeName} (${code})`);
    this.name = 'ZkCallError';
    this.stack = `${this.name}: ${this.message}\n${(callSite.stack ?? '').split('\n').slice(2).join('\n')}`;
  }
}

function settle<T extends unknown[], R>(
  op: string,
  path: string,
  resolve: (r: R) => void,
  reject: (e: unknown) => void,
  map: (...results: T) => R,
): Cb<T> {
  const callSite = new Error();
  return (error, ...results) => {
    if (error) reject(new ZkCallError(op, path, error.code, error.name, callSite));
    else resolve(map(...results));
  };
}

export class ZkSession {
  constructor(readonly raw: RawClient) {}

  get sessionTimeoutMs(): number {
    return this.raw.getSessionTimeout();
  }

  get sessionId(): bigint {
    return this.raw.getSessionId().readBigInt64BE(0);
  }

  create(path: string, data: Buffer | null = null, opts: CreateOptions = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      this.raw.create(
        path,
        data,
        opts.acl ?? nzk.ACL.OPEN_ACL_UNSAFE,
        opts.mode ?? nzk.CreateMode.PERSISTENT,
        settle('create', path, resolve, reject, (p: string) => p),
      );
    });
  }

  remove(path: string, version = -1): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.remove(path, version, settle('remove', path, resolve, reject, () => undefined));
    });
  }

  exists(path: string, watcher?: Watcher): Promise<Stat | null> {
    return new Promise((resolve, reject) => {
      this.raw.exists(path, watcher, settle('exists', path, resolve, reject, (s: RawStat | null) => (s ? toStat(s) : null)));
    });
  }

  getData(path: string, watcher?: Watcher): Promise<{ data: Buffer | null; stat: Stat }> {
    return new Promise((resolve, reject) => {
      this.raw.getData(
        path,
        watcher,
        settle('getData', path, resolve, reject, (data: Buffer | null, stat: RawStat) => ({ data, stat: toStat(stat) })),
      );
    });
  }

  setData(path: string, data: Buffer | null, version = -1): Promise<Stat> {
    return new Promise((resolve, reject) => {
      this.raw.setData(path, data, version, settle('setData', path, resolve, reject, (s: RawStat) => toStat(s)));
    });
  }

  getChildren(path: string, watcher?: Watcher): Promise<{ children: string[]; stat: Stat }> {
    return new Promise((resolve, reject) => {
      this.raw.getChildren(
        path,
        watcher,
        settle('getChildren', path, resolve, reject, (children: string[], stat: RawStat) => ({ children, stat: toStat(stat) })),
      );
    });
  }

  getACL(path: string): Promise<{ acl: NzkAcl[]; stat: Stat }> {
    return new Promise((resolve, reject) => {
      this.raw.getACL(path, settle('getACL', path, resolve, reject, (acl: NzkAcl[], stat: RawStat) => ({ acl, stat: toStat(stat) })));
    });
  }

  setACL(path: string, acl: NzkAcl[], version = -1): Promise<Stat> {
    return new Promise((resolve, reject) => {
      this.raw.setACL(path, acl, version, settle('setACL', path, resolve, reject, (s: RawStat) => toStat(s)));
    });
  }

  addAuthInfo(scheme: string, auth: string): void {
    this.raw.addAuthInfo(scheme, Buffer.from(auth));
  }

  /** A multi; rejects with MultiError (per-op results) when an op fails. */
  multi(ops: MultiOp[]): Promise<OpResult[]> {
    const t = this.raw.transaction();
    for (const o of ops) {
      switch (o.op) {
        case 'create':
          t.create(o.path, o.data ?? null, o.acl ?? nzk.ACL.OPEN_ACL_UNSAFE, o.mode ?? nzk.CreateMode.PERSISTENT);
          break;
        case 'check':
          t.check(o.path, o.version);
          break;
        case 'setData':
          t.setData(o.path, o.data, o.version ?? -1);
          break;
        case 'delete':
          t.remove(o.path, o.version ?? -1);
          break;
      }
    }
    return new Promise((resolve, reject) => {
      t.commit((error, rawResults) => {
        const results = (rawResults ?? []).map((r) => ({ ...r, stat: r.stat ? toStat(r.stat) : undefined }));
        if (error) reject(rawResults ? new MultiError(error.code, results) : error);
        else resolve(results);
      });
    });
  }

  /**
   * Simulates a client whose process hangs: the socket stays open, but the client reads
   * nothing and sends no more pings, so the server must expire the session on its own.
   */
  freeze(): void {
    const socket = this.raw.connectionManager.socket;
    if (!socket) throw new Error('freeze(): the client has no socket; connect it first');
    socket.setTimeout(0);
    socket.pause();
  }

  /** Undoes freeze(): the client reads again and learns what the server did meanwhile. */
  thaw(): void {
    this.raw.connectionManager.socket?.resume();
  }

  /** Closes the session (closeSession) and waits until the client has disconnected. */
  close(): Promise<void> {
    if (this.raw.getState().name !== 'SYNC_CONNECTED') {
      // Expired or disconnected: there is no session to close and no disconnect to wait for.
      this.raw.close();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, closeTimeoutMs);
      this.raw.once('disconnected', () => {
        clearTimeout(timer);
        resolve();
      });
      this.raw.close();
    });
  }
}

/** Connects a node-zookeeper-client session; rejects if it is not connected within 10 s. */
export function connectZk(connectString: string, opts: { sessionTimeoutMs?: number } = {}): Promise<ZkSession> {
  const raw = nzk.createClient(connectString, { sessionTimeout: opts.sessionTimeoutMs ?? 30_000, spinDelay: 100 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      raw.close();
      reject(new Error(`node-zookeeper-client did not connect to ${connectString} within ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    raw.once('connected', () => {
      clearTimeout(timer);
      resolve(new ZkSession(raw));
    });
    raw.connect();
  });
}

/** The error code a rejected client call carried (e.g. nzk.Exception.NO_NODE). */
export async function errorCodeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MultiError) return e.code;
    if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'number') return e.code;
    throw e;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** ZooKeeper's digest id for user:password: user:base64(sha1(user:password)). */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}
