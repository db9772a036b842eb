/**
 * One load session: a ZkClient that outlives its own session. ZkClient already reconnects
 * after a connection loss (same session, next host); when the session expires instead, this
 * opens a new one, and requests issued meanwhile wait for it rather than fail in a spin.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient, type ClientTlsOptions } from '../../../client/index.js';

const SESSION_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 15_000;
const RECONNECT_PAUSE_MS = 500;

/** connectString with its hosts rotated left by k (`a,b,c` by 1 is `b,c,a`); a chroot stays at the end. */
export function rotateHosts(connectString: string, k: number): string {
  const slash = connectString.indexOf('/');
  const hosts = (slash === -1 ? connectString : connectString.slice(0, slash)).split(',');
  const chroot = slash === -1 ? '' : connectString.slice(slash);
  const by = ((k % hosts.length) + hosts.length) % hosts.length;
  return [...hosts.slice(by), ...hosts.slice(0, by)].join(',') + chroot;
}

export class LoadSession {
  /** Requests issued on this session and not yet completed (waiting ones included). */
  outstanding = 0;
  private client: ZkClient | null;
  /** Requests issued while a new session is being established; bounded by the caller's in-flight bound. */
  private waiting: ((c: ZkClient) => void)[] = [];
  private closed = false;
  private renewing: Promise<void> | null = null;

  private constructor(
    private readonly connectString: string,
    private readonly maxInFlight: number,
    private readonly tls: ClientTlsOptions | null,
    client: ZkClient,
  ) {
    this.client = client;
    this.watch(client);
  }

  /** Connects a session (over TLS when `tls` is given); ZkClient tries the hosts in the order given, so rotate them to spread sessions. */
  static async open(connectString: string, maxInFlight: number, tls: ClientTlsOptions | null = null): Promise<LoadSession> {
    return new LoadSession(connectString, maxInFlight, tls, await LoadSession.connect(connectString, maxInFlight, tls));
  }

  private static connect(connectString: string, maxInFlight: number, tls: ClientTlsOptions | null): Promise<ZkClient> {
    return ZkClient.connect({ connectString, sessionTimeoutMs: SESSION_TIMEOUT_MS, connectTimeoutMs: CONNECT_TIMEOUT_MS, maxInFlight, ...(tls === null ? {} : { tls }) });
  }

  /** The live client (null while a new session is being established, or after close). */
  get current(): ZkClient | null {
    return this.client;
  }

  /** Runs f with the client now, or once a new session is established (never after close). */
  use(f: (c: ZkClient) => void): void {
    if (this.client !== null) f(this.client);
    else if (!this.closed) this.waiting.push(f);
  }

  private watch(client: ZkClient): void {
    client.on('state', (state) => {
      // 'state' is emitted before the failed requests' callbacks run, so their retries wait.
      if (state === 'expired' && this.client === client) {
        this.client = null;
        this.renewing ??= this.renew().finally(() => (this.renewing = null));
      }
    });
  }

  private async renew(): Promise<void> {
    while (!this.closed) {
      try {
        const client = await LoadSession.connect(this.connectString, this.maxInFlight, this.tls);
        if (this.closed) {
          await client.close();
          return;
        }
        this.client = client;
        this.watch(client);
        for (const f of this.waiting.splice(0)) f(client);
        return;
      } catch {
        await sleep(RECONNECT_PAUSE_MS);
      }
    }
  }

  /** closeSession (bounded by ZkClient); requests still waiting for a session are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting = [];
    const client = this.client;
    this.client = null;
    await client?.close().catch(() => undefined);
    await this.renewing;
  }
}
