/**
 * The scenario's limits, defaults and the readers of the fields a matrix may vary: one place,
 * so that a value written in a section and the same value written in a matrix list are
 * checked alike.
 */
import {
  ENSEMBLE_DRIVERS,
  LOAD_DRIVERS,
  WATCH_MODES,
  type EnsembleSection,
  type LoadSection,
  type WorkloadSection,
} from './types.js';
import { PEER_SECURITY_MODES } from '../ensemble/peer-credentials.js';
import { fail, readBoolean, readDuration, readInt, readNumber, readOneOf, shown, type FieldContext, type FieldPath } from './fields.js';

export const MAX_VOTERS = 15;
export const MAX_OBSERVERS = 15;
export const MAX_SPARE_OBSERVERS = 15;
export const MAX_MEMBERS = MAX_VOTERS + MAX_OBSERVERS + MAX_SPARE_OBSERVERS;
export const MAX_VALUE_SIZE = 1_048_576;
export const MAX_KEYS = 1_000_000;
export const MAX_CLIENTS = 64;
export const MAX_CONNECTIONS = 1_024;
export const MAX_PIPELINING = 1_024;
export const MAX_RATE = 10_000_000;
export const MIN_DURATION_MS = 1_000;
export const MAX_DURATION_MS = 24 * 3_600_000;
export const MAX_WARMUP_MS = 3_600_000;
export const MAX_REPEATS = 1_000;
/** Runs one scenario may expand into (matrix cells × repeats). */
export const MAX_RUNS = 1_000;
export const MAX_FAULTS = 100;
/** A repeating fault fires at most this often... */
export const MIN_EVERY_MS = 1_000;
/** ...and at most this many times. */
export const MAX_FIRINGS = 1_000;
/** Seeds are unsigned 32-bit integers (what the seeded generator takes). */
export const MAX_SEED = 0xffff_ffff;
export const MAX_CONFIG_KEYS = 256;
export const MAX_CONFIG_VALUE_CHARS = 4_096;
export const MAX_WEIGHT = 1_000_000;
export const MAX_DESCRIPTION_CHARS = 4_096;
export const MAX_NAME_CHARS = 64;
/** Populated znodes (the path names have room for 10 million). */
export const MAX_POPULATE = 10_000_000;
/** Held sessions: each is a socket in the harness and on a server. */
export const MAX_SESSIONS = 100_000;
export const MAX_WATCHES_PER_SESSION = 100_000;
/** Watches over every held session: the holder keeps each path in memory to re-register it. */
export const MAX_WATCHES_TOTAL = 10_000_000;

export const DEFAULT_ENSEMBLE: Readonly<Omit<EnsembleSection, 'config'>> = { driver: 'local', voters: 3, observers: 0, tls: false };

export function defaultWorkload(): WorkloadSection {
  return {
    readPct: 50,
    reads: { getData: 1 },
    writes: { setData: 1 },
    valueSize: 128,
    keys: 1_000,
    clients: 2,
    connections: 8,
    pipelining: 16,
    rate: null,
    durationMs: 30_000,
    warmupMs: 5_000,
    populate: 0,
    sessions: 0,
    watches: 0,
    watchMode: 'oneShot',
  };
}

export const DEFAULT_LOAD: Readonly<LoadSection> = { driver: 'native' };

/**
 * zoo.cfg keys the ensemble driver owns (ports, directories, roles): several servers share one
 * host, so an override would collide or make the driver's view of the ensemble wrong.
 */
const LAYOUT_KEYS: readonly string[] = [
  'dataDir',
  'dataLogDir',
  'clientPort',
  'secureClientPort',
  'secureClientPortAddress',
  'clientPortAddress',
  'admin.serverPort',
  'peerType',
  'dynamicConfigFile',
];
const CONFIG_KEY_RE = /^[A-Za-z0-9._]+$/;
const MAX_CONFIG_KEY_CHARS = 128;

/** Checks one zoo.cfg override key (`path` ends in the key). */
export function checkConfigKey(ctx: FieldContext, path: FieldPath, key: string): void {
  if (key.length > MAX_CONFIG_KEY_CHARS || !CONFIG_KEY_RE.test(key)) {
    fail(ctx, path, `is not a zoo.cfg key: keys are letters, digits, '.' and '_' (at most ${MAX_CONFIG_KEY_CHARS} characters)`);
  }
  if (LAYOUT_KEYS.includes(key) || /^server\.\d+$/.test(key)) {
    fail(ctx, path, `cannot be set: the ensemble driver owns ${LAYOUT_KEYS.join(', ')} and server.N (ports, directories and roles of each server)`);
  }
}

/** A zoo.cfg override value: a scalar, written into zoo.cfg as text. */
export function readConfigValue(ctx: FieldContext, path: FieldPath, value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    fail(ctx, path, `must be a zoo.cfg value (a string, number or true/false), got ${shown(value)}`);
  }
  const text = String(value);
  if (/[\r\n]/.test(text) || text.length > MAX_CONFIG_VALUE_CHARS) {
    fail(ctx, path, `must be one line of at most ${MAX_CONFIG_VALUE_CHARS} characters`);
  }
  return text;
}

