/**
 * ServerTelemetry: the one object a server calls at each step of a request and of ZAB. It
 * turns those calls into spans (one trace per write across the ensemble) and into
 * ZooKeeper-named metrics. The server calls it; it never calls the server back (the gauges
 * read a view the server hands over).
 *
 * Spans are zablab's own (span.ts, recorder.ts): with tracing off (no recorder) every span
 * method returns before building anything; a span that is not sampled records nothing and
 * is not kept in any table. What remains is the metrics: a few map operations and
 * histogram records per write.
 */
import type { Meter } from '@opentelemetry/api';
import { JuteReader, OpCode, TxnHeader, codeName, opName } from '../jute/index.js';
import type { Message, PeerEvent, PeerState } from '../zab/index.js';
import { ALL_METRICS, ZabMetrics, bucketsOf, type GaugeView, type OwnGauges } from './metrics.js';
import { Attr, SpanEvent, SpanName, type Role } from './names.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheusText, type PullMetricReader } from './prometheus.js';
import type { SpanRecorder } from './recorder.js';
import { SpanKindCode, sessionHex, type Attrs, type TraceSpan } from './span.js';

/**
 * Where a request keeps its span: on the request object itself, which costs nothing, where a
 * WeakMap lookup would cost about 100 ns per request. Only ServerTelemetry touches it.
 */
export interface SpanSlot {
  traceSpan?: TraceSpan | undefined;
}

/** What telemetry needs of a client request (the server's Request has it). */
export interface TracedRequest extends SpanSlot {
  readonly sessionId: bigint;
  readonly cxid: number;
  readonly type: number;
  readonly body: Buffer;
  /** performance.now() when the server read it. */
  readonly receivedAtMs: number;
}

/** A snapshot's outcome as ZKDatabase.takeSnapshot reports it (null: skipped, one was running). */
export interface SnapshotOutcome {
  zxid: bigint;
  durationMs: number;
}

/** The /metrics source the HTTP face takes (structurally its MetricsSource). */
export interface PrometheusSource {
  readonly contentType: string;
  collect(): Promise<string>;
}

export interface ServerTelemetryOptions {
  serverId?: number;
  /** null or absent: tracing off. */
  spans?: SpanRecorder | null;
  meter?: Meter;
  /** Collects the meter's metrics for renderPrometheus(). */
  reader?: PullMetricReader | null;
  /** Flushes and stops the span sinks and the meter provider. */
  shutdown?: () => Promise<void>;
}

/** Open spans of each kind are bounded; past this the oldest is ended (marked evicted). */
export const OPEN_SPANS_MAX = 65_536;
/** An fsync span links to at most this many of the traces it made durable. */
export const FSYNC_LINKS_MAX = 32;

interface ProposalRecord {
  createdAtMs: number;
  span: TraceSpan | null;
}

interface LearnerTxn {
  /** The leader's txn header time (wall clock ms). */
  createdAtWallMs: number;
  trace: string | undefined;
}

/** A txn appended to the log and not yet fsynced: its trace, as a traceparent or a local span. */
interface Appended {
  zxid: bigint;
  trace: string | undefined;
  span: TraceSpan | undefined;
}

function hex(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16);
}

function roleOf(state: PeerState): Role {
  switch (state) {
    case 'LOOKING':
      return 'looking';
    case 'LEADING':
      return 'leader';
    case 'FOLLOWING':
      return 'follower';
    case 'OBSERVING':
      return 'observer';
  }
}

/** The leader's wall-clock time in a txn's header (ZooKeeper measures propagation from it). */
function txnTimeMs(data: Uint8Array): number | null {
  try {
    return Number(TxnHeader.read(new JuteReader(Buffer.from(data.buffer, data.byteOffset, data.byteLength))).time);
  } catch {
    return null;
  }
}

/** Insert into a bounded map; the oldest entry goes to `evict` when it is full. */
function putBounded<K, V>(map: Map<K, V>, key: K, value: V, evict: (v: V) => void): void {
  if (map.size >= OPEN_SPANS_MAX) {
    const first = map.entries().next();
    if (!first.done) {
      map.delete(first.value[0]);
      evict(first.value[1]);
    }
  }
  map.set(key, value);
}

function endWith(span: TraceSpan | null | undefined, reason: string): void {
  if (!span) return;
  if (span.recording) {
    span.setAttribute(Attr.reason, reason);
    span.fail(reason);
  }
  span.end();
}

