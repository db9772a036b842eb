/** server: one running zablab server (config, sessions, pipeline, client port). */
import type { ZabConfig } from './config.js';
import type { Logger } from './log.js';
import { startStandalone, type RunningServer } from './standalone.js';
import { startQuorum } from './quorum/quorum-peer.js';

export type { RunningServer } from './standalone.js';
export { loadConfig, parseConfig, ConfigError } from './config.js';
export type { ZabConfig } from './config.js';
export { createLogger } from './log.js';
export type { Logger } from './log.js';

/** Start a server as the config says (standalone when it lists no `server.N`). */
export async function startServer(config: ZabConfig, opts: { log: Logger }): Promise<RunningServer> {
  if (!config.standalone) return startQuorum(config, opts.log);
  return startStandalone(config, opts.log);
}
