/**
 * Matrix expansion: a scenario's `matrix` (dotted field path → values) becomes one run per
 * cell of the cartesian product (keys in the order written, the first varying slowest) and
 * per repeat. Every run is checked again with its cell applied, because some checks depend on
 * fields a matrix varies (a fault on an observer needs observers; http load needs a REST face).
 */
import type { FaultSpec, RunPlan, Scenario, WriteOp } from './types.js';
import { fail, isMapping, shown, type FieldContext, type FieldPath } from './fields.js';
import {
  checkConfigKey,
  ENSEMBLE_SCALARS,
  LOAD_SCALARS,
  MAX_RUNS,
  readConfigValue,
  readSpans,
  setEnsembleScalar,
  setLoadScalar,
  setWorkloadScalar,
  WORKLOAD_SCALARS,
  type EnsembleScalar,
  type LoadScalar,
  type WorkloadScalar,
} from './schema.js';
import { formatDurationMs } from './duration.js';
import { faultEndMs } from './schedule.js';
import { MIN_PARTITION_VOTERS } from '../nemesis/sides.js';
import { checkLargeState } from './large-state.js';
import { MAX_ENSEMBLE_SERVERS } from '../ensemble/layout.js';

export type MatrixValue = string | number | boolean;

/** The top-level `spans`: a matrix over it answers "what does tracing cost?". */
const SPANS_PATH = 'spans';

/** The field paths a matrix may vary, as messages list them. */
export const MATRIX_PATHS: readonly string[] = [
  ...ENSEMBLE_SCALARS.map((f) => `ensemble.${f}`),
  'ensemble.config.<key>',
  ...WORKLOAD_SCALARS.map((f) => `workload.${f}`),
  ...LOAD_SCALARS.map((f) => `load.${f}`),
  SPANS_PATH,
];

type MatrixField =
  | { section: 'ensemble'; field: EnsembleScalar }
  | { section: 'config'; key: string }
  | { section: 'workload'; field: WorkloadScalar }
  | { section: 'load'; field: LoadScalar }
  | { section: 'spans' };

const CONFIG_PREFIX = 'ensemble.config.';
/** Matrix values appear in run names (and so in directory names): keep them to safe characters. */
const MATRIX_TEXT_RE = /^[A-Za-z0-9._:+-]+$/;
const MAX_MATRIX_TEXT_CHARS = 64;
/** http load drives the REST face, which has no multi or sync. */
const HTTP_WRITE_OPS: readonly WriteOp[] = ['setData', 'create', 'delete'];

function matrixField(path: string): MatrixField | undefined {
  if (path === SPANS_PATH) return { section: 'spans' };
  if (path.startsWith(CONFIG_PREFIX)) return { section: 'config', key: path.slice(CONFIG_PREFIX.length) };
  const [section, field, ...rest] = path.split('.');
  if (field === undefined || rest.length > 0) return undefined;
  if (section === 'ensemble' && (ENSEMBLE_SCALARS as readonly string[]).includes(field)) return { section, field: field as EnsembleScalar };
  if (section === 'workload' && (WORKLOAD_SCALARS as readonly string[]).includes(field)) return { section, field: field as WorkloadScalar };
  if (section === 'load' && (LOAD_SCALARS as readonly string[]).includes(field)) return { section, field: field as LoadScalar };
  return undefined;
}

/** The part of a matrix path that run names show: the field name, or the zoo.cfg key. */
function label(path: string): string {
  const f = matrixField(path);
  if (f === undefined || f.section === 'spans') return path;
  return f.section === 'config' ? f.key : f.field;
}