function setAll(span: TraceSpan, attrs: Attrs): void {
  if (!span.recording) return;
  for (const key in attrs) span.setAttribute(key, attrs[key]!);
}

export class ServerTelemetry {
  readonly serverId: number;
  readonly metrics: ZabMetrics;
  private readonly spans: SpanRecorder | null;
  private readonly reader: PullMetricReader | null;
  private readonly shutdownHook: (() => Promise<void>) | undefined;

  private role: Role = 'looking';
  /** In broadcast (or standalone): serving clients. */
  private serving = false;
  private epoch = -1n;

  /** Leader: the zab.proposal span between proposalStarting and proposalCreated. */
  private pendingProposal: TraceSpan | null = null;
  /** Leader: proposals not yet committed. */
  private readonly proposals = new Map<bigint, ProposalRecord>();
  private lastProposed = 0n;
  /** Leader: barriers of learner `sync` requests (the last proposal before each). */
  private pendingSyncs: bigint[] = [];
  /** Learners: proposals received, until committed. */
  private readonly learnerTxns = new Map<bigint, LearnerTxn>();
  /** Open (sampled) zab.ack spans by zxid (followers and the leader). */
  private readonly acks = new Map<bigint, TraceSpan>();
  /** Open (sampled) zab.commit spans by zxid. */
  private readonly commits = new Map<bigint, TraceSpan>();
  /** Txns appended to the log since the last fsync. */
  private unsynced: Appended[] = [];

  // Election → discovery → sync → serving.
  private electionSpan: TraceSpan | null = null;
  private discoverySpan: TraceSpan | null = null;
  private syncSpan: TraceSpan | null = null;
  private syncTxns = 0;
  private syncMode: string | null = null;
  private lookingSinceMs: number | null = null;
  private unavailableSinceMs: number | null = null;
  private electedAtMs: number | null = null;
  private leaderSinceMs: number | null = null;
  /** Leader: one zab.sync span per learner being synced. */
  private readonly learnerSyncs = new Map<number, TraceSpan>();

  constructor(opts: ServerTelemetryOptions = {}) {
    this.serverId = opts.serverId ?? 0;
    this.spans = opts.spans ?? null;
    this.reader = opts.reader ?? null;
    this.shutdownHook = opts.shutdown;
    this.metrics = new ZabMetrics(opts.meter, () => this.ownGauges());
  }

  /** Are spans being made (an exporter or a spans file is configured)? */
  get tracing(): boolean {
    return this.spans !== null;
  }

  private setRole(role: Role): void {
    this.role = role;
  }

  private ownGauges(): OwnGauges {
    return {
      pendingSyncs: this.pendingSyncs.length,
      leaderUptimeMs: this.leaderSinceMs === null ? null : performance.now() - this.leaderSinceMs,
    };
  }

  /** A span of this server under `parent` (null: a root), with attributes if it is sampled. */
  private start(name: string, parent: TraceSpan | null, attrs?: Attrs): TraceSpan {
    const span = this.spans!.child(name, parent, this.role);
    if (attrs !== undefined) setAll(span, attrs);
    return span;
  }

  // ---------- wiring ----------

  /** The server's state for the gauges. */
  setView(view: GaugeView): void {
    this.metrics.setView(view);
  }

  /** A standalone server serves from the start. */
  startedStandalone(): void {
    this.setRole('standalone');
    this.serving = true;
  }

  // ---------- client requests ----------

  /** A client request was read (pings are not traced). */
  requestStarted(req: TracedRequest): void {
    if (this.spans === null || req.type === OpCode.ping) return;
    // A sampled request records its raw fields; op, session and path are spelled out when written.
    req.traceSpan = this.spans.request(req, SpanName.request, this.role);
  }

  /** A request's reply left (or the connection dropped it: err CONNECTIONLOSS). */
  requestFinished(req: TracedRequest, err: number, write: boolean): void {
    let now = -1;
    if (req.type !== OpCode.ping) {
      now = performance.now();
      const ms = now - req.receivedAtMs;
      this.metrics.requests.add(req.type);
      if (write) this.metrics.updateLatency.record(ms);
      else this.metrics.readLatency.record(ms);
    }
    const span = req.traceSpan;
    if (span === undefined) return;
    req.traceSpan = undefined;
    if (span.recording) {
      span.setReplyCode(err);
      // System errors (-1..-99) are failures; API errors (NONODE, BADVERSION...) are answers.
      if (err > -100 && err < 0) span.fail(codeName(err));
    }
    span.end(now < 0 ? undefined : now);
  }

