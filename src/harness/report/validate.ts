/**
 * Reading results.json: the file is checked against the schema of results.ts before any
 * report is made from it, so that a truncated, hand-edited or foreign file gives one clear
 * message that names the field, instead of a chart with NaN in it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PEER_SECURITY_MODES } from '../ensemble/peer-credentials.js';
import { HarnessError } from '../errors.js';
import { ENSEMBLE_DRIVERS, FAULT_ACTIONS, LOAD_DRIVERS, OP_KINDS, PARTITION_MODES, READ_OPS, WATCH_MODES, WRITE_OPS } from '../scenario/types.js';
import { CATCH_UP_ACTIONS, LATENCY_WINDOW_KINDS, SYNC_BYTES_SOURCES, SYNC_MODE_SOURCES, SYNC_MODES } from './results-sync.js';
import { HISTORY_ANOMALIES_MAX, HISTORY_ELEMENTS_MAX, HISTORY_WITNESS_OPS_MAX, RESULTS_FILE, RESULTS_SCHEMA_VERSION, RESULTS_SCHEMA_VERSIONS_READ, type ResultsFile } from './results.js';

/** Bounds what a reader loads into memory: a results.json over this is not one zablab wrote. */
export const RESULTS_BYTES_MAX = 512 * 1024 * 1024;
const RUNS_MAX = 100_000;
const ARRAY_MAX = 10_000_000;
const KEYS_MAX = 100_000;

/** A shape problem at a JSON path; turned into a HarnessError by validateResults. */
class ShapeError extends Error {
  constructor(
    readonly at: string,
    readonly problem: string,
  ) {
    super(`${at} ${problem}`);
  }
}

type Check = (value: unknown, at: string) => void;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const num: Check = (v, at) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ShapeError(at, `must be a number, got ${describe(v)}`);
};
const str: Check = (v, at) => {
  if (typeof v !== 'string') throw new ShapeError(at, `must be a string, got ${describe(v)}`);
};
const bool: Check = (v, at) => {
  if (typeof v !== 'boolean') throw new ShapeError(at, `must be true or false, got ${describe(v)}`);
};
const nullable =
  (check: Check): Check =>
  (v, at) => {
    if (v !== null) check(v, at);
  };
