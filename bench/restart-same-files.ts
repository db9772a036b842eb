/**
 * Restart to serving on the same files. zablab writes a data dir of N znodes of 128 B and is
 * SIGKILLed; then zablab and Apache ZooKeeper 3.8 each start on a fresh copy of that dir,
 * alternately, --runs times (ZooKeeper reads zablab's snapshot and txn log: the formats are
 * ZooKeeper's). Measured: process start → `srvr` answers standalone, and RSS one second later.
 * Both load the same snapshot and replay the same log tail, so the comparison does not depend
 * on where each program's randomised snapCount happened to put its newest snapshot (which
 * bench/large-state-standalone.yaml, where each program writes its own files, does).
 *
 *   npm run build && npx tsx bench/restart-same-files.ts [--znodes 1000000] [--multi] [--runs 3] [--snap-count 100000]
 *
 * Without --multi the znodes are single creates, 2,000 in flight, 10,000 per parent (what
 * node-zookeeper-client did in issue #15's measurement); with --multi they are created as
 * `workload.populate` does (multis of 1,000), so a restart replays them from the log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ZkClient } from '../src/client/index.js';
import { findZooKeeper } from '../src/harness/drivers/zookeeper.js';
import { fourLetterWord, parseSrvr } from '../src/harness/ensemble/index.js';
import { allocatePorts } from '../src/harness/ensemble/layout.js';
import { launchCommand, zablabCliPath, type ServerProgram } from '../src/harness/ensemble/program.js';
import { populate } from '../src/harness/load/state/populate.js';
import { rssBytesOf } from '../src/harness/measure/proc-stats.js';

const { values } = parseArgs({
  options: {
    znodes: { type: 'string', default: '1000000' },
    multi: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    'snap-count': { type: 'string', default: '100000' },
  },
});
const znodes = Number(values.znodes);
const runs = Number(values.runs);
const VALUE = Buffer.alloc(128, 0x70);
const IN_FLIGHT = 2_000;
const PER_PARENT = 10_000;

if (!fs.existsSync(zablabCliPath())) throw new Error(`${zablabCliPath()} is missing: run npm run build first`);
const zk = findZooKeeper();
if (!zk.ok) throw new Error(`Apache ZooKeeper: ${zk.why}`);
const programs: [string, ServerProgram][] = [
  ['zablab', { kind: 'zablab' }],
  ['ZooKeeper', { kind: 'zookeeper', classpath: zk.classpath, fastStart: false }],
];

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-restart-same-files-'));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});

/** A server dir holding zoo.cfg (dataDir `data` inside it). */
function writeConfig(dir: string, clientPort: number, adminPort: number): string {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const cfg = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(
    cfg,
    [`tickTime=2000`, `dataDir=${path.join(dir, 'data')}`, `clientPort=${clientPort}`, `admin.serverPort=${adminPort}`, `snapCount=${values['snap-count']}`, `4lw.commands.whitelist=*`, ''].join('\n'),
  );
  return cfg;
}

function start(program: ServerProgram, dir: string, cfg: string): ChildProcess {
  const cmd = launchCommand(program, dir, cfg);
  const out = fs.openSync(path.join(dir, 'server.log'), 'a');
  const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function servingStandalone(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before it served`);
    const answer = await fourLetterWord('127.0.0.1', port, 'srvr', 1_000).catch(() => '');
    const srvr = answer === '' ? null : parseSrvr(answer);
    if (srvr?.serving === true && srvr.mode === 'standalone') return;
    await sleep(10);
  }
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}


async function fill(port: number): Promise<void> {
  const client = await ZkClient.connect({ connectString: `127.0.0.1:${port}`, maxInFlight: IN_FLIGHT });
  try {
    if (values.multi) {
      await populate([client], znodes, VALUE.length);
      return;
    }
    for (let b = 0; b * PER_PARENT < znodes; b++) await client.create(`/b${b}`);
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < znodes; i = next++) await client.create(`/b${Math.floor(i / PER_PARENT)}/n${i}`, VALUE);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  } finally {
    await client.close();
  }
}

const [clientPort, adminPort] = await allocatePorts(1, undefined, 2);
const pristine = path.join(work, 'pristine');
const cfg = writeConfig(pristine, clientPort!, adminPort!);
const writer = start({ kind: 'zablab' }, pristine, cfg);
await servingStandalone(clientPort!, writer);
const began = performance.now();
await fill(clientPort!);
console.log(`zablab wrote ${znodes} znodes (${values.multi ? 'multis of 1,000' : 'single creates'}) in ${Math.round(performance.now() - began)} ms; SIGKILL`);
await stop(writer, 'SIGKILL');
const files = fs.readdirSync(path.join(pristine, 'data', 'version-2')).filter((f) => !f.endsWith('.tmp'));
console.log(`files: ${files.sort().join(' ')}`);

const results = new Map<string, { ms: number[]; rss: number[] }>(programs.map(([name]) => [name, { ms: [], rss: [] }]));
for (let run = 1; run <= runs; run++) {
  for (const [name, program] of programs) {
    const dir = path.join(work, `run-${run}-${program.kind}`);
    fs.cpSync(pristine, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'server.log'), { force: true });
    const runCfg = writeConfig(dir, clientPort!, adminPort!);
    const t0 = performance.now();
    const child = start(program, dir, runCfg);
    await servingStandalone(clientPort!, child);
    const ms = Math.round(performance.now() - t0);
    await sleep(1_000);
    const rss = Math.round((rssBytesOf(child.pid!) ?? 0) / (1024 * 1024));
    await stop(child, 'SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
    results.get(name)!.ms.push(ms);
    results.get(name)!.rss.push(rss);
    console.log(`run ${run} ${name}: serving after ${ms} ms, RSS ${rss} MB`);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [ours, theirs] = [results.get('zablab')!, results.get('ZooKeeper')!];
console.log(`\n| | zablab | ZooKeeper 3.8 | zablab / ZooKeeper |\n|---|---:|---:|---:|`);
console.log(`| restart to serving, median of ${runs} | ${median(ours.ms)} ms | ${median(theirs.ms)} ms | ${(median(ours.ms) / median(theirs.ms)).toFixed(2)}× |`);
console.log(`| RSS 1 s after serving, median | ${median(ours.rss)} MB | ${median(theirs.rss)} MB | ${(median(ours.rss) / median(theirs.rss)).toFixed(2)}× |`);