  /** The connection closed with the request unanswered: end its span, record no latency. */
  requestAbandoned(req: TracedRequest): void {
    const span = req.traceSpan;
    req.traceSpan = undefined;
    endWith(span, 'connection closed before the reply');
  }

  /** Leader: learner `sync` requests waiting for earlier proposals to commit (mntr's pending_syncs). */
  get pendingSyncCount(): number {
    return this.pendingSyncs.length;
  }

  /** The traceparent a write carries to the leader (undefined: tracing off, or not traced). */
  traceparentOf(req: SpanSlot): string | undefined {
    return req.traceSpan?.traceparent();
  }

  /** The deciding server expires a session: the closeSession proposal is this span's child. */
  sessionExpiring(req: TracedRequest, timeoutMs: number): void {
    if (this.spans === null) return;
    const span = this.start(SpanName.sessionExpire, null, {
      [Attr.sessionId]: sessionHex(req.sessionId),
      [Attr.sessionTimeoutMs]: timeoutMs,
    });
    // Its ids are drawn before it ends: the proposal, started later, names it as parent.
    span.context();
    req.traceSpan = span;
    span.end();
  }

  // ---------- leader: proposals ----------

  /**
   * Just before Peer.propose: opens zab.proposal under the request's trace (`forwarded` is
   * the traceparent a learner sent) and returns the traceparent the PROPOSAL carries.
   */
  proposalStarting(req: SpanSlot, forwarded?: string): string | undefined {
    if (this.spans === null) return undefined;
    const span =
      forwarded !== undefined
        ? this.spans.remoteChild(SpanName.proposal, forwarded, this.role)
        : this.spans.child(SpanName.proposal, req.traceSpan ?? null, this.role);
    endWith(this.pendingProposal, 'superseded');
    this.pendingProposal = span;
    return span.traceparent();
  }

  /** Right after Peer.propose: the zxid it got (null: not leading, the write fails). */
  proposalCreated(zxid: bigint | null, type: number): void {
    const span = this.pendingProposal;
    this.pendingProposal = null;
    if (zxid === null) {
      endWith(span, 'not leading');
      return;
    }
    this.metrics.proposalCount.add();
    this.lastProposed = zxid;
    if (span?.recording) {
      span.setAttribute(Attr.zxid, hex(zxid));
      span.setAttribute(Attr.epoch, Number(zxid >> 32n));
      span.setAttribute(Attr.op, opName(type));
    }
    putBounded(this.proposals, zxid, { createdAtMs: performance.now(), span }, (p) => endWith(p.span, 'evicted'));
  }

  /** Leader: a learner's `sync` waits for everything proposed so far to commit. */
  syncQueued(): void {
    if (this.proposals.size > 0 && this.pendingSyncs.length < OPEN_SPANS_MAX) this.pendingSyncs.push(this.lastProposed);
  }

  /** Leader: a quorum acked `zxid` and COMMIT/INFORM leaves (or, with no learner, it is applied). */
  private leaderCommitted(zxid: bigint): void {
    const p = this.proposals.get(zxid);
    if (p === undefined) return;
    this.proposals.delete(zxid);
    this.metrics.commitCount.add();
    this.metrics.quorumAckLatency.record(performance.now() - p.createdAtMs);
    while (this.pendingSyncs.length > 0 && this.pendingSyncs[0]! <= zxid) this.pendingSyncs.shift();
    if (this.spans === null || p.span === null || !p.span.recording) return;
    p.span.addEvent(SpanEvent.quorum);
    p.span.addEvent(SpanEvent.commitSent);
    p.span.end();
    const commit = this.start(SpanName.commit, p.span, { [Attr.zxid]: hex(zxid) });
    if (commit.recording) putBounded(this.commits, zxid, commit, (s) => endWith(s, 'evicted'));
  }

  // ---------- the quorum channel ----------

