/**
 * ServerTelemetry: the one object a server calls at each step of a request and of ZAB. It
 * turns those calls into spans (one trace per write across the ensemble) and into
 * ZooKeeper-named metrics. The server calls it; it never calls the server back (the gauges
 * read a view the server hands over).
 *
 * Spans are zablab's own (span.ts, recorder.ts): with tracing off (no recorder) every span
 * method returns before building anything; a span that is not sampled records nothing and
 * is not kept in any table. What remains is the metrics: a few table lookups and
 * histogram records per write (aggregated in metrics.ts, not by the OpenTelemetry SDK).
 *
 * On the hot path nothing is spelled out: ids stay words, a zxid stays a bigint, times are
 * performance.now() values taken once per step and shared by the events and ends of that step.
 */
import type { Meter } from '@opentelemetry/api';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { OpCode, codeName } from '../jute/index.js';
import type { Message, PeerEvent, PeerState } from '../zab/index.js';
import type { MutableIdWords } from './ids.js';
import { ALL_METRICS, ZabMetrics, bucketsOf, type GaugeView, type OwnGauges } from './metrics.js';
import { Attr, INSTRUMENTATION_SCOPE, SpanEvent, SpanName, type Role } from './names.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheusText, type PullMetricReader } from './prometheus.js';
import type { SpanRecorder } from './recorder.js';
import { EventLoopMonitor } from './process-metrics.js';
import { SpanKindCode, isRecorded, sessionHex, traceparentSampled, type Attrs, type RecordedSpan, type TraceSpan } from './span.js';
import { ZxidMap } from './zxid-map.js';

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

/**
 * What is in flight per zxid is bounded (a power of two): a proposal or span still open when
 * the zxid this many later arrives is dropped (a span is ended, marked evicted).
 */
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

/** Bytes of a TxnHeader (clientId long, cxid int, zxid long, time long, type int); time is at TXN_TIME_AT. */
const TXN_HEADER_BYTES = 32;
const TXN_TIME_AT = 20;

/**
 * The leader's wall-clock time in a txn's header (ZooKeeper measures propagation from it),
 * read in place: a jute long, big-endian. null: the txn is too short to hold a header.
 */
