/**
 * Issue #15, "cost as state grows", end to end on real servers: a run populates 5,000 znodes
 * with multi batches, holds 50 sessions spread over every member (3 voters and an observer)
 * with 10 watches each, writes to watched znodes in its window, and samples every server's
 * memory through the run; results.json (written and read back through its validator) has the
 * create rate, the sessions and watches with their events, and RSS samples of every server.
 * One-shot watches fire once however often their znode changes, persistent ones on every
 * change: the event counts tell the modes apart. The same on Apache ZooKeeper 3.8 (addWatch,
 * opcode 106, included), where the event loop is — and never 0.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/client/index.js';
import { localDriver, zookeeperDriver, zookeeperMissing, type EnsembleDriver, type EnsembleHandle } from '../../src/harness/drivers/index.js';
import { LargeState, populatePath } from '../../src/harness/load/state/index.js';
import { loadTargetOf } from '../../src/harness/drivers/probe.js';
import { childPids } from '../../src/harness/measure/proc-stats.js';
import { BENCH_BASE_CONFIG } from '../../src/harness/runner/run.js';
import { nativeLoadDriver } from '../../src/harness/load/native/index.js';
import { RESOURCE_METRICS } from '../../src/harness/measure/resources-summary.js';
import { writeReports } from '../../src/harness/report/index.js';
import { RESULTS_SCHEMA_VERSION, type ResultsFile, type RunResult } from '../../src/harness/report/results.js';
import { readResults } from '../../src/harness/report/validate.js';
import type { ProgressSink } from '../../src/harness/runner/progress.js';
import { runOne, type RunWatcher } from '../../src/harness/runner/run.js';
import { expandRuns, parseScenario } from '../../src/harness/scenario/index.js';
import { defaultWorkload } from '../../src/harness/scenario/schema.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/large-state.yaml', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-large-state-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Watched znodes the test writes to, each twice, once the window is open. */
const WRITTEN = 100;
const WRITE_ROUNDS = 2;

/** Phases as the terminal would show them. */
function recordingProgress(phases: string[]): ProgressSink {
  return { runStarted: () => undefined, phase: (p) => phases.push(p), liveOps: () => undefined, measured: () => undefined, note: (t) => phases.push(`note: ${t}`), runDone: () => undefined, close: () => undefined };
}

/** Sets the first WRITTEN populated znodes WRITE_ROUNDS times when the window opens, from a session of its own. */
class WatchedWriter implements RunWatcher {
  private handle: EnsembleHandle | null = null;
  written: Promise<number> | null = null;

  ensembleUp(handle: EnsembleHandle): void {
    this.handle = handle;
  }

  windowStarted(): void {
    const written = this.write(this.handle!.connectString());
    written.catch(() => undefined); // awaited (and so reported) by the test after the run
    this.written = written;
  }

  leader(): void {}
  second(): void {}
  async ensembleDown(): Promise<void> {}

  private async write(connectString: string): Promise<number> {
    const client = await ZkClient.connect({ connectString });
    let n = 0;
    try {
      // Pipelined, a round at a time: done within the window even where every write waits for an fsync.
      for (let round = 0; round < WRITE_ROUNDS; round++) {
        const stats = await Promise.all(Array.from({ length: WRITTEN }, (_, i) => client.setData(populatePath(i), Buffer.from(`round ${round}`))));
        n += stats.length;
      }
    } finally {
      await client.close();
    }
    return n;
  }
}

/** Runs the fixture (edited by `edit`) with `driver`; returns the run as results.json holds it after a write and a validated read. */
async function bench(name: string, edit: (yaml: string) => string, driver: EnsembleDriver): Promise<{ run: RunResult; phases: string[]; written: number; out: string }> {
  const scenario = parseScenario(edit(fs.readFileSync(FIXTURE, 'utf8')), FIXTURE);
  const [plan] = expandRuns(scenario);
  const out = path.join(tmp, name);
  const phases: string[] = [];
  const writer = new WatchedWriter();
  const result = await runOne(plan!, { dir: path.join(out, 'run'), resultsDir: out, ensembleDriver: driver, loadDriver: nativeLoadDriver, progress: recordingProgress(phases), watcher: writer });
  const results: ResultsFile = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'zablab', version: 'test' },
    createdAt: new Date().toISOString(),
    host: { cpus: os.cpus().length, platform: os.platform(), node: process.version },
    scenarios: [{ name: scenario.name, description: scenario.description, source: scenario.source }],
    runs: [result],
  };
  writeReports(out, results);
  const run = readResults(out).runs[0]!;
  expect(run.status, run.error).toBe('ok');
  expect(writer.written, 'the window never opened').not.toBeNull();
  return { run, phases, written: await writer.written!, out };
}

