/**
 * The load one worker process applies: its sessions, the op mix, closed loop (each session
 * keeps `pipelining` requests in flight; latency from the send) or open loop (requests at
 * fixed intended times; latency from the intended time, so a stall shows up as latency and
 * not as silently fewer requests), and the recorders that count it.
 */
import fs from 'node:fs';
import { ZkClientBusyError, ZkError, type ClientTlsOptions, type ZkClient } from '../../../client/index.js';
import type { OpKind } from '../../scenario/types.js';
import { KeyPicker, OpPicker, keyPath } from '../ops.js';
import { LoadRecorder, nowEpochMs, type OpCellSnapshot, type RecorderSnapshot } from '../recorder.js';
import { counterPath, recordedKind, sendHistoryOp, setParentPath } from './history-ops.js';
import { HistoryLog, type HistoryPart } from './history-log.js';
import type { WorkerSpec } from './protocol.js';
import { RegisterWorkload } from './register.js';
import { LoadSession, rotateHosts } from './session.js';

/** Open loop: a session with this many requests outstanding misses its slot (the client is saturated). */
export const OPEN_LOOP_SESSION_INFLIGHT_MAX = 10_000;
/** ... and so does a worker with this many over all its sessions (bounds its memory). */
export const OPEN_LOOP_WORKER_INFLIGHT_MAX = 200_000;
/** stop() waits this long for requests in flight; the rest count as TIMEOUT. */
export const DRAIN_TIMEOUT_MS = 10_000;
/** Sessions connected at once while opening. */
const CONNECT_WINDOW = 64;
/** Creates in flight while preparing the keys: quick, and within any server's limits. */
const SETUP_WINDOW = 256;
/** Closed loop: pause after a failed request so a server that refuses at once is not hit in a spin. */
const ERROR_PAUSE_MS = 1;
const OPEN_LOOP_TICK_MS = 1;
/** Nodes this worker created and may delete later; past this, new ones are left in place. */
const CREATED_MAX = 100_000;
/** CreateMode.PERSISTENT_SEQUENTIAL: the server appends a counter, so reruns never collide. */
const PERSISTENT_SEQUENTIAL = 2;

/** A failed request's code: ZooKeeper's code name, or a stable name for client-side failures. */
export function errorCode(err: unknown): string {
  if (err instanceof ZkError) return err.codeName;
  if (err instanceof ZkClientBusyError) return 'CLIENT_BUSY';
  return 'CLIENT_ERROR';
}

function isNodeExists(err: unknown): boolean {
  return err instanceof ZkError && err.codeName === 'NODEEXISTS';
}

/** Runs f over items with at most `window` calls pending; rejects on the first failure. */
async function forEachWindowed<T>(items: readonly T[], window: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await f(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, lane));
}

/** `/a/b/c` → [`/a`, `/a/b`, `/a/b/c`]. */
function selfAndAncestors(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  return parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
}

export function workerDir(root: string, index: number): string {
  return `${root}/w${index}`;
}

/** One second of the window as its own LoadRecorder, so the parent can show it while the run goes on. */
class SecondRecorder {
  private t = 0;
  private rec: LoadRecorder;

  constructor(
    private readonly startEpochMs: number,
    private readonly emit: (t: number, cells: Partial<Record<OpKind, OpCellSnapshot>>) => void,
  ) {
    this.rec = this.open();
  }

  private open(): LoadRecorder {
    const rec = new LoadRecorder();
    rec.begin(this.startEpochMs + this.t * 1_000);
    rec.end(this.startEpochMs + (this.t + 1) * 1_000);
    return rec;
  }

  record(op: OpKind, intendedMs: number, endMs: number, error: string | null): void {
    this.roll(endMs);
    this.rec.record(op, intendedMs, endMs, error);
  }

  /** Emits every second that has ended by now. */
  roll(now: number): void {
    while (now >= this.startEpochMs + (this.t + 1) * 1_000) {
      this.emit(this.t, this.rec.snapshot().seconds[0] ?? {});
      this.rec.destroy();
      this.t++;
      this.rec = this.open();
    }
  }

  destroy(): void {
    this.rec.destroy();
  }
}

