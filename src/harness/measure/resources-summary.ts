/**
 * A run's per-server resource figures from what was sampled: RSS from /proc (or, where the
 * harness knows no pid, the server's own process_resident_memory_bytes in mntr), V8 heap and
 * event-loop delay and GC pauses from zablab's mntr. A figure nothing measured is null — Apache ZooKeeper
 * has no event loop, so its delay is "—", never 0. No I/O.
 */
import type { MemberRole } from '../drivers/types.js';
import type { MetricSample } from '../report/results.js';
import type { ResourcesResult, RssSample, ServerResources } from '../report/results-state.js';

/** mntr keys (without zk_) the summary reads; measure/observe.ts samples them. */
export const RESOURCE_METRICS = {
  heapUsedBytes: 'nodejs_heap_size_used_bytes',
  rssBytes: 'process_resident_memory_bytes',
  eventLoopDelayP99Ms: 'zab_event_loop_delay_recent_p99',
  eventLoopDelayMaxMs: 'zab_event_loop_delay_recent_max',
  gcPauseMaxMs: 'zab_gc_pause_recent_max',
} as const;

/** The largest value, null for none. */
export function maxOrNull(values: readonly number[]): number | null {
  let max: number | null = null;
  for (const v of values) if (max === null || v > max) max = v;
  return max;
}

/** One mntr key's values for one server, in time order. */
function series(metrics: readonly MetricSample[], id: number, key: string): number[] {
  return metrics
    .filter((s) => s.id === id && s.values[key] !== undefined)
    .sort((a, b) => a.t - b.t)
    .map((s) => s.values[key]!);
}

export function serverResources(id: number, role: MemberRole, rss: readonly RssSample[], metrics: readonly MetricSample[]): ServerResources {
  const mntrRss = series(metrics, id, RESOURCE_METRICS.rssBytes);
  const fromProc = rss.length > 0;
  const rssValues = fromProc ? [...rss].sort((a, b) => a.t - b.t).map((s) => s.bytes) : mntrRss;
  return {
    id,
    role,
    rssSource: fromProc ? 'proc' : mntrRss.length > 0 ? 'mntr' : null,
    rssBytesEnd: rssValues.at(-1) ?? null,
    rssBytesMax: maxOrNull(rssValues),
    heapUsedBytesMax: maxOrNull(series(metrics, id, RESOURCE_METRICS.heapUsedBytes)),
    eventLoopDelayP99MsMax: maxOrNull(series(metrics, id, RESOURCE_METRICS.eventLoopDelayP99Ms)),
    eventLoopDelayMsMax: maxOrNull(series(metrics, id, RESOURCE_METRICS.eventLoopDelayMaxMs)),
    gcPauseMsMax: maxOrNull(series(metrics, id, RESOURCE_METRICS.gcPauseMaxMs)),
  };
}

/** Every member's series and summary, in id order. */
export function summarizeResources(
  members: readonly { id: number; role: MemberRole }[],
  rss: readonly { id: number; samples: RssSample[] }[],
  metrics: readonly MetricSample[],
  everyMs: number,
): ResourcesResult {
  const sorted = [...members].sort((a, b) => a.id - b.id);
  const rssOf = (id: number): RssSample[] => rss.find((r) => r.id === id)?.samples ?? [];
  return {
    everyMs,
    rss: sorted.map((m) => ({ id: m.id, samples: rssOf(m.id) })),
    servers: sorted.map((m) => serverResources(m.id, m.role, rssOf(m.id), metrics)),
  };
}
