/**
 * Polls an ensemble for the live view: every server's srvr (role, zxid, serving) twice a
 * second, mntr's outstanding_requests once a second, and the spans directory for a recent
 * write. Polls never overlap; a server that does not answer is shown as such, never fatal.
 * The bench runner's own observer keeps its faster leader polling for the recovery figures;
 * this one costs the servers two connections each per second.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MemberMetrics, MemberMode, MemberRole } from '../drivers/types.js';
import { nowEpochMs } from '../load/recorder.js';
import type { LiveState } from './state.js';
import { SpansTail } from './waterfall.js';

export const STATUS_EVERY_MS = 500;
export const METRICS_EVERY_MS = 1_000;

/** What the live view needs of an ensemble: an EnsembleHandle has it, and so does `zablab watch`'s. */
export interface LiveEnsemble {
  readonly members: readonly { id: number; role: MemberRole }[];
  status(): Promise<readonly { id: number; mode: MemberMode; zxid: bigint | null }[]>;
  metrics(id: number): Promise<MemberMetrics>;
  /** Where the servers write their spans files, or null (no waterfall). */
  readonly spansDir: string | null;
}

export const NO_SPANS_NOTE = 'no spans: the servers write no spans files (bench: set `spans:` in the scenario; watch: start the ensemble with ZABLAB_SPANS_DIR set, or pass --spans DIR)';

export class LivePoller {
  private stopped = false;
  private loops: Promise<void>[] = [];
  private wake: (() => void) | null = null;
  private readonly tail: SpansTail | null;

  constructor(
    private readonly ensemble: LiveEnsemble,
    private readonly state: LiveState,
    /** Whether the leader (and its change markers) follows these polls; false when someone polls it faster. */
    private readonly opts: { leaderFromStatus: boolean } = { leaderFromStatus: true },
  ) {
    this.tail = ensemble.spansDir === null ? null : new SpansTail(ensemble.spansDir);
    if (this.tail === null) state.setWaterfall(null, NO_SPANS_NOTE);
    else state.setWaterfall(null, 'waiting for a sampled write with spans from more than one server');
  }

  start(): this {
    this.loops = [this.every(STATUS_EVERY_MS, () => this.pollStatus()), this.every(METRICS_EVERY_MS, () => this.pollMetrics())];
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await Promise.all(this.loops);
  }

  private async every(ms: number, poll: () => Promise<void>): Promise<void> {
    while (!this.stopped) {
      const started = nowEpochMs();
      await poll().catch(() => undefined);
      const rest = ms - (nowEpochMs() - started);
      if (rest > 0 && !this.stopped) {
        await Promise.race([sleep(rest), new Promise<void>((resolve) => (this.wake = resolve))]);
      }
    }
  }

  private async pollStatus(): Promise<void> {
    const at = nowEpochMs();
    const st = await this.ensemble.status();
    if (this.stopped) return;
    const roles = new Map(this.ensemble.members.map((m) => [m.id, m.role]));
    this.state.serversPolled(
      st.map((s) => ({ id: s.id, role: roles.get(s.id) ?? 'voter', mode: s.mode, zxid: s.zxid })),
      at,
      this.opts.leaderFromStatus,
    );
    if (this.tail !== null) {
      const w = this.tail.poll();
      if (w !== null) this.state.setWaterfall(w, '');
      else if (!this.tail.hasFiles()) this.state.setWaterfall(null, 'waiting for the servers to write spans');
    }
  }

  private async pollMetrics(): Promise<void> {
    const at = nowEpochMs();
    await Promise.all(
      this.ensemble.members.map(async (m) => {
        const mntr = await this.ensemble.metrics(m.id).catch(() => null);
        const v = mntr?.['zk_outstanding_requests'] ?? mntr?.['outstanding_requests'];
        if (typeof v === 'number' && !this.stopped) this.state.outstandingOf(m.id, v, at);
      }),
    );
  }
}
