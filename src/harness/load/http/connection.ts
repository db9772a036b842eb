/**
 * One HTTP connection of the http driver: an autocannon instance with one connection to one
 * member's REST face, the requests it has in flight, and when it sends.
 *
 * Per-request timing from autocannon. autocannon reports latency only in aggregate, so the
 * driver times each request itself through autocannon's request hooks. autocannon calls a
 * request entry's `setupRequest` synchronously right before it writes that request to the
 * socket, and the entry's `onResponse` when that request's response is complete (responses
 * come back in order on an HTTP/1.1 connection, pipelined or not). `setupRequest` appends the
 * request (op, intended start, socket) to this connection's FIFO; `onResponse` takes the
 * FIFO's head and records it with the end time. Each connection is its own autocannon
 * instance so that the hooks are closures over this connection's state (autocannon gives
 * them no connection identity). The first request is the exception: autocannon builds it
 * (calls setupRequest) when it creates the client, before setupClient hands the client
 * over, and sends it on the first free lane; it is kept aside and enters the FIFO when sent.
 *
 * When a lane sends (see autocannon-client.ts for the hooks):
 *  - closed loop: at once (after a failed request, after ERROR_PAUSE_MS, as the native
 *    driver does); the intended start is the send time.
 *  - open loop: this connection's slots are t0 + (k + phase) · periodMs; every connection
 *    has rate/connections of the run's rate and its own phase, so together the slots are
 *    evenly spaced at the run's rate. Slot k goes out on the first free lane at or after its
 *    time, and its latency counts from the slot's time, not from when it went out: while a
 *    server stalls, the lanes are busy, the slots pile up and then go out back to back, each
 *    carrying the wait since its slot (no coordinated omission). More than
 *    OPEN_LOOP_BACKLOG_MAX slots waiting are dropped and counted as missed slots.
 *
 * A request is lost when its socket goes (error, end, timeout): it is recorded as
 * CONNECTIONLOSS (TIMEOUT after autocannon's request timeout), as the native driver records
 * a request of a session whose connection dropped. A connection moves to the next member of
 * its list when its own is down, as a ZooKeeper client moves to the next server of its
 * connect string: when the member refuses connections (killed), answers nothing for
 * STALL_MS (paused, or cut off), or answers 503 (not serving: cut off from a quorum, or
 * electing). It stays where it moved. It sends only on a connected socket: while every
 * member refuses, it sends nothing and reconnects with a growing delay; in open loop its
 * slots wait meanwhile and go out, late and measured from their slots, when one is back.
 */
import type { Socket } from 'node:net';
import autocannon from 'autocannon';
import type { OpKind } from '../../scenario/types.js';
import { KeyPicker, keyPath } from '../ops.js';
import { nowEpochMs } from '../recorder.js';
import { hookClient, type AutocannonClientInternals, type ClientOriginals } from './autocannon-client.js';
import { outcomeOf, restPath } from './requests.js';

/** Open loop: slots due but not yet sent, per connection, beyond which slots are missed. */
export const OPEN_LOOP_BACKLOG_MAX = 10_000;
/** Open loop: at stop, slots waiting longer than this count as missed. */
const STOP_BACKLOG_GRACE_MS = 1_000;
/** Closed loop: pause after a failed request so a server that refuses at once is not hit in a spin. */
const ERROR_PAUSE_MS = 1;
/** A request without an answer this long is lost (autocannon's timeout, seconds; it restarts the socket). */
const REQUEST_TIMEOUT_S = 10;
/**
 * A member that leaves the oldest request in flight unanswered this long is taken for down
 * (paused, or cut off): ZooKeeper's client gives up on a server after 2/3 of its session
 * timeout, 2 s for a 3 s session.
 */