export class NativeLoad {
  readonly recorder = new LoadRecorder();
  private readonly ops: OpPicker;
  private readonly keyPicker: KeyPicker;
  private readonly value: Buffer;
  private readonly dir: string;
  private readonly created: string[] = [];
  private running = false;
  private openTimer: NodeJS.Timeout | null = null;
  private outstanding = 0;
  private readonly outstandingByOp = new Map<OpKind, number>();
  private onDrained: (() => void) | null = null;
  private seconds: SecondRecorder | null = null;
  private nextSession = 0;
  /** The history workload (spec.history): its processes and what it records; null for the mix. */
  private readonly register: RegisterWorkload | null = null;
  private readonly history: HistoryLog | null = null;

  private constructor(
    private readonly spec: WorkerSpec,
    private readonly sessions: LoadSession[],
    private readonly emitSecond: (t: number, cells: Partial<Record<OpKind, OpCellSnapshot>>) => void,
  ) {
    // Seeded by worker index: a worker draws the same ops and keys from run to run.
    this.ops = new OpPicker(spec.mix, 0x9e3779b1 ^ (spec.index * 2 + 1));
    this.keyPicker = new KeyPicker(spec.keys, 0x85ebca6b ^ (spec.index * 2 + 2));
    this.value = Buffer.alloc(spec.valueSize, 0x61);
    this.dir = workerDir(spec.root, spec.index);
    const h = spec.history;
    if (h !== null) {
      // One process per op that can be in flight: in closed loop each lane of each session; open loop gets as many.
      const processes = spec.connections * spec.pipelining;
      this.register = new RegisterWorkload({ keys: spec.keys, readShare: h.readShare, firstProcess: h.firstProcess, processesTotal: h.processesTotal, processes, seed: 0x27d4eb2f ^ (spec.index * 2 + 1) });
      this.history = new HistoryLog(h.file, BigInt(h.originNs));
    }
  }

  /**
   * Connects every session. Session g of the run (worker index × connections + i) lists the
   * hosts rotated by g, so the sessions spread over every member of the ensemble.
   */
  static async open(spec: WorkerSpec, emitSecond: (t: number, cells: Partial<Record<OpKind, OpCellSnapshot>>) => void): Promise<NativeLoad> {
    const maxInFlight = spec.rate === null ? spec.pipelining : OPEN_LOOP_SESSION_INFLIGHT_MAX;
    const slots = Array.from({ length: spec.connections }, (_, i) => i);
    const sessions: (LoadSession | undefined)[] = [];
    // Read once: every session of the worker presents the same certificate.
    const tls: ClientTlsOptions | null =
      spec.tls === null ? null : { ca: fs.readFileSync(spec.tls.caFile), cert: fs.readFileSync(spec.tls.certFile), key: fs.readFileSync(spec.tls.keyFile) };
    try {
      await forEachWindowed(slots, CONNECT_WINDOW, async (i) => {
        sessions[i] = await LoadSession.open(rotateHosts(spec.connectString, spec.index * spec.connections + i), maxInFlight, tls);
      });
    } catch (err) {
      await Promise.all(sessions.map((s) => s?.close()));
      const opened = sessions.filter((s) => s !== undefined).length;
      throw new Error(
        `opened ${opened} of ${spec.connections} sessions to ${spec.connectString}: ${err instanceof Error ? err.message : String(err)}` +
          ' (check that the ensemble serves, and that its maxClientCnxns allows this many connections from one address)',
        { cause: err },
      );
    }
    return new NativeLoad(spec, sessions as LoadSession[], emitSecond);
  }

  /** Worker 0, before the load: root (and its parents), the keys, every worker's dir; existing nodes stay. */
  async prepare(): Promise<void> {
    if (this.spec.history !== null) return this.prepareHistory(this.spec.history.root);
    const create = async (path: string, data: Buffer | null): Promise<void> => {
      const client = this.anyClient();
      try {
        await client.create(path, data);
      } catch (err) {
        if (!isNodeExists(err)) throw err;
      }
    };
    for (const p of selfAndAncestors(this.spec.root)) await create(p, null);
    const keys = Array.from({ length: this.spec.keys }, (_, i) => keyPath(this.spec.root, i));
    await forEachWindowed(keys, SETUP_WINDOW, (p) => create(p, this.value));
    const dirs = Array.from({ length: this.spec.workers }, (_, i) => workerDir(this.spec.root, i));
    await forEachWindowed(dirs, SETUP_WINDOW, (p) => create(p, null));
  }