/** Parses the `matrix:` mapping: known paths, non-empty lists of distinct valid scalars. */
export function parseMatrix(ctx: FieldContext, value: unknown): Record<string, MatrixValue[]> {
  if (value === null || value === undefined) return {};
  if (!isMapping(value)) fail(ctx, ['matrix'], `must be a mapping of field path → list of values (e.g. workload.readPct: [50, 90]), got ${shown(value)}`);
  const matrix: Record<string, MatrixValue[]> = {};
  for (const [path, values] of Object.entries(value)) {
    const field = matrixField(path);
    if (field === undefined) fail(ctx, ['matrix', path], `is not a field a matrix can vary; allowed: ${MATRIX_PATHS.join(', ')}`);
    if (field.section === 'config') checkConfigKey(ctx, ['matrix', path], field.key);
    if (!Array.isArray(values) || values.length === 0) fail(ctx, ['matrix', path], `must be a non-empty list of values, got ${shown(values)}`);
    if (values.length > MAX_RUNS) fail(ctx, ['matrix', path], `must have at most ${MAX_RUNS} values, got ${values.length}`);
    const seen = new Set<string>();
    values.forEach((v: unknown, j) => {
      const at = ['matrix', path, j];
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') fail(ctx, at, `must be a scalar (a string, number or true/false), got ${shown(v)}`);
      if (typeof v === 'string' && (v.length > MAX_MATRIX_TEXT_CHARS || !MATRIX_TEXT_RE.test(v))) {
        fail(ctx, at, `must be made of letters, digits, '.', '_', ':', '+' and '-' (at most ${MAX_MATRIX_TEXT_CHARS} characters; it appears in run names), got ${shown(v)}`);
      }
      if (seen.has(String(v))) fail(ctx, at, `repeats the value ${shown(v)}: each value of a matrix list must be different (use repeats to run a cell again)`);
      seen.add(String(v));
      // Checked as if written in its section, so the message says what the field allows.
      applyValue(ctx, at, field, v, blankSections());
    });
    matrix[path] = values as MatrixValue[];
  }
  return matrix;
}

/** The parts of a run a matrix value may set. */
type MatrixTarget = Pick<RunPlan, 'ensemble' | 'workload' | 'load' | 'spans' | 'spansSample'>;

function blankSections(): MatrixTarget {
  return {
    spans: false,
    spansSample: 1,
    ensemble: { driver: 'local', voters: 1, observers: 0, tls: false, config: {} },
    workload: { readPct: 0, reads: {}, writes: {}, valueSize: 0, keys: 1, clients: 1, connections: 1, pipelining: 1, rate: null, durationMs: 1_000, warmupMs: 0, populate: 0, sessions: 0, watches: 0, watchMode: 'oneShot' },
    load: { driver: 'native' },
  };
}

function applyValue(ctx: FieldContext, at: FieldPath, field: MatrixField, value: unknown, plan: MatrixTarget): void {
  switch (field.section) {
    case 'ensemble':
      setEnsembleScalar(ctx, at, field.field, value, plan.ensemble);
      return;
    case 'config':
      plan.ensemble.config[field.key] = readConfigValue(ctx, at, value);
      return;
    case 'workload':
      setWorkloadScalar(ctx, at, field.field, value, plan.workload);
      return;
    case 'load':
      setLoadScalar(ctx, at, field.field, value, plan.load);
      return;
    case 'spans':
      Object.assign(plan, readSpans(ctx, at, value));
      return;
  }
}

/** Every run of a scenario, in order, each checked with its cell applied; throws on the first bad one. */
export function expandRuns(s: Scenario): RunPlan[] {
  return expandScenario(s, { source: s.source });
}

