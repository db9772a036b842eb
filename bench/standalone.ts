/**
 * Standalone benchmark: getData and setData throughput and latency of one zablab server and
 * one Apache ZooKeeper 3.8 server, on the same machine, same zoo.cfg, same filesystem, in one
 * run, driven by the same unmodified client (node-zookeeper-client) with many requests in flight.
 *
 *   npm run build && npx tsx bench/standalone.ts [--duration 10] [--warmup 3] [--clients 8]
 *     [--inflight 128] [--value-size 100] [--keys 1000] [--servers zablab,zookeeper] [--out DIR]
 *
 * Prints a table with the ratio zablab/ZooKeeper per metric and writes DIR/standalone.json.
 * Servers run one after the other (never side by side), each on a fresh temp dataDir, with
 * forceSync=yes (ZooKeeper's default): every write is fsynced before it is acknowledged.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startZablab } from '../test/helpers/zablab.js';
import { startZooKeeper, zookeeperAvailable, type ServerHandle } from '../test/helpers/zookeeper.js';
import type { LatencySummary } from './lib/stats.js';
import { ZkLoad, type BenchOp, type PhaseResult } from './lib/zk-load.js';

const SCHEMA = 'zablab.bench.standalone/v1';
const SERVER_NAMES = ['zablab', 'zookeeper'] as const;
type ServerName = (typeof SERVER_NAMES)[number];
const OPS: BenchOp[] = ['setData', 'getData'];

/** The zoo.cfg entries both servers get (on top of the helpers' shared defaults). */
const SERVER_CONFIG: Record<string, string> = {
  tickTime: '2000',
  forceSync: 'yes',
  globalOutstandingLimit: '1000',
  maxClientCnxns: '60',
  snapCount: '100000',
};

class UsageError extends Error {
  readonly code = 'ZABLAB_BENCH_USAGE';
}

interface Options {
  durationSec: number;
  warmupSec: number;
  clients: number;
  inflight: number;
  valueSize: number;
  keys: number;
  servers: ServerName[];
  out: string;
}

