/**
 * How a server stops itself when it cannot go on (a txn log or snapshot it cannot write, a
 * broken invariant): one error line, every client connection closed, and an exit code from
 * ZooKeeper's own list (org.apache.zookeeper.server.ExitCode), within seconds.
 */
import { StorageError } from '../storage/index.js';

export const ExitCode = {
  /** Unexpected errors, such as I/O errors on the txn log. */
  UNEXPECTED_ERROR: 1,
  /** The data directory cannot be used: unreadable, or damaged so that acknowledged txns are gone. */
  UNABLE_TO_ACCESS_DATADIR: 3,
  /** A snapshot could not be written. */
  TXNLOG_ERROR_TAKING_SNAPSHOT: 10,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class FatalError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FatalError';
  }
}

/** Called once when the server must stop; the default ends the process. */
export type FatalHandler = (err: FatalError) => void;

/**
 * A FatalError for `err` met while `doing` something. A storage error's message already says
 * what failed, where and what to do: it is the line; anything else is a bug, with its stack.
 */
export function fatalError(doing: string, err: unknown, exitCode: ExitCode = ExitCode.UNEXPECTED_ERROR): FatalError {
  if (err instanceof FatalError) return err;
  if (err instanceof StorageError) return new FatalError(err.message, exitCode, { cause: err });
  const why = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return new FatalError(`${doing}: ${why}`, exitCode, { cause: err });
}
