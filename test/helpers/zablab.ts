/**
 * zablab's own server as a real process: `node dist/cli/main.js server --config zoo.cfg`
 * (run `npm run build` first). stdout and stderr go to `<dataDir>/server.log`.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, writeStandaloneConfig, type ServerHandle } from './server-process.js';

export type { ServerHandle } from './server-process.js';

/** The built CLI, relative to this file (test/helpers → dist/cli/main.js). */
export const ZABLAB_CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `zablab <args>` (the built CLI) to completion; rejects, killing it, after timeoutMs. */
export function runZablabCli(args: string[], opts: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<CliOutcome> {
  const child = spawn(process.execPath, [ZABLAB_CLI, ...args], {
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`zablab ${args.join(' ')} did not exit within ${opts.timeoutMs} ms; stderr:\n${stderr}`));
    }, opts.timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

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
  const { dataDir, ownedDir, cfgFile, cfg } = await writeStandaloneConfig('zablab-srv-', opts, true);
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

/** How a `zablab server` run that was expected to stop ended: exit code (null when killed) and stderr. */
export interface ServerExit {
  code: number | null;
  stderr: string;
}

/** Runs `zablab server --config cfgFile` until it exits (killed after 20 s): for configs it must refuse. */
export function runZablabServer(cfgFile: string): Promise<ServerExit> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ZABLAB_CLI, 'server', '--config', cfgFile], { timeout: 20_000 }, (err, _out, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr }),
    );
  });
}
