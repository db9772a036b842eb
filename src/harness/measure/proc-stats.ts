/**
 * CPU time and resident memory from Linux's /proc: of a whole process, and this process's children. Read around
 * a measured phase to tell what an operation cost (bench/security-probes.ts). Every reader returns
 * null (or nothing) where /proc is absent or the process is gone.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Children listed at most (load workers and servers: a few dozen). */
const CHILDREN_MAX = 1_024;
/** Threads read per process; a JVM has a few dozen, so this only guards against runaways. */
const THREADS_MAX = 4_096;

let ticksPerSecond: number | undefined;
/** USER_HZ, the unit of /proc's CPU times (100 on every mainstream Linux; asked once to be sure). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5_000 });
    const n = Number(r.stdout?.trim());
    ticksPerSecond = r.status === 0 && Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** utime + stime (fields 14 and 15) of a /proc/.../stat line, in seconds. */
function statCpuSeconds(stat: string): number | null {
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // field 3 (state) is index 0
  return Number.isFinite(ticks) ? ticks / clockTicks() : null;
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** User + system CPU seconds used so far by every thread of process pid. */
export function processCpuSeconds(pid: number): number | null {
  const stat = readText(`/proc/${pid}/stat`);
  return stat === null ? null : statCpuSeconds(stat);
}

/** The pids of this process's children (from every thread's /proc/.../children); [] without /proc. */
export function childPids(): number[] {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${process.pid}/task`).slice(0, THREADS_MAX);
  } catch {
    return [];
  }
  const pids = new Set<number>();
  for (const t of tids) {
    const text = readText(`/proc/${process.pid}/task/${t}/children`) ?? '';
    for (const p of text.trim().split(/\s+/)) if (p !== '' && pids.size < CHILDREN_MAX) pids.add(Number(p));
  }
  return [...pids];
}

/** VmRSS of process pid in bytes, null when /proc is absent, the process is gone or the line is missing (a zombie). */
export function rssBytesOf(pid: number): number | null {
  const status = readText(`/proc/${pid}/status`);
  const m = status === null ? null : /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m === null ? null : Number(m[1]) * 1_024;
}
