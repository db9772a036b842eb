/**
 * Server processes: started detached (they outlive the command that started them), and
 * signalled only after checking that the pid still runs the command line we started —
 * pids are reused, and a stale ensemble.json must never make us signal a stranger.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnsembleError } from './errors.js';
import type { LaunchCommand } from './program.js';

const EXIT_POLL_MS = 50;
const COMMAND_LINE_MAX_BYTES = 64 * 1024;
/** Bytes read from the end of a log for error messages. */
const LOG_TAIL_MAX_BYTES = 64 * 1024;

export interface SpawnServerOptions {
  launch: LaunchCommand;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
}

/** Starts the server detached, its output appended to logFile; resolves with its pid once it runs. */
export async function spawnServer(opts: SpawnServerOptions): Promise<number> {
  const header = `--- ${new Date().toISOString()} zablab ensemble: ${[opts.launch.command, ...opts.launch.args].join(' ')}\n`;
  fs.appendFileSync(opts.logFile, header);
  const fd = fs.openSync(opts.logFile, 'a');
  try {
    const child = spawn(opts.launch.command, opts.launch.args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) =>
        reject(new EnsembleError('ZABLAB_ENSEMBLE_PROGRAM', `cannot start ${opts.launch.command}: ${err.message}; check that it is installed and on PATH`, { cause: err })),
      );
    });
    // The server has its own session and must not keep the starter's event loop alive.
    child.unref();
    if (child.pid === undefined) throw new EnsembleError('ZABLAB_ENSEMBLE_PROCESS', `${opts.launch.command} started without a pid`);
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The process's command line (arguments joined by spaces), or null when no such process
 * runs (a zombie counts as gone). '' while a process is exiting: its memory, and with it
 * the command line, goes before the process does.
 */
export function commandLineOf(pid: number): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (process.platform === 'linux') {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The state letter follows the command name, which is in parentheses and may hold spaces.
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') return null;
      const raw = fs.readFileSync(`/proc/${pid}/cmdline`);
      const text = raw.subarray(0, COMMAND_LINE_MAX_BYTES).toString('utf8');
      return text.split('\0').filter((a) => a !== '').join(' ');
    } catch {
      return null;
    }
  }
  const r = spawnSync('ps', ['-o', 'stat=,args=', '-p', String(pid)], { encoding: 'utf8', timeout: 5_000 });
  const out = r.status === 0 ? r.stdout.trim() : '';
  if (out === '' || out.startsWith('Z')) return null;
  return out.slice(out.indexOf(' ') + 1);
}

/** True when pid runs a command line holding every marker: a server this tool started. */
export function isOurServer(pid: number | null, markers: readonly string[]): boolean {
  if (pid === null) return false;
  const cmd = commandLineOf(pid);
  return cmd !== null && cmd !== '' && markers.every((m) => cmd.includes(m));
}

/** Signals pid after checking it is ours; false when it no longer runs our command line. */
export function signalServer(pid: number, markers: readonly string[], signal: NodeJS.Signals): boolean {
  if (!isOurServer(pid, markers)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw new EnsembleError('ZABLAB_ENSEMBLE_PROCESS', `cannot send ${signal} to pid ${pid}: ${(err as Error).message}`, { cause: err });
  }
}

/** Resolves true once pid has exited (or runs another command line), false after timeoutMs. */
export async function waitGone(pid: number, markers: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cmd = commandLineOf(pid);
    // A still-exiting process may hold its ports a moment longer: wait for it to be gone.
    if (cmd === null || (cmd !== '' && !markers.every((m) => cmd.includes(m)))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(EXIT_POLL_MS);
  }
}

/** ZooKeeper logs every four-letter word at INFO; our own polling must not crowd out the lines that matter. */
const PROBE_NOISE = /Processing (srvr|mntr|ruok) command/;

/** The last `lines` lines of a log file, without our probes' noise ('' when it is missing or empty). */
export function logTail(file: string, lines = 20): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, LOG_TAIL_MAX_BYTES);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    return buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !PROBE_NOISE.test(l))
      .slice(-lines)
      .join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
