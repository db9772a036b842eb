/**
 * A realistic results.json for report tests, built deterministically (no randomness):
 * - scenario `readmix`: a matrix of observers [0, 2] × readPct [50, 90] on 3 voters (4 runs),
 *   one of them with a write breakdown from spans and one with server metrics;
 * - scenario `leader-kill`: 3 repeats of killing the leader at 5 s and restarting it at 12 s
 *   under an 80 % read load; repeats 1 and 2 succeed (recovery, leader changes, errors,
 *   metrics), repeat 3 failed before it measured anything.
 * Every run has 100 ms slots spread evenly from its timeline (schemaVersion 2);
 * makeResultsFixtureV1 is the same file as schemaVersion 1 wrote it, without them.
 * Every call returns a fresh object that a test may change.
 */
import type { OpKind, WorkloadSection } from '../../src/harness/scenario/types.js';
import type { Percentiles, TimelinePoint } from '../../src/harness/load/types.js';
import {
  RESULTS_SCHEMA_VERSION,
  type MetricSample,
  type RecoveryResult,
  type ResultsFile,
  type RunResult,
  type ThroughputSlots,
  type WriteBreakdown,
} from '../../src/harness/report/results.js';

export const FIXTURE_DURATION_MS = 20_000;

function workload(readPct: number): WorkloadSection {
  return {
    readPct,
    reads: { getData: 1 },
    writes: { setData: 1 },
    valueSize: 256,
    keys: 1_000,
    clients: 2,
    connections: 8,
    pipelining: 16,
    rate: null,
    durationMs: FIXTURE_DURATION_MS,
    warmupMs: 5_000,
  };
}

function percentiles(count: number, p50: number, p99: number, p999: number): Percentiles {
  return { count, mean: p50 * 1.2, p50, p90: Number((p50 * 2).toFixed(3)), p99, p999, max: Number((p999 * 3).toFixed(3)) };
}

/** Per-second points: a steady rate with a small wobble, a dip after each kill. */
function timeline(opsPerSec: number, readPct: number, p50: number, p99: number, kills: readonly number[] = []): TimelinePoint[] {
  const points: TimelinePoint[] = [];
  for (let t = 0; t < FIXTURE_DURATION_MS / 1_000; t++) {
    const dip = kills.some((k) => t === Math.floor(k / 1_000)) ? 0.05 : kills.some((k) => t === Math.floor(k / 1_000) + 1) ? 0.6 : 1;
    const ops = Math.round(opsPerSec * dip * (1 + 0.03 * Math.sin(t)));
    const reads = Math.round((ops * readPct) / 100);
    const errors = dip < 0.1 ? 40 : 0;
    const lat99 = Number((p99 / dip ** 2).toFixed(3));
    points.push({
      t,
      ops,
      errors,
      p50,
      p99: lat99,
      byOp: {
        getData: { ops: reads, errors: 0, p50: Number((p50 * 0.8).toFixed(3)), p99: Number((lat99 * 0.7).toFixed(3)) },
        setData: { ops: ops - reads, errors, p50: Number((p50 * 1.6).toFixed(3)), p99: lat99 },
      },
    });
  }
  return points;
}

function metrics(ids: readonly number[], outstanding: number): MetricSample[] {
  const out: MetricSample[] = [];
  for (let t = -2; t < FIXTURE_DURATION_MS / 1_000; t++) {
    for (const id of ids) {
      out.push({ t, id, values: { zk_outstanding_requests: Math.round(outstanding * (1 + 0.2 * Math.cos(t + id))), zk_avg_latency: 1 + id * 0.1, zk_znode_count: 1_005 } });
    }
  }
  return out;
}

