/**
 * The clients a load worker can drive, behind one callback interface so that the load loop
 * is the same for both:
 * - `node-zookeeper-client`: the unmodified third-party client (the default; what users run);
 * - `zablab-client`: our pipelined ZkClient from dist/ (`npm run build`), cheaper per op, so
 *   that the server rather than the client process is the limit.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as ZablabClientModule from '../../src/client/index.js';

export const DRIVER_NAMES = ['node-zookeeper-client', 'zablab-client'] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];

/** Called once per operation: null on success, else the error. */
export type Done = (err: Error | null) => void;

/** One session; many operations may be in flight on it at once. */
export interface LoadSession {
  getData(path: string, done: Done): void;
  setData(path: string, value: Buffer, done: Done): void;
}

export interface LoadDriver {
  readonly sessions: readonly LoadSession[];
  /** Creates `root` and every path with `value`; nodes that already exist are left as they are. */
  createNodes(root: string, paths: readonly string[], value: Buffer): Promise<void>;
  /** Closes every session (closeSession), waiting a bounded time for each. */
  close(): Promise<void>;
}

export interface DriverOptions {
  connectString: string;
  sessions: number;
  /** Requests each session will keep in flight (sizes the client's own queue). */
  inflight: number;
  /**
   * When set, session i lists connectString's hosts rotated by sessionOffset + i, so that a
   * client that tries hosts in order (zablab's) spreads the sessions over every server.
   */
  sessionOffset?: number;
}

const CONNECT_TIMEOUT_MS = 15_000;
const SESSION_TIMEOUT_MS = 30_000;
const CLOSE_WAIT_MS = 5_000;
/** Creates in flight during setup: enough to be quick, few enough for any server's limits. */
const SETUP_WINDOW = 256;
/** ZooKeeper's NODEEXISTS (-110): setup tolerates it so a rerun on the same tree works. */
const NODE_EXISTS = -110;

export function openDriver(name: DriverName, opts: DriverOptions): Promise<LoadDriver> {
  switch (name) {
    case 'node-zookeeper-client':
      return NzkDriver.open(opts);
    case 'zablab-client':
      return ZablabDriver.open(opts);
  }
}

/** connectString with its hosts rotated left by k (`a,b,c` by 1 is `b,c,a`); a chroot stays at the end. */
export function rotateHosts(connectString: string, k: number): string {
  const slash = connectString.indexOf('/');
  const hosts = (slash === -1 ? connectString : connectString.slice(0, slash)).split(',');
  const chroot = slash === -1 ? '' : connectString.slice(slash);
  const by = ((k % hosts.length) + hosts.length) % hosts.length;
  return [...hosts.slice(by), ...hosts.slice(0, by)].join(',') + chroot;
}

function sessionConnectString(opts: DriverOptions, session: number): string {
  return opts.sessionOffset === undefined ? opts.connectString : rotateHosts(opts.connectString, opts.sessionOffset + session);
}

/** Runs f over items with at most `window` calls pending; rejects on the first failure. */
async function forEachWindowed<T>(items: readonly T[], window: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await f(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, lane));
}

// --- node-zookeeper-client -------------------------------------------------------------------

interface NzkError extends Error {
  code: number;
}
type NzkCb = (error: NzkError | null) => void;
interface NzkClient {
  connect(): void;
  close(): void;
  once(event: 'connected' | 'disconnected', listener: () => void): void;
  create(path: string, data: Buffer, cb: NzkCb): void;
  getData(path: string, cb: NzkCb): void;
  setData(path: string, data: Buffer, version: number, cb: NzkCb): void;
}
interface NzkModule {
  createClient(connectString: string, options: { sessionTimeout: number; spinDelay: number; retries: number }): NzkClient;
}

let nzkModule: NzkModule | undefined;
function nzk(): NzkModule {
  nzkModule ??= createRequire(import.meta.url)('node-zookeeper-client') as NzkModule;
  return nzkModule;
}

