/**
 * A run's measurements of catching up and snapshots, wired in one place: catch-ups around the
 * fault runner's restarts and add-observers, snapshot windows from the observer's mntr
 * samples, and at the end the load's p99 and the servers' longest stalls during those windows
 * against outside them.
 */
import type { EnsembleHandle } from '../drivers/types.js';
import type { LoadResult } from '../load/types.js';
import { windowLatency } from '../measure/latency-windows.js';
import { METRICS_POLL_MS, type EnsembleObserver } from '../measure/observe.js';
import { SnapshotSampler, snapshotsResult, snapshotWindows } from '../measure/snapshot-windows.js';
import { stallSample, windowStalls, type ServerSpan, type StallSample, type StallScope } from '../measure/stall-windows.js';
import type { LeaderChange, RunResult } from '../report/results.js';
import type { WindowLatency } from '../report/results-sync.js';
import { CatchUps } from './catch-ups.js';

/** Bound on the stall samples kept (4 per second per server for hours). */
const STALL_SAMPLES_MAX = 2_000_000;

export class SyncMeasures {
  readonly catchUps: CatchUps;
  private readonly sampler = new SnapshotSampler();
  /** Stall samples with epoch-ms times (made relative to the measured window at the end). */
  private readonly stalls: StallSample[] = [];

  constructor(handle: EnsembleHandle, observer: EnsembleObserver) {
    this.catchUps = new CatchUps(handle, () => observer.leader);
    observer.onSample((id, at, mntr) => {
      this.sampler.note(id, at, mntr);
      const stall = stallSample(id, at, mntr);
      if (stall !== null && this.stalls.length < STALL_SAMPLES_MAX) this.stalls.push(stall);
    });
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
      // Samples of the measured window only: populating a million znodes stalls more than anything measured.
      const stalls = this.stalls.map((s) => ({ ...s, atMs: s.atMs - windowStartEpochMs })).filter((s) => s.atMs >= 0 && s.atMs <= durationMs);
      const withStalls = (w: WindowLatency, spans: readonly ServerSpan[], scope: StallScope): WindowLatency => {
        const found = windowStalls(spans, stalls, scope);
        return found === null ? w : { ...w, stalls: found };
      };
      const measure = (kind: WindowLatency['kind'], spans: readonly ServerSpan[], scope: StallScope): WindowLatency => withStalls(windowLatency(kind, spans, fine), spans, scope);
      if (snapshots !== undefined) {
        const cover = (leaderOnly: boolean): ServerSpan[] =>
          snapshots.windows.filter((w) => !leaderOnly || w.leader).map((w) => ({ serverId: w.serverId, fromMs: w.coverFromMs, toMs: w.endMs }));
        latencyDuring.push(measure('snapshot-leader', cover(true), 'own'), measure('snapshot-any', cover(false), 'own'));
      }
      if (catchUps.length > 0) {
        const spans = this.catchUps
          .spans(windowStartEpochMs + durationMs)
          .map((s) => ({ serverId: s.serverId, fromMs: s.fromEpochMs - windowStartEpochMs, toMs: s.toEpochMs - windowStartEpochMs, mode: s.mode }));
        latencyDuring.push(measure('catch-up', spans, 'others'), measure('snap-sync', spans.filter((s) => s.mode === 'SNAP'), 'others'));
      }
    }
    return {
      ...(catchUps.length === 0 ? {} : { catchUps }),
      ...(snapshots === undefined ? {} : { snapshots }),
      ...(latencyDuring.length === 0 ? {} : { latencyDuring }),
    };
  }
}