/** expandRuns with a context that can locate fields in the source text (used while parsing). */
export function expandScenario(s: Scenario, ctx: FieldContext): RunPlan[] {
  const keys = Object.keys(s.matrix);
  const lists = keys.map((k) => s.matrix[k] ?? []);
  const cells = lists.reduce((n, l) => n * l.length, 1);
  const total = cells * s.repeats;
  if (total > MAX_RUNS) {
    const sizes = [...lists.map((l) => String(l.length)), `${s.repeats} repeats`].join(' × ');
    fail(ctx, keys.length > 0 ? ['matrix'] : ['repeats'], `expands into ${total} runs (${sizes}); at most ${MAX_RUNS}: shorten the lists, lower repeats or split the scenario`);
  }
  const labels = runLabels(keys);
  const runs: RunPlan[] = [];
  for (let c = 0; c < cells; c++) {
    const cell = cellAt(keys, lists, c);
    const cellName = keys.map((k, i) => `${labels[i]}=${String(cell[k])}`).join(',');
    for (let repeat = 1; repeat <= s.repeats; repeat++) {
      const name = `${s.name}${cellName === '' ? '' : `/${cellName}`}${s.repeats > 1 ? `#${repeat}` : ''}`;
      runs.push(planRun(s, cell, repeat, { ...ctx, run: name }, name));
    }
  }
  return runs;
}

/** Labels for run names: the last segment of each path, or the whole path where two would clash. */
function runLabels(keys: readonly string[]): string[] {
  const short = keys.map(label);
  return keys.map((k, i) => (short.filter((l) => l === short[i]).length > 1 ? k : (short[i] ?? k)));
}

/** Cell number c of the product (mixed radix, the last key varying fastest), keys in the order written. */
function cellAt(keys: readonly string[], lists: readonly MatrixValue[][], c: number): Record<string, MatrixValue> {
  const picks: [string, MatrixValue][] = [];
  let rest = c;
  for (let i = keys.length - 1; i >= 0; i--) {
    const list = lists[i] ?? [];
    const value = list[rest % list.length];
    rest = Math.floor(rest / list.length);
    if (value !== undefined) picks.unshift([keys[i] ?? '', value]);
  }
  return Object.fromEntries(picks);
}

function planRun(s: Scenario, cell: Record<string, MatrixValue>, repeat: number, ctx: FieldContext, name: string): RunPlan {
  const plan: RunPlan = {
    name,
    scenario: s.name,
    cell,
    repeat,
    ensemble: {
      ...s.ensemble,
      config: { ...s.ensemble.config },
      ...(s.ensemble.external === undefined ? {} : { external: s.ensemble.external.map((e) => ({ ...e })) }),
    },
    workload: { ...s.workload, reads: { ...s.workload.reads }, writes: { ...s.workload.writes } },
    load: { ...s.load },
    faults: s.faults.map(copyFault),
    spans: s.spans,
    spansSample: s.spansSample,
    history: s.history,
    ...(s.seed === undefined ? {} : { seed: s.seed }),
  };
  for (const [path, value] of Object.entries(cell)) {
    const field = matrixField(path);
    if (field === undefined) fail(ctx, ['matrix', path], `is not a field a matrix can vary; allowed: ${MATRIX_PATHS.join(', ')}`);
    if (field.section === 'config') checkConfigKey(ctx, ['matrix', path], field.key);
    applyValue(ctx, ['matrix', path, (s.matrix[path] ?? []).indexOf(value)], field, value, plan);
  }
  checkEnsemble(ctx, plan, cell);
  checkWorkload(ctx, plan);
  checkLoad(ctx, plan);
  checkFaults(ctx, plan);
  return plan;
}