export function txnTimeMs(data: Uint8Array): number | null {
  if (data.length < TXN_HEADER_BYTES) return null;
  const o = TXN_TIME_AT;
  const hi = (data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!;
  const lo = ((data[o + 4]! << 24) | (data[o + 5]! << 16) | (data[o + 6]! << 8) | data[o + 7]!) >>> 0;
  return hi * 4_294_967_296 + lo;
}

const evictSpan = (s: TraceSpan): void => endWith(s, 'evicted');

/** Span events' `zab.peer.id` attribute sets, made once per peer (they are never changed). */
const PEER_ATTRS_MAX = 256;

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
  private readonly proposals = new ZxidMap<ProposalRecord>(OPEN_SPANS_MAX, (p) => endWith(p.span, 'evicted'));
  private lastProposed = 0n;
  /** Leader: barriers of learner `sync` requests (the last proposal before each). */
  private pendingSyncs: bigint[] = [];
  /** Learners: proposals received, until committed. */
  private readonly learnerTxns = new ZxidMap<LearnerTxn>(OPEN_SPANS_MAX, () => undefined);
  /** Open (sampled) zab.ack spans by zxid (followers and the leader). */
  private readonly acks = new ZxidMap<RecordedSpan>(OPEN_SPANS_MAX, evictSpan);
  /** A link's ids on their way from an ack span to the fsync span. */
  private readonly linkIds: MutableIdWords = { t0: 0, t1: 0, t2: 0, t3: 0, s0: 0, s1: 0 };
  /** Open (sampled) zab.commit spans by zxid. */
  private readonly commits = new ZxidMap<TraceSpan>(OPEN_SPANS_MAX, evictSpan);
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
  private readonly peerAttrs = new Map<number, Attrs>();
  private eventLoop: EventLoopMonitor | null = null;

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
      eventLoop: this.eventLoop?.recent ?? null,
    };
  }

  /** `{zab.peer.id: peer}`, the same object each time. */
  private peerAttrsOf(peer: number): Attrs {
    let a = this.peerAttrs.get(peer);
    if (a === undefined) {
      a = { [Attr.peer]: peer };
      if (this.peerAttrs.size < PEER_ATTRS_MAX) this.peerAttrs.set(peer, a);
    }
    return a;
  }

  /** A span of this server under `parent` (null: a root), with attributes if it is sampled. */
  private start(name: string, parent: TraceSpan | null, attrs?: Attrs): TraceSpan {
    const span = this.spans!.child(name, parent, this.role);
    if (attrs !== undefined) setAll(span, attrs);
    return span;
  }

  // ---------- wiring ----------

  /** The server's state for the gauges; from now on the event loop is watched too. */
  setView(view: GaugeView): void {
    this.metrics.setView(view);
    this.eventLoop ??= new EventLoopMonitor(
      (obs) => {
        for (const [ms, n] of obs) this.metrics.eventLoopDelay.record(ms, n);
      },
      (ms) => this.metrics.gcPause.record(ms),
    );
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

  // ---------- client connections ----------

  /** A connection sent no whole ConnectRequest within nio.sessionlessCnxnTimeout and was closed. */
  sessionlessConnectionExpired(): void {
    this.metrics.sessionlessConnectionsExpired.add();
  }

  /** A connection was refused (maxClientCnxns, maxCnxns, or the connection throttle). */
  connectionRejected(): void {
    this.metrics.connectionRejected.add();
  }

  /** The connection throttle let a ConnectRequest through, `deficit` tokens short of a full bucket after it. */
  connectionAdmitted(deficit: number): void {
    this.metrics.connectionRequestCount.add();
    this.metrics.connectionTokenDeficit.record(deficit);
  }

  /** The client closed its connection. */
  connectionDropped(): void {
    this.metrics.connectionDropCount.add();
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
    span?.setTxn(zxid, type);
    this.proposals.set(zxid, { createdAtMs: performance.now(), span });
  }

  /** Leader: a learner's `sync` waits for everything proposed so far to commit. */
  syncQueued(): void {
    if (this.proposals.size > 0 && this.pendingSyncs.length < OPEN_SPANS_MAX) this.pendingSyncs.push(this.lastProposed);
  }

  /** Leader: a quorum acked `zxid` and COMMIT/INFORM leaves (or, with no learner, it is applied). */
  private leaderCommitted(zxid: bigint): void {
    const p = this.proposals.take(zxid);
    if (p === undefined) return;
    const now = performance.now();
    this.metrics.commitCount.add();
    this.metrics.quorumAckLatency.record(now - p.createdAtMs);
    while (this.pendingSyncs.length > 0 && this.pendingSyncs[0]! <= zxid) this.pendingSyncs.shift();
    if (this.spans === null || p.span === null || !p.span.recording) return;
    p.span.addEvent(SpanEvent.quorum, undefined, now);
    p.span.addEvent(SpanEvent.commitSent, undefined, now);
    p.span.end(now);
    const commit = this.spans.child(SpanName.commit, p.span, this.role, SpanKindCode.internal, now);
    if (!commit.recording) return;
    commit.setTxn(zxid);
    this.commits.set(zxid, commit);
  }

  // ---------- the quorum channel ----------

  /** A message from peer `from` arrived (called before the core steps it). */
  messageReceived(from: number, msg: Message): void {
    switch (msg.kind) {
      case 'ack': {
        const p = this.proposals.get(msg.zxid);
        if (p === undefined) return;
        const now = performance.now();
        this.metrics.ackLatency.recordKeyed(from, now - p.createdAtMs);
        if (p.span?.recording) p.span.addEvent(SpanEvent.ackReceived, this.peerAttrsOf(from), now);
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

  /** A SNAP of `bytes` went to a learner (sent as it was encoded, so not one message). */
  snapSent(bytes: number): void {
    this.metrics.snapBytesSent.add(bytes);
  }

  /** A message left for peer `to`. */
  messageSent(_to: number, msg: Message): void {
    switch (msg.kind) {
      case 'ack': {
        const span = this.acks.take(msg.zxid);
        if (span === undefined) return;
        const now = performance.now();
        span.addEvent(SpanEvent.ackSent, undefined, now);
        span.end(now);
        return;
      }
      case 'commit':
        this.leaderCommitted(msg.zxid);
        return;
      case 'inform':
        this.leaderCommitted(msg.txn.zxid);
        return;
      case 'snap':
      case 'notification':
      case 'followerinfo':
      case 'leaderinfo':
      case 'ackepoch':
      case 'diff':
      case 'trunc':
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
    this.learnerTxns.set(zxid, { createdAtWallMs: created ?? Date.now(), trace: traceparent });
    if (this.spans === null || !voter) return;
    const span = this.spans.remoteChild(SpanName.ack, traceparent, this.role);
    if (!isRecorded(span)) return;
    span.setTxn(zxid);
    this.acks.set(zxid, span);
  }

  private learnerCommit(zxid: bigint): void {
    this.metrics.learnerCommitReceivedCount.add();
    if (this.spans === null) return;
    const t = this.learnerTxns.get(zxid);
    if (t === undefined) return;
    const span = this.spans.remoteChild(SpanName.commit, t.trace, this.role);
    if (!span.recording) return;
    span.setTxn(zxid);
    this.commits.set(zxid, span);
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
      const now = performance.now();
      const ack =
        p?.span != null
          ? this.spans.child(SpanName.ack, p.span, this.role, SpanKindCode.internal, now)
          : this.spans.remoteChild(SpanName.ack, traceparent, this.role);
      if (!isRecorded(ack)) return;
      ack.setTxn(zxid);
      ack.addEvent(SpanEvent.appended, undefined, now);
      this.acks.set(zxid, ack);
      return;
    }
    this.acks.get(zxid)?.addEvent(SpanEvent.appended);
  }

  /** An fsync of the log that started at `startedAtMs` (performance.now()) finished. */
  logSynced(startedAtMs: number): void {
    const txns = this.unsynced;
    this.unsynced = [];
    const now = performance.now();
    this.metrics.fsyncTime.record(now - startedAtMs);
    this.metrics.syncProcessorBatchSize.record(txns.length);
    const leading = this.role === 'leader';
    if (leading) {
      for (const t of txns) {
        const p = this.proposals.get(t.zxid);
        if (p !== undefined) this.metrics.ackLatency.recordKeyed(this.serverId, now - p.createdAtMs);
      }
    }
    if (this.spans === null) return;
    const fsync = this.spans.root(SpanName.fsync, this.role, SpanKindCode.internal, startedAtMs);
    let links = 0;
    for (const t of txns) {
      const ack = this.acks.get(t.zxid);
      if (ack !== undefined) {
        ack.addEvent(SpanEvent.fsynced, undefined, now);
        if (leading) {
          this.acks.delete(t.zxid);
          ack.end(now);
        }
      }
      if (!fsync.recording || links >= FSYNC_LINKS_MAX) continue;
      // Only traces that are recorded somewhere are worth a link.
      if (t.span !== undefined) {
        if (!t.span.recording) continue;
        fsync.addLinkTo(t.span.idWords());
        links++;
      } else if (ack !== undefined && traceparentSampled(t.trace) === true && ack.parentIdsInto(this.linkIds)) {
        // The ack span's parent is the proposal span that trace names: no need to parse it.
        fsync.addLinkTo(this.linkIds);
        links++;
      } else {
        const ids = this.spans.sampledIds(t.trace);
        if (ids === null) continue;
        fsync.addLinkTo(ids);
        links++;
      }
    }
    fsync.setAttribute(Attr.fsyncTxns, txns.length);
    fsync.end(now);
  }

  /** A committed txn was applied to the data tree. */
  committedApplied(zxid: bigint): void {
    if (this.role === 'leader') {
      // No learner to send COMMIT to: the decision and the apply are one step.
      if (this.proposals.has(zxid)) this.leaderCommitted(zxid);
    } else {
      const t = this.learnerTxns.take(zxid);
      if (t !== undefined) {
        this.metrics.commitPropagationLatency.record(Math.max(0, Date.now() - t.createdAtWallMs));
      }
    }
    if (this.spans === null) return;
    const span = this.commits.take(zxid);
    if (span === undefined) return;
    const now = performance.now();
    span.addEvent(SpanEvent.applied, undefined, now);
    span.end(now);
  }

  /** Wrap a snapshot: zab.snapshot span and snapshottime. Returns the same promise. */
  snapshot<T extends SnapshotOutcome | null>(taking: Promise<T>): Promise<T> {
    const span = this.spans === null ? null : this.start(SpanName.snapshot, null);
    void taking.then(
      (info) => {
        if (info !== null) this.metrics.snapshotTime.record(info.durationMs);
        if (span === null) return;
        if (info === null) span.setAttribute(Attr.reason, 'skipped: a snapshot was already being written');
        else span.setTxn(info.zxid);
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
        setAll(span, { [Attr.syncMode]: e.mode, [Attr.syncTxns]: e.txns, [Attr.syncFromLog]: e.fromLog, [Attr.epoch]: Number(this.epoch) });
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
      case 'stalled':
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
    // Counters and histograms are aggregated by ZabMetrics; they come first, as the SDK listed them.
    const own: ScopeMetrics = { scope: { name: INSTRUMENTATION_SCOPE }, metrics: this.metrics.collect() };
    return renderPrometheusText([own, ...resourceMetrics.scopeMetrics], opts);
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
    this.eventLoop?.stop();
    this.eventLoop = null;
    await this.shutdownHook?.();
  }
}