/** What every large-state run must show, whatever the server program. */
function expectLargeState(run: RunResult, populate: number, sessions: number, watchesPerSession: number, members: number): void {
  const p = run.populate!;
  expect(p).toMatchObject({ znodes: populate, created: populate, existing: 0, root: '/zablab-populate', opsPerMulti: 1_000, multis: Math.ceil(populate / 1_000) });
  expect(p.durationMs).toBeGreaterThan(0);
  expect(p.createsPerSec).toBeGreaterThan(100);
  // The rate is of the unrounded duration; durationMs is rounded to the ms.
  expect(Math.abs(p.createsPerSec - (p.created / p.durationMs) * 1_000)).toBeLessThanOrEqual(p.createsPerSec / 100);
  const s = run.sessions!;
  expect(s).toMatchObject({ sessions, opened: sessions, workers: 1, members, watchesPerSession, watches: sessions * watchesPerSession, expired: 0 });
  expect(s.openMs).toBeGreaterThan(0);
  expect(s.watchMs).toBeGreaterThan(0);
  // The sessions went round-robin over every member, observers included: each held its share while the servers were sampled.
  for (let id = 1; id <= members; id++) {
    const connections = run.metrics.filter((m) => m.id === id).map((m) => m.values['num_alive_connections'] ?? 0);
    expect(Math.max(...connections), `server ${id}'s connections`).toBeGreaterThanOrEqual(Math.floor(sessions / members));
  }
  // Every server's RSS, sampled about once a second from before the populate to after the window.
  const r = run.resources!;
  expect(r.rss.map((x) => x.id)).toEqual(Array.from({ length: members }, (_, i) => i + 1));
  for (const series of r.rss) {
    expect(series.samples.length, `server ${series.id}'s RSS samples`).toBeGreaterThanOrEqual(4);
    expect(series.samples.every((x) => x.bytes > 10 * 1024 * 1024)).toBe(true);
    expect(series.samples[0]!.t).toBeLessThan(0);
    expect(series.samples.at(-1)!.t).toBeGreaterThan(2);
  }
  for (const server of r.servers) {
    expect(server.rssSource).toBe('proc');
    expect(server.rssBytesMax).toBe(Math.max(...r.rss.find((x) => x.id === server.id)!.samples.map((x) => x.bytes)));
    expect(server.rssBytesEnd).toBe(r.rss.find((x) => x.id === server.id)!.samples.at(-1)!.bytes);
  }
}

describe('large state on zablab (driver local)', () => {
  it('one-shot watches: 5,000 znodes, 50 sessions x 10 watches over 3 voters + 1 observer; each watch fires once', async () => {
    const { run, phases, written, out } = await bench('local-oneshot', (y) => y, localDriver());
    expect(phases).toEqual(expect.arrayContaining(['populating 5000 znodes', 'opening 50 sessions', 'setting 500 oneShot watches']));
    expect(phases.indexOf('setting 500 oneShot watches')).toBeLessThan(phases.indexOf('warm-up'));
    expect(written).toBe(WRITTEN * WRITE_ROUNDS);
    expectLargeState(run, 5_000, 50, 10, 4);
    // Znodes 0..99 are watched by sessions 0..9, ten each: 100 watches, each fired by the first write only.
    expect(run.sessions!.watchEvents).toBe(WRITTEN);
    // Heap and event-loop delay from every zablab server's mntr; the summary is the highest sample.
    for (const server of run.resources!.servers) {
      const values = (key: string): number[] => run.metrics.filter((m) => m.id === server.id && m.values[key] !== undefined).map((m) => m.values[key]!);
      expect(values(RESOURCE_METRICS.eventLoopDelayMaxMs).length, `server ${server.id}'s event-loop samples`).toBeGreaterThanOrEqual(3);
      expect(server.eventLoopDelayMsMax).toBe(Math.max(...values(RESOURCE_METRICS.eventLoopDelayMaxMs)));
      expect(server.eventLoopDelayP99MsMax).toBe(Math.max(...values(RESOURCE_METRICS.eventLoopDelayP99Ms)));
      expect(server.eventLoopDelayMsMax!).toBeGreaterThan(0);
      // Populating thousands of znodes makes garbage: every server reports some collector pause.
      expect(server.gcPauseMsMax).toBe(Math.max(...values(RESOURCE_METRICS.gcPauseMaxMs)));
      expect(server.gcPauseMsMax!).toBeGreaterThan(0);
      expect(server.heapUsedBytesMax!).toBeGreaterThan(1024 * 1024);
      // The server's own RSS and the harness's reading of /proc are of the same process.
      const own = Math.max(...values(RESOURCE_METRICS.rssBytes));
      expect(own / server.rssBytesMax!).toBeGreaterThan(0.5);
      expect(own / server.rssBytesMax!).toBeLessThan(2);
    }
    const summary = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('## Large state');
    expect(summary).toMatch(/\| large-state-e2e +\| +5,000 \|/);
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('data-testid="chart-rss-0"');
  }, 60_000);

  it('persistent watches: every change of a watched znode is an event', async () => {
    const { run, written } = await bench('local-persistent', (y) => y.replace('watchMode: oneShot', 'watchMode: persistent'), localDriver());
    expect(written).toBe(WRITTEN * WRITE_ROUNDS);
    expectLargeState(run, 5_000, 50, 10, 4);
    expect(run.sessions!.watchMode).toBe('persistent');
    expect(run.sessions!.watchEvents).toBe(WRITTEN * WRITE_ROUNDS);
  }, 60_000);
});