function checkEnsemble(ctx: FieldContext, plan: RunPlan, cell: Record<string, MatrixValue>): void {
  const e = plan.ensemble;
  if (e.driver === 'external') {
    if (e.external === undefined || e.external.length === 0) {
      fail(ctx, ['ensemble', 'servers'], 'is required with driver external: list the running servers as [{host, clientPort, httpPort?}]');
    }
    for (const key of ['ensemble.voters', 'ensemble.observers']) {
      if (key in cell) fail(ctx, ['matrix', key], 'cannot vary with driver external: its servers are the ones listed in ensemble.servers');
    }
    // An external ensemble is what it is: its members are the listed servers.
    e.voters = e.external.length;
    e.observers = 0;
  } else if (e.external !== undefined) {
    fail(ctx, ['ensemble', 'servers'], `is only for driver external (this run's driver is ${e.driver}): remove it, or set ensemble.driver: external`);
  } else if (e.adminTokenFile !== undefined) {
    fail(ctx, ['ensemble', 'adminTokenFile'], `is only for driver external (the other drivers make their own token): remove it, or set ensemble.driver: external`);
  }
  const spares = e.spareObservers ?? 0;
  if (spares > 0 && e.driver !== 'local' && e.driver !== 'zookeeper') {
    fail(ctx, 'ensemble.spareObservers' in cell ? ['matrix', 'ensemble.spareObservers'] : ['ensemble', 'spareObservers'], `is ${spares}, but driver ${e.driver} cannot start a server late: spare observers are for the local and zookeeper drivers`);
  }
  if (e.driver !== 'external' && e.voters + e.observers + spares > MAX_ENSEMBLE_SERVERS) {
    fail(ctx, ['ensemble'], `has ${e.voters + e.observers + spares} servers (voters + observers + spareObservers); at most ${MAX_ENSEMBLE_SERVERS} run on one host`);
  }
  // zookeeperHome is read by the zookeeper driver only; a matrix over drivers keeps it for those runs.
  if (e.driver !== 'zookeeper') delete e.zookeeperHome;
  // Where a field's value came from: the matrix cell, or the ensemble section.
  const whence = (field: 'tls' | 'peerSecurity'): FieldPath => (`ensemble.${field}` in cell ? ['matrix', `ensemble.${field}`] : ['ensemble', field]);
  if (e.peerSecurity !== undefined) {
    const at = whence('peerSecurity');
    if (e.driver !== 'local' && e.driver !== 'zookeeper') {
      fail(ctx, at, `is set, but driver ${e.driver} has its own peer credentials: peerSecurity is for the local and zookeeper drivers`);
    }
    if (e.driver === 'zookeeper' && e.peerSecurity === 'secret') {
      fail(ctx, at, "is secret, zablab's own quorum authentication: Apache ZooKeeper runs with none or tls (sslQuorum)");
    }
  }
  if (e.tls) {
    const at = whence('tls');
    if (e.driver !== 'local' && e.driver !== 'zookeeper') {
      fail(ctx, at, `is true, but driver ${e.driver} cannot serve TLS: the local and zookeeper drivers make the run's certificates and secureClientPorts`);
    }
    if (plan.load.driver !== 'native') {
      fail(ctx, at, 'is true, but the http load drives the REST face, not the client port: TLS is measured with load.driver: native');
    }
  }
}

function checkWorkload(ctx: FieldContext, plan: RunPlan): void {
  const w = plan.workload;
  const sum = (weights: Record<string, number | undefined>): number => Object.values(weights).reduce<number>((n, x) => n + (x ?? 0), 0);
  if (w.readPct > 0 && sum(w.reads) <= 0) {
    fail(ctx, ['workload', 'reads'], `must give some read op a weight above 0 when readPct is ${w.readPct} (e.g. {getData: 1})`);
  }
  if (w.readPct < 100 && sum(w.writes) <= 0) {
    fail(ctx, ['workload', 'writes'], `must give some write op a weight above 0 when readPct is ${w.readPct} (e.g. {setData: 1})`);
  }
  checkLargeState(ctx, w);
}

function checkLoad(ctx: FieldContext, plan: RunPlan): void {
  if (plan.load.driver !== 'http') return;
  if (plan.history) {
    fail(ctx, ['history'], 'is true, but the http load driver (autocannon on the REST face) sends neither versioned setData nor sync, which a history\'s cas and reads need: record histories with load.driver: native');
  }
  if (plan.ensemble.driver === 'zookeeper') {
    fail(ctx, ['load', 'driver'], 'is http, which is not possible with ensemble driver zookeeper: Apache ZooKeeper has no REST face for znodes; use load.driver: native');
  }
  if (plan.workload.readPct < 100) {
    for (const [op, weight] of Object.entries(plan.workload.writes)) {
      if ((weight ?? 0) > 0 && !(HTTP_WRITE_OPS as readonly string[]).includes(op)) {
        fail(ctx, ['workload', 'writes', op], `is not possible with load.driver http, which supports only getData, exists, getChildren, ${HTTP_WRITE_OPS.join(', ')}; use load.driver: native`);
      }
    }
  }
  (plan.ensemble.external ?? []).forEach((server, i) => {
    if (server.httpPort === undefined) fail(ctx, ['ensemble', 'servers', i, 'httpPort'], 'is required with load.driver http (the port of the server\'s REST face)');
  });
}

