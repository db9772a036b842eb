/**
 * zablab's own server as a real process: `node dist/cli/main.js server --config zoo.cfg`
 * (run `npm run build` first). stdout and stderr go to `<dataDir>/server.log`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './ports.js';
import { launch, makeTempDir, writeZooCfg, type ServerHandle } from './server-process.js';

export type { ServerHandle } from './server-process.js';

/** The built CLI, relative to this file (test/helpers → dist/cli/main.js). */
export const ZABLAB_CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export function zablabBuilt(): boolean {
  return fs.existsSync(ZABLAB_CLI);
}

export interface StartZablabOptions {
  /** zoo.cfg entries; they override the defaults (clientPort included). */
  config?: Record<string, string>;
  /** Run on this dataDir (e.g. to restart on the same data); the caller owns and removes it. */
  dataDir?: string;
  /** Keep the temp dir on stop (for post-mortems). */
  keepDir?: boolean;
  /** Extra environment for the server process (e.g. OTEL_* variables). */
  env?: Record<string, string>;
}

/** Start one zablab server and wait until it grants a session. */
export async function startZablab(opts: StartZablabOptions = {}): Promise<ServerHandle> {
  if (!zablabBuilt()) {
    throw new Error(`zablab is not built: ${path.relative(process.cwd(), ZABLAB_CLI)} is missing; run \`npm run build\``);
  }
  const config = opts.config ?? {};
  const ownedDir = opts.dataDir === undefined && config['dataDir'] === undefined ? makeTempDir('zablab-srv-') : null;
  const dataDir = opts.dataDir ?? config['dataDir'] ?? ownedDir!;
  fs.mkdirSync(dataDir, { recursive: true });
  const [clientPort, adminPort] = await freePorts(2);
  const cfg: Record<string, string> = {
    tickTime: '2000',
    initLimit: '10',
    syncLimit: '5',
    dataDir,
    clientPort: String(clientPort),
    clientPortAddress: '127.0.0.1',
    'admin.serverPort': String(adminPort),
    'admin.enableServer': 'true',
    '4lw.commands.whitelist': '*',
    ...config,
  };
  const cfgFile = path.join(dataDir, 'zoo.cfg');
  writeZooCfg(cfgFile, cfg);
  return launch({
    command: process.execPath,
    args: [ZABLAB_CLI, 'server', '--config', cfgFile],
    options: { cwd: dataDir, env: { ...process.env, ...opts.env } },
    logFile: path.join(dataDir, 'server.log'),
    host: '127.0.0.1',
    port: Number(cfg['clientPort']),
    adminPort: Number(cfg['admin.serverPort']),
    dataDir,
    ownedDir,
    keepDir: opts.keepDir ?? false,
    what: 'zablab server',
  });
}
