/**
 * The `http` load driver: autocannon against zablab's REST face (/v1/znodes, /v1/children).
 * `clients` × `connections` HTTP connections, each its own single-connection autocannon
 * instance in this process, spread over every member's HTTP face; `pipelining` requests in
 * flight per connection. A client is a group of connections that creates under, and deletes
 * from, its own directory `root/h<client>`.
 *
 * In this process rather than in autocannon's worker threads (its `workers` option): on two
 * cores the servers, not the load, are the limit. Measured on a 2-core machine against a
 * 3-voter ensemble (GETs, 12 connections): this driver spends about 70 µs of CPU per request
 * (plain autocannon in-process about 50, with `workers: 2` about 100, the results crossing
 * threads), so at the ensemble's ~5k requests/s it takes a third of one core; workers would
 * take more CPU from the servers and buy nothing.
 *
 * Every completed request goes into one LoadRecorder (op, intended start, end, error code),
 * so results have the same shape as the native driver's. connection.ts explains how each
 * request is timed and how open loop keeps latency honest.
 */
import { adminAuthHeaders } from '../../ensemble/admin-token.js';
import { HarnessError } from '../../errors.js';
import type { WorkloadSection } from '../../scenario/types.js';
import { opMix, type OpWeight } from '../ops.js';
import { LoadRecorder, mergeSnapshots, nowEpochMs } from '../recorder.js';
import type { LoadDriver, LoadResult, LoadRun, LoadStartOptions, LoadTarget } from '../types.js';
import { ClientGroup, HttpConnection, type ConnectionSpec, type LoadSink } from './connection.js';
import { weightedOps } from './requests.js';
import { clientDir, prepareZnodes } from './rest.js';
import { SecondStats } from './seconds.js';

export const HTTP_LIMITS = {
  clients: 64,
  connections: 1_024,
  /** clients × connections: each is an autocannon instance and a socket of this process. */
  connectionsTotal: 1_024,
  pipelining: 256,
  keys: 1_000_000,
  /** The REST face refuses bodies over jute.maxbuffer (1 MiB by default). */
  valueSize: 1_000_000,
  rate: 1_000_000,
} as const;

/** stop() waits this long for requests in flight; the rest count as TIMEOUT. */
export const DRAIN_TIMEOUT_MS = 10_000;
const DRAIN_POLL_MS = 10;
/** Per connection, for autocannon to end after its socket is closed. */
const CLOSE_WAIT_MS = 2_000;
const LIVE_OPS_EVERY_MS = 1_000;
const ROLL_EVERY_MS = 100;

function loadError(message: string): HarnessError {
  return new HarnessError('ZABLAB_BENCH_LOAD', message);
}

function checkInt(field: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw loadError(`workload.${field} must be an integer in [${min}, ${max}] for the http load driver, got ${v}`);
}

/** The workload's limits for this driver; returns the op mix. */
export function validateHttpWorkload(target: LoadTarget, w: WorkloadSection, root: string): OpWeight[] {
  checkInt('clients', w.clients, 1, HTTP_LIMITS.clients);
  checkInt('connections', w.connections, 1, HTTP_LIMITS.connections);
  if (w.clients * w.connections > HTTP_LIMITS.connectionsTotal) {
    throw loadError(`workload.clients × workload.connections must be at most ${HTTP_LIMITS.connectionsTotal} for the http load driver, got ${w.clients * w.connections}`);
  }
  checkInt('pipelining', w.pipelining, 1, HTTP_LIMITS.pipelining);
  checkInt('keys', w.keys, 1, HTTP_LIMITS.keys);
  checkInt('valueSize', w.valueSize, 0, HTTP_LIMITS.valueSize);
  if (!(w.readPct >= 0 && w.readPct <= 100)) throw loadError(`workload.readPct must be in [0, 100], got ${w.readPct}`);
  if (w.rate !== null && !(Number.isFinite(w.rate) && w.rate > 0 && w.rate <= HTTP_LIMITS.rate)) {
    throw loadError(`workload.rate must be a number in (0, ${HTTP_LIMITS.rate}] ops/s, or null for closed loop; got ${w.rate}`);
  }
  if (!/^(\/[^/\s]+)+$/.test(root)) throw loadError(`the load's root znode must be an absolute path below / such as /zablab-bench, got ${JSON.stringify(root)}`);
  if (target.httpUrls.length === 0) {
    throw loadError('the http load driver needs the HTTP face of the members (admin.serverPort); none is known for this ensemble (external: give httpPort)');
  }
  for (const u of target.httpUrls) {
    if (!URL.canParse(u) || new URL(u).protocol !== 'http:') throw loadError(`the http load driver needs http://host:port URLs of the members, got ${JSON.stringify(u)}`);
  }
  const mix = opMix(w);
  if (mix.length === 0) throw loadError('the workload has no op with a positive weight: give readPct and the reads/writes weights');
  const cannot = mix.filter((m) => m.op === 'multi' || m.op === 'sync').map((m) => m.op);
  if (cannot.length > 0) throw loadError(`the http driver cannot issue ${cannot.join('/')} (the REST face has no such request); use load.driver native, or leave ${cannot.join(' and ')} out of workload.writes`);
  return mix;
}

