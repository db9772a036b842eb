/**
 * The client port: accepts TCP connections, enforces maxCnxns in total and maxClientCnxns
 * per client address (ZooKeeper's NIOServerCnxnFactory rules: a refused socket is closed at
 * once and counted in connection_rejected), and hands each socket to a ServerCnxn.
 */
import net from 'node:net';
import type { Logger } from './log.js';
import { normalizeAddress, ServerCnxn, type CnxnHooks } from './cnxn.js';
import { ConnectionThrottle } from './connection-throttle.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { ZooKeeperServer } from './zk-server.js';

export interface ClientPortOptions {
  host: string;
  port: number;
  maxClientCnxns: number;
  /** Connections in total; 0 = unlimited. */
  maxCnxns: number;
  isFourLetterWord: CnxnHooks['isFourLetterWord'];
  fourLetterWord: CnxnHooks['fourLetterWord'];
}

export class ClientPortListener {
  readonly cnxns = new Set<ServerCnxn>();
  private readonly perAddress = new Map<string, number>();
  private readonly netServer: net.Server;
  private readonly limitLog: RateLimitedLog;
  readonly throttle: ConnectionThrottle;

  constructor(
    private readonly server: ZooKeeperServer,
    private readonly log: Logger,
    private readonly opts: ClientPortOptions,
  ) {
    this.limitLog = new RateLimitedLog(log);
    this.throttle = new ConnectionThrottle(server.cfg);
    this.netServer = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.netServer.on('error', (err) => this.log.error('client port error', { error: String(err) }));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.netServer.once('error', onError);
      this.netServer.listen(this.opts.port, this.opts.host, () => {
        this.netServer.off('error', onError);
        resolve();
      });
    });
  }

  get address(): net.AddressInfo {
    return this.netServer.address() as net.AddressInfo;
  }

  private accept(socket: net.Socket): void {
    const addr = normalizeAddress(socket.remoteAddress ?? '');
    const count = this.perAddress.get(addr) ?? 0;
    if (this.opts.maxCnxns > 0 && this.cnxns.size >= this.opts.maxCnxns) {
      this.refuse(socket, 'too many connections', { address: addr, maxCnxns: this.opts.maxCnxns });
      return;
    }
    if (this.opts.maxClientCnxns > 0 && count >= this.opts.maxClientCnxns) {
      this.refuse(socket, 'too many connections from this address', { address: addr, maxClientCnxns: this.opts.maxClientCnxns });
      return;
    }
    this.perAddress.set(addr, count + 1);
    const cnxn = new ServerCnxn(socket, this.server, this.log, {
      isFourLetterWord: this.opts.isFourLetterWord,
      fourLetterWord: this.opts.fourLetterWord,
      onClose: (c) => this.onClose(c, addr),
      limitLog: this.limitLog,
      throttle: this.throttle,
    });
    this.cnxns.add(cnxn);
  }

  private refuse(socket: net.Socket, why: string, fields: object): void {
    this.server.telemetry.connectionRejected();
    this.limitLog.warn(`refusing connection: ${why}`, fields);
    socket.on('error', () => undefined);
    socket.destroy();
  }

  private onClose(c: ServerCnxn, addr: string): void {
    if (!this.cnxns.delete(c)) return;
    const n = (this.perAddress.get(addr) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(addr);
    else this.perAddress.set(addr, n);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.netServer.close(() => resolve()));
    for (const c of [...this.cnxns]) c.close();
    await closed;
  }
}
