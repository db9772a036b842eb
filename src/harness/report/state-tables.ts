/**
 * The tables of "what state costs", shared by summary.md and report.html: the large state a
 * run built (populate, held sessions, watches) and every server's memory and event-loop delay.
 * A figure nothing measured is — (Apache ZooKeeper has no event loop; drivers without pids
 * have no RSS), never 0.
 */
import { formatBytes, formatCount, formatMs, formatOpsPerSec, NOT_APPLICABLE, NOT_OBSERVED } from './format.js';
import { systemLabel } from './labels.js';
import type { RunResult } from './results.js';

export const LARGE_STATE_HEADERS = ['run', 'populated', 'populate time', 'creates/s', 'sessions', 'open time', 'watches', 'watch time', 'watch events', 'expired'] as const;
/** Right-aligned (numeric) columns of LARGE_STATE_HEADERS. */
export const LARGE_STATE_NUMERIC = [false, true, true, true, true, true, true, true, true, true] as const;

export const RESOURCES_HEADERS = ['run', 'server', 'role', 'system', 'RSS end', 'RSS max', 'heap used max', 'event-loop p99 (max)', 'event-loop max', 'longest GC pause'] as const;
export const RESOURCES_NUMERIC = [false, true, false, false, true, true, true, true, true, true] as const;

export function hasLargeState(run: RunResult): boolean {
  return run.populate !== undefined || run.sessions !== undefined;
}

export function largeStateRows(runs: readonly RunResult[]): string[][] {
  return runs.filter(hasLargeState).map((r) => {
    const p = r.populate;
    const s = r.sessions;
    const populated = p === undefined ? [NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE] : [formatCount(p.created + p.existing), formatMs(p.durationMs), formatOpsPerSec(p.createsPerSec)];
    const held =
      s === undefined
        ? [NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE]
        : [
            `${formatCount(s.opened)} of ${formatCount(s.sessions)}`,
            formatMs(s.openMs),
            s.watchesPerSession === 0 ? '0' : `${formatCount(s.watches)} ${s.watchMode}`,
            s.watchesPerSession === 0 ? NOT_APPLICABLE : formatMs(s.watchMs),
            formatCount(s.watchEvents),
            formatCount(s.expired),
          ];
    return [r.name, ...populated, ...held];
  });
}

function bytes(v: number | null): string {
  return v === null ? NOT_OBSERVED : formatBytes(v);
}

export function resourcesRows(runs: readonly RunResult[]): string[][] {
  return runs.flatMap((r) =>
    (r.resources?.servers ?? []).map((s) => [
      r.name,
      String(s.id),
      s.role,
      systemLabel(r),
      bytes(s.rssBytesEnd),
      bytes(s.rssBytesMax),
      bytes(s.heapUsedBytesMax),
      formatMs(s.eventLoopDelayP99MsMax),
      formatMs(s.eventLoopDelayMsMax),
      formatMs(s.gcPauseMsMax ?? null),
    ]),
  );
}

export const RESOURCES_CAPTION =
  'Per server, sampled about once a second from the ensemble\'s start to the end of the run (populate and warm-up included). RSS from /proc (or the server\'s own mntr where the harness knows no pid); heap, event-loop delay (the servers\' p99 and max over their last second, highest sample) and the longest garbage-collection pause (a delay beside a pause as long was the collector\'s) from zablab\'s mntr. — : not measured (Apache ZooKeeper has no event loop, and reports no GC pauses in mntr).';

export const LARGE_STATE_CAPTION =
  'Built before the load started: znodes created with multi batches under /zablab-populate, then idle sessions held round-robin over every member through the run, each with its watches on populated znodes.';