export const STALL_MS = 2_000;
/** The REST face's answer while its server is not serving (requests.ts maps it to HTTP_503). */
const NOT_SERVING_STATUS = 503;
/** Reconnect delays while every member refuses connections, and after a move for a 503. */
const RECONNECT_BACKOFF_MIN_MS = 10;
const RECONNECT_BACKOFF_MAX_MS = 250;
/** autocannon needs a duration; the driver stops it (below Node's timer limit of 2^31 ms). */
const AUTOCANNON_DURATION_S = 1_000_000;
/** How often autocannon samples its own counters; it also ends a stopped instance within this. */
const AUTOCANNON_SAMPLE_MS = 250;
/** Nodes a client remembers for later deletes; past this, new ones are left in place. */
const CREATED_MAX = 100_000;
/** autocannon's message for a request that timed out (lib/run.js). */
const AUTOCANNON_TIMEOUT_MESSAGE = 'request timed out';

/** Where a connection's completions go (the run's recorders). */
export interface LoadSink {
  record(op: OpKind, intendedMs: number, endMs: number, error: string | null): void;
  missedSlots(n: number): void;
}

/** The connections of one client share its directory of created nodes. */
export class ClientGroup {
  private readonly created: string[] = [];

  constructor(readonly dir: string) {}

  remember(path: string): void {
    if (this.created.length < CREATED_MAX) this.created.push(path);
  }

  take(): string | undefined {
    return this.created.pop();
  }
}

export interface OpenLoopSchedule {
  t0: number;
  periodMs: number;
  /** In [0, 1): this connection's offset within a period. */
  phase: number;
}

export interface ConnectionSpec {
  /** Index over all connections of the run (seeds the key picker). */
  index: number;
  /** http://host:port of the members, the one this connection talks to first, then the ones it moves to in turn. */
  urls: readonly string[];
  pipelining: number;
  /** null = closed loop. */
  schedule: OpenLoopSchedule | null;
  /** One cycle of the request list (see weightedOps). */
  ops: readonly OpKind[];
  root: string;
  keys: number;
  value: Buffer;
  /** Sent with every request: the HTTP face's token (adminAuthHeaders). */
  headers: Readonly<Record<string, string>>;
}

interface InFlight {
  op: OpKind;
  /** false: a create sent in place of a delete that had nothing to delete. */
  measured: boolean;
  intendedMs: number;
  /** When it went out (for STALL_MS). */
  sentMs: number;
  sock: Socket | undefined;
}

