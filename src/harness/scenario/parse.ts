/**
 * A scenario YAML file → a checked Scenario. Every problem is a HarnessError
 * ZABLAB_BENCH_SCENARIO that names the file and line, the field, what was found and what is
 * allowed; unknown keys are errors (they are nearly always typos). The runs the matrix expands
 * into are checked here too, so a scenario that parses can run.
 *
 * The YAML form, with defaults:
 *
 *   name: quickstart               # required, [a-z0-9-]+
 *   description: ""
 *   ensemble: {driver: local, voters: 3, observers: 0, spareObservers: 0 (local, zookeeper), config: {}, servers: (external only), adminTokenFile: (external only),
 *              zookeeperHome: (zookeeper only)}
 *   workload: {readPct: 50, reads: {getData: 1}, writes: {setData: 1}, valueSize: 128, keys: 1000,
 *              clients: 2, connections: 8, pipelining: 16, rate: null, duration: 30s, warmup: 5s,
 *              populate: 0, sessions: 0, watches: 0, watchMode: oneShot}   # large state: see load/state/
 *   load: {driver: native}
 *   faults: []                     # [{at: 10s, action: kill, target: leader}, {at: 20s, action: add-observer}, {at: 20s, action: partition, mode: random-halves, every: 5s, for: 30s}, ...]
 *   seed: (drawn per run)          # seeds the faults' random choices (random-halves, bridge, random-voter)
 *   repeats: 1
 *   spans: false                   # true (or 1): trace every request; 0.1: trace 10 % of them; 0 (or false): off
 *   history: false                 # true: a register workload whose history is checked after the run (native load)
 *   matrix: {}                     # {workload.readPct: [50, 90], ensemble.config.snapCount: [1000, 100000]}
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { HarnessError } from '../errors.js';
import { READ_OPS, WRITE_OPS, type EnsembleSection, type ExternalServer, type LoadSection, type ReadOp, type Scenario, type WorkloadSection, type WriteOp } from './types.js';
import {
  fail,
  isMapping,
  readBoolean,
  readInt,
  readMapping,
  readNumber,
  readText,
  shown,
  type FieldContext,
  type FieldPath,
} from './fields.js';
import {
  checkConfigKey,
  DEFAULT_ENSEMBLE,
  DEFAULT_LOAD,
  defaultWorkload,
  ENSEMBLE_SCALARS,
  LOAD_SCALARS,
  MAX_CONFIG_KEYS,
  MAX_DESCRIPTION_CHARS,
  MAX_MEMBERS,
  MAX_NAME_CHARS,
  MAX_REPEATS,
  MAX_SEED,
  MAX_WEIGHT,
  readConfigValue,
  readSpans,
  setEnsembleScalar,
  setLoadScalar,
  setWorkloadScalar,
  WORKLOAD_SCALARS,
} from './schema.js';
import { parseFaults } from './faults.js';
import { expandScenario, parseMatrix } from './matrix.js';

/** A scenario is a page of YAML; anything this long is a mistake (or an attack on the parser). */
export const MAX_SCENARIO_CHARS = 1_048_576;
const MAX_ALIASES = 100;
const MAX_HOST_CHARS = 255;
const MAX_PATH_CHARS = 4_096;

const TOP_KEYS = ['name', 'description', 'ensemble', 'workload', 'load', 'faults', 'repeats', 'spans', 'history', 'seed', 'matrix'] as const;
const ENSEMBLE_KEYS = [...ENSEMBLE_SCALARS, 'config', 'servers', 'adminTokenFile', 'zookeeperHome'] as const;
const WORKLOAD_KEYS = [...WORKLOAD_SCALARS, 'reads', 'writes'] as const;
const LOAD_KEYS = [...LOAD_SCALARS] as const;
const SERVER_KEYS = ['host', 'clientPort', 'httpPort'] as const;