  /** A message from peer `from` arrived (called before the core steps it). */
  messageReceived(from: number, msg: Message): void {
    switch (msg.kind) {
      case 'ack': {
        const p = this.proposals.get(msg.zxid);
        if (p === undefined) return;
        this.metrics.ackLatency.recordKeyed(String(from), performance.now() - p.createdAtMs);
        if (p.span?.recording) p.span.addEvent(SpanEvent.ackReceived, { [Attr.peer]: from });
        return;
      }
      case 'proposal':
        this.learnerProposal(msg.txn.zxid, msg.txn.data, msg.txn.trace, true);
        return;
      case 'inform':
        this.learnerProposal(msg.txn.zxid, msg.txn.data, msg.txn.trace, false);
        this.learnerCommit(msg.txn.zxid);
        return;
      case 'commit':
        this.learnerCommit(msg.zxid);
        return;
      case 'followerinfo':
        // A FOLLOWERINFO that reaches us before we lead is dropped by the core; the learner resends.
        if (this.spans === null || this.role !== 'leader' || this.learnerSyncs.has(from)) return;
        this.learnerSyncs.set(from, this.start(SpanName.sync, null, { [Attr.peer]: from }));
        return;
      case 'diff':
      case 'trunc':
      case 'snap':
        this.syncMode = msg.kind.toUpperCase();
        this.syncTxns = 0;
        return;
      case 'notification':
      case 'leaderinfo':
      case 'ackepoch':
      case 'newleader':
      case 'uptodate':
      case 'ping':
      case 'pingreply':
      case 'app':
        return;
    }
  }

  /** A message left for peer `to`. */
  messageSent(_to: number, msg: Message): void {
    switch (msg.kind) {
      case 'ack': {
        const span = this.acks.get(msg.zxid);
        if (span === undefined) return;
        this.acks.delete(msg.zxid);
        span.addEvent(SpanEvent.ackSent);
        span.end();
        return;
      }
      case 'commit':
        this.leaderCommitted(msg.zxid);
        return;
      case 'inform':
        this.leaderCommitted(msg.txn.zxid);
        return;
      case 'notification':
      case 'followerinfo':
      case 'leaderinfo':
      case 'ackepoch':
      case 'diff':
      case 'trunc':
      case 'snap':
      case 'proposal':
      case 'newleader':
      case 'uptodate':
      case 'ping':
      case 'pingreply':
      case 'app':
        return;
    }
  }

  private learnerProposal(zxid: bigint, data: Uint8Array, traceparent: string | undefined, voter: boolean): void {
    this.metrics.learnerProposalReceivedCount.add();
    if (!this.serving) {
      // Part of synchronization: counted for the zab.sync span, not traced one by one.
      this.syncTxns++;
      return;
    }
    const created = txnTimeMs(data);
    if (created !== null) this.metrics.proposalLatency.record(Math.max(0, Date.now() - created));
    putBounded(this.learnerTxns, zxid, { createdAtWallMs: created ?? Date.now(), trace: traceparent }, () => undefined);
    if (this.spans === null || !voter) return;
    const span = this.spans.remoteChild(SpanName.ack, traceparent, this.role);
    if (!span.recording) return;
    span.setAttribute(Attr.zxid, hex(zxid));
    putBounded(this.acks, zxid, span, (s) => endWith(s, 'evicted'));
  }

  private learnerCommit(zxid: bigint): void {
    this.metrics.learnerCommitReceivedCount.add();
    if (this.spans === null) return;
    const t = this.learnerTxns.get(zxid);
    if (t === undefined) return;
    const span = this.spans.remoteChild(SpanName.commit, t.trace, this.role);
    if (!span.recording) return;
    span.setAttribute(Attr.zxid, hex(zxid));
    putBounded(this.commits, zxid, span, (s) => endWith(s, 'evicted'));
  }

  // ---------- the txn log ----------

  /** A txn was appended to the log (not yet durable); `traceparent` is the trace it belongs to. */
  logAppended(zxid: bigint, traceparent: string | undefined): void {
    this.appended(zxid, traceparent, undefined);
  }

  /** Standalone: a client's write was appended to the log; its trace is the request's. */
  requestLogged(zxid: bigint, req: SpanSlot): void {
    this.appended(zxid, undefined, req.traceSpan);
  }

  private appended(zxid: bigint, traceparent: string | undefined, span: TraceSpan | undefined): void {
    if (this.unsynced.length >= OPEN_SPANS_MAX) this.unsynced.shift();
    this.unsynced.push({ zxid, trace: traceparent, span });
    if (this.spans === null) return;
    if (this.role === 'leader' && this.serving) {
      // The leader's own log is a voter too: its zab.ack runs from append to fsync.
      const p = this.proposals.get(zxid);
      const ack =
        p?.span != null ? this.spans.child(SpanName.ack, p.span, this.role) : this.spans.remoteChild(SpanName.ack, traceparent, this.role);
      if (!ack.recording) return;
      ack.setAttribute(Attr.zxid, hex(zxid));
      ack.addEvent(SpanEvent.appended);
      putBounded(this.acks, zxid, ack, (s) => endWith(s, 'evicted'));
      return;
    }
    this.acks.get(zxid)?.addEvent(SpanEvent.appended);
  }