function copyFault(f: FaultSpec): FaultSpec {
  return {
    ...f,
    target: f.target === null || typeof f.target === 'string' ? f.target : { id: f.target.id },
    ...(f.repeat === undefined ? {} : { repeat: { ...f.repeat } }),
  };
}

function checkFaults(ctx: FieldContext, plan: RunPlan): void {
  const { driver, voters, observers } = plan.ensemble;
  if (plan.faults.length > 0 && driver === 'external') {
    fail(ctx, ['faults'], 'are not possible with driver external (the harness does not control those servers): remove them, or use driver local, zookeeper or compose');
  }
  const spares = plan.ensemble.spareObservers ?? 0;
  const members = voters + observers + spares;
  const adds = plan.faults.filter((f) => f.action === 'add-observer').length;
  plan.faults.forEach((f, i) => {
    if (f.action === 'add-observer') {
      if (driver !== 'local' && driver !== 'zookeeper') fail(ctx, ['faults', i, 'action'], `is add-observer, which driver ${driver} cannot do: it needs a driver that starts servers (local or zookeeper) and ensemble.spareObservers`);
      if (adds > spares) fail(ctx, ['faults', i, 'action'], `is add-observer, but this run has ${adds} add-observer faults and ${spares} spare observers (ensemble.spareObservers): each add-observer starts one`);
    }
    if (f.atMs >= plan.workload.durationMs) {
      fail(ctx, ['faults', i, 'at'], `(${formatDurationMs(f.atMs)}) must be within the measured window, from 0s to before workload.duration (${formatDurationMs(plan.workload.durationMs)})`);
    }
    if (f.repeat !== undefined && faultEndMs(f) >= plan.workload.durationMs) {
      fail(ctx, ['faults', i, 'for'], `(${formatDurationMs(f.repeat.forMs)}) ends the repetition at ${formatDurationMs(faultEndMs(f))}, which must be before workload.duration (${formatDurationMs(plan.workload.durationMs)}): the end undoes the last firing inside the measured window`);
    }
    if (f.mode !== undefined && voters < MIN_PARTITION_VOTERS) {
      fail(ctx, ['faults', i, 'mode'], `is ${f.mode}, which needs at least ${MIN_PARTITION_VOTERS} voters (one side that can hold a quorum and one that cannot); this run has ${voters}`);
    }
    if (f.action === 'partition' && driver === 'zookeeper' && plan.ensemble.peerSecurity === 'tls') {
      fail(ctx, ['faults', i, 'action'], "is partition, which driver zookeeper cannot do with peerSecurity tls: its relay must rewrite ZooKeeper's election handshake, and TLS hides it; use peerSecurity none");
    }
    const target = f.target;
    const at = ['faults', i, 'target'];
    if (target === 'follower' && voters < 2) fail(ctx, at, `is follower, but this run has ${voters} voter and so no follower`);
    if (target === 'observer' && observers < 1 && adds === 0) fail(ctx, at, 'is observer, but this run has 0 observers');
    if (target !== null && typeof target === 'object' && target.id > members) {
      const spareText = spares > 0 ? `, spare observers ${voters + observers + 1} to ${members}` : '';
      fail(ctx, at, `is server ${target.id}, but this run's members are 1 to ${members} (voters 1 to ${voters}${observers > 0 ? `, observers ${voters + 1} to ${voters + observers}` : ''}${spareText})`);
    }
  });
}