  /**
   * Worker 0, before the history workload: its root (which must be new, so every register
   * starts at null, version 0), the keys with no data, the set's parent and the counter at 0.
   */
  private async prepareHistory(root: string): Promise<void> {
    const client = this.anyClient();
    for (const p of selfAndAncestors(root).slice(0, -1)) {
      try {
        await client.create(p, null);
      } catch (err) {
        if (!isNodeExists(err)) throw err;
      }
    }
    await client.create(root, null);
    const keys = Array.from({ length: this.spec.keys }, (_, i) => keyPath(root, i));
    await forEachWindowed(keys, SETUP_WINDOW, async (p) => void (await client.create(p, null)));
    await client.create(setParentPath(root), null);
    await client.create(counterPath(root), Buffer.from('0'));
  }

  private anyClient(): ZkClient {
    for (const s of this.sessions) if (s.current !== null) return s.current;
    throw new Error('no session of this worker is established');
  }

  /** Load begins (warm-up: nothing is counted until mark). */
  start(): void {
    if (this.running) throw new Error('start: the load already runs');
    this.running = true;
    const rate = this.spec.rate;
    if (rate === null) {
      for (const s of this.sessions) for (let i = 0; i < this.spec.pipelining; i++) this.closedLoop(s);
      return;
    }
    const periodMs = 1_000 / rate;
    const t0 = nowEpochMs();
    let slot = 0;
    let next = t0;
    this.openTimer = setInterval(() => {
      const now = nowEpochMs();
      // Every slot whose time has come goes out now, each measured from its own intended time.
      while (next <= now && this.running) {
        this.openSlot(next);
        slot++;
        next = t0 + slot * periodMs;
      }
    }, OPEN_LOOP_TICK_MS);
  }

  /** Counting begins at this wall time (shared by every worker). */
  mark(atEpochMs: number): void {
    this.recorder.begin(atEpochMs);
    if (this.spec.seconds) {
      this.seconds?.destroy();
      this.seconds = new SecondRecorder(atEpochMs, this.emitSecond);
    }
  }

  /** Emits the seconds of the window that have ended (called by the worker's timer when completions are rare). */
  rollSeconds(): void {
    this.seconds?.roll(nowEpochMs());
  }

  noteFault(atEpochMs: number): void {
    this.recorder.noteFault(atEpochMs);
  }

  /**
   * Counting ends at this wall time: load stops then, requests in flight get DRAIN_TIMEOUT_MS
   * to complete, the rest are recorded as TIMEOUT at the window's end; returns the snapshot.
   */
  async stop(atEpochMs: number): Promise<RecorderSnapshot> {
    this.recorder.end(atEpochMs);
    const waitMs = atEpochMs - nowEpochMs();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    this.running = false;
    if (this.openTimer !== null) clearInterval(this.openTimer);
    this.openTimer = null;
    this.seconds?.destroy();
    this.seconds = null;
    if (!(await this.drain())) {
      for (const [op, n] of this.outstandingByOp) for (let i = 0; i < n; i++) this.recorder.record(op, atEpochMs, atEpochMs, 'TIMEOUT');
    }
    return this.recorder.snapshot();
  }

