/**
 * Every server's resident memory through a run, read from /proc/<pid>/status about once a
 * second, from the ensemble's start to its end (populate and warm-up included: the state the
 * run builds is what it measures). Only for drivers that know their servers' pids (local,
 * zookeeper); others yield no samples. A member that is down (no pid) or gone is skipped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EnsembleHandle } from '../drivers/types.js';
import { nowEpochMs } from '../load/recorder.js';
import type { RssSample } from '../report/results-state.js';
import { rssBytesOf } from './proc-stats.js';

export const RESOURCES_EVERY_MS = 1_000;
/** Samples kept per member (a day at one a second). */
const SAMPLES_MAX = 86_400;

export class ResourceSampler {
  private readonly samples = new Map<number, { atEpochMs: number; bytes: number }[]>();
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly handle: EnsembleHandle) {
    for (const m of handle.members) this.samples.set(m.id, []);
  }

  /** Whether this driver knows its servers' pids (else there is nothing to sample). */
  get knowsPids(): boolean {
    return this.handle.pidOf !== undefined;
  }

  start(): void {
    if (this.knowsPids) this.loop ??= this.run();
  }

  /** Stops sampling; every member's samples, t in seconds since windowStartEpochMs (0.1 s resolution). */
  async stop(windowStartEpochMs: number): Promise<{ id: number; samples: RssSample[] }[]> {
    this.stopped = true;
    await this.loop;
    return [...this.samples].map(([id, list]) => ({
      id,
      samples: list.map((s) => ({ t: Math.round((s.atEpochMs - windowStartEpochMs) / 100) / 10, bytes: s.bytes })),
    }));
  }

  private sampleOnce(): void {
    const at = nowEpochMs();
    for (const m of this.handle.members) {
      const pid = this.handle.pidOf?.(m.id) ?? null;
      const bytes = pid === null ? null : rssBytesOf(pid);
      const list = this.samples.get(m.id);
      if (bytes !== null && list !== undefined && list.length < SAMPLES_MAX) list.push({ atEpochMs: at, bytes });
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const started = nowEpochMs();
      this.sampleOnce();
      // Short steps, so that stop() does not wait a whole period.
      for (let left = RESOURCES_EVERY_MS - (nowEpochMs() - started); left > 0 && !this.stopped; left -= 100) await sleep(Math.min(100, left));
    }
  }
}
