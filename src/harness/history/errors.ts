/** Errors of history checking: a stable code and a message that tells the user what to fix. */
export type HistoryErrorCode =
  /** A history line that is not valid JSON, lacks a field, or breaks the invoke/complete pairing. */
  | 'ZABLAB_HISTORY_FORMAT'
  /** A set or counter check's input out of range (see set.ts, counter.ts). */
  | 'ZABLAB_HISTORY_INPUT'
  /** The history file cannot be read. */
  | 'ZABLAB_HISTORY_READ';

export class HistoryError extends Error {
  constructor(
    readonly code: HistoryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HistoryError';
  }
}
