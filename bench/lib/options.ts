/** What every script benchmark shares: the usage error (exit code 2 with the usage text). */
export class UsageError extends Error {
  readonly code = 'ZABLAB_BENCH_USAGE';
}
