/**
 * What every server runs around its ZooKeeperServer, whatever its mode: the client port
 * (with the four-letter words), the HTTP face, the container manager, autopurge, and the
 * way it stops — cleanly on close(), or at once with one error line and an exit code when
 * something fatal happens (fatal()). Standalone and quorum wiring differ only in what they
 * put inside (a write path, or a ZAB host with its transport).
 */
import { PurgeTask } from '../storage/index.js';
import type { ZabConfig } from './config.js';
import type { ClientCredentials } from './client-credentials.js';
import { ClientPortListener } from './cnxn-factory.js';
import { ContainerManager, containerCheckIntervalMs } from './container-manager.js';
import type { FatalError, FatalHandler } from './fatal.js';
import { isFourLetterWord, runFourLetterWord } from './four-letter.js';
import type { AdminCredentials, RunningHttpServer } from './http/index.js';
import type { QuorumDeps } from './http/quorum-view.js';
import type { Logger } from './log.js';
import { buildServerView, metricsView } from './server-view.js';
import type { ZooKeeperServer } from './zk-server.js';

/** How long a fatal stop may spend closing before the process exits anyway. */
export const FATAL_CLOSE_MS = 3_000;

/** The default when a server must stop: end the process with the error's exit code. */
export const exitProcess: FatalHandler = (err) => process.exit(err.exitCode);

export interface ShellOptions {
  server: ZooKeeperServer;
  cfg: ZabConfig;
  log: Logger;
  /** A quorum server's peer and fault controller (for metrics, mntr and /v1/faults). */
  quorum?: QuorumDeps;
  /** Called once after a fatal stop has closed what it could. */
  onFatal: FatalHandler;
  /** The HTTP face's credentials; null when admin.enableServer=false. */
  admin: AdminCredentials | null;
  /** The client port's TLS material and SASL users. */
  client: ClientCredentials;
  /**
   * Called once the client port listens, before the HTTP face is up: a quorum peer starts
   * electing then, rather than after the ~0.2 s the HTTP face takes to start.
   */
  listening?: (shell: ServerShell) => void;
}

export class ServerShell {
  private http: RunningHttpServer | null = null;
  private readonly containers: ContainerManager;
  private purge: PurgeTask | null = null;
  private closing: Promise<void> | null = null;
  private fatalSeen = false;

  private constructor(
    private readonly opts: ShellOptions,
    readonly listener: ClientPortListener,
  ) {
    this.containers = new ContainerManager(opts.server, containerCheckIntervalMs(opts.cfg));
  }

  /** Listen on the client port (and the HTTP port), start the server's timers, containers and autopurge. */
  static async start(opts: ShellOptions): Promise<ServerShell> {
    const { server, cfg, log } = opts;
    const listener: ClientPortListener = new ClientPortListener(server, log, {
      host: cfg.clientPortAddress,
      port: cfg.clientPort,
      secure: cfg.secureClientPort === 0 ? null : { host: cfg.secureClientPortAddress, port: cfg.secureClientPort },
      portUnification: cfg.clientPortUnification,
      tls: opts.client.tls,
      saslUsers: opts.client.saslUsers,
      maxClientCnxns: cfg.maxClientCnxns,
      maxCnxns: cfg.maxCnxns,
      isFourLetterWord,
      fourLetterWord: (cmd: string): string => runFourLetterWord(cmd, buildServerView(server, listener), cfg),
    });
    const shell = new ServerShell(opts, listener);
    await listener.listen();
    server.telemetry.setView(metricsView(server, listener, opts.quorum?.peer));
    server.start();
    opts.listening?.(shell);
    if (opts.admin !== null) {
      // Loaded once the client port serves: the HTTP stack is half the server's module loading (~0.1 s of a restart).
      const { startHttpServer } = await import('./http/index.js');
      shell.http = await startHttpServer({
        server,
        view: () => buildServerView(server, listener),
        cfg,
        credentials: opts.admin,
        ...(opts.quorum === undefined ? {} : { quorum: opts.quorum }),
        metrics: server.telemetry.prometheus,
      });
    }
    shell.containers.start();
    if (cfg.autopurgePurgeIntervalMs > 0) {
      shell.purge = new PurgeTask({
        dataDir: cfg.dataDir,
        dataLogDir: cfg.dataLogDir,
        snapRetainCount: cfg.autopurgeSnapRetainCount,
        purgeIntervalHours: cfg.autopurgePurgeIntervalMs / 3_600_000,
        log: (m) => log.info(m),
      });
      shell.purge.start();
    }
    return shell;
  }

  get clientPort(): number {
    return this.listener.address.port;
  }

  /** secureClientPort as bound (0 when there is none). */
  get secureClientPort(): number {
    return this.listener.secureAddress?.port ?? 0;
  }

  /**
   * Stop: the faces first (no new work), then `inner` (the mode's own part: drain the write
   * path, or stop the ZAB host and its transport, then close the database), then telemetry.
   * Idempotent: every caller gets the same promise.
   */
  close(inner: () => Promise<void>): Promise<void> {
    this.closing ??= (async () => {
      this.containers.stop();
      this.purge?.stop();
      await this.http?.close();
      await this.listener.close();
      await this.opts.server.shutdown();
      await inner();
      await this.opts.server.telemetry.shutdown();
    })();
    return this.closing;
  }

  /**
   * The server cannot go on: say why in one line, drop every client at once (they must not
   * wait on a server that will not answer), close what can be closed within FATAL_CLOSE_MS,
   * then hand over to onFatal (which ends the process by default).
   */
  fatal(err: FatalError, inner: () => Promise<void>): void {
    if (this.fatalSeen) return;
    this.fatalSeen = true;
    const [first, ...rest] = err.message.split('\n');
    this.opts.log.error(`fatal, stopping: ${first}`, { exitCode: err.exitCode, ...(rest.length > 0 ? { detail: rest.join('\n') } : {}) });
    this.opts.server.closeAllConnections('the server is stopping after a fatal error');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, FATAL_CLOSE_MS)));
    void Promise.race([this.close(inner).catch(() => undefined), deadline]).finally(() => {
      clearTimeout(timer);
      this.opts.onFatal(err);
    });
  }
}