function breakdown(): WriteBreakdown {
  const stage = (stage: string, serverId: number | null, role: string | null, meanMs: number): WriteBreakdown['stages'][number] => ({
    stage,
    serverId,
    role,
    count: 4_000,
    meanMs,
    p50Ms: Number((meanMs * 0.9).toFixed(3)),
    p99Ms: Number((meanMs * 3).toFixed(3)),
  });
  return {
    writes: 4_000,
    stages: [
      stage('request', 1, 'leader', 3.1),
      stage('queue', 1, 'leader', 0.21),
      stage('quorum', 1, 'leader', 1.84),
      stage('commitSent', 1, 'leader', 0.05),
      stage('apply', 1, 'leader', 0.12),
      ...[2, 3].flatMap((id) => [stage('append', id, 'follower', 0.08), stage('fsync', id, 'follower', 1.2), stage('ack', id, 'follower', 1.35), stage('apply', id, 'follower', 0.11)]),
      ...[4, 5].map((id) => stage('apply', id, 'observer', 0.1)),
    ],
  };
}

interface RunSpec {
  name: string;
  scenario: string;
  cell: RunResult['cell'];
  repeat: number;
  observers: number;
  readPct: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  p999: number;
}

function run(s: RunSpec): RunResult {
  const reads = (s.opsPerSec * s.readPct) / 100;
  const count = Math.round(s.opsPerSec * (FIXTURE_DURATION_MS / 1_000));
  const byOp: Partial<Record<OpKind, Percentiles>> = {
    getData: percentiles(Math.round((count * s.readPct) / 100), Number((s.p50 * 0.8).toFixed(3)), Number((s.p99 * 0.7).toFixed(3)), Number((s.p999 * 0.7).toFixed(3))),
    setData: percentiles(Math.round((count * (100 - s.readPct)) / 100), Number((s.p50 * 1.6).toFixed(3)), s.p99, s.p999),
  };
  return {
    name: s.name,
    scenario: s.scenario,
    cell: s.cell,
    repeat: s.repeat,
    status: 'ok',
    startedAt: `2025-03-01T12:${String(10 + s.repeat + s.observers * 2 + s.readPct / 10).padStart(2, '0')}:00.000Z`,
    ensemble: { driver: 'local', program: 'zablab', voters: 3, observers: s.observers, config: { tickTime: '200', snapCount: '10000' } },
    workload: workload(s.readPct),
    load: { driver: 'native', missedSlots: 0 },
    durationMs: FIXTURE_DURATION_MS,
    throughput: { opsPerSec: s.opsPerSec, byOp: { getData: reads, setData: s.opsPerSec - reads } },
    latencyMs: { ...percentiles(count, s.p50, s.p99, s.p999), byOp },
    errors: {},
    recovery: [],
    timeline: timeline(s.opsPerSec, s.readPct, s.p50, s.p99),
    leaderChanges: [{ atMs: -4_200, leader: 3 }],
    metrics: [],
    breakdown: null,
  };
}

function recovery(fault: RecoveryResult['fault'], target: string, serverId: number, atMs: number, r: Partial<RecoveryResult>): RecoveryResult {
  return { fault, target, serverId, atMs, leaderElectedMs: null, firstWriteMs: null, recovered90Ms: null, writeUnavailableMs: null, leaderBefore: 3, leaderAfter: 3, ...r };
}

function leaderKill(repeat: number, opsPerSec: number, electedMs: number, firstWriteMs: number, recovered90Ms: number, unavailableMs: number): RunResult {
  const r = run({ name: `leader-kill#${repeat}`, scenario: 'leader-kill', cell: {}, repeat, observers: 0, readPct: 80, opsPerSec, p50: 1.88, p99: 212.5, p999: 1_480 });
  r.timeline = timeline(opsPerSec, 80, 1.88, 4.5, [5_000]);
  r.errors = { CONNECTIONLOSS: 41, TIMEOUT: 3 };
  r.recovery = [
    recovery('kill', 'leader', 3, 5_000, { leaderElectedMs: electedMs, firstWriteMs, recovered90Ms, writeUnavailableMs: unavailableMs, leaderBefore: 3, leaderAfter: 2 }),
    recovery('restart', 'last', 3, 12_000, { servingAgainMs: 2_900, writeUnavailableMs: 0, leaderBefore: 2, leaderAfter: 2 }),
  ];
  r.leaderChanges = [
    { atMs: -4_200, leader: 3 },
    { atMs: 5_000, leader: null },
    { atMs: 5_000 + electedMs, leader: 2 },
  ];
  r.metrics = metrics([1, 2, 3], 40);
  return r;
}

