/**
 * Wiring of one standalone server: storage → database recovery → pipeline → client port.
 */
import { PurgeTask } from '../storage/index.js';
import type { ZabConfig } from './config.js';
import { ClientPortListener } from './cnxn-factory.js';
import { isFourLetterWord, runFourLetterWord } from './four-letter.js';
import { buildServerView, metricsView } from './server-view.js';
import { setupTelemetry } from '../telemetry/index.js';
import type { Logger } from './log.js';
import { openDatabase, zxidHex } from './zk-database.js';
import { ZooKeeperServer } from './zk-server.js';
import { StandaloneWritePath } from './standalone-path.js';
import { startHttpServer, type AdminCredentials } from './http/index.js';
import { ContainerManager, containerCheckIntervalMs } from './container-manager.js';

export interface RunningServer {
  readonly server: ZooKeeperServer;
  readonly clientPort: number;
  close(): Promise<void>;
}

/** `admin`: the HTTP face's credentials (null when admin.enableServer=false). */
export async function startStandalone(cfg: ZabConfig, log: Logger, admin: AdminCredentials | null): Promise<RunningServer> {
  const db = await openDatabase(cfg, log);
  const { txnLog, snaps } = db;
  const lastZxid = await db.load();
  // A fresh snapshot after recovery keeps the next restart short (ZooKeeper does the same).
  const newest = (await snaps.list())[0];
  if (newest === undefined || newest !== lastZxid) {
    txnLog.rollLog();
    await db.takeSnapshot();
  }

  let fatal: Error | null = null;
  let running: RunningServer | null = null;
  const server = new ZooKeeperServer(cfg, db, log, setupTelemetry({ serverId: cfg.serverId, warn: (m) => log.warn(m) }));
  server.telemetry.startedStandalone();
  server.trackDatabaseSessions();
  const writePath = new StandaloneWritePath(server, (err) => {
    if (fatal) return;
    fatal = err;
    log.error('fatal error, shutting down', { error: err.message });
    void running?.close().finally(() => process.exit(1));
  });
  server.writePath = writePath;
  const listener: ClientPortListener = new ClientPortListener(server, log, {
    host: cfg.clientPortAddress,
    port: cfg.clientPort,
    maxClientCnxns: cfg.maxClientCnxns,
    isFourLetterWord,
    fourLetterWord: (cmd: string): string => runFourLetterWord(cmd, buildServerView(server, listener), cfg),
  });
  await listener.listen();
  server.telemetry.setView(metricsView(server, listener));
  server.start();
  const http = admin === null ? null : await startHttpServer({ server, view: () => buildServerView(server, listener), cfg, credentials: admin, metrics: server.telemetry.prometheus });
  const containers = new ContainerManager(server, containerCheckIntervalMs(cfg));
  containers.start();
  if (cfg.autopurgePurgeIntervalMs > 0) {
    server.purgeTask = new PurgeTask({
      dataDir: cfg.dataDir,
      dataLogDir: cfg.dataLogDir,
      snapRetainCount: cfg.autopurgeSnapRetainCount,
      purgeIntervalHours: cfg.autopurgePurgeIntervalMs / 3_600_000,
      log: (m) => log.info(m),
    });
    server.purgeTask.start();
  }
  log.info('serving', {
    mode: 'standalone',
    clientPort: listener.address.port,
    zxid: zxidHex(lastZxid),
    sessions: db.sessionsWithTimeouts.size,
  });
  let closing: Promise<void> | null = null;
  running = {
    server,
    clientPort: listener.address.port,
    close: () => {
      closing ??= (async () => {
        containers.stop();
        await http?.close();
        await listener.close();
        await server.shutdown();
        await writePath.drain();
        await db.close();
        await server.telemetry.shutdown();
      })();
      return closing;
    },
  };
  return running;
}