export function parseScenario(text: string, source: string): Scenario {
  if (text.length > MAX_SCENARIO_CHARS) {
    throw new HarnessError('ZABLAB_BENCH_SCENARIO', `${source}: is ${text.length} characters long; a scenario file may have at most ${MAX_SCENARIO_CHARS}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    throw new HarnessError('ZABLAB_BENCH_SCENARIO', `${source}: is not valid YAML: ${yamlError.message.trimEnd()}`);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    throw new HarnessError('ZABLAB_BENCH_SCENARIO', `${source}: cannot be read as YAML: ${(err as Error).message}`);
  }
  const ctx: FieldContext = { source, locate: (path) => locate(doc, lineCounter, path) };
  if (raw === null || raw === undefined) {
    fail(ctx, [], 'is empty: a scenario needs at least a name (e.g. name: my-bench); see bench/quickstart.yaml');
  }
  if (!isMapping(raw)) fail(ctx, [], `must hold a mapping of scenario fields (${TOP_KEYS.join(', ')}), got ${shown(raw)}`);
  const top = readMapping(ctx, [], raw, TOP_KEYS, 'scenario');
  if (top.name === undefined || top.name === null) fail(ctx, ['name'], 'is required: lowercase letters, digits and \'-\', e.g. name: leader-kill');
  const scenario: Scenario = {
    name: readText(ctx, ['name'], top.name, /^[a-z0-9-]+$/, "lowercase letters, digits and '-'", MAX_NAME_CHARS),
    description: readDescription(ctx, top.description),
    ensemble: parseEnsemble(ctx, top.ensemble),
    workload: parseWorkload(ctx, top.workload),
    load: parseLoad(ctx, top.load),
    faults: parseFaults(ctx, top.faults),
    repeats: top.repeats === undefined ? 1 : readInt(ctx, ['repeats'], top.repeats, 1, MAX_REPEATS),
    ...readSpans(ctx, ['spans'], top.spans),
    history: top.history === undefined || top.history === null ? false : readBoolean(ctx, ['history'], top.history),
    matrix: parseMatrix(ctx, top.matrix),
    ...(top.seed === undefined || top.seed === null ? {} : { seed: readInt(ctx, ['seed'], top.seed, 0, MAX_SEED) }),
    source,
  };
  // Throws for the first run that cannot run (e.g. a fault on an observer in a cell with none).
  expandScenario(scenario, ctx);
  return scenario;
}

function readDescription(ctx: FieldContext, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' || value.length > MAX_DESCRIPTION_CHARS) {
    fail(ctx, ['description'], `must be text of at most ${MAX_DESCRIPTION_CHARS} characters, got ${shown(value)}`);
  }
  return value.trim();
}

/** A section written as `ensemble:` with nothing under it means "all defaults". */
function section(ctx: FieldContext, path: FieldPath, value: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  return value === undefined || value === null ? {} : readMapping(ctx, path, value, keys, what);
}

function parseEnsemble(ctx: FieldContext, value: unknown): EnsembleSection {
  const raw = section(ctx, ['ensemble'], value, ENSEMBLE_KEYS, 'ensemble');
  const e: EnsembleSection = { ...DEFAULT_ENSEMBLE, config: {} };
  for (const field of ENSEMBLE_SCALARS) {
    if (raw[field] !== undefined) setEnsembleScalar(ctx, ['ensemble', field], field, raw[field], e);
  }
  e.config = parseConfig(ctx, raw.config);
  if (raw.servers !== undefined) e.external = parseServers(ctx, raw.servers);
  if (raw.adminTokenFile !== undefined) {
    e.adminTokenFile = readText(ctx, ['ensemble', 'adminTokenFile'], raw.adminTokenFile, /^[^\r\n]+$/, "the file holding the servers' HTTP token (their admin.tokenFile), on one line", MAX_PATH_CHARS);
  }
  if (raw.zookeeperHome !== undefined) {
    e.zookeeperHome = readText(ctx, ['ensemble', 'zookeeperHome'], raw.zookeeperHome, /^[^\r\n]+$/, 'the directory of an Apache ZooKeeper install, on one line', MAX_PATH_CHARS);
  }
  return e;
}

function parseConfig(ctx: FieldContext, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isMapping(value)) fail(ctx, ['ensemble', 'config'], `must be a mapping of zoo.cfg key → value (e.g. snapCount: 100000), got ${shown(value)}`);
  const entries = Object.entries(value);
  if (entries.length > MAX_CONFIG_KEYS) fail(ctx, ['ensemble', 'config'], `must have at most ${MAX_CONFIG_KEYS} keys, got ${entries.length}`);
  const config: Record<string, string> = {};
  for (const [key, v] of entries) {
    checkConfigKey(ctx, ['ensemble', 'config', key], key);
    config[key] = readConfigValue(ctx, ['ensemble', 'config', key], v);
  }
  return config;
}

function parseServers(ctx: FieldContext, value: unknown): ExternalServer[] {
  const path = ['ensemble', 'servers'];
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_MEMBERS) {
    fail(ctx, path, `must be a list of 1 to ${MAX_MEMBERS} servers ({host, clientPort, httpPort?}), got ${shown(value)}`);
  }
  return value.map((item: unknown, i): ExternalServer => {
    const s = readMapping(ctx, [...path, i], item, SERVER_KEYS, 'server');
    if (s.host === undefined) fail(ctx, [...path, i, 'host'], 'is required (the host name or address the server listens on)');
    if (s.clientPort === undefined) fail(ctx, [...path, i, 'clientPort'], 'is required (the ZooKeeper client port, e.g. 2181)');
    const server: ExternalServer = {
      host: readText(ctx, [...path, i, 'host'], s.host, /^[A-Za-z0-9.:_[\]-]+$/, 'a host name or IP address', MAX_HOST_CHARS),
      clientPort: readInt(ctx, [...path, i, 'clientPort'], s.clientPort, 1, 65_535),
    };
    if (s.httpPort !== undefined) server.httpPort = readInt(ctx, [...path, i, 'httpPort'], s.httpPort, 1, 65_535);
    return server;
  });
}

function parseWorkload(ctx: FieldContext, value: unknown): WorkloadSection {
  const raw = section(ctx, ['workload'], value, WORKLOAD_KEYS, 'workload');
  const w = defaultWorkload();
  for (const field of WORKLOAD_SCALARS) {
    if (raw[field] !== undefined) setWorkloadScalar(ctx, ['workload', field], field, raw[field], w);
  }
  if (raw.reads !== undefined) w.reads = parseWeights<ReadOp>(ctx, 'reads', raw.reads, READ_OPS, WRITE_OPS, 'writes');
  if (raw.writes !== undefined) w.writes = parseWeights<WriteOp>(ctx, 'writes', raw.writes, WRITE_OPS, READ_OPS, 'reads');
  return w;
}

/** Weights among one side's ops; an op of the other side gets a message that says where it belongs. */
function parseWeights<T extends string>(
  ctx: FieldContext,
  field: 'reads' | 'writes',
  value: unknown,
  ops: readonly T[],
  otherOps: readonly string[],
  otherField: 'reads' | 'writes',
): Partial<Record<T, number>> {
  const path = ['workload', field];
  if (!isMapping(value)) fail(ctx, path, `must be a mapping of op → weight among ${ops.join(', ')} (e.g. {${ops[0]}: 1}), got ${shown(value)}`);
  const weights: Partial<Record<T, number>> = {};
  for (const [op, weight] of Object.entries(value)) {
    if (otherOps.includes(op)) fail(ctx, [...path, op], `belongs under workload.${otherField}; workload.${field} takes ${ops.join(', ')}`);
    if (!(ops as readonly string[]).includes(op)) fail(ctx, [...path, op], `is not a ${field === 'reads' ? 'read' : 'write'} op; allowed: ${ops.join(', ')}`);
    weights[op as T] = readNumber(ctx, [...path, op], weight, 0, MAX_WEIGHT);
  }
  return weights;
}

function parseLoad(ctx: FieldContext, value: unknown): LoadSection {
  const raw = section(ctx, ['load'], value, LOAD_KEYS, 'load');
  const l: LoadSection = { ...DEFAULT_LOAD };
  for (const field of LOAD_SCALARS) {
    if (raw[field] !== undefined) setLoadScalar(ctx, ['load', field], field, raw[field], l);
  }
  return l;
}

/**
 * The line of a field in the source: the key's line for a mapping entry, the item's line for
 * a list item; for a field that is missing, the line of the nearest enclosing one.
 */
function locate(doc: Document, lines: LineCounter, path: FieldPath): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      if (keyRange) line = lines.linePos(keyRange[0]).line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      const range = isScalar(item) || isMap(item) || isSeq(item) ? item.range : undefined;
      if (!range) break;
      line = lines.linePos(range[0]).line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}
