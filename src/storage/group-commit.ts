/**
 * Group commit: at most one flush (write + fsync) runs at a time; every commit() that arrives
 * while it runs joins the next one. N callers that append and commit at once cost two
 * fsyncs, not N.
 */
interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class GroupCommit {
  private inFlight: Promise<void> | null = null;
  private waiting: Deferred | null = null;

  /**
   * @param flush takes everything pending synchronously when called, then makes it durable.
   * @param hasPending whether anything was appended since the last flush started.
   */
  constructor(
    private readonly flush: () => Promise<void>,
    private readonly hasPending: () => boolean,
  ) {}

  /** Resolves once everything appended before the call is durable. */
  commit(): Promise<void> {
    if (!this.hasPending()) return this.inFlight ?? Promise.resolve();
    if (this.waiting === null) this.waiting = deferred();
    const done = this.waiting.promise;
    if (this.inFlight === null) this.startNext();
    return done;
  }

  /** Resolves when no flush runs (successful or not). */
  async idle(): Promise<void> {
    while (this.inFlight !== null) {
      await this.inFlight.catch(() => undefined);
    }
  }

  private startNext(): void {
    const batch = this.waiting!;
    this.waiting = null;
    this.inFlight = batch.promise;
    void this.flush()
      .then(batch.resolve, batch.reject)
      .finally(() => {
        this.inFlight = null;
        if (this.waiting !== null) this.startNext();
      });
  }
}