interface Built {
  op: OpKind;
  measured: boolean;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  body: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class HttpConnection {
  private readonly keyPicker: KeyPicker;
  private instance: autocannon.Instance | null = null;
  private internals: AutocannonClientInternals | null = null;
  private originals: ClientOriginals | null = null;
  private readonly finished: Promise<void>;
  private resolveFinished!: () => void;
  /** Requests on the wire, oldest first; at most `pipelining` per socket. */
  private readonly inFlight: InFlight[] = [];
  /** The request autocannon built before the client was handed over; goes out first. */
  private prebuilt: Omit<InFlight, 'intendedMs' | 'sentMs' | 'sock'> | null = null;
  private sent = 0;
  /** Free lanes of laneSock. */
  private lanes = 0;
  private laneSock: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAtMs = Infinity;
  /** Open loop: index of the next slot to send. */
  private nextSlot = 0;
  private pauseUntilMs = 0;
  /** Intended start of the request being sent now (NaN: its send time). */
  private sendingIntendedMs = Number.NaN;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private backoffMs = 0;
  private readonly connected = new WeakSet<Socket>();
  /** Index in spec.urls of the member this connection talks to, and its host:port. */
  private member = 0;
  private host: string;
  /** Connections refused in a row (each by the next member): backoff only once every member refused. */
  private refusedInRow = 0;
  /** A move is scheduled: send nothing more on this socket. */
  private leaving = false;
  /** The pause before connecting after a move; null: no move pending. */
  private movePauseMs: number | null = null;

  constructor(
    private readonly spec: ConnectionSpec,
    private readonly group: ClientGroup,
    private readonly sink: LoadSink,
  ) {
    this.keyPicker = new KeyPicker(spec.keys, 0x85ebca6b ^ (spec.index * 2 + 2));
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.host = new URL(this.url).host;
  }

  /** Opens the connection and starts sending (warm-up: the recorders decide what counts). */
  start(): void {
    const setups = new Map<OpKind, (req: autocannon.Request) => autocannon.Request>();
    const onResponse = (status: number, body: string): void => this.answered(status, body);
    const requests = this.spec.ops.map((op) => {
      let setup = setups.get(op);
      if (setup === undefined) {
        setup = (req) => this.setup(op, req);
        setups.set(op, setup);
      }
      return { setupRequest: setup, onResponse };
    });
    let startError: unknown = null;
    const periodS = this.spec.schedule === null ? 0 : this.spec.schedule.periodMs / 1_000;
    this.instance = autocannon(
      {
        url: this.url,
        connections: 1,
        pipelining: this.spec.pipelining,
        duration: AUTOCANNON_DURATION_S,
        // autocannon's timer restarts on each send: in open loop it must outlast the gap between slots.
        timeout: Math.max(REQUEST_TIMEOUT_S, 3 * periodS),
        sampleInt: AUTOCANNON_SAMPLE_MS,
        requests,
        setupClient: (client) => this.attach(client),
      },
      (err: unknown) => {
        if (err) startError = err;
        this.resolveFinished();
      },
    );
    // autocannon refuses bad options through the callback, at once.
    if (startError !== null) throw new Error(`autocannon refused the options: ${String(startError)}`);
    this.instance.on('reqError', (err: unknown) => {
      this.dropLost(err instanceof Error && err.message === AUTOCANNON_TIMEOUT_MESSAGE ? 'TIMEOUT' : 'CONNECTIONLOSS');
    });
  }

  get inFlightCount(): number {
    return this.inFlight.length;
  }

  /** The member this connection talks to now (http://host:port). */
  get url(): string {
    return this.spec.urls[this.member]!;
  }

  /**
   * Records requests whose socket is gone (an end that autocannon reports to nobody), and
   * moves on from a member that left the oldest request unanswered for STALL_MS; call about
   * once a second.
   */
  sweep(): void {
    this.dropLost('CONNECTIONLOSS');
    const oldest = this.inFlight[0];
    if (oldest !== undefined && nowEpochMs() - oldest.sentMs >= STALL_MS) this.moveOn(0);
  }

  /**
   * Sends nothing more. Returns the open-loop slots still waiting for a lane that have waited
   * more than STOP_BACKLOG_GRACE_MS (a stall at the end of the window: missed); younger ones
   * are ordinary queueing, not counted, like requests in flight at stop.
   */
  stopSending(now: number): number {
    this.stopping = true;
    this.clearTimer();
    const s = this.spec.schedule;
    if (s === null) return 0;
    return Math.max(0, Math.floor((now - STOP_BACKLOG_GRACE_MS - s.t0) / s.periodMs - s.phase) + 1 - this.nextSlot);
  }

  /** The measured requests still in flight, which are then forgotten. */
  takeInFlight(): OpKind[] {
    const ops = this.inFlight.filter((e) => e.measured).map((e) => e.op);
    this.inFlight.length = 0;
    return ops;
  }

  /** Closes the socket and ends the autocannon instance (bounded wait). */
  async close(waitMs: number): Promise<void> {
    this.kill();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  /** Synchronous: no more sends, socket closed. */
  kill(): void {
    this.stopping = true;
    this.clearTimer();
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.internals?.destroy();
    this.instance?.stop();
  }

  /** autocannon's setupClient: runs inside its client's constructor, after the first request was built. */
  private attach(client: unknown): void {
    const { internals, originals } = hookClient(client, { laneFree: () => this.laneFree(), reconnect: () => this.reconnect() });
    this.internals = internals;
    this.originals = originals;
  }

  /** A request entry's setupRequest: what op goes out now, and remember it. */
  private setup(op: OpKind, req: autocannon.Request): autocannon.Request {
    const b = this.build(op);
    if (this.internals === null) {
      this.prebuilt = { op: b.op, measured: b.measured };
    } else {
      const now = nowEpochMs();
      const intendedMs = Number.isNaN(this.sendingIntendedMs) ? now : this.sendingIntendedMs;
      this.inFlight.push({ op: b.op, measured: b.measured, intendedMs, sentMs: now, sock: this.internals.conn });
    }
    req.method = b.method;
    req.path = b.path;
    req.body = b.body;
    // A fresh object each time: autocannon writes Content-Length into it. Host: the member it goes to now.
    const headers = { ...this.spec.headers, host: this.host };
    req.headers = b.body.length > 0 ? { ...headers, 'content-type': 'application/octet-stream' } : headers;
    return req;
  }

  private build(op: OpKind): Built {
    switch (op) {
      case 'getData':
      // exists is a GET too: autocannon's parser waits for the body a HEAD answer announces in Content-Length and never gets.
      case 'exists':
        return { op, measured: true, method: 'GET', path: restPath('znodes', this.key()), body: EMPTY };
      case 'getChildren':
        return { op, measured: true, method: 'GET', path: restPath('children', this.key()), body: EMPTY };
      case 'setData':
        return { op, measured: true, method: 'PUT', path: restPath('znodes', this.key()), body: this.spec.value };
      case 'create':
        return this.create(true);
      case 'delete': {
        const path = this.group.take();
        // Nothing of this client's to delete: create one in this request's place, not measured.
        if (path === undefined) return this.create(false);
        return { op, measured: true, method: 'DELETE', path: restPath('znodes', path), body: EMPTY };
      }
      case 'multi':
      case 'sync':
        throw new Error(`the http driver cannot send ${op} (validateHttpWorkload rejects it)`);
    }
  }

  /** A sequential create under the client's directory: the server names it, so reruns never collide. */
  private create(measured: boolean): Built {
    return { op: 'create', measured, method: 'POST', path: `${restPath('znodes', `${this.group.dir}/c`)}?mode=persistent_sequential`, body: this.spec.value };
  }

  private key(): string {
    return keyPath(this.spec.root, this.keyPicker.next());
  }

  /** A request entry's onResponse: the response to the FIFO's head is complete. */
  private answered(status: number, body: string): void {
    const now = nowEpochMs();
    this.dropLost('CONNECTIONLOSS');
    const e = this.inFlight.shift();
    if (e === undefined) return;
    const out = outcomeOf(e.op, status, body);
    if (out.createdPath !== undefined) this.group.remember(out.createdPath);
    if (e.measured) this.sink.record(e.op, e.intendedMs, now, out.error);
    if (out.error !== null && this.spec.schedule === null) this.pauseUntilMs = now + ERROR_PAUSE_MS;
    // Not serving: try the next member (after a pause, since during an election every member says so).
    if (status === NOT_SERVING_STATUS) this.moveOn(RECONNECT_BACKOFF_MIN_MS);
  }

  /**
   * Leaves the current member for the next one: the socket is dropped (its requests in
   * flight are lost) and the next connects after pauseMs. Deferred, because autocannon may be
   * inside its parser, with more responses of this socket to deliver.
   */
  private moveOn(pauseMs: number): void {
    if (this.leaving || this.stopping || this.internals === null) return;
    this.leaving = true;
    setImmediate(() => {
      const internals = this.internals!;
      if (this.stopping || internals.destroyed) return;
      this.pointAt(this.member + 1);
      this.movePauseMs = pauseMs;
      // Drops the socket and autocannon's queue of its requests, then calls _connect (reconnect()).
      internals._resetConnection();
    });
  }

  /** Makes autocannon's next connect go to member i (mod the list). */
  private pointAt(i: number): void {
    this.member = i % this.spec.urls.length;
    const u = new URL(this.url);
    this.host = u.host;
    this.internals!.opts.hostname = u.hostname;
    this.internals!.opts.port = Number(u.port);
  }

  /** Requests on a socket that is gone (not the current one, or destroyed) will never be answered. */
  private dropLost(code: string): void {
    const current = this.internals?.conn;
    const now = nowEpochMs();
    while (this.inFlight.length > 0) {
      const e = this.inFlight[0]!;
      if (e.sock === current && current !== undefined && !current.destroyed) return;
      this.inFlight.shift();
      if (e.measured) this.sink.record(e.op, e.intendedMs, now, code);
    }
  }

  /** Replaces autocannon's _doRequest: one lane of the current socket is free. */
  private laneFree(): void {
    const sock = this.internals?.conn;
    if (this.stopping || sock === undefined || sock.destroyed) return; // the next socket brings its own lanes
    if (sock.connecting) {
      sock.once('connect', () => this.addLane(sock));
      return;
    }
    this.addLane(sock);
  }

  private addLane(sock: Socket): void {
    if (this.stopping || this.leaving || sock !== this.internals?.conn || sock.destroyed) return;
    if (sock !== this.laneSock) {
      this.laneSock = sock;
      this.lanes = 0;
    }
    this.lanes++;
    this.pump();
  }

  /** Sends on free lanes whatever is due. */
  private pump(): void {
    const s = this.spec.schedule;
    while (this.lanes > 0 && !this.stopping && !this.leaving) {
      const now = nowEpochMs();
      let intendedMs = Number.NaN;
      if (s === null) {
        if (now < this.pauseUntilMs) return this.arm(this.pauseUntilMs);
      } else {
        const due = Math.floor((now - s.t0) / s.periodMs - s.phase) + 1 - this.nextSlot;
        if (due > OPEN_LOOP_BACKLOG_MAX) {
          this.nextSlot += due - OPEN_LOOP_BACKLOG_MAX;
          this.sink.missedSlots(due - OPEN_LOOP_BACKLOG_MAX);
        }
        const atMs = s.t0 + (this.nextSlot + s.phase) * s.periodMs;
        if (atMs > now) return this.arm(atMs);
        intendedMs = atMs;
        this.nextSlot++;
      }
      this.lanes--;
      this.send(intendedMs);
    }
  }

  private send(intendedMs: number): void {
    const internals = this.internals!;
    if (this.sent === 0 && this.prebuilt !== null) {
      const now = nowEpochMs();
      this.inFlight.push({ ...this.prebuilt, intendedMs: Number.isNaN(intendedMs) ? now : intendedMs, sentMs: now, sock: internals.conn });
      this.prebuilt = null;
    }
    this.sent++;
    this.sendingIntendedMs = intendedMs;
    try {
      this.originals!.sendNext();
    } finally {
      this.sendingIntendedMs = Number.NaN;
    }
  }

  private arm(atMs: number): void {
    if (this.timer !== null && this.timerAtMs <= atMs) return;
    this.clearTimer();
    this.timerAtMs = atMs;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAtMs = Infinity;
        this.pump();
      },
      Math.max(0, atMs - nowEpochMs()),
    );
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAtMs = Infinity;
  }

