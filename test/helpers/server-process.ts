/**
 * What the zookeeper.ts and zablab.ts helpers share: the handle of a server running as a
 * real child process, zoo.cfg writing, and stopping (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from './ports.js';
import { waitForServing } from './probe.js';

export interface ServerHandle {
  host: string;
  port: number;
  /** `host:port`, ready for a client's connect string. */
  connectString: string;
  dataDir: string;
  pid: number;
  adminPort: number;
  /** SIGTERM, wait, then SIGKILL; removes the temp dir unless keepDir (or the caller owns dataDir). */
  stop(): Promise<void>;
  /** Send a signal (default SIGKILL) without waiting; e.g. SIGSTOP/SIGCONT to pause a server. */
  kill(signal?: NodeJS.Signals): void;
}

export const SERVE_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const KILL_WAIT_MS = 5_000;

export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface StandaloneLayout {
  dataDir: string;
  /** The temp dir made here (removed on stop), or null when the caller gave dataDir. */
  ownedDir: string | null;
  cfgFile: string;
  cfg: Record<string, string>;
}

/**
 * A standalone server's dataDir (a temp dir unless given), free loopback ports and zoo.cfg:
 * ZooKeeper's usual settings, every four-letter word allowed, then the caller's entries.
 */
export async function writeStandaloneConfig(
  prefix: string,
  opts: { config?: Record<string, string>; dataDir?: string },
  adminEnableServer: boolean,
): Promise<StandaloneLayout> {
  const config = opts.config ?? {};
  const ownedDir = opts.dataDir === undefined && config['dataDir'] === undefined ? makeTempDir(prefix) : null;
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
    'admin.enableServer': String(adminEnableServer),
    '4lw.commands.whitelist': '*',
    ...config,
  };
  const cfgFile = path.join(dataDir, 'zoo.cfg');
  writeZooCfg(cfgFile, cfg);
  return { dataDir, ownedDir, cfgFile, cfg };
}

/** zoo.cfg text: one `key=value` a line, in insertion order. */
export function writeZooCfg(file: string, entries: Record<string, string>): void {
  const lines = Object.entries(entries).map(([k, v]) => `${k}=${v}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = await Promise.race([exited(child).then(() => true as const), timeout]);
  clearTimeout(timer);
  return done;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // A SIGSTOPped process cannot act on SIGTERM until it runs again.
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  if (await waitExit(child, STOP_GRACE_MS)) return;
  child.kill('SIGKILL');
  if (!(await waitExit(child, KILL_WAIT_MS))) {
    throw new Error(`server pid ${child.pid} did not exit after SIGKILL`);
  }
}

export interface LaunchSpec {
  command: string;
  args: string[];
  options: SpawnOptions;
  /** The file stdout/stderr go to. */
  logFile: string;
  host: string;
  port: number;
  adminPort: number;
  dataDir: string;
  /** A directory to delete on stop (unless keepDir). */
  ownedDir: string | null;
  keepDir: boolean;
  /** Names the server in error messages. */
  what: string;
}

/** Spawn, wait until a ZooKeeper handshake succeeds, and return the handle. */
export async function launch(spec: LaunchSpec): Promise<ServerHandle> {
  const log = fs.openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, { ...spec.options, stdio: ['ignore', log, log], detached: false });
  } finally {
    fs.closeSync(log);
  }
  const pid = child.pid;
  let exitNote: string | null = null;
  child.once('exit', (code, signal) => {
    exitNote = `exited with ${signal ?? `code ${code}`}`;
  });
  const spawnFailed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`cannot start ${spec.what} (${spec.command}): ${err.message}`)));
  });
  // Both settle long after a successful start (at stop); mark them handled so a late
  // rejection is not reported as unhandled.
  const died = diedEarly(child);
  spawnFailed.catch(() => undefined);
  died.catch(() => undefined);
  const removeDir = (): void => {
    if (spec.ownedDir !== null && !spec.keepDir) fs.rmSync(spec.ownedDir, { recursive: true, force: true });
  };
  try {
    if (pid === undefined) await spawnFailed;
    await Promise.race([waitForServing(spec.host, spec.port, SERVE_TIMEOUT_MS), spawnFailed, died]);
  } catch (err) {
    await stopChild(child).catch(() => undefined);
    const tail = readTail(spec.logFile);
    removeDir();
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`${spec.what} did not start serving on ${spec.host}:${spec.port}: ${why}${exitNote ? ` (${exitNote})` : ''}\n--- log tail ---\n${tail}`);
  }
  let stopped: Promise<void> | null = null;
  return {
    host: spec.host,
    port: spec.port,
    connectString: `${spec.host}:${spec.port}`,
    dataDir: spec.dataDir,
    pid: pid!,
    adminPort: spec.adminPort,
    stop() {
      stopped ??= stopChild(child).finally(removeDir);
      return stopped;
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

async function diedEarly(child: ChildProcess): Promise<never> {
  await exited(child);
  throw new Error('the process exited before it served');
}

function readTail(file: string, maxBytes = 4_000): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-maxBytes);
  } catch {
    return '(no log)';
  }
}
