/**
 * The live view of a bench: the runner's watcher. Each run's ensemble is polled while it is
 * up (poll.ts); the load's seconds, the faults and the progress go into the state the page
 * renders.
 */
import type { EnsembleHandle } from '../drivers/types.js';
import type { TimelinePoint } from '../load/types.js';
import type { AppliedFault } from '../measure/recovery.js';
import type { BenchWatcher } from '../runner/bench.js';
import { LivePoller } from './poll.js';
import { LiveState } from './state.js';

export class BenchLive implements BenchWatcher {
  readonly state = new LiveState('bench');
  private poller: LivePoller | null = null;

  get progress(): LiveState {
    return this.state;
  }

  ensembleUp(handle: EnsembleHandle): void {
    // Leader changes come from the run's observer (leader()), which polls fast after a fault.
    this.poller = new LivePoller(handle, this.state, { leaderFromStatus: false }).start();
  }

  leader(id: number | null, atEpochMs: number): void {
    this.state.leader(id, atEpochMs);
  }

  windowStarted(atEpochMs: number): void {
    this.state.windowStarted(atEpochMs);
  }

  second(p: TimelinePoint): void {
    this.state.second(p);
  }

  fault(f: AppliedFault): void {
    this.state.fault(f);
  }

  async ensembleDown(): Promise<void> {
    const p = this.poller;
    this.poller = null;
    await p?.stop();
  }
}