export const ENSEMBLE_SCALARS = ['driver', 'voters', 'observers', 'spareObservers', 'tls', 'peerSecurity'] as const;
export type EnsembleScalar = (typeof ENSEMBLE_SCALARS)[number];

export function setEnsembleScalar(ctx: FieldContext, path: FieldPath, field: EnsembleScalar, value: unknown, e: EnsembleSection): void {
  switch (field) {
    case 'driver':
      e.driver = readOneOf(ctx, path, value, ENSEMBLE_DRIVERS);
      return;
    case 'voters':
      e.voters = readInt(ctx, path, value, 1, MAX_VOTERS);
      return;
    case 'observers':
      e.observers = readInt(ctx, path, value, 0, MAX_OBSERVERS);
      return;
    case 'spareObservers':
      e.spareObservers = readInt(ctx, path, value, 0, MAX_SPARE_OBSERVERS);
      return;
    case 'tls':
      e.tls = readBoolean(ctx, path, value);
      return;
    case 'peerSecurity':
      e.peerSecurity = readOneOf(ctx, path, value, PEER_SECURITY_MODES);
      return;
  }
}

/** Workload fields that hold one value (the ones a matrix may vary), as the YAML names them. */
export const WORKLOAD_SCALARS = ['readPct', 'valueSize', 'keys', 'clients', 'connections', 'pipelining', 'rate', 'duration', 'warmup', 'populate', 'sessions', 'watches', 'watchMode'] as const;
export type WorkloadScalar = (typeof WORKLOAD_SCALARS)[number];

export function setWorkloadScalar(ctx: FieldContext, path: FieldPath, field: WorkloadScalar, value: unknown, w: WorkloadSection): void {
  switch (field) {
    case 'readPct':
      w.readPct = readNumber(ctx, path, value, 0, 100);
      return;
    case 'valueSize':
      w.valueSize = readInt(ctx, path, value, 0, MAX_VALUE_SIZE);
      return;
    case 'keys':
      w.keys = readInt(ctx, path, value, 1, MAX_KEYS);
      return;
    case 'clients':
      w.clients = readInt(ctx, path, value, 1, MAX_CLIENTS);
      return;
    case 'connections':
      w.connections = readInt(ctx, path, value, 1, MAX_CONNECTIONS);
      return;
    case 'pipelining':
      w.pipelining = readInt(ctx, path, value, 1, MAX_PIPELINING);
      return;
    case 'rate':
      w.rate = value === null ? null : readRate(ctx, path, value);
      return;
    case 'duration':
      w.durationMs = readDuration(ctx, path, value, MIN_DURATION_MS, MAX_DURATION_MS);
      return;
    case 'warmup':
      w.warmupMs = readDuration(ctx, path, value, 0, MAX_WARMUP_MS);
      return;
    case 'populate':
      w.populate = readInt(ctx, path, value, 0, MAX_POPULATE);
      return;
    case 'sessions':
      w.sessions = readInt(ctx, path, value, 0, MAX_SESSIONS);
      return;
    case 'watches':
      w.watches = readInt(ctx, path, value, 0, MAX_WATCHES_PER_SESSION);
      return;
    case 'watchMode':
      w.watchMode = readOneOf(ctx, path, value, WATCH_MODES);
      return;
  }
}

function readRate(ctx: FieldContext, path: FieldPath, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > MAX_RATE) {
    fail(ctx, path, `must be a number of ops/s from 1 to ${MAX_RATE} (open loop), or null for closed loop, got ${shown(value)}`);
  }
  return value;
}

export const LOAD_SCALARS = ['driver'] as const;
export type LoadScalar = (typeof LOAD_SCALARS)[number];

export function setLoadScalar(ctx: FieldContext, path: FieldPath, field: LoadScalar, value: unknown, l: LoadSection): void {
  switch (field) {
    case 'driver':
      l.driver = readOneOf(ctx, path, value, LOAD_DRIVERS);
      return;
  }
}

/** The smallest share of requests `spans:` may trace (1 in 10,000). */
const MIN_SPANS_SAMPLE = 0.0001;

/**
 * `spans: true | false | <share of requests traced>`: 0 is off and 1 every request, so that a
 * matrix over `spans: [0, 0.01, 1]` compares tracing off with two samples.
 */
export function readSpans(ctx: FieldContext, path: FieldPath, value: unknown): { spans: boolean; spansSample: number } {
  if (value === undefined || value === null || value === false || value === 0) return { spans: false, spansSample: 1 };
  if (value === true) return { spans: true, spansSample: 1 };
  if (typeof value !== 'number' || !Number.isFinite(value) || value < MIN_SPANS_SAMPLE || value > 1) {
    fail(ctx, path, `must be true, false, 0 (off) or the share of requests to trace (${MIN_SPANS_SAMPLE} to 1, e.g. 0.1), got ${shown(value)}`);
  }
  return { spans: true, spansSample: value };
}
