/**
 * Watches an ensemble while a run goes on: who leads (polled often, so that recovery times
 * have a fine grain) and a few server metrics (mntr every 250 ms, kept about once a second).
 * Polls never overlap; a member that does not answer is skipped, never fatal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EnsembleHandle, MemberMetrics } from '../drivers/types.js';
import { nowEpochMs } from '../load/recorder.js';
import type { LeaderChange, MetricSample } from '../report/results.js';
import { RESOURCE_METRICS } from './resources-summary.js';

export const LEADER_POLL_MS = 50;
/**
 * Right after a fault the leader is polled this often, and only among the voters still up, so
 * that an election of a few ms is timed to a few ms. Each poll is a connection to every server
 * asked; at 2 ms on 3 voters the polling itself made the elections it timed ~10 ms slower.
 */
export const LEADER_POLL_FAST_MS = 5;
export const FAST_POLL_FOR_MS = 3_000;
/** results.json keeps a member's metrics about this often... */
export const METRICS_EVERY_MS = 1_000;
/**
 * ...while mntr is asked this often, and every answer goes to the sample listeners: a snapshot's
 * end is known to one poll (measure/snapshot-windows.ts). One mntr per member per poll.
 */
export const METRICS_POLL_MS = 250;
/** Samples kept per run (a day at one a second per member would be too many). */
const METRIC_SAMPLES_MAX = 100_000;

/**
 * mntr keys sampled (without the zk_ prefix), ZooKeeper's names: ZooKeeper prints summaries
 * as avg_/min_/max_/cnt_<name>, so each name matches those forms too.
 */
export const SAMPLED_METRICS = [
  'outstanding_requests',
  'fsynctime',
  'snapshottime',
  'learners',
  'synced_followers',
  'synced_observers',
  'num_alive_connections',
  'znode_count',
  'approximate_data_size',
  'throttled_ops',
  'quorum_ack_latency',
  'commit_propagation_latency',
  'sync_processor_batch_size',
  // What state costs (heap, RSS, event-loop delay): zablab's only; a key a server lacks is no value.
  ...Object.values(RESOURCE_METRICS),
] as const;

function sampledKey(key: string): string | null {
  const bare = key.startsWith('zk_') ? key.slice(3) : key;
  for (const name of SAMPLED_METRICS) {
    if (bare === name || bare === `avg_${name}` || bare === `max_${name}` || bare === `cnt_${name}`) return bare;
  }
  return null;
}

export class EnsembleObserver {
  private readonly changes: { atEpochMs: number; leader: number | null }[] = [];
  private readonly samples: { atEpochMs: number; id: number; values: Record<string, number> }[] = [];
  private readonly sampleListeners: ((id: number, atEpochMs: number, mntr: MemberMetrics) => void)[] = [];
  /** Per member, when results.json last got a sample of it. */
  private readonly keptAt = new Map<number, number>();
  private stopped = false;
  private loops: Promise<void>[] = [];
  private leaderNow: number | null = null;
  /** Members the runner took away (killed): not asked for metrics. */
  private readonly skip = new Set<number>();
  /** Poll fast until then (epoch ms); wakeUp ends the current pause early. */
  private fastUntilEpochMs = 0;
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly handle: EnsembleHandle,
    /** Told of every leader change as it is recorded (the live view). */
    private readonly onLeader?: (leader: number | null, atEpochMs: number) => void,
  ) {}

  start(): void {
    this.loops = [this.leaderLoop(), this.metricsLoop()];
  }

  /** The leader as last reported (null: none, or several). */
  get leader(): number | null {
    return this.leaderNow;
  }

  /** Asks the servers now (for a fault's target), and records the answer. */
  async leaderNowFresh(): Promise<number | null> {
    const id = await this.handle.leader().catch(() => null);
    this.note(id);
    return id;
  }

  /** A fault is about to fire: poll the leader fast for a while, starting now. */
  pollFast(): void {
    this.fastUntilEpochMs = nowEpochMs() + FAST_POLL_FOR_MS;
    this.wakeUp?.();
  }

  /** Told every mntr answer (member id, when it answered, the whole answer). */
  onSample(listener: (id: number, atEpochMs: number, mntr: MemberMetrics) => void): void {
    this.sampleListeners.push(listener);
  }

  setDown(id: number, down: boolean): void {
    if (down) this.skip.add(id);
    else this.skip.delete(id);
  }

  /** Stops polling; times relative to windowStartEpochMs. */
  async stop(windowStartEpochMs: number): Promise<{ leaderChanges: LeaderChange[]; metrics: MetricSample[] }> {
    this.stopped = true;
    this.wakeUp?.();
    await Promise.all(this.loops);
    return {
      leaderChanges: this.changes.map((c) => ({ atMs: Math.round(c.atEpochMs - windowStartEpochMs), leader: c.leader })),
      metrics: this.samples.map((s) => ({ t: Math.round((s.atEpochMs - windowStartEpochMs) / 100) / 10, id: s.id, values: s.values })),
    };
  }

  private note(id: number | null): void {
    const last = this.changes.at(-1);
    if (last !== undefined && last.leader === id) return;
    const atEpochMs = nowEpochMs();
    this.changes.push({ atEpochMs, leader: id });
    this.leaderNow = id;
    this.onLeader?.(id, atEpochMs);
  }

  /** Who can lead: voters the runner has not taken away. */
  private liveVoters(): number[] {
    return this.handle.members.filter((m) => m.role === 'voter' && !this.skip.has(m.id)).map((m) => m.id);
  }

  private async leaderLoop(): Promise<void> {
    while (!this.stopped) {
      const fast = nowEpochMs() < this.fastUntilEpochMs;
      this.note(await this.handle.leader(fast ? this.liveVoters() : undefined).catch(() => null));
      const ms = fast ? LEADER_POLL_FAST_MS : LEADER_POLL_MS;
      const woken = new Promise<void>((resolve) => (this.wakeUp = resolve));
      await Promise.race([sleep(ms), woken]);
      this.wakeUp = null;
    }
  }

  private async metricsLoop(): Promise<void> {
    while (!this.stopped) {
      const started = nowEpochMs();
      await Promise.all(
        this.handle.members
          .filter((m) => !this.skip.has(m.id))
          .map(async (m) => {
            const mntr = await this.handle.metrics(m.id).catch(() => null);
            if (mntr === null) return;
            for (const listener of this.sampleListeners) listener(m.id, nowEpochMs(), mntr);
            // A poll started a little early still counts as a second later.
            if (started - (this.keptAt.get(m.id) ?? -Infinity) < METRICS_EVERY_MS - METRICS_POLL_MS / 2) return;
            this.keptAt.set(m.id, started);
            if (this.samples.length >= METRIC_SAMPLES_MAX) return;
            const values: Record<string, number> = {};
            for (const [k, v] of Object.entries(mntr)) {
              const key = sampledKey(k);
              if (key !== null && typeof v === 'number' && Number.isFinite(v)) values[key] = v;
            }
            this.samples.push({ atEpochMs: started, id: m.id, values });
          }),
      );
      const rest = METRICS_POLL_MS - (nowEpochMs() - started);
      // Sleep in short steps so that stop() does not wait a whole period.
      for (let left = rest; left > 0 && !this.stopped; left -= 100) await sleep(Math.min(100, left));
    }
  }
}
