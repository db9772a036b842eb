/** The harness's operating errors: a stable code and a message that tells the user what to do. */
export type HarnessErrorCode =
  | 'ZABLAB_BENCH_SCENARIO'
  | 'ZABLAB_BENCH_DRIVER'
  | 'ZABLAB_BENCH_FAULT_UNSUPPORTED'
  | 'ZABLAB_BENCH_FAULT'
  | 'ZABLAB_BENCH_LOAD'
  | 'ZABLAB_BENCH_REPORT';

export class HarnessError extends Error {
  constructor(
    readonly code: HarnessErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HarnessError';
  }
}
