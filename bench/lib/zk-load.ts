/**
 * Closed-loop load with node-zookeeper-client: C sessions, each keeping N requests in flight
 * on its one connection (the client pipelines them), against any ZooKeeper-protocol server.
 */
import { createRequire } from 'node:module';
import { LatencyRecorder, type LatencySummary } from './stats.js';

interface NzkError extends Error {
  code: number;
}
type Cb = (error: NzkError | null) => void;
interface NzkClient {
  connect(): void;
  close(): void;
  once(event: 'connected' | 'disconnected', listener: () => void): void;
  create(path: string, data: Buffer, cb: Cb): void;
  getData(path: string, cb: Cb): void;
  setData(path: string, data: Buffer, version: number, cb: Cb): void;
}
interface NzkModule {
  createClient(connectString: string, options: { sessionTimeout: number; spinDelay: number; retries: number }): NzkClient;
  Exception: { NODE_EXISTS: number };
}
const nzk = createRequire(import.meta.url)('node-zookeeper-client') as NzkModule;

const CONNECT_TIMEOUT_MS = 15_000;
const DRAIN_TIMEOUT_MS = 30_000;
const SESSION_TIMEOUT_MS = 30_000;

export type BenchOp = 'getData' | 'setData';

export interface PhaseResult {
  op: BenchOp;
  durationMs: number;
  completed: number;
  errors: number;
  /** The first few distinct error messages, for the report. */
  errorSamples: string[];
  throughputOpsPerSec: number;
  latency: LatencySummary;
  /** CPU time of this (client) process over the phase, in cores (1.0 = one core busy). */
  clientCpuCores: number;
  /** CPU time of the server process over the phase, in cores; null where /proc is not readable. */
  serverCpuCores: number | null;
}

function connectOne(connectString: string): Promise<NzkClient> {
  const client = nzk.createClient(connectString, { sessionTimeout: SESSION_TIMEOUT_MS, spinDelay: 100, retries: 0 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`could not connect to ${connectString} within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

function call(f: (cb: Cb) => void, tolerate: number[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    f((err) => {
      if (err && !tolerate.includes(err.code)) reject(err);
      else resolve();
    });
  });
}

/** User+system CPU ticks of a process, from /proc (Linux); null elsewhere. */
async function procCpuSeconds(pid: number): Promise<number | null> {
  try {
    const { readFile } = await import('node:fs/promises');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) counted from the state field (3): indexes 11 and 12.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

export class ZkLoad {
  private constructor(
    private readonly clients: NzkClient[],
    private readonly paths: string[],
    private readonly value: Buffer,
  ) {}

  /** Connects `clients` sessions and creates `keys` znodes of `valueSize` bytes under `root`. */
  static async open(connectString: string, opts: { clients: number; keys: number; valueSize: number; root: string }): Promise<ZkLoad> {
    const clients: NzkClient[] = [];
    try {
      for (let i = 0; i < opts.clients; i++) clients.push(await connectOne(connectString));
      const value = Buffer.alloc(opts.valueSize, 0x61);
      const first = clients[0]!;
      const exists = [nzk.Exception.NODE_EXISTS];
      await call((cb) => first.create(opts.root, Buffer.alloc(0), cb), exists);
      const paths = Array.from({ length: opts.keys }, (_, i) => `${opts.root}/k${String(i).padStart(6, '0')}`);
      await Promise.all(paths.map((p) => call((cb) => first.create(p, value, cb), exists)));
      return new ZkLoad(clients, paths, value);
    } catch (err) {
      for (const c of clients) c.close();
      throw err;
    }
  }

  /** Runs `op` for durationMs with `inflight` requests outstanding per session, then drains. */
  async run(op: BenchOp, durationMs: number, inflight: number, serverPid: number): Promise<PhaseResult> {
    const latency = new LatencyRecorder();
    const errorSamples = new Set<string>();
    let completed = 0;
    let errors = 0;
    let outstanding = 0;
    let stopping = false;
    let nextKey = 0;
    let drained: () => void = () => undefined;
    const allDrained = new Promise<void>((resolve) => {
      drained = resolve;
    });

    const issue = (client: NzkClient): void => {
      if (stopping) {
        if (outstanding === 0) drained();
        return;
      }
      const path = this.paths[nextKey++ % this.paths.length]!;
      const startNs = process.hrtime.bigint();
      outstanding += 1;
      const done: Cb = (err) => {
        outstanding -= 1;
        if (!stopping) {
          if (err) {
            errors += 1;
            if (errorSamples.size < 5) errorSamples.add(err.message);
          } else {
            completed += 1;
            latency.record(Number(process.hrtime.bigint() - startNs) / 1_000);
          }
        }
        issue(client);
      };
      if (op === 'getData') client.getData(path, done);
      else client.setData(path, this.value, -1, done);
    };

    const serverCpuStart = await procCpuSeconds(serverPid);
    const cpuStart = process.cpuUsage();
    const startMs = performance.now();
    for (const client of this.clients) for (let i = 0; i < inflight; i++) issue(client);
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    stopping = true;
    const elapsedMs = performance.now() - startMs;
    const cpu = process.cpuUsage(cpuStart);
    const serverCpuEnd = await procCpuSeconds(serverPid);

    if (outstanding > 0) {
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_MS).unref());
      await Promise.race([allDrained, timeout]);
    }
    return {
      op,
      durationMs: Math.round(elapsedMs),
      completed,
      errors,
      errorSamples: [...errorSamples],
      throughputOpsPerSec: completed / (elapsedMs / 1_000),
      latency: latency.summary(),
      clientCpuCores: (cpu.user + cpu.system) / 1_000 / elapsedMs,
      serverCpuCores: serverCpuStart === null || serverCpuEnd === null ? null : (serverCpuEnd - serverCpuStart) / (elapsedMs / 1_000),
    };
  }

  /** Closes every session (closeSession), waiting briefly for each to go. */
  async close(): Promise<void> {
    await Promise.all(
      this.clients.map(
        (c) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 5_000);
            c.once('disconnected', () => {
              clearTimeout(timer);
              resolve();
            });
            c.close();
          }),
      ),
    );
  }
}