function nzkConnect(connectString: string): Promise<NzkClient> {
  const client = nzk().createClient(connectString, { sessionTimeout: SESSION_TIMEOUT_MS, spinDelay: 100, retries: 0 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`node-zookeeper-client could not connect to ${connectString} within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

function nzkClose(client: NzkClient): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, CLOSE_WAIT_MS);
    client.once('disconnected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.close();
  });
}

class NzkDriver implements LoadDriver {
  readonly sessions: LoadSession[];

  private constructor(private readonly clients: NzkClient[]) {
    this.sessions = clients.map((c) => ({
      getData: (p, done) => c.getData(p, done),
      setData: (p, value, done) => c.setData(p, value, -1, done),
    }));
  }

  static async open(opts: DriverOptions): Promise<NzkDriver> {
    const clients: NzkClient[] = [];
    try {
      for (let i = 0; i < opts.sessions; i++) clients.push(await nzkConnect(sessionConnectString(opts, i)));
    } catch (err) {
      await Promise.all(clients.map(nzkClose));
      throw err;
    }
    return new NzkDriver(clients);
  }

  async createNodes(root: string, paths: readonly string[], value: Buffer): Promise<void> {
    const client = this.clients[0]!;
    const create = (p: string, data: Buffer): Promise<void> =>
      new Promise((resolve, reject) => {
        client.create(p, data, (err) => (err && err.code !== NODE_EXISTS ? reject(err) : resolve()));
      });
    await create(root, Buffer.alloc(0));
    await forEachWindowed(paths, SETUP_WINDOW, (p) => create(p, value));
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map(nzkClose));
  }
}

// --- zablab's ZkClient ------------------------------------------------------------------------

type ZkClient = ZablabClientModule.ZkClient;

/** dist/client/index.js, built by `npm run build` (bench/lib → ../../dist). */
const ZABLAB_CLIENT_JS = fileURLToPath(new URL('../../dist/client/index.js', import.meta.url));
const ZABLAB_CLIENT_SRC = fileURLToPath(new URL('../../src/client/', import.meta.url));

async function loadZablabClient(): Promise<typeof ZablabClientModule> {
  if (!fs.existsSync(ZABLAB_CLIENT_JS)) {
    throw new Error(`--driver zablab-client needs ${path.relative(process.cwd(), ZABLAB_CLIENT_JS)}; run \`npm run build\` first`);
  }
  // A variable specifier keeps tsc from resolving dist/ (it has no .d.ts); the types come from src/.
  const specifier = new URL('../../dist/client/index.js', import.meta.url).href;
  return (await import(specifier)) as typeof ZablabClientModule;
}

/** True when some src/client file is newer than its build: the bench would measure stale code. */
export function zablabClientStale(): boolean {
  try {
    const built = fs.statSync(ZABLAB_CLIENT_JS).mtimeMs;
    return fs.readdirSync(ZABLAB_CLIENT_SRC).some((f) => fs.statSync(path.join(ZABLAB_CLIENT_SRC, f)).mtimeMs > built);
  } catch {
    return false;
  }
}

class ZablabDriver implements LoadDriver {
  readonly sessions: LoadSession[];

  private constructor(private readonly clients: ZkClient[]) {
    this.sessions = clients.map((c) => ({
      getData: (p, done) => {
        c.getData(p).then(
          () => done(null),
          (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
        );
      },
      setData: (p, value, done) => {
        c.setData(p, value, -1).then(
          () => done(null),
          (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
        );
      },
    }));
  }

  static async open(opts: DriverOptions): Promise<ZablabDriver> {
    const { ZkClient } = await loadZablabClient();
    const clients: ZkClient[] = [];
    try {
      for (let i = 0; i < opts.sessions; i++) {
        clients.push(
          await ZkClient.connect({
            connectString: sessionConnectString(opts, i),
            sessionTimeoutMs: SESSION_TIMEOUT_MS,
            connectTimeoutMs: CONNECT_TIMEOUT_MS,
            maxInFlight: Math.max(1, opts.inflight),
          }),
        );
      }
    } catch (err) {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      throw err;
    }
    return new ZablabDriver(clients);
  }

  async createNodes(root: string, paths: readonly string[], value: Buffer): Promise<void> {
    const client = this.clients[0]!;
    const create = async (p: string, data: Buffer): Promise<void> => {
      try {
        await client.create(p, data);
      } catch (err) {
        if (!(err instanceof Error && 'code' in err && err.code === NODE_EXISTS)) throw err;
      }
    };
    await create(root, Buffer.alloc(0));
    await forEachWindowed(paths, SETUP_WINDOW, (p) => create(p, value));
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }
}