function failedRun(): RunResult {
  const r = run({ name: 'leader-kill#3', scenario: 'leader-kill', cell: {}, repeat: 3, observers: 0, readPct: 80, opsPerSec: 0, p50: 0, p99: 0, p999: 0 });
  r.status = 'failed';
  r.error = 'the ensemble did not serve within 60000 ms: server 2 is looking (see s2/server.log)';
  r.durationMs = 0;
  r.throughput = { opsPerSec: 0, byOp: {} };
  r.latencyMs = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, byOp: {} };
  r.timeline = [];
  r.leaderChanges = [];
  return r;
}

/** The cells of `readmix`, in run order: observers, readPct, ops/s, p50, p99, p99.9. */
export const READMIX_CELLS = [
  [0, 50, 8_210.4, 1.52, 6.48, 12.9],
  [0, 90, 14_875.2, 0.94, 4.21, 9.87],
  [2, 50, 7_905.7, 1.61, 7.02, 14.3],
  [2, 90, 19_342.9, 0.81, 3.95, 8.76],
] as const;

/** Ten 100 ms slots per timeline second, its ops and writes spread evenly (remainders in the first slots). */
function slotsOf(run: RunResult): ThroughputSlots {
  const spread = (n: number): number[] => Array.from({ length: 10 }, (_, i) => Math.floor(n / 10) + (i < n % 10 ? 1 : 0));
  const writes = (p: RunResult['timeline'][number]): number => p.byOp.setData?.ops ?? 0;
  return { slotMs: 100, ops: run.timeline.flatMap((p) => spread(p.ops)), writes: run.timeline.flatMap((p) => spread(writes(p))) };
}

/** The fixture as a schemaVersion 1 writer left it: no slots. */
export function makeResultsFixtureV1(): Omit<ResultsFile, 'schemaVersion'> & { schemaVersion: 1 } {
  const r = makeResultsFixture();
  for (const run of r.runs) delete run.slots;
  return { ...r, schemaVersion: 1 };
}

export function makeResultsFixture(): ResultsFile {
  const readmix = READMIX_CELLS.map(([observers, readPct, opsPerSec, p50, p99, p999]) =>
    run({
      name: `readmix/observers=${observers},readPct=${readPct}#1`,
      scenario: 'readmix',
      cell: { 'ensemble.observers': observers, 'workload.readPct': readPct },
      repeat: 1,
      observers,
      readPct,
      opsPerSec,
      p50,
      p99,
      p999,
    }),
  );
  readmix[2]!.breakdown = breakdown();
  readmix[0]!.metrics = metrics([1, 2, 3], 12);
  const runs = [...readmix, leaderKill(1, 9_120.3, 812.4, 1_034.7, 2_100, 1_000), leaderKill(2, 9_342.8, 640.2, 905.1, 1_800, 900), failedRun()];
  for (const r of runs) r.slots = slotsOf(r);
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'zablab', version: '0.1.0' },
    createdAt: '2025-03-01T12:00:05.123Z',
    host: { cpus: 2, platform: 'linux', node: 'v20.19.0' },
    scenarios: [
      { name: 'readmix', description: 'Throughput and latency by read % with and without observers.', source: 'bench/readmix.yaml' },
      { name: 'leader-kill', description: 'Kill the leader under an 80 % read load, then restart it.', source: 'bench/leader-kill.yaml' },
    ],
    runs,
  };
}
