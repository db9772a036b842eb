/** server: one running zablab server (config, sessions, pipeline, client port). */
import type { ZabConfig } from './config.js';
import { loadAdminCredentials } from './http/credentials.js';
import type { Logger } from './log.js';
import { startStandalone, type RunningServer } from './standalone.js';
import { startQuorum } from './quorum/quorum-peer.js';

export type { RunningServer } from './standalone.js';
export { loadConfig, parseConfig, ConfigError } from './config.js';
export type { ZabConfig } from './config.js';
export { createLogger } from './log.js';
export type { Logger } from './log.js';

/**
 * Start a server as the config says (standalone when it lists no `server.N`). The HTTP face's
 * credentials are read first: a bad token or key file stops the start before anything binds.
 */
export async function startServer(config: ZabConfig, opts: { log: Logger }): Promise<RunningServer> {
  const admin = config.adminEnableServer ? loadAdminCredentials(config) : null;
  if (!config.standalone) return startQuorum(config, opts.log, admin);
  return startStandalone(config, opts.log, admin);
}
