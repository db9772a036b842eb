/** What every benchmark shares: the usage error, integer options, and the servers' zoo.cfg. */

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

/**
 * The zoo.cfg every benchmarked server gets (zablab and ZooKeeper alike): ZooKeeper's
 * defaults, fsync on, so that a comparison is like for like.
 */
export const BENCH_SERVER_CONFIG: Readonly<Record<string, string>> = {
  tickTime: '2000',
  forceSync: 'yes',
  globalOutstandingLimit: '1000',
  maxClientCnxns: '60',
  snapCount: '100000',
};
