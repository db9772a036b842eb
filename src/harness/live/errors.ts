/** The live view's operating errors: a bad or busy port, a directory that holds no ensemble. */
export type LiveErrorCode = 'ZABLAB_LIVE_PORT' | 'ZABLAB_LIVE_ENSEMBLE';

export class LiveError extends Error {
  constructor(
    readonly code: LiveErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LiveError';
  }
}
