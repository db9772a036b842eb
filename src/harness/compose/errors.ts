/** Errors of `zablab compose` and of rendering a compose directory: a stable code and what to do. */
export type ComposeErrorCode =
  /** A ComposeSpec field (voters, observers, image, ports, overrides) out of range. */
  | 'ZABLAB_COMPOSE_SPEC'
  /** The output directory cannot be used (holds other files, cannot be written). */
  | 'ZABLAB_COMPOSE_OUT';

export class ComposeError extends Error {
  constructor(
    readonly code: ComposeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ComposeError';
  }
}