  /** An fsync of the log that started at `startedAtMs` (performance.now()) finished. */
  logSynced(startedAtMs: number): void {
    const txns = this.unsynced;
    this.unsynced = [];
    this.metrics.fsyncTime.record(performance.now() - startedAtMs);
    this.metrics.syncProcessorBatchSize.record(txns.length);
    if (this.role === 'leader') {
      for (const t of txns) {
        const p = this.proposals.get(t.zxid);
        if (p !== undefined) this.metrics.ackLatency.recordKeyed(String(this.serverId), performance.now() - p.createdAtMs);
      }
    }
    if (this.spans === null) return;
    const fsync = this.spans.root(SpanName.fsync, this.role, SpanKindCode.internal, startedAtMs);
    let links = 0;
    for (const t of txns) {
      const ack = this.acks.get(t.zxid);
      if (ack !== undefined) {
        ack.addEvent(SpanEvent.fsynced);
        if (this.role === 'leader') {
          this.acks.delete(t.zxid);
          ack.end();
        }
      }
      if (!fsync.recording || links >= FSYNC_LINKS_MAX) continue;
      // Only traces that are recorded somewhere are worth a link.
      if (t.span !== undefined) {
        if (!t.span.recording) continue;
        const c = t.span.context();
        fsync.addLink({ traceId: c.traceId, spanId: c.spanId });
        links++;
      } else {
        const c = this.spans.sampledContext(t.trace);
        if (c === null) continue;
        fsync.addLink({ traceId: c.traceId, spanId: c.spanId });
        links++;
      }
    }
    fsync.setAttribute(Attr.fsyncTxns, txns.length);
    fsync.end();
  }

  /** A committed txn was applied to the data tree. */
  committedApplied(zxid: bigint): void {
    if (this.role === 'leader') {
      // No learner to send COMMIT to: the decision and the apply are one step.
      if (this.proposals.has(zxid)) this.leaderCommitted(zxid);
    } else {
      const t = this.learnerTxns.get(zxid);
      if (t !== undefined) {
        this.learnerTxns.delete(zxid);
        this.metrics.commitPropagationLatency.record(Math.max(0, Date.now() - t.createdAtWallMs));
      }
    }
    if (this.spans === null) return;
    const span = this.commits.get(zxid);
    if (span === undefined) return;
    this.commits.delete(zxid);
    span.addEvent(SpanEvent.applied);
    span.end();
  }

  /** Wrap a snapshot: zab.snapshot span and snapshottime. Returns the same promise. */
  snapshot<T extends SnapshotOutcome | null>(taking: Promise<T>): Promise<T> {
    const span = this.spans === null ? null : this.start(SpanName.snapshot, null);
    void taking.then(
      (info) => {
        if (info !== null) this.metrics.snapshotTime.record(info.durationMs);
        if (span === null) return;
        if (info === null) span.setAttribute(Attr.reason, 'skipped: a snapshot was already being written');
        else span.setAttribute(Attr.zxid, hex(info.zxid));
        span.end();
      },
      (err: unknown) => endWith(span, `snapshot failed: ${String(err)}`),
    );
    return taking;
  }

  // ---------- the core's events ----------

