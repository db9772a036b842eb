/** What every script benchmark shares: the usage error, option parsing, and the load flags. */
import { NATIVE_LIMITS } from '../../src/harness/load/native/index.js';
import type { LoadShape } from './workloads.js';

/** Keys a script creates before it measures (they are created one phase at a time). */
const KEYS_MAX = 100_000;

export class UsageError extends Error {
  readonly code = 'ZABLAB_BENCH_USAGE';
}

/** An integer option in [min, max], or a usage error naming it. */
export function intOption(values: Record<string, unknown>, name: string, min: number, max: number): number {
  const raw = values[name];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got '${String(raw)}'`);
  }
  return n;
}

/** The one load client left: the harness's native driver runs zablab's pipelined ZkClient. */
export const LOAD_CLIENT = 'zablab-client';

/**
 * --driver, kept so that older command lines still run: only the harness's native load
 * (zablab's client) is left; node-zookeeper-client's wire compatibility is tested in test/compat.
 */
export function driverOption(raw: string): typeof LOAD_CLIENT {
  if (raw === LOAD_CLIENT) return LOAD_CLIENT;
  throw new UsageError(`--driver: '${raw}' is no longer a load client; the benchmarks drive load with the harness's native driver, --driver ${LOAD_CLIENT}`);
}

/** A comma-separated list of known names (at least one, duplicates dropped), or a usage error. */
export function listOption<T extends string>(raw: string, name: string, known: readonly T[]): T[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const s of items) if (!(known as readonly string[]).includes(s)) throw new UsageError(`--${name}: unknown '${s}' (known: ${known.join(', ')})`);
  if (items.length === 0) throw new UsageError(`--${name} names nothing`);
  return [...new Set(items)] as T[];
}

/** The default --out: bench-results/<ISO time with : and . replaced>. */
export function defaultOutDir(): string {
  return `bench-results/${new Date().toISOString().replace(/[:.]/g, '-')}`;
}

/** The flags every script shares: how much load, how long, where the JSON goes. */
export function loadFlags(defaults: { warmup: string; inflight: string }) {
  return {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: defaults.warmup },
    workers: { type: 'string', default: '2' },
    clients: { type: 'string', default: '4' },
    inflight: { type: 'string', default: defaults.inflight },
    'value-size': { type: 'string', default: '100' },
    keys: { type: 'string', default: '1000' },
    driver: { type: 'string', default: LOAD_CLIENT },
    out: { type: 'string', default: defaultOutDir() },
    help: { type: 'boolean', default: false },
  } as const;
}

/** The shared flags' values, checked against the native load driver's limits. */
export interface LoadFlagValues extends LoadShape {
  driver: typeof LOAD_CLIENT;
  out: string;
}

export function loadFlagValues(values: Record<string, unknown>): LoadFlagValues {
  return {
    durationSec: intOption(values, 'duration', 1, 3_600),
    warmupSec: intOption(values, 'warmup', 0, 600),
    workers: intOption(values, 'workers', 1, NATIVE_LIMITS.clients),
    clients: intOption(values, 'clients', 1, NATIVE_LIMITS.connections),
    inflight: intOption(values, 'inflight', 1, NATIVE_LIMITS.pipelining),
    valueSize: intOption(values, 'value-size', 0, NATIVE_LIMITS.valueSize),
    keys: intOption(values, 'keys', 1, KEYS_MAX),
    driver: driverOption(String(values['driver'])),
    out: String(values['out']),
  };
}
