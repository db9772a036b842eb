/** server: one running zablab server (config, sessions, pipeline, client port). */
import type { ZabConfig } from './config.js';
import type { FatalHandler } from './fatal.js';
import { loadClientCredentials } from './client-credentials.js';
import { loadAdminCredentials } from './http/credentials.js';
import type { Logger } from './log.js';
import type { OtelExport } from '../telemetry/index.js';
import { exitProcess } from './server-shell.js';
import { startStandalone, type RunningServer } from './standalone.js';
import { loadQuorumSecurity } from './quorum/quorum-credentials.js';
import { startQuorum } from './quorum/quorum-host.js';

export type { RunningServer } from './standalone.js';
export { loadConfig, parseConfig, ConfigError } from './config.js';
export type { ZabConfig } from './config.js';
export { createLogger } from './log.js';
export type { Logger } from './log.js';
export { ExitCode, FatalError } from './fatal.js';
export type { FatalHandler } from './fatal.js';

/**
 * Start a server as the config says (standalone when it lists no `server.N`). The HTTP face's,
 * the client port's and the peers' credentials are read first: a bad token, key, secret or
 * JAAS file stops the start before anything binds.
 * When the server must stop on its own (a fatal storage error), `onFatal` is called once it
 * has closed what it could; the default ends the process with ZooKeeper's exit code for it.
 */
export async function startServer(config: ZabConfig, opts: { log: Logger; onFatal?: FatalHandler; otel?: OtelExport }): Promise<RunningServer> {
  const onFatal = opts.onFatal ?? exitProcess;
  const admin = config.adminEnableServer ? loadAdminCredentials(config) : null;
  const client = loadClientCredentials(config);
  if (!config.standalone) return startQuorum(config, opts.log, { onFatal, admin, client, otel: opts.otel }, loadQuorumSecurity(config));
  return startStandalone(config, opts.log, { onFatal, admin, client, otel: opts.otel });
}