  private drain(): Promise<boolean> {
    if (this.outstanding === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onDrained = null;
        resolve(false);
      }, DRAIN_TIMEOUT_MS);
      this.onDrained = () => {
        clearTimeout(timer);
        this.onDrained = null;
        resolve(true);
      };
    });
  }

  /** The history workload's record, its file closed (after stop); null for the mix. */
  async closeHistory(): Promise<HistoryPart | null> {
    return (await this.history?.close()) ?? null;
  }

  /** Closes every session (closeSession) and frees the recorders. */
  async close(): Promise<void> {
    this.running = false;
    if (this.openTimer !== null) clearInterval(this.openTimer);
    this.openTimer = null;
    await this.history?.close();
    await Promise.all(this.sessions.map((s) => s.close()));
    this.seconds?.destroy();
    this.recorder.destroy();
  }

  /** One lane of a session in closed loop: a completion sends the next request. */
  private closedLoop(s: LoadSession): void {
    if (!this.running) return;
    const then = (ok: boolean): void => {
      if (ok) this.closedLoop(s);
      else setTimeout(() => this.closedLoop(s), ERROR_PAUSE_MS);
    };
    if (this.register !== null) this.issueHistory(s, nowEpochMs(), then);
    else this.issue(s, this.ops.next(), nowEpochMs(), then);
  }

  /** Open loop: one slot of the schedule, on the next session in turn, unless the client is saturated. */
  private openSlot(intendedMs: number): void {
    const s = this.sessions[this.nextSession]!;
    this.nextSession = (this.nextSession + 1) % this.sessions.length;
    if (s.outstanding >= OPEN_LOOP_SESSION_INFLIGHT_MAX || this.outstanding >= OPEN_LOOP_WORKER_INFLIGHT_MAX) {
      this.recorder.missedSlot();
      return;
    }
    if (this.register !== null) this.issueHistory(s, intendedMs, null);
    else this.issue(s, this.ops.next(), intendedMs, null);
  }

  private issue(s: LoadSession, op: OpKind, intendedMs: number, then: ((ok: boolean) => void) | null): void {
    const done = this.track(s, op, then);
    s.use((c) => {
      this.send(c, op, intendedMs).then(
        (startMs) => done(startMs, null),
        (err: unknown) => done(intendedMs, errorCode(err)),
      );
    });
  }

  /**
   * The history workload's next op, on a process with no op in flight: its invocation is
   * recorded before it is sent, its completion when the reply (or the loss) comes. In open
   * loop a slot that finds every process busy is missed.
   */
  private issueHistory(s: LoadSession, intendedMs: number, then: ((ok: boolean) => void) | null): void {
    const register = this.register!;
    const log = this.history!;
    const p = register.acquire();
    if (p === null) {
      if (then === null) this.recorder.missedSlot();
      else setTimeout(() => then(false), ERROR_PAUSE_MS);
      return;
    }
    const op = register.next(p);
    const done = this.track(s, recordedKind(op), then);
    log.invoke(p.id, op);
    s.use((c) => {
      void sendHistoryOp(c, op, this.spec.history!.root, log.counter).then((r) => {
        log.complete(p.id, op, r);
        p.completed(op, r);
        register.release(p, r.outcome);
        // A refused cas (BADVERSION) is an answer like any other: only a loss pauses the lane.
        done(intendedMs, r.code, r.outcome !== 'info');
      });
    });
  }

  /**
   * Counts a request in flight; the returned callback records its completion (code null: ok)
   * and continues the lane, at once or (`goOn` false, by default on an error) after a pause.
   */
  private track(s: LoadSession, op: OpKind, then: ((goOn: boolean) => void) | null): (startMs: number, code: string | null, goOn?: boolean) => void {
    s.outstanding++;
    this.outstanding++;
    this.outstandingByOp.set(op, (this.outstandingByOp.get(op) ?? 0) + 1);
    return (startMs, code, goOn = code === null) => {
      const endMs = nowEpochMs();
      s.outstanding--;
      this.outstanding--;
      this.outstandingByOp.set(op, this.outstandingByOp.get(op)! - 1);
      this.recorder.record(op, startMs, endMs, code);
      this.seconds?.record(op, startMs, endMs, code);
      if (this.outstanding === 0) this.onDrained?.();
      then?.(goOn);
    };
  }

  /** Sends op; resolves with the time its latency counts from (the intended start, moved past an unmeasured create). */
  private async send(c: ZkClient, op: OpKind, intendedMs: number): Promise<number> {
    switch (op) {
      case 'getData':
        await c.getData(this.key());
        return intendedMs;
      case 'exists':
        await c.exists(this.key());
        return intendedMs;
      case 'getChildren':
        await c.getChildren(this.key());
        return intendedMs;
      case 'setData':
        await c.setData(this.key(), this.value, -1);
        return intendedMs;
      case 'create':
        this.remember((await c.create(`${this.dir}/c`, this.value, { mode: PERSISTENT_SEQUENTIAL })).path);
        return intendedMs;
      case 'delete': {
        let path = this.created.pop();
        let startMs = intendedMs;
        if (path === undefined) {
          // Nothing of ours to delete: create one first; only the delete is measured.
          const t = nowEpochMs();
          path = (await c.create(`${this.dir}/c`, this.value, { mode: PERSISTENT_SEQUENTIAL })).path;
          startMs = intendedMs + (nowEpochMs() - t);
        }
        await c.delete(path, -1);
        return startMs;
      }
      case 'multi': {
        const key = this.key();
        await c.multi([
          { op: 'check', path: key, version: -1 },
          { op: 'setData', path: key, data: this.value, version: -1 },
        ]);
        return intendedMs;
      }
      case 'sync':
        await c.sync(this.spec.root);
        return intendedMs;
    }
  }

  private key(): string {
    return keyPath(this.spec.root, this.keyPicker.next());
  }

  private remember(path: string): void {
    if (this.created.length < CREATED_MAX) this.created.push(path);
  }
}