class HttpLoadRun implements LoadRun {
  private readonly recorder = new LoadRecorder();
  private seconds: SecondStats | null = null;
  private readonly connections: HttpConnection[] = [];
  private markedAt: number | null = null;
  private stopped: Promise<LoadResult> | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly sink: LoadSink = {
    record: (op, intendedMs, endMs, error) => {
      this.recorder.record(op, intendedMs, endMs, error);
      this.seconds?.record(op, intendedMs, endMs, error);
    },
    missedSlots: (n) => {
      for (let i = 0; i < n; i++) this.recorder.missedSlot();
    },
  };

  constructor(private readonly opts: LoadStartOptions) {
    const live = setInterval(() => {
      for (const c of this.connections) c.sweep();
      opts.onLiveOps?.(this.recorder.liveOps());
    }, LIVE_OPS_EVERY_MS);
    this.timers.push(live);
    if (opts.onSecond !== undefined) this.timers.push(setInterval(() => this.seconds?.roll(nowEpochMs()), ROLL_EVERY_MS));
    for (const t of this.timers) t.unref();
  }

  /** Opens every connection; load begins at once (warm-up). */
  open(specs: readonly ConnectionSpec[], groups: readonly ClientGroup[], connectionsPerClient: number): void {
    for (const spec of specs) {
      const c = new HttpConnection(spec, groups[Math.floor(spec.index / connectionsPerClient)]!, this.sink);
      this.connections.push(c);
      c.start();
    }
  }

  mark(): Promise<number> {
    if (this.markedAt === null) {
      const at = nowEpochMs();
      this.markedAt = at;
      this.recorder.begin(at);
      if (this.opts.onSecond !== undefined) this.seconds = new SecondStats(at, this.opts.onSecond);
    }
    return Promise.resolve(this.markedAt);
  }

  noteFault(atEpochMs: number): void {
    this.recorder.noteFault(atEpochMs);
  }

  stop(): Promise<LoadResult> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  kill(): void {
    this.stopTimers();
    for (const c of this.connections) c.kill();
  }

  private async stopOnce(): Promise<LoadResult> {
    try {
      // A run stopped before its window started reports an empty window.
      await this.mark();
      const at = nowEpochMs();
      let missed = 0;
      for (const c of this.connections) missed += c.stopSending(at);
      this.sink.missedSlots(missed);
      this.recorder.end(at);
      this.seconds?.roll(at);
      this.seconds = null;
      await this.drain();
      for (const c of this.connections) for (const op of c.takeInFlight()) this.recorder.record(op, at, at, 'TIMEOUT');
      return mergeSnapshots('http', [this.recorder.snapshot()]);
    } finally {
      this.stopTimers();
      await Promise.all(this.connections.map((c) => c.close(CLOSE_WAIT_MS)));
      this.recorder.destroy();
    }
  }

  /** Waits (bounded) for the answers to requests in flight; those on a socket that died are recorded at once. */
  private async drain(): Promise<void> {
    const deadline = nowEpochMs() + DRAIN_TIMEOUT_MS;
    for (;;) {
      let inFlight = 0;
      for (const c of this.connections) {
        c.sweep();
        inFlight += c.inFlightCount;
      }
      if (inFlight === 0 || nowEpochMs() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }
}

async function start(target: LoadTarget, workload: WorkloadSection, opts: LoadStartOptions): Promise<LoadRun> {
  if (opts.history != null) throw loadError('the http load driver cannot record a history: it sends neither versioned setData nor sync; use the native load driver');
  const mix = validateHttpWorkload(target, workload, opts.root);
  const value = Buffer.alloc(workload.valueSize, 0x61);
  const urls = target.httpUrls;
  const token = target.adminToken ?? null;
  await prepareZnodes({ urls, root: opts.root, keys: workload.keys, value, clients: workload.clients, token });
  const total = workload.clients * workload.connections;
  const t0 = nowEpochMs();
  const specs: ConnectionSpec[] = Array.from({ length: total }, (_, g) => ({
    index: g,
    // Spread over the members; on a member's failure the connection moves on to the next.
    urls: urls.map((_, i) => urls[(g + i) % urls.length]!),
    pipelining: workload.pipelining,
    // Each connection has rate/total of the rate, offset by g/total of its period: together, evenly spaced slots.
    schedule: workload.rate === null ? null : { t0, periodMs: (total * 1_000) / workload.rate, phase: g / total },
    // Seeded by connection index: a connection sends the same sequence from run to run.
    ops: weightedOps(mix, 0x9e3779b1 ^ (g * 2 + 1)),
    root: opts.root,
    keys: workload.keys,
    value,
    headers: adminAuthHeaders(token),
  }));
  const groups = Array.from({ length: workload.clients }, (_, i) => new ClientGroup(clientDir(opts.root, i)));
  const run = new HttpLoadRun(opts);
  try {
    run.open(specs, groups, workload.connections);
  } catch (err) {
    run.kill();
    if (err instanceof HarnessError) throw err;
    throw loadError(`cannot start autocannon: ${(err as Error).message}`);
  }
  return run;
}

export const httpLoadDriver: LoadDriver = { name: 'http', start };
