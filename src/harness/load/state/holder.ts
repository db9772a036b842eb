/**
 * The sessions one holder process keeps open through a run (workload.sessions), idle but for
 * the pings every client sends, each with its watches on populated znodes. Sessions connect a
 * bounded number at a time: thousands of handshakes at once would overflow a server's accept
 * backlog (Apache ZooKeeper's is 50) and make every session a createSession txn in one burst.
 */
import { AddWatchMode, EventType, ZkClient, type ClientTlsOptions } from '../../../client/index.js';
import type { WatchMode } from '../../scenario/types.js';
import { rotateHosts } from '../native/session.js';
import { populatePath, watchedIndexes } from './paths.js';
import { windowed } from './windowed.js';

const SESSION_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 15_000;
/** A session that fails to connect is tried again this many times before the holder gives up. */
const CONNECT_ATTEMPTS = 3;
/** Watch requests in flight per session, and sessions setting watches at once. */
const WATCH_IN_FLIGHT_PER_SESSION = 64;
const WATCH_SESSIONS_WINDOW = 16;
/** Sessions closed at once at the end (each closeSession is a txn). */
const CLOSE_WINDOW = 64;

export interface HoldSpec {
  connectString: string;
  tls: ClientTlsOptions | null;
  /** The run-wide index of this holder's first session: session g starts on member g mod members. */
  first: number;
  count: number;
  /** Handshakes this holder has in flight at most. */
  connectWindow: number;
  populated: number;
  watches: number;
  watchMode: WatchMode;
}

export class SessionHolder {
  private readonly clients: (ZkClient | undefined)[] = [];
  private events = 0;
  private expired = 0;

  constructor(private readonly spec: HoldSpec) {}

  /** Connects every session; resolves with how many (all, or it throws). */
  async open(): Promise<number> {
    const { spec } = this;
    await windowed(spec.count, spec.connectWindow, async (i) => {
      this.clients[i] = this.track(await connect(rotateHosts(spec.connectString, spec.first + i), spec.tls));
    });
    return this.opened;
  }

  get opened(): number {
    return this.clients.filter((c) => c !== undefined).length;
  }

  /** Every session sets its watches; resolves with how many the servers acknowledged. */
  async watch(): Promise<number> {
    const { spec } = this;
    if (spec.watches === 0) return 0;
    let set = 0;
    await windowed(this.clients.length, WATCH_SESSIONS_WINDOW, async (i) => {
      const client = this.clients[i]!;
      const paths = watchedIndexes(spec.first + i, spec.watches, spec.populated).map(populatePath);
      await windowed(paths.length, WATCH_IN_FLIGHT_PER_SESSION, async (j) => {
        const path = paths[j]!;
        if (spec.watchMode === 'persistent') await client.addWatch(path, AddWatchMode.PERSISTENT);
        else await client.getData(path, true);
        set++;
      });
    });
    return set;
  }

  stats(): { watchEvents: number; expired: number } {
    return { watchEvents: this.events, expired: this.expired };
  }

  /** closeSession for every session (bounded by the client's own wait). */
  async close(): Promise<void> {
    const clients = this.clients.splice(0);
    await windowed(clients.length, CLOSE_WINDOW, async (i) => void (await clients[i]?.close().catch(() => undefined)));
  }

  private track(client: ZkClient): ZkClient {
    client.on('watch', (ev) => {
      if (ev.type !== EventType.None) this.events++;
    });
    client.on('state', (state) => {
      if (state === 'expired') this.expired++;
    });
    return client;
  }
}

async function connect(connectString: string, tls: ClientTlsOptions | null): Promise<ZkClient> {
  let last: unknown;
  for (let attempt = 1; attempt <= CONNECT_ATTEMPTS; attempt++) {
    try {
      return await ZkClient.connect({ connectString, sessionTimeoutMs: SESSION_TIMEOUT_MS, connectTimeoutMs: CONNECT_TIMEOUT_MS, maxInFlight: WATCH_IN_FLIGHT_PER_SESSION, ...(tls === null ? {} : { tls }) });
    } catch (err) {
      last = err;
    }
  }
  throw new Error(
    `a held session could not connect to ${connectString} in ${CONNECT_ATTEMPTS} attempts: ${last instanceof Error ? last.message : String(last)}` +
      " (check the servers' maxClientCnxns and connection throttle, and this machine's open-file limit, ulimit -n)",
  );
}
