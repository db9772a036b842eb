/**
 * Cleanup on every exit path of a script that starts servers (bench/security-probes.ts):
 * what is running now (servers, ensembles) is stopped on the first SIGINT/SIGTERM, and
 * SIGKILLed by pid if the process exits with it still up (a second signal, an uncaught
 * error, a run that does not unwind in time).
 */

/** Something running that the run must not leave behind. */
export interface Live {
  /** Stop it cleanly (bounded in time by the implementation). */
  stop(): Promise<void>;
  /** SIGKILL what it runs, now (synchronous: called from the process's exit hook). */
  kill(): void;
}

export class InterruptedError extends Error {
  readonly code = 'ZABLAB_BENCH_INTERRUPTED';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

export class Shutdown {
  private readonly live = new Set<Live>();
  private caught: NodeJS.Signals | null = null;
  private readonly aborter = new AbortController();

  /** @param stopOnSignalMs how long the run may take to unwind after a signal before it is cut short. */
  constructor(private readonly stopOnSignalMs: number) {}

  /** The signal that interrupted the run, or null. */
  get interrupted(): NodeJS.Signals | null {
    return this.caught;
  }

  /** Aborted on the first signal: cuts a run's waits short. */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  install(): void {
    process.once('SIGINT', (s) => this.onSignal(s));
    process.once('SIGTERM', (s) => this.onSignal(s));
    process.on('exit', () => {
      for (const l of this.live) l.kill();
    });
  }

  /** Throws InterruptedError once a signal came: call between steps of a run. */
  check(): void {
    if (this.caught !== null) throw new InterruptedError(this.caught);
  }

  /** Registers l until the returned function is called. */
  track(l: Live): () => void {
    this.live.add(l);
    return () => this.live.delete(l);
  }

  /**
   * First signal: stop what runs (the run then unwinds, reports what it has, and exits 130);
   * a second signal, or a run that does not unwind in time, exits at once (the exit hook kills).
   */
  private onSignal(signal: NodeJS.Signals): void {
    this.caught = signal;
    this.aborter.abort(new InterruptedError(signal));
    console.error(`\n${signal}: stopping the servers and load; send it again to kill them at once`);
    process.once(signal, () => process.exit(130));
    setTimeout(() => process.exit(130), this.stopOnSignalMs).unref();
    for (const l of this.live) void l.stop().catch(() => undefined);
  }
}

/** SIGKILL each pid now (for an exit hook); one that is gone already is skipped. */
export function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