describe('large state on Apache ZooKeeper 3.8 (driver zookeeper)', () => {
  it('populates, holds sessions with persistent watches (addWatch) and samples every JVM; no event loop: —', async () => {
    expect(zookeeperMissing(), 'Apache ZooKeeper must be installed for this test (see ENVIRONMENT: apt-get install zookeeper)').toBeNull();
    const edit = (y: string): string =>
      y
        .replace('driver: local, voters: 3, observers: 1', 'driver: zookeeper, voters: 3, observers: 0')
        .replace('populate: 5000', 'populate: 2000')
        .replace('sessions: 50', 'sessions: 30')
        .replace('watches: 10', 'watches: 5')
        .replace('watchMode: oneShot', 'watchMode: persistent');
    const { run, written } = await bench('zookeeper', edit, zookeeperDriver({ fastStart: true }));
    expect(run.ensemble.program).toBe('zookeeper');
    expect(written).toBe(WRITTEN * WRITE_ROUNDS);
    expectLargeState(run, 2_000, 30, 5, 3);
    // Znodes 0..99 are watched by sessions 0..19, five each: 100 persistent watches, each fired by both writes.
    expect(run.sessions!.watchEvents).toBe(WRITTEN * WRITE_ROUNDS);
    for (const server of run.resources!.servers) {
      expect(server.eventLoopDelayMsMax).toBeNull();
      expect(server.eventLoopDelayP99MsMax).toBeNull();
      expect(server.gcPauseMsMax).toBeNull();
      expect(server.heapUsedBytesMax).toBeNull();
    }
  }, 60_000);
});

/** This process's children running a state worker. */
function stateWorkers(): number[] {
  return childPids().filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('state/worker');
    } catch {
      return false;
    }
  });
}

describe('large state under Ctrl-C', () => {
  it('an abort during a long populate ends it at once and leaves no worker behind', async () => {
    const handle = await localDriver().up({ voters: 1, observers: 0, config: { ...BENCH_BASE_CONFIG }, dir: path.join(tmp, 'abort') });
    try {
      const abort = new AbortController();
      const phases: string[] = [];
      const building = LargeState.build(loadTargetOf(handle), 1, { ...defaultWorkload(), populate: 2_000_000 }, (p) => phases.push(p), abort.signal);
      // Let it get going: the worker connects and sends its first batches.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(phases).toEqual(['populating 2000000 znodes']);
      expect(stateWorkers()).toHaveLength(1);
      const t0 = Date.now();
      abort.abort();
      await expect(building).rejects.toThrow(/state worker 0 \(pid \d+\) exited with SIGKILL/);
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(stateWorkers()).toEqual([]);
      // What it had created is there; far from all of it.
      const client = await ZkClient.connect({ connectString: handle.connectString() });
      try {
        const buckets = (await client.getChildren('/zablab-populate')).children.length;
        expect(buckets).toBe(200);
        expect((await client.getChildren(populatePath(1_999_999).replace(/\/n\d+$/, ''))).children).toEqual([]);
      } finally {
        await client.close();
      }
    } finally {
      await handle.down();
    }
  }, 60_000);
});