  /** The ZAB core reported an event (called for every event of every Ready). */
  peerEvent(e: PeerEvent): void {
    const now = performance.now();
    switch (e.kind) {
      case 'looking':
        this.metrics.lookingCount.add();
        this.leaveRole(`LOOKING: ${e.reason}`);
        this.lookingSinceMs = now;
        this.unavailableSinceMs ??= now;
        if (this.spans === null) return;
        endWith(this.electionSpan, 'election restarted');
        this.electionSpan = this.start(SpanName.election, null, { [Attr.electionEpoch]: Number(e.electionEpoch), [Attr.reason]: e.reason });
        return;
      case 'elected':
        if (this.lookingSinceMs !== null) this.metrics.electionTime.record(now - this.lookingSinceMs);
        this.lookingSinceMs = null;
        this.electedAtMs = now;
        this.setRole(roleOf(e.state));
        if (this.spans === null) return;
        if (this.electionSpan?.recording) {
          this.electionSpan.setRole(this.role);
          setAll(this.electionSpan, { [Attr.leader]: e.leader, [Attr.electionVotes]: e.votesReceived, [Attr.electionEpoch]: Number(e.electionEpoch) });
        }
        this.discoverySpan = this.start(SpanName.discovery, this.electionSpan, { [Attr.leader]: e.leader });
        this.electionSpan?.end();
        this.electionSpan = null;
        return;
      case 'discovered':
        this.epoch = e.epoch;
        this.syncTxns = 0;
        this.syncMode = null;
        if (this.spans === null) return;
        this.discoverySpan?.setAttribute(Attr.epoch, Number(e.epoch));
        this.syncSpan = this.start(SpanName.sync, this.discoverySpan, { [Attr.epoch]: Number(e.epoch), [Attr.leader]: e.leader });
        this.discoverySpan?.end();
        this.discoverySpan = null;
        return;
      case 'synced':
        if (this.syncSpan?.recording) {
          this.syncSpan.setAttribute(Attr.syncMode, e.mode ?? this.syncMode ?? 'leader');
          this.syncSpan.setAttribute(Attr.syncTxns, this.syncTxns);
        }
        this.syncSpan?.end();
        this.syncSpan = null;
        return;
      case 'serving':
        this.setRole(roleOf(e.state));
        this.serving = true;
        this.epoch = e.epoch;
        if (this.unavailableSinceMs !== null) this.metrics.unavailableTime.record(now - this.unavailableSinceMs);
        this.unavailableSinceMs = null;
        if (e.state === 'LEADING') this.leaderSinceMs = now;
        else if (this.electedAtMs !== null) {
          (e.state === 'OBSERVING' ? this.metrics.observerSyncTime : this.metrics.followerSyncTime).record(now - this.electedAtMs);
        }
        return;
      case 'learnerSynced': {
        (e.mode === 'SNAP' ? this.metrics.snapCount : this.metrics.diffCount).add();
        const span = this.learnerSyncs.get(e.learner);
        if (span === undefined) return;
        this.learnerSyncs.delete(e.learner);
        setAll(span, { [Attr.syncMode]: e.mode, [Attr.syncTxns]: e.txns, [Attr.epoch]: Number(this.epoch) });
        span.end();
        return;
      }
      case 'learnerLost': {
        const span = this.learnerSyncs.get(e.learner);
        this.learnerSyncs.delete(e.learner);
        endWith(span, `learner lost: ${e.reason}`);
        return;
      }
      case 'committed':
        this.leaderCommitted(e.zxid);
        return;
      case 'app':
        return;
    }
  }

  /** The role ended: what was in flight will never finish here. */
  private leaveRole(reason: string): void {
    this.setRole('looking');
    this.serving = false;
    this.leaderSinceMs = null;
    this.electedAtMs = null;
    for (const p of this.proposals.values()) endWith(p.span, reason);
    this.proposals.clear();
    this.pendingSyncs = [];
    this.learnerTxns.clear();
    for (const s of this.acks.values()) endWith(s, reason);
    this.acks.clear();
    for (const s of this.commits.values()) endWith(s, reason);
    this.commits.clear();
    for (const s of this.learnerSyncs.values()) endWith(s, reason);
    this.learnerSyncs.clear();
    endWith(this.discoverySpan, reason);
    endWith(this.syncSpan, reason);
    this.discoverySpan = null;
    this.syncSpan = null;
  }

  // ---------- export ----------

  /** Prometheus text (format 0.0.4) of every metric, for GET /metrics. */
  async renderPrometheus(): Promise<string> {
    const opts = { specs: ALL_METRICS, bucketsOf };
    if (this.reader === null) return renderPrometheusText([], opts);
    const { resourceMetrics } = await this.reader.collect();
    return renderPrometheusText(resourceMetrics.scopeMetrics, opts);
  }

  /** What the HTTP face's GET /metrics serves. */
  get prometheus(): PrometheusSource {
    return { contentType: PROMETHEUS_CONTENT_TYPE, collect: () => this.renderPrometheus() };
  }

  /** ZooKeeper's mntr lines for counters and summaries (keys without zk_). */
  monitorValues(): [string, number][] {
    return this.metrics.monitorValues();
  }

  /** Spans ended so far are written (the spans file) or handed to their exporters. */
  async flushSpans(): Promise<void> {
    await this.spans?.forceFlush();
  }

  /** Flush spans still buffered and stop the span sinks and metrics (the server is closing). */
  async shutdown(): Promise<void> {
    endWith(this.electionSpan, 'server closing');
    this.electionSpan = null;
    this.leaveRole('server closing');
    await this.shutdownHook?.();
  }
}
