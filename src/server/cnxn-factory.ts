/**
 * The client port: accepts TCP connections, enforces maxClientCnxns per client address
 * (ZooKeeper's NIOServerCnxnFactory rule), and hands each socket to a ServerCnxn.
 */
import net from 'node:net';
import type { Logger } from './log.js';
import { normalizeAddress, ServerCnxn, type CnxnHooks } from './cnxn.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { ZooKeeperServer } from './zk-server.js';

export interface ClientPortOptions {
  host: string;
  port: number;
  maxClientCnxns: number;
  isFourLetterWord: CnxnHooks['isFourLetterWord'];
  fourLetterWord: CnxnHooks['fourLetterWord'];
}

export class ClientPortListener {
  readonly cnxns = new Set<ServerCnxn>();
  private readonly perAddress = new Map<string, number>();
  private readonly netServer: net.Server;
  private readonly limitLog: RateLimitedLog;

  constructor(
    private readonly server: ZooKeeperServer,
    private readonly log: Logger,
    private readonly opts: ClientPortOptions,
  ) {
    this.limitLog = new RateLimitedLog(log);
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
    if (this.opts.maxClientCnxns > 0 && count >= this.opts.maxClientCnxns) {
      this.log.warn('too many connections from this address', { address: addr, max: this.opts.maxClientCnxns });
      socket.destroy();
      return;
    }
    this.perAddress.set(addr, count + 1);
    const cnxn = new ServerCnxn(socket, this.server, this.log, {
      isFourLetterWord: this.opts.isFourLetterWord,
      fourLetterWord: this.opts.fourLetterWord,
      onClose: (c) => this.onClose(c, addr),
      limitLog: this.limitLog,
    });
    this.cnxns.add(cnxn);
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