const oneOf =
  (allowed: readonly (string | number)[]): Check =>
  (v, at) => {
    if (!allowed.includes(v as string | number)) {
      throw new ShapeError(at, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(v)}`);
    }
  };
const scalar: Check = (v, at) => {
  if (typeof v !== 'string' && typeof v !== 'boolean' && (typeof v !== 'number' || !Number.isFinite(v))) {
    throw new ShapeError(at, `must be a string, number or boolean, got ${describe(v)}`);
  }
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const array =
  (item: Check, max = ARRAY_MAX): Check =>
  (v, at) => {
    if (!Array.isArray(v)) throw new ShapeError(at, `must be an array, got ${describe(v)}`);
    if (v.length > max) throw new ShapeError(at, `has ${v.length} entries; at most ${max} are allowed`);
    v.forEach((x, i) => item(x, `${at}[${i}]`));
  };

/** An object of arbitrary keys (limited to `keys` when given) with values of one kind. */
const record =
  (value: Check, keys?: readonly string[]): Check =>
  (v, at) => {
    if (!isObject(v)) throw new ShapeError(at, `must be an object, got ${describe(v)}`);
    const entries = Object.entries(v);
    if (entries.length > KEYS_MAX) throw new ShapeError(at, `has ${entries.length} keys; at most ${KEYS_MAX} are allowed`);
    for (const [k, x] of entries) {
      if (keys !== undefined && !keys.includes(k)) throw new ShapeError(`${at}.${k}`, `is not one of ${keys.join(', ')}`);
      value(x, `${at}.${k}`);
    }
  };

/** An object with these fields (extra fields are allowed: a newer writer of the same version may add some). */
const object =
  (fields: Record<string, Check>, optional: readonly string[] = []): Check =>
  (v, at) => {
    if (!isObject(v)) throw new ShapeError(at, `must be an object, got ${describe(v)}`);
    for (const [k, check] of Object.entries(fields)) {
      if (!(k in v) || v[k] === undefined) {
        if (optional.includes(k)) continue;
        throw new ShapeError(`${at}.${k}`, 'is missing');
      }
      check(v[k], `${at}.${k}`);
    }
  };

const percentiles = object({ count: num, mean: num, p50: num, p90: num, p99: num, p999: num, max: num });

const timelinePoint = object({
  t: num,
  ops: num,
  errors: num,
  p50: num,
  p99: num,
  byOp: record(object({ ops: num, errors: num, p50: num, p99: num }), OP_KINDS),
});

const workload = object(
  {
    readPct: num,
    reads: record(num, READ_OPS),
    writes: record(num, WRITE_OPS),
    valueSize: num,
    keys: num,
    clients: num,
    connections: num,
    pipelining: num,
    rate: nullable(num),
    durationMs: num,
    warmupMs: num,
    populate: num,
    sessions: num,
    watches: num,
    watchMode: oneOf(WATCH_MODES),
  },
  // Large state: absent in files written before it.
  ['populate', 'sessions', 'watches', 'watchMode'],
);

const firing: Check = (v, at) => (v === 'end' ? undefined : num(v, at));

const recovery = object(
  {
    fault: oneOf(FAULT_ACTIONS),
    target: str,
    serverId: nullable(num),
    atMs: num,
    leaderElectedMs: nullable(num),
    firstWriteMs: nullable(num),
    recovered90Ms: nullable(num),
    writeUnavailableMs: nullable(num),
    servingAgainMs: nullable(num),
    leaderBefore: nullable(num),
    leaderAfter: nullable(num),
    mode: oneOf(PARTITION_MODES),
    sides: array(array(num)),
    bridge: num,
    schedule: object({ fault: num, firing }),
    undid: object({ action: oneOf(FAULT_ACTIONS), serverId: nullable(num) }),
  },
  ['servingAgainMs', 'mode', 'sides', 'bridge', 'schedule', 'undid'],
);

const breakdown = object({
  writes: num,
  stages: array(object({ stage: str, serverId: nullable(num), role: nullable(str), count: num, meanMs: num, p50Ms: num, p99Ms: num })),
});

const ackedWrites = object({
  writes: num,
  indeterminate: num,
  lost: num,
  servers: array(object({ serverId: num, checked: num, missing: num, missingSamples: array(str), error: nullable(str) })),
  error: nullable(str),
});

/** A JSON value of any kind (a register value in a witness). */
const anyJson: Check = () => undefined;

const key: Check = (v, at) => {
  if (typeof v !== 'string' && (typeof v !== 'number' || !Number.isFinite(v))) throw new ShapeError(at, `must be a key (a string or number), got ${describe(v)}`);
};

const historyOp = object({
  process: num,
  f: oneOf(['read', 'write', 'cas']),
  value: anyJson,
  outcome: oneOf(['ok', 'fail', 'info']),
  invokeNs: num,
  completeNs: nullable(num),
  invokeLine: num,
  completeLine: nullable(num),
});

const setCheck = object({
  valid: nullable(bool),
  attempted: num,
  acknowledged: num,
  indeterminate: num,
  present: nullable(num),
  lost: array(str, HISTORY_ELEMENTS_MAX),
  lostCount: num,
  invented: array(str, HISTORY_ELEMENTS_MAX),
  inventedCount: num,
  failedPresent: array(str, HISTORY_ELEMENTS_MAX),
  failedPresentCount: num,
  duplicatedCount: num,
  recovered: num,
  error: nullable(str),
});

const counterCheck = object({ valid: nullable(bool), ok: num, info: num, fail: num, lower: num, upper: num, finalValue: nullable(num), error: nullable(str) });

const history = object({
  file: str,
  originEpochMs: num,
  windowStartNs: num,
  root: str,
  ops: num,
  indeterminate: num,
  failed: num,
  keys: num,
  linearizable: nullable(bool),
  unknown: array(object({ key, keyOps: num, reason: oneOf(['time', 'memory']) })),
  error: nullable(str),
  checkMs: num,
  checkedOpsPerSec: num,
  anomaliesFound: num,
  anomalies: array(object({ key, keyOps: num, shrunk: bool, ops: array(historyOp, HISTORY_WITNESS_OPS_MAX), opsTotal: num }), HISTORY_ANOMALIES_MAX),
  set: nullable(setCheck),
  counter: nullable(counterCheck),
});

const populate = object({ znodes: num, created: num, existing: num, root: str, opsPerMulti: num, multis: num, durationMs: num, createsPerSec: num });

const sessions = object({
  sessions: num,
  opened: num,
  workers: num,
  members: num,
  openMs: num,
  watchMode: oneOf(WATCH_MODES),
  watchesPerSession: num,
  watches: num,
  watchMs: num,
  watchEvents: num,
  expired: num,
});

const resources = object({
  everyMs: num,
  rss: array(object({ id: num, samples: array(object({ t: num, bytes: num })) })),
  servers: array(
    object({
      id: num,
      role: oneOf(['voter', 'observer']),
      rssSource: nullable(oneOf(['proc', 'mntr'])),
      rssBytesEnd: nullable(num),
      rssBytesMax: nullable(num),
      heapUsedBytesMax: nullable(num),
      eventLoopDelayP99MsMax: nullable(num),
      eventLoopDelayMsMax: nullable(num),
      gcPauseMsMax: nullable(num),
    }, ['gcPauseMsMax']),
  ),
});

const latencyCount = object({ count: num, p99Ms: nullable(num) });

const catchUp = object({
  serverId: num,
  action: oneOf(CATCH_UP_ACTIONS),
  role: oneOf(['voter', 'observer']),
  startedAtMs: num,
  startedAtEpochMs: num,
  servingAfterMs: nullable(num),
  syncMode: nullable(oneOf(SYNC_MODES)),
  syncModeFrom: nullable(oneOf(SYNC_MODE_SOURCES)),
  leaderCounters: nullable(object({ leader: num, diff: num, snap: num })),
  syncBytes: nullable(num),
  syncBytesFrom: nullable(oneOf(SYNC_BYTES_SOURCES)),
  learnerSyncMs: nullable(num),
  learnerSyncs: nullable(num),
});

const snapshots = object({
  sampleMs: num,
  windows: array(object({ serverId: num, endMs: num, startMs: num, durationMs: num, count: num, coverFromMs: num, leader: bool })),
  servers: array(object({ serverId: num, count: num, totalMs: num, maxMs: num })),
});

const duringOutside = object({ during: nullable(num), outside: nullable(num) });
const windowLatency = object(
  { kind: oneOf(LATENCY_WINDOW_KINDS), windows: num, duringMs: num, during: latencyCount, outside: latencyCount, stalls: object({ eventLoopMaxMs: duringOutside, gcPauseMaxMs: duringOutside }) },
  ['stalls'],
);

const run = object(
  {
    name: str,
    scenario: str,
    cell: record(scalar),
    repeat: num,
    status: oneOf(['ok', 'failed']),
    error: str,
    startedAt: str,
    seed: num,
    ensemble: object(
      {
        driver: oneOf(ENSEMBLE_DRIVERS),
        program: oneOf(['zablab', 'zookeeper', 'unknown']),
        voters: num,
        observers: num,
        spareObservers: num,
        tls: bool,
        peerSecurity: oneOf(PEER_SECURITY_MODES),
        config: record(str),
      },
      ['tls', 'peerSecurity', 'spareObservers'],
    ),
    workload,
    load: object({ driver: oneOf(LOAD_DRIVERS), missedSlots: num }),
    durationMs: num,
    throughput: object({ opsPerSec: num, byOp: record(num, OP_KINDS) }),
    latencyMs: (v, at) => {
      percentiles(v, at);
      object({ byOp: record(percentiles, OP_KINDS) })(v, at);
    },
    errors: record(num),
    recovery: array(recovery),
    timeline: array(timelinePoint),
    slots: object({ slotMs: num, ops: array(num), writes: array(num) }),
    leaderChanges: array(object({ atMs: num, leader: nullable(num) })),
    metrics: array(object({ t: num, id: num, values: record(num) })),
    breakdown: nullable(breakdown),
    ackedWrites,
    history,
    populate,
    sessions,
    resources,
    catchUps: array(catchUp),
    snapshots,
    latencyDuring: array(windowLatency),
  },
  // slots: required from schemaVersion 2 (validateResults checks it). Large state, resources, catch-ups and snapshots came later within version 2.
  ['error', 'ackedWrites', 'history', 'seed', 'slots', 'populate', 'sessions', 'resources', 'catchUps', 'snapshots', 'latencyDuring'],
);

const resultsFile = object({
  schemaVersion: num,
  tool: object({ name: oneOf(['zablab']), version: str }),
  createdAt: str,
  host: object({ cpus: num, platform: str, node: str }),
  scenarios: array(object({ name: str, description: str, source: str })),
  runs: array(run, RUNS_MAX),
});

function reportError(message: string): HarnessError {
  return new HarnessError('ZABLAB_BENCH_REPORT', message);
}

/**
 * Checks that `value` (parsed JSON) is a results file this zablab understands; `source`
 * names it in messages. Throws HarnessError ZABLAB_BENCH_REPORT.
 */
export function validateResults(value: unknown, source = RESULTS_FILE): ResultsFile {
  if (!isObject(value)) throw reportError(`${source} is not a zablab results file: it holds ${describe(value)}, not an object`);
  const version = value['schemaVersion'];
  if (typeof version !== 'number') {
    throw reportError(`${source} has no schemaVersion; is it a results.json written by \`zablab bench\`?`);
  }
  if (version > RESULTS_SCHEMA_VERSION) {
    throw reportError(
      `results.json schemaVersion ${version} is newer than this zablab understands (${RESULTS_SCHEMA_VERSION}); read ${source} with the zablab that wrote it, or upgrade zablab`,
    );
  }
  if (!RESULTS_SCHEMA_VERSIONS_READ.includes(version)) {
    throw reportError(`${source}: schemaVersion ${String(version)} is not one zablab knows (this zablab reads ${RESULTS_SCHEMA_VERSIONS_READ.join(' and ')})`);
  }
  try {
    resultsFile(value, '$');
    // Version 2 keeps every run's slots; version 1 had none.
    if (version >= 2) (value['runs'] as Record<string, unknown>[]).forEach((r, i) => {
      if (r['slots'] === undefined) throw new ShapeError(`$.runs[${i}].slots`, 'is missing (schemaVersion 2 keeps every run\'s 100 ms slots)');
    });
  } catch (err) {
    if (err instanceof ShapeError) throw reportError(`${source} is not a valid results file: ${err.at} ${err.problem}`);
    throw err;
  }
  return value as unknown as ResultsFile;
}

/** The results.json in `dirOrFile` (a bench output directory), or that file itself. */
export function resultsPath(dirOrFile: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dirOrFile);
  } catch {
    throw reportError(`${dirOrFile} does not exist; give the directory \`zablab bench --out DIR\` wrote, or its results.json`);
  }
  if (!stat.isDirectory()) return dirOrFile;
  const file = path.join(dirOrFile, RESULTS_FILE);
  if (!fs.existsSync(file)) throw reportError(`no ${RESULTS_FILE} in ${dirOrFile}; run \`zablab bench --out ${dirOrFile}\` first, or name the file`);
  return file;
}

/** Reads and validates results.json from a bench output directory or a file path. */
export function readResults(dirOrFile: string): ResultsFile {
  const file = resultsPath(dirOrFile);
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > RESULTS_BYTES_MAX) throw reportError(`${file} is ${size} bytes; a results file is at most ${RESULTS_BYTES_MAX} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof HarnessError) throw err;
    throw reportError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw reportError(`${file} is not valid JSON (${err instanceof Error ? err.message : String(err)}); was the bench interrupted while writing it?`);
  }
  return validateResults(value, file);
}
