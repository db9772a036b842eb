/**
 * Ensemble driver errors: operating errors (bad input, a missing directory, a server that
 * does not come up), each with a stable code and a message that says what to do.
 */
export type EnsembleErrorCode =
  /** DIR/ensemble.json is missing: nothing was started there. */
  | 'ZABLAB_ENSEMBLE_NOT_FOUND'
  /** DIR/ensemble.json exists but is not one this tool wrote (or is damaged). */
  | 'ZABLAB_ENSEMBLE_STATE'
  /** DIR already holds an ensemble. */
  | 'ZABLAB_ENSEMBLE_EXISTS'
  /** An EnsembleSpec field (voters, observers, ports, overrides, ...) out of range. */
  | 'ZABLAB_ENSEMBLE_SPEC'
  /** A server id that is not a member of the ensemble. */
  | 'ZABLAB_ENSEMBLE_NO_SUCH_SERVER'
  /** The operation needs a running server (or a stopped one) and it is not. */
  | 'ZABLAB_ENSEMBLE_SERVER_STATE'
  /** No server reports itself leader. */
  | 'ZABLAB_ENSEMBLE_NO_LEADER'
  /** A port the layout needs is taken. */
  | 'ZABLAB_ENSEMBLE_PORT'
  /** The server program cannot be started (zablab not built, java missing). */
  | 'ZABLAB_ENSEMBLE_PROGRAM'
  /** A process would not start or would not exit. */
  | 'ZABLAB_ENSEMBLE_PROCESS'
  /** Servers did not serve within the timeout. */
  | 'ZABLAB_ENSEMBLE_NOT_SERVING';

export class EnsembleError extends Error {
  constructor(
    readonly code: EnsembleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EnsembleError';
  }
}

/** Why one server did not serve, with the end of its log. */
export interface NotServingDetail {
  id: number;
  reason: string;
  logFile: string;
  logTail: string;
}

/** waitServing() ran out of time (or a server died); the message lists each server's reason and log tail. */
export class EnsembleNotServingError extends EnsembleError {
  constructor(
    readonly details: NotServingDetail[],
    headline: string,
  ) {
    super('ZABLAB_ENSEMBLE_NOT_SERVING', formatNotServing(headline, details));
    this.name = 'EnsembleNotServingError';
  }
}

function formatNotServing(headline: string, details: NotServingDetail[]): string {
  const lines = [headline];
  for (const d of details) {
    lines.push(`  server ${d.id}: ${d.reason}`);
  }
  for (const d of details) {
    lines.push('', `--- server ${d.id}: last lines of ${d.logFile} ---`, d.logTail === '' ? '(empty)' : d.logTail.trimEnd());
  }
  return lines.join('\n');
}