function intOption(values: Record<string, unknown>, name: string, min: number, max: number): number {
  const raw = values[name];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got '${String(raw)}'`);
  }
  return n;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      clients: { type: 'string', default: '8' },
      inflight: { type: 'string', default: '128' },
      'value-size': { type: 'string', default: '100' },
      keys: { type: 'string', default: '1000' },
      servers: { type: 'string', default: SERVER_NAMES.join(',') },
      out: { type: 'string', default: path.join('bench-results', new Date().toISOString().replace(/[:.]/g, '-')) },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      'usage: npx tsx bench/standalone.ts [--duration SEC] [--warmup SEC] [--clients N] [--inflight N]\n' +
        '         [--value-size BYTES] [--keys N] [--servers zablab,zookeeper] [--out DIR]',
    );
    process.exit(0);
  }
  const servers = values.servers.split(',').map((s) => s.trim());
  for (const s of servers) {
    if (!(SERVER_NAMES as readonly string[]).includes(s)) throw new UsageError(`--servers: unknown server '${s}' (known: ${SERVER_NAMES.join(', ')})`);
  }
  return {
    durationSec: intOption(values, 'duration', 1, 3_600),
    warmupSec: intOption(values, 'warmup', 0, 600),
    clients: intOption(values, 'clients', 1, 50), // ZooKeeper's maxClientCnxns is 60 per host
    inflight: intOption(values, 'inflight', 1, 10_000),
    valueSize: intOption(values, 'value-size', 0, 1_000_000),
    keys: intOption(values, 'keys', 1, 100_000),
    servers: servers as ServerName[],
    out: values.out,
  };
}

interface ServerRun {
  server: ServerName;
  phases: Partial<Record<BenchOp, PhaseResult>>;
  error: string | null;
}

function startServer(name: ServerName): Promise<ServerHandle> {
  switch (name) {
    case 'zablab':
      return startZablab({ config: SERVER_CONFIG });
    case 'zookeeper':
      return startZooKeeper({ config: SERVER_CONFIG });
  }
}

async function benchServer(name: ServerName, opts: Options): Promise<ServerRun> {
  const run: ServerRun = { server: name, phases: {}, error: null };
  if (name === 'zookeeper' && !zookeeperAvailable()) {
    run.error = 'Apache ZooKeeper is not installed (Debian package `zookeeper`, or set ZOOKEEPER_HOME)';
    return run;
  }
  console.error(`[${name}] starting`);
  const server = await startServer(name);
  let load: ZkLoad | null = null;
  try {
    load = await ZkLoad.open(server.connectString, { clients: opts.clients, keys: opts.keys, valueSize: opts.valueSize, root: '/bench' });
    for (const op of OPS) {
      if (opts.warmupSec > 0) {
        console.error(`[${name}] ${op}: warm-up ${opts.warmupSec} s`);
        await load.run(op, opts.warmupSec * 1_000, opts.inflight, server.pid);
      }
      console.error(`[${name}] ${op}: measuring ${opts.durationSec} s (${opts.clients} clients x ${opts.inflight} in flight)`);
      const result = await load.run(op, opts.durationSec * 1_000, opts.inflight, server.pid);
      run.phases[op] = result;
      console.error(`[${name}] ${op}: ${Math.round(result.throughputOpsPerSec)} ops/s, p99 ${(result.latency.p99Us / 1_000).toFixed(2)} ms, ${result.errors} errors`);
    }
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
    console.error(`[${name}] failed: ${run.error}`);
  } finally {
    await load?.close();
    await server.stop();
  }
  return run;
}

interface Ratio {
  throughput: number | null;
  p50: number | null;
  p99: number | null;
}

function ratios(runs: ServerRun[]): Partial<Record<BenchOp, Ratio>> {
  const z = runs.find((r) => r.server === 'zablab');
  const k = runs.find((r) => r.server === 'zookeeper');
  const out: Partial<Record<BenchOp, Ratio>> = {};
  for (const op of OPS) {
    const a = z?.phases[op];
    const b = k?.phases[op];
    const div = (x: number | undefined, y: number | undefined): number | null =>
      x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y) || y === 0 ? null : x / y;
    out[op] = {
      throughput: div(a?.throughputOpsPerSec, b?.throughputOpsPerSec),
      p50: div(a?.latency.p50Us, b?.latency.p50Us),
      p99: div(a?.latency.p99Us, b?.latency.p99Us),
    };
  }
  return out;
}

function printTable(runs: ServerRun[], r: Partial<Record<BenchOp, Ratio>>): void {
  const z = runs.find((x) => x.server === 'zablab');
  const k = runs.find((x) => x.server === 'zookeeper');
  const ms = (s: LatencySummary | undefined, key: 'p50Us' | 'p99Us'): string => (s ? (s[key] / 1_000).toFixed(2) : '-');
  const num = (v: number | undefined): string => (v === undefined ? '-' : Math.round(v).toLocaleString('en-US'));
  const ratio = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v.toFixed(2)}x`);
  const rows: string[][] = [['metric', 'zablab', 'zookeeper', 'zablab/zookeeper']];
  for (const op of OPS) {
    const a = z?.phases[op];
    const b = k?.phases[op];
    rows.push([`${op} throughput (ops/s)`, num(a?.throughputOpsPerSec), num(b?.throughputOpsPerSec), ratio(r[op]?.throughput)]);
    rows.push([`${op} p50 latency (ms)`, ms(a?.latency, 'p50Us'), ms(b?.latency, 'p50Us'), ratio(r[op]?.p50)]);
    rows.push([`${op} p99 latency (ms)`, ms(a?.latency, 'p99Us'), ms(b?.latency, 'p99Us'), ratio(r[op]?.p99)]);
    rows.push([`${op} errors`, String(a?.errors ?? '-'), String(b?.errors ?? '-'), '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  for (const run of runs) if (run.error !== null) console.log(`${run.server}: ${run.error}`);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const runs: ServerRun[] = [];
  for (const name of opts.servers) runs.push(await benchServer(name, opts));
  const r = ratios(runs);
  printTable(runs, r);
  const result = {
    schema: SCHEMA,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memBytes: os.totalmem(), platform: `${os.platform()} ${os.release()}`, node: process.version, tmpdir: os.tmpdir() },
    options: opts,
    serverConfig: SERVER_CONFIG,
    client: 'node-zookeeper-client (closed loop, all sessions in this one process)',
    runs,
    ratios: r,
  };
  fs.mkdirSync(opts.out, { recursive: true });
  const file = path.join(opts.out, 'standalone.json');
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${file}`);
  if (runs.some((x) => x.error !== null)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? `error: ${err.message}` : err);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
