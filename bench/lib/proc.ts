/**
 * CPU time from Linux's /proc: of a whole process, of each of its threads, and of the machine,
 * and this process's children. The bench reads these around a measured phase to tell whether
 * the server (or the client) was the limit. Every reader returns null (or nothing) where /proc
 * is absent or the process is gone.
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

export interface ThreadCpu {
  tid: number;
  /** The thread's name (/proc/.../comm): e.g. `node` for Node's main thread, a JVM thread's name. */
  name: string;
  cpuSeconds: number;
}

/** CPU seconds per thread of process pid, keyed by thread id. */
export function threadCpuSeconds(pid: number): Map<number, ThreadCpu> | null {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`).slice(0, THREADS_MAX);
  } catch {
    return null;
  }
  const out = new Map<number, ThreadCpu>();
  for (const t of tids) {
    const stat = readText(`/proc/${pid}/task/${t}/stat`);
    const cpu = stat === null ? null : statCpuSeconds(stat);
    if (cpu === null) continue; // the thread ended between readdir and read
    const name = (readText(`/proc/${pid}/task/${t}/comm`) ?? '?').trim();
    out.set(Number(t), { tid: Number(t), name, cpuSeconds: cpu });
  }
  return out;
}

/** The thread that used the most CPU between two threadCpuSeconds() readings. */
export function busiestThread(before: Map<number, ThreadCpu>, after: Map<number, ThreadCpu>): ThreadCpu | null {
  let best: ThreadCpu | null = null;
  for (const [tid, a] of after) {
    const used = a.cpuSeconds - (before.get(tid)?.cpuSeconds ?? 0);
    if (best === null || used > best.cpuSeconds) best = { tid, name: a.name, cpuSeconds: used };
  }
  return best;
}

export interface MachineCpu {
  /** Seconds of CPU time, summed over all CPUs, spent not idle (idle and iowait excluded). */
  busySeconds: number;
  totalSeconds: number;
}

/** The machine's CPU counters (first line of /proc/stat). */
export function machineCpu(): MachineCpu | null {
  const text = readText('/proc/stat');
  const line = text?.split('\n', 1)[0];
  if (line === undefined || !line.startsWith('cpu ')) return null;
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (v.length < 8 || v.some((x) => !Number.isFinite(x))) return null;
  const total = v.reduce((a, b) => a + b, 0);
  const idle = v[3]! + v[4]!;
  return { busySeconds: (total - idle) / clockTicks(), totalSeconds: total / clockTicks() };
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

export class PinError extends Error {
  readonly code = 'ZABLAB_BENCH_PIN';
}

/** Pins every thread of pid to a CPU list (Linux taskset), e.g. `0` or `1-3`. */
export function pinToCpus(pid: number, cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim();
    throw new PinError(`cannot pin pid ${pid} to CPUs '${cpus}' with taskset: ${why}; check the CPU list against nproc, and that taskset (util-linux) is installed`);
  }
}
