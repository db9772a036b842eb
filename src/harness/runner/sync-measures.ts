/**
 * A run's measurements of catching up and snapshots, wired in one place: catch-ups around the
 * fault runner's restarts and add-observers, snapshot windows from the observer's mntr
 * samples, and at the end the load's p99 during those windows against outside them.
 */
import type { EnsembleHandle } from '../drivers/types.js';
import type { LoadResult } from '../load/types.js';
import { windowLatency, type Span } from '../measure/latency-windows.js';
import { METRICS_POLL_MS, type EnsembleObserver } from '../measure/observe.js';
import { SnapshotSampler, snapshotsResult, snapshotWindows } from '../measure/snapshot-windows.js';
import type { LeaderChange, RunResult } from '../report/results.js';
import type { WindowLatency } from '../report/results-sync.js';
import { CatchUps } from './catch-ups.js';

export class SyncMeasures {
  readonly catchUps: CatchUps;
  private readonly sampler = new SnapshotSampler();

  constructor(handle: EnsembleHandle, observer: EnsembleObserver) {
    this.catchUps = new CatchUps(handle, () => observer.leader);
    observer.onSample((id, at, mntr) => this.sampler.note(id, at, mntr));
  }

  /** Stops polling catch-ups that have not served yet, and waits for what is being gathered. */
  stop(): Promise<void> {
    return this.catchUps.stop();
  }

  /** The run's catchUps, snapshots and latencyDuring (each left out when there is nothing to say). */
  results(windowStartEpochMs: number, load: LoadResult, changes: readonly LeaderChange[]): Pick<RunResult, 'catchUps' | 'snapshots' | 'latencyDuring'> {
    const durationMs = load.durationMs;
    const catchUps = this.catchUps.results(windowStartEpochMs);
    const samples = this.sampler.all();
    const snapshots =
      samples.length === 0 ? undefined : snapshotsResult(snapshotWindows(samples, this.catchUps.processStarts()), windowStartEpochMs, durationMs, changes, METRICS_POLL_MS);
    const latency = load.fine.latency;
    const latencyDuring: WindowLatency[] = [];
    if (latency !== undefined && latency.length > 0 && load.fine.latencyTruncated !== true) {
      const fine = { slotMs: load.fine.slotMs, latency };
      if (snapshots !== undefined) {
        const cover = (leaderOnly: boolean): Span[] => snapshots.windows.filter((w) => !leaderOnly || w.leader).map((w) => ({ fromMs: w.coverFromMs, toMs: w.endMs }));
        latencyDuring.push(windowLatency('snapshot-leader', cover(true), fine), windowLatency('snapshot-any', cover(false), fine));
      }
      if (catchUps.length > 0) {
        const spans = this.catchUps.spans(windowStartEpochMs + durationMs).map((s) => ({ fromMs: s.fromEpochMs - windowStartEpochMs, toMs: s.toEpochMs - windowStartEpochMs, mode: s.mode }));
        latencyDuring.push(windowLatency('catch-up', spans, fine), windowLatency('snap-sync', spans.filter((s) => s.mode === 'SNAP'), fine));
      }
    }
    return {
      ...(catchUps.length === 0 ? {} : { catchUps }),
      ...(snapshots === undefined ? {} : { snapshots }),
      ...(latencyDuring.length === 0 ? {} : { latencyDuring }),
    };
  }
}
