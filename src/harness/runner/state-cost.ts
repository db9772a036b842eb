/**
 * What state costs, for one run (issue #15): the resource sampler, on from the ensemble's start
 * to the end of the run, and the large state the workload asks for (populated znodes, held
 * sessions with watches), built before the load starts and held through the window.
 */
import type { EnsembleHandle } from '../drivers/types.js';
import { loadTargetOf } from '../drivers/probe.js';
import { LargeState } from '../load/state/index.js';
import { ResourceSampler, RESOURCES_EVERY_MS } from '../measure/resources.js';
import { summarizeResources } from '../measure/resources-summary.js';
import type { MetricSample, RunResult } from '../report/results.js';
import type { WorkloadSection } from '../scenario/types.js';

export type StateCostResult = Pick<RunResult, 'populate' | 'sessions' | 'resources'>;

export class StateCost {
  private built: Pick<RunResult, 'populate' | 'sessions'> = {};

  private constructor(
    private readonly handle: EnsembleHandle,
    private readonly sampler: ResourceSampler,
    private state: LargeState | null,
  ) {}

  /** Starts sampling, then builds the workload's large state (phases through onPhase); throws when the state cannot be built. */
  static async start(handle: EnsembleHandle, workload: WorkloadSection, onPhase: (text: string) => void, signal?: AbortSignal): Promise<StateCost> {
    const sampler = new ResourceSampler(handle);
    sampler.start();
    let state: LargeState | null;
    try {
      state = await LargeState.build(loadTargetOf(handle), handle.members.length, workload, onPhase, signal);
    } catch (err) {
      await sampler.stop(0);
      throw err;
    }
    return new StateCost(handle, sampler, state);
  }

  /** The window is over: close the held sessions (their watch events counted). */
  async endSessions(): Promise<void> {
    const state = this.state;
    this.state = null;
    if (state !== null) this.built = await state.stop();
  }

  /** Stops sampling; the run's large-state figures and every server's resources. */
  async result(windowStartEpochMs: number, metrics: readonly MetricSample[]): Promise<StateCostResult> {
    await this.endSessions();
    const rss = await this.sampler.stop(windowStartEpochMs);
    return { ...this.built, resources: summarizeResources(this.handle.members, rss, metrics, RESOURCES_EVERY_MS) };
  }

  /** Emergency stop (abort, or a run that failed): workers killed, sampling ended. */
  kill(): void {
    this.state?.kill();
    this.state = null;
    void this.sampler.stop(0);
  }
}