  /**
   * Replaces autocannon's _connect. A socket that never connected means its member is down:
   * the next member is tried at once, and only once every member refused in a row after a
   * growing delay. After a move (moveOn), its pause.
   */
  private reconnect(): void {
    const internals = this.internals!;
    if (this.reconnectTimer !== null || internals.destroyed || this.stopping) return;
    // autocannon reconnects on an error or end of any socket it opened, also one it already
    // replaced: while the current socket is open, the call is stale (it would drop that socket).
    const current = internals.conn;
    if (current !== undefined && !current.destroyed && !current.readableEnded) return;
    this.leaving = false;
    const prev = internals.conn;
    if (this.movePauseMs !== null) {
      this.backoffMs = this.movePauseMs;
      this.movePauseMs = null;
    } else if (prev !== undefined && !this.connected.has(prev)) {
      this.refusedInRow++;
      this.pointAt(this.member + 1);
      const everyMemberRefused = this.refusedInRow >= this.spec.urls.length;
      this.backoffMs = everyMemberRefused ? Math.min(RECONNECT_BACKOFF_MAX_MS, Math.max(RECONNECT_BACKOFF_MIN_MS, this.backoffMs * 2)) : 0;
    } else {
      this.backoffMs = 0;
    }
    if (this.backoffMs === 0) {
      this.connectNow();
      return;
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!internals.destroyed && !this.stopping) this.connectNow();
    }, this.backoffMs);
  }

  private connectNow(): void {
    this.originals!.connect();
    const sock = this.internals!.conn;
    sock?.once('connect', () => {
      this.connected.add(sock);
      this.refusedInRow = 0;
    });
  }
}
