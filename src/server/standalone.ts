/**
 * Wiring of one standalone server: recovery (refusing a damaged disk) → pipeline → the shell
 * (client port, HTTP, containers, autopurge).
 */
import { StorageDamageError, damageSite, describeDamage } from '../storage/index.js';
import type { ZabConfig } from './config.js';
import type { FatalHandler } from './fatal.js';
import type { ClientCredentials } from './client-credentials.js';
import type { AdminCredentials } from './http/index.js';
import type { Logger } from './log.js';
import { ServerShell } from './server-shell.js';
import { StandaloneWritePath } from './standalone-path.js';
import { setupTelemetry, type OtelExport } from '../telemetry/index.js';
import { inspectStorage, openDatabase, storageLayout } from './zk-database.js';
import { ZooKeeperServer } from './zk-server.js';
import { zxidHex } from '../jute/index.js';

export interface RunningServer {
  readonly server: ZooKeeperServer;
  readonly clientPort: number;
  /** secureClientPort as bound; 0 when there is none. */
  readonly secureClientPort: number;
  close(): Promise<void>;
}

/** How a server stops on its own, the HTTP face's credentials (null when admin.enableServer=false) and the client port's. */
export interface ServerEdges {
  onFatal: FatalHandler;
  admin: AdminCredentials | null;
  client: ClientCredentials;
  /** The process's OpenTelemetry SDK, when `zablab server` started one. */
  otel?: OtelExport;
}

export async function startStandalone(cfg: ZabConfig, log: Logger, edges: ServerEdges): Promise<RunningServer> {
  const layout = storageLayout(cfg);
  const { inputs, plan } = await inspectStorage(layout, log);
  if (plan.damage !== null) {
    const at = zxidHex(plan.damage.validThrough);
    const config = cfg.configPath ?? 'zoo.cfg';
    throw new StorageDamageError(
      `storage damage in ${cfg.dataDir}: ${describeDamage(plan.damage)}. zablab does not start with less than it acknowledged. ` +
        `Restore ${cfg.dataDir}${cfg.dataLogDir === cfg.dataDir ? '' : ` and ${cfg.dataLogDir}`} from a backup; or, to accept losing every txn after ${at}, ` +
        `run \`zablab repair-log --config ${config} --truncate-at ${at}\` (it lists what it would drop; add --yes to do it).`,
      damageSite(plan.damage),
    );
  }
  const db = await openDatabase(layout, log, inputs, plan);
  const lastZxid = await db.replayLog();

  const server = new ZooKeeperServer(cfg, db, log, setupTelemetry({ serverId: cfg.serverId, warn: (m) => log.warn(m), otel: edges.otel }));
  server.telemetry.startedStandalone();
  let shell: ServerShell | null = null;
  const writePath = new StandaloneWritePath(server, (err) => shell?.fatal(err, closeInner));
  const closeInner = async (): Promise<void> => {
    await writePath.drain();
    await db.close();
  };
  server.installRole(writePath);
  shell = await ServerShell.start({ server, cfg, log, ...edges });
  // Once serving: counting a loaded tree's digests is CPU the restart does not need first.
  db.countDigestsWhenIdle(setImmediate);
  log.info('serving', {
    mode: 'standalone',
    clientPort: shell.clientPort,
    ...(shell.secureClientPort === 0 ? {} : { secureClientPort: shell.secureClientPort }),
    zxid: zxidHex(lastZxid),
    sessions: db.sessionsWithTimeouts.size,
  });
  // A fresh snapshot after recovery keeps the next restart short. ZooKeeper writes it before it
  // serves; a fuzzy one written while serving holds the same state, and clients need not wait.
  if (plan.snapshot?.zxid !== lastZxid) writePath.snapshotNow();
  const started = shell;
  return { server, clientPort: started.clientPort, secureClientPort: started.secureClientPort, close: () => started.close(closeInner) };
}
