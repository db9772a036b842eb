/**
 * The parts of a run's results about the cost of state (issue #15): the populated znodes, the
 * held sessions and their watches, and every server's memory and event-loop delay through the
 * run. All optional in results.json (absent in files written before them, and in runs that
 * had no populate or sessions). Times as in results.ts: `t` in seconds since the window
 * started (negative before it: populate and warm-up).
 */
import type { WatchMode } from '../scenario/types.js';

/** workload.populate: the extra znodes created before the run with multi batches of creates. */
export interface PopulateResult {
  /** The znodes asked for (workload.populate). */
  znodes: number;
  /** Created by this run; the rest were there already (an external ensemble that ran before). */
  created: number;
  existing: number;
  /** Their parent: znode i is `<root>/b<i / 10,000>/n<i>`. */
  root: string;
  /** Creates per multi (fewer for large values, so that a multi stays well under jute.maxbuffer). */
  opsPerMulti: number;
  multis: number;
  durationMs: number;
  /** Znodes created per second over durationMs. */
  createsPerSec: number;
}

/** workload.sessions: the extra idle sessions held through the run, and their watches. */
export interface SessionsResult {
  /** Asked for (workload.sessions). */
  sessions: number;
  /** Established (all of them, or the run failed). */
  opened: number;
  /** Holder processes they ran in. */
  workers: number;
  /** Members they were spread over, round-robin. */
  members: number;
  /** First connect → every session established. */
  openMs: number;
  watchMode: WatchMode;
  watchesPerSession: number;
  /** Watches the servers acknowledged, over every session. */
  watches: number;
  /** First watch request → the last acknowledged (0 without watches). */
  watchMs: number;
  /** Watch events received (node events; a one-shot watch fires once, a persistent one on every change). */
  watchEvents: number;
  /** Sessions the servers expired before the end of the run (their holder does not renew them). */
  expired: number;
}

/** One server's resident memory, read from /proc/<pid>/status (VmRSS) about once a second. */
export interface RssSample {
  t: number;
  bytes: number;
}

/** What one server cost through the run; null: not known (no pid, no such metric: Apache ZooKeeper has no event loop). */
export interface ServerResources {
  id: number;
  role: 'voter' | 'observer';
  /** `proc`: sampled from /proc by the harness; `mntr`: the server's process_resident_memory_bytes; null: neither. */
  rssSource: 'proc' | 'mntr' | null;
  rssBytesEnd: number | null;
  rssBytesMax: number | null;
  /** V8 heap in use (mntr nodejs_heap_size_used_bytes): zablab only. */
  heapUsedBytesMax: number | null;
  /** The highest of the servers' p99 event-loop delay over their last second (mntr zab_event_loop_delay_recent_p99). */
  eventLoopDelayP99MsMax: number | null;
  /** The longest event-loop delay seen (mntr zab_event_loop_delay_recent_max). */
  eventLoopDelayMsMax: number | null;
  /** The longest garbage-collection pause seen (mntr zab_gc_pause_recent_max); absent in results written before it was sampled. */
  gcPauseMsMax?: number | null;
}

/** Every server's resources: the RSS series (/proc; mntr keys are in runs[].metrics) and the summary. */
export interface ResourcesResult {
  /** Sampling period. */
  everyMs: number;
  /** One series per member, [] where the driver knows no pid (compose, external). */
  rss: { id: number; samples: RssSample[] }[];
  servers: ServerResources[];
}
