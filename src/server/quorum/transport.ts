/**
 * PeerTransport: TCP between the servers of an ensemble, one connection per peer pair per
 * channel (election, quorum), framed by codec.ts.
 *
 * Who dials: the connection of a pair is always the one the higher server id dialed. The
 * higher id dials whenever it has none, retrying every `reconnectDelayMs` while the peer is
 * down. The lower id also dials while it has no connection (same period), but only as a
 * *nudge*: the higher id reads its handshake, closes it without an answer and dials back,
 * first dropping the connection it holds, which must be stale (ZooKeeper's QuorumCnxManager
 * does the same: a lower sid's connection makes the higher sid finish its old SendWorker and
 * connect back). Without nudges, a peer that died unseen (partitioned, then killed) leaves
 * the higher ids with half-open connections they never replace, and after its restart it
 * could reach nobody above it.
 *
 * Nudges do not make healthy connections flap. The lower id nudges only while it has no
 * connection, and stops (closing any nudge in flight) as soon as it accepts one. The higher
 * id ignores a nudge while its own dial is in flight (that dial is the answer), and for
 * NUDGE_GRACE_MS after establishing a connection: the acceptor establishes before it answers
 * the handshake, so a nudge that reaches us after our dial succeeded was sent before the peer
 * accepted it and is late, not news. Should a late nudge still outlive the grace (an event
 * loop stalled for that long), the cost is one reconnect: the dropped connection makes the
 * lower id nudge again only after `reconnectDelayMs`, while our redial leaves at once.
 *
 * Handshake: the dialer sends {serverId, channel}; the acceptor checks that the id is a
 * member and that the channel matches the port it arrived on. A higher id is then answered
 * with the acceptor's own handshake, which the dialer checks the same way; a lower id's
 * handshake is a nudge. Only after both handshakes do messages flow, so nothing is written
 * into a connection that is about to be refused.
 *
 * Peer security (quorum-credentials.ts) sits in this handshake. With sslQuorum every
 * connection is TLS with a certificate on both sides (peer-tls.ts); the acceptor also checks
 * that the dialer's certificate fits the member it claims to be. With quorum.auth the dialer
 * proves it knows the ensemble's secret before the acceptor acts on its claim (peer-auth.ts:
 * a CHALLENGE and a PROOF frame between the two handshakes), and the acceptor proves it in
 * its answer. A claim is acted on only once proven: a connection that claims a member id
 * replaces that member's link, or nudges it away, only after authentication, and nothing it
 * sends reaches the owner before that. Incoming connections whose handshake has not finished
 * are bounded per port, oldest dropped first (pending-inbound.ts), each with the
 * connectTimeoutMs deadline; refusals are logged at most once a second per kind.
 *
 * Quorum channel contract (what ZAB relies on): onDisconnect(peer) is a boundary. Of the
 * quorum messages sent to `peer` since the previous boundary, a prefix arrived in order
 * and the rest is lost; messages sent after onDisconnect travel on a new connection. Any
 * loss (connection closed, fault-hook drop, queue overflow, no connection within
 * connectTimeoutMs, frame too large) creates a boundary. On the receiving side, no message
 * of a connection is delivered after the onDisconnect for it.
 *
 * Election channel: best effort. Messages queue while connecting (oldest dropped first
 * beyond a small bound); losses are silent, as Fast Leader Election resends.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type tls from 'node:tls';
import type { Message, SnapStream } from '../../zab/index.js';
import { collectedSnapStream, isElectionMessage } from '../../zab/index.js';
import type { Logger } from '../log.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  ELECTION_MAX_FRAME_BYTES,
  encodeChallenge,
  encodeHandshake,
  encodeFrames,
  encodeProof,
  encodeSnapChunks,
  encodeSnapEnd,
  encodeSnapHead,
  FRAME_HEADER_BYTES,
  frameName,
  HANDSHAKE_MAX_FRAME_BYTES,
  LENGTH_PREFIX_BYTES,
  MAX_SNAPSHOT_BYTES,
  SNAP_CHUNK_BYTES,
  PeerProtocolError,
  type Channel,
  type Handshake,
  type PeerFrame,
} from './codec.js';
import type { FaultDecision, FaultEvent, FaultHook } from './faults.js';
import { Fifo } from './fifo.js';
import { newNonce, proofMatches, proofOf, type AuthTranscript, type QuorumAuthOptions } from './peer-auth.js';
import { PeerConnection, type TransportCounters } from './peer-connection.js';
import type { PeerTls } from './peer-tls.js';
import { PendingInbound } from './pending-inbound.js';
import type { ArrivingSnapshot } from './arriving-snapshot.js';

export interface PeerAddress {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
}

export interface TransportOptions {
  selfId: number;
  /** All members, this server included. */
  peers: PeerAddress[];
  /** Default: this server's own host from `peers` (quorumListenOnAllIPs → '0.0.0.0'). */
  listenHost?: string;
  /** Largest quorum frame (default 64 MiB: a SNAP carries a whole tree). Election frames are capped at 1 KiB. */
  maxFrameBytes?: number;
  /** Wait between dials while a peer is down. Default 100 ms. */
  reconnectDelayMs?: number;
  /** Limit for connect + handshake, and for how long quorum messages wait for a connection. Default 5000 ms (zookeeper.cnxTimeout). */
  connectTimeoutMs?: number;
  /** Attempts to bind each port, `bindRetryDelayMs` apart; 0 = forever. Default 3 (electionPortBindRetry). */
  electionPortBindRetry?: number;
  bindRetryDelayMs?: number;
  /** Bytes a quorum link may hold unsent (queued, delayed or in the socket). Default 2 × maxFrameBytes. */
  maxQueueBytes?: number;
  tcpKeepAlive?: boolean;
  /** A learner that reads none of a streamed SNAP for this long is dropped. Default 30000 ms. */
  snapStallMs?: number;
  /** sslQuorum and quorum.auth (quorum-credentials.ts); absent parts are off, as in ZooKeeper. */
  security?: { tls?: PeerTls; auth?: QuorumAuthOptions };
  log: Logger;
  faults?: FaultHook;
}

export interface TransportStats {
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  /** Messages dropped by faults, overflow, expiry or a lost connection before they reached a socket. */
  messagesDropped: number;
  /** Established connections right now (both channels). */
  connections: number;
}

export type PeerTransportErrorCode = 'ZABLAB_PEER_CONFIG' | 'ZABLAB_PEER_BIND' | 'ZABLAB_PEER_STATE';

export class PeerTransportError extends Error {
  constructor(
    readonly code: PeerTransportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PeerTransportError';
  }
}

export const DEFAULT_RECONNECT_DELAY_MS = 100;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
export const DEFAULT_BIND_RETRY = 3;
export const DEFAULT_BIND_RETRY_DELAY_MS = 1000;
/** Notifications waiting for a connection; FLE only needs the latest few. */
export const ELECTION_QUEUE_MAX = 16;
/** Socket backlog an election connection may build before notifications are dropped. */
const ELECTION_BACKLOG_BYTES_MAX = 64 * 1024;
/** Incoming connections that have not finished their handshake, per port (the oldest is dropped beyond it). */
export const PENDING_INBOUND_MAX = 64;
/** Messages to ourselves waiting for the next turn. */
const SELF_QUEUE_MAX = 10_000;
/** Distinct unknown destination ids we warn about (then stay quiet). */
const UNKNOWN_WARNINGS_MAX = 64;
/** The first byte of a TLS ClientHello (a handshake record). */
const TLS_HANDSHAKE_RECORD = 0x16;
/** A nudge this soon after our connection was established is late, not a sign of staleness (see the top of this file). */
export const NUDGE_GRACE_MS = 1000;

const NO_FAULT: FaultDecision = {};
/**
 * A streamed SNAP's bytes written and not yet on the wire above which the leader stops
 * encoding until the learner reads: the tree in flight stays a few chunks, not all of it.
 */
const SNAP_STREAM_BACKLOG_BYTES = 16 * 1024 * 1024;
/** How often a leader waiting on a streamed SNAP's backlog looks again. */
const SNAP_STREAM_POLL_MS = 2;
/**
 * A learner that reads nothing of a SNAP for this long is stuck (a stopped process): its
 * connection is dropped, so that the leader neither waits nor holds its messages forever.
 */
const DEFAULT_SNAP_STALL_MS = 30_000;

interface Delayed {
  at: number;
  frame: Buffer;
}

/** Our side of one (peer, channel) pair. */
interface Link {
  readonly peer: PeerAddress;
  readonly channel: Channel;
  /** Our id is higher: our dial makes the connection. Otherwise our dials are only nudges. */
  readonly dials: boolean;
  readonly maxFrameBytes: number;
  /** Established connection, if any. */
  conn: PeerConnection | null;
  /** Outgoing connection still connecting or handshaking; a nudge when `dials` is false. */
  dialing: PeerConnection | null;
  /** Bumped for every established connection (logged; `conn` identity guards delivery). */
  generation: number;
  /** performance.now() when `conn` was established. */
  establishedAt: number;
  /** Frames sent while not connected. */
  queue: Fifo<Buffer>;
  /** Frames held back by an injected delay, release times non-decreasing (FIFO). */
  delayed: Fifo<Delayed>;
  /** queue + delayed bytes. */
  heldBytes: number;
  /** Bytes of `conn`'s backlog, up to the last SNAP written, still to drain (they do not count against the queue limit). */
  snapBacklog: number;
  /** Quorum: the SNAP whose chunks `conn` is receiving, announced by onSnapArriving. */
  arriving: ArrivingSnapshot | null;
  lastReleaseAt: number;
  delayTimer: NodeJS.Timeout | null;
  /** Quorum: deadline for queued frames to find a connection. */
  expiryTimer: NodeJS.Timeout | null;
  reconnectTimer: NodeJS.Timeout | null;
  /** A loss happened and onDisconnect is not yet delivered: sends are dropped until then. */
  broken: boolean;
  notifyToken: number;
  failedDials: number;
}

type State = 'new' | 'starting' | 'running' | 'closed';

export class PeerTransport {
  /** Set by the owner before start(). Must not throw. */
  onMessage: (from: number, msg: Message) => void = () => undefined;
  /** Quorum channel to `peer` lost: see the contract at the top of this file. */
  onDisconnect: (peer: number) => void = () => undefined;
  /**
   * `peer` closed, reset or refused a connection (its process is likely gone; a silent peer
   * never fires this), and onPeerUp once a connection to it is up again. Hints for the
   * election's timing only: a peer that merely closed a stale link also fires it.
   */
  onPeerDown: (peer: number) => void = () => undefined;
  onPeerUp: (peer: number) => void = () => undefined;
  /**
   * A SNAP from `peer` began: its snapshot's chunks arrive into `snapshot`, and the SNAP message
   * (carrying snapshot.pieces) follows at the end, unless the snapshot is abandoned first.
   */
  onSnapArriving: (peer: number, snapshot: ArrivingSnapshot) => void = () => undefined;

  private readonly selfId: number;
  private readonly self: PeerAddress;
  private readonly members = new Map<number, PeerAddress>();
  private readonly links = new Map<string, Link>();
  private readonly log: Logger;
  private readonly faults: FaultHook | undefined;
  private readonly listenHost: string;
  private readonly maxFrameBytes: number;
  private readonly reconnectDelayMs: number;
  private readonly connectTimeoutMs: number;
  private readonly snapStallMs: number;
  private readonly bindRetry: number;
  private readonly bindRetryDelayMs: number;
  private readonly maxQueueBytes: number;
  private readonly tcpKeepAlive: boolean;
  private readonly tls: PeerTls | undefined;
  private readonly auth: QuorumAuthOptions | undefined;
  /** Refusals and other lines that whoever reaches our ports can repeat at will. */
  private readonly refusals: RateLimitedLog;
  private readonly counters: TransportCounters = {
    bytesSent: 0,
    bytesReceived: 0,
    messagesSent: 0,
    messagesReceived: 0,
    messagesDropped: 0,
  };
  private readonly servers = new Map<Channel, net.Server>();
  private readonly pendingInbound = new Map<Channel, PendingInbound>([
    ['election', new PendingInbound(PENDING_INBOUND_MAX)],
    ['quorum', new PendingInbound(PENDING_INBOUND_MAX)],
  ]);
  private readonly selfQueue: Message[] = [];
  private selfFlushScheduled = false;
  private readonly warnedUnknown = new Set<number>();
  private unsubscribeFaults: (() => void) | undefined;
  private state: State = 'new';

  constructor(opts: TransportOptions) {
    this.selfId = opts.selfId;
    this.log = opts.log;
    this.faults = opts.faults;
    for (const p of opts.peers) {
      checkAddress(p);
      if (this.members.has(p.id)) throw configError(`server ${p.id} is listed twice; every server.N needs its own id`);
      this.members.set(p.id, p);
    }
    const self = this.members.get(opts.selfId);
    if (self === undefined) {
      throw configError(`this server's id ${opts.selfId} is not among the peers (${[...this.members.keys()].join(',')}); fix myid or the server list`);
    }
    this.self = self;
    this.listenHost = opts.listenHost ?? self.host;
    this.maxFrameBytes = positiveInt(opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, 'maxFrameBytes', ELECTION_MAX_FRAME_BYTES, 0x7fffffff);
    this.reconnectDelayMs = positiveInt(opts.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS, 'reconnectDelayMs', 1, 600_000);
    this.connectTimeoutMs = positiveInt(opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs', 1, 600_000);
    this.snapStallMs = positiveInt(opts.snapStallMs ?? DEFAULT_SNAP_STALL_MS, 'snapStallMs', 1, 3_600_000);
    this.bindRetry = positiveInt(opts.electionPortBindRetry ?? DEFAULT_BIND_RETRY, 'electionPortBindRetry', 0, 1_000_000);
    this.bindRetryDelayMs = positiveInt(opts.bindRetryDelayMs ?? DEFAULT_BIND_RETRY_DELAY_MS, 'bindRetryDelayMs', 0, 600_000);
    this.maxQueueBytes = positiveInt(opts.maxQueueBytes ?? 2 * this.maxFrameBytes, 'maxQueueBytes', this.maxFrameBytes, Number.MAX_SAFE_INTEGER);
    this.tcpKeepAlive = opts.tcpKeepAlive ?? false;
    this.tls = opts.security?.tls;
    this.auth = opts.security?.auth;
    this.refusals = new RateLimitedLog(opts.log);
    for (const p of this.members.values()) {
      if (p.id === this.selfId) continue;
      for (const channel of ['election', 'quorum'] as const) this.links.set(linkKey(p.id, channel), this.newLink(p, channel));
    }
  }

  /** Listen on our quorum and election ports, then dial every peer (lower ids for real, higher ids as a nudge). */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new PeerTransportError('ZABLAB_PEER_STATE', `start() called on a ${this.state} transport; create a new PeerTransport`);
    this.state = 'starting';
    try {
      await Promise.all([this.listen('quorum', this.self.quorumPort), this.listen('election', this.self.electionPort)]);
    } catch (e) {
      await this.close();
      throw e;
    }
    if (this.state !== 'starting') throw new PeerTransportError('ZABLAB_PEER_STATE', 'the transport was closed while starting');
    this.state = 'running';
    this.unsubscribeFaults = this.faults?.subscribe?.((ev) => this.onFaultEvent(ev));
    for (const link of this.links.values()) this.dial(link);
    this.log.info('peer transport listening', {
      quorum: `${this.listenHost}:${this.self.quorumPort}`,
      election: `${this.listenHost}:${this.self.electionPort}`,
      tls: this.tls !== undefined,
      auth: this.auth === undefined ? 'off' : this.auth.serverRequire ? 'required' : 'optional',
    });
  }

  /** Never throws. Election messages go on the election channel, all others on the quorum channel. */
  send(to: number, msg: Message): void {
    if (this.state === 'closed') return;
    if (to === this.selfId) {
      this.sendToSelf(msg);
      return;
    }
    const channel: Channel = isElectionMessage(msg) ? 'election' : 'quorum';
    const link = this.links.get(linkKey(to, channel));
    if (link === undefined) {
      this.counters.messagesDropped++;
      this.warnUnknown(to, msg);
      return;
    }
    if (link.broken) {
      this.counters.messagesDropped++; // before the boundary: lost like its predecessors
      return;
    }
    const decision = this.faults?.decide(to, msg) ?? NO_FAULT;
    if (decision.drop === true) {
      this.drop(link, `the fault hook dropped a ${msg.kind} message`);
      return;
    }
    this.sendDecided(link, to, msg, decision);
  }

  /**
   * A SNAP whose snapshot is written as it is encoded: its frame now, SNAP_CHUNK frames as
   * pieces come, a SNAP_END frame at the end, all onto the connection of this moment. If that
   * connection goes, the rest is dropped (its loss is reported as any other). Where the SNAP
   * would be queued or delayed instead (no connection, a fault hook's delay), the pieces are
   * collected and the SNAP sent whole at the end, as send() would.
   */
  openSnapStream(to: number, zxid: bigint): SnapStream {
    const head: Message = { kind: 'snap', zxid };
    const link = this.links.get(linkKey(to, 'quorum'));
    if (this.state === 'closed' || to === this.selfId || link === undefined || link.broken) {
      return collectedSnapStream(zxid, (msg) => this.send(to, msg));
    }
    const decision = this.faults?.decide(to, head) ?? NO_FAULT;
    if (decision.drop === true) {
      this.drop(link, 'the fault hook dropped a snap message');
      return collectedSnapStream(zxid, () => undefined);
    }
    const conn = link.conn;
    if ((decision.delayMs ?? 0) > 0 || link.delayed.length > 0 || conn === null) {
      return collectedSnapStream(zxid, (msg) => {
        if (!link.broken && this.state !== 'closed') this.sendDecided(link, to, msg, decision);
      });
    }
    const chunkBytes = Math.min(SNAP_CHUNK_BYTES, link.maxFrameBytes - FRAME_HEADER_BYTES);
    let total = 0;
    let open = true;
    // Frames go out only while the connection the SNAP began on is still the link's.
    const onConn = (): boolean => (open &&= link.conn === conn && !link.broken && this.state !== 'closed');
    this.deliver(link, encodeSnapHead(zxid, null), true, true);
    return {
      write: (piece) => {
        total += piece.byteLength;
        if (total > MAX_SNAPSHOT_BYTES) {
          if (onConn()) this.lose(link, `a SNAP of more than ${MAX_SNAPSHOT_BYTES} bytes cannot be sent`, { droppedNow: 1, fromSend: true });
          open = false;
        }
        if (!onConn()) return;
        for (const frame of encodeSnapChunks(piece, chunkBytes)) this.deliver(link, frame, true, false);
      },
      ready: async () => {
        let least = conn.backlogBytes;
        let since = performance.now();
        while (onConn() && conn.backlogBytes > SNAP_STREAM_BACKLOG_BYTES) {
          await sleep(SNAP_STREAM_POLL_MS);
          if (conn.backlogBytes < least) {
            least = conn.backlogBytes;
            since = performance.now();
          } else if (performance.now() - since > this.snapStallMs && onConn()) {
            this.lose(link, `server ${to} read none of a SNAP for ${this.snapStallMs} ms`, { droppedNow: 1 });
          }
        }
      },
      end: () => {
        if (onConn()) this.deliver(link, encodeSnapEnd(total), true, false);
        open = false;
      },
      abort: () => {
        open = false;
      },
    };
  }

  private sendDecided(link: Link, to: number, msg: Message, decision: FaultDecision): void {
    let frames: Buffer[];
    try {
      frames = encodeFrames(msg, link.maxFrameBytes);
    } catch (e) {
      this.log.error('cannot encode a peer message; dropped', { to, kind: msg.kind, error: e as Error });
      this.drop(link, `a ${msg.kind} message could not be encoded`);
      return;
    }
    const delayMs = decision.delayMs ?? 0;
    const queued = delayMs > 0 || link.delayed.length > 0 || link.conn === null;
    if (msg.kind === 'snap' && !queued) {
      // A SNAP's frame and chunk frames, each within the limit, written as they are (the
      // snapshot's own pieces; no copy as big as the tree).
      for (let i = 0; i < frames.length; i++) this.deliver(link, frames[i]!, true, i === 0);
      return;
    }
    const frame = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    if (msg.kind !== 'snap' && frame.length - LENGTH_PREFIX_BYTES > link.maxFrameBytes) {
      this.log.error('peer message over the frame limit; dropped (raise maxFrameBytes if this is legitimate)', {
        to,
        kind: msg.kind,
        bytes: frame.length,
        limit: link.maxFrameBytes,
      });
      this.drop(link, `a ${frame.length}-byte ${msg.kind} message exceeds the frame limit`);
      return;
    }
    if (delayMs > 0 || link.delayed.length > 0) this.hold(link, frame, delayMs);
    else this.deliver(link, frame, msg.kind === 'snap');
  }

  stats(): TransportStats {
    let connections = 0;
    for (const link of this.links.values()) if (link.conn !== null) connections++;
    return { ...this.counters, connections };
  }

  /** Stop listening and drop every connection. No callbacks fire after this. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.unsubscribeFaults?.();
    for (const link of this.links.values()) {
      clearLinkTimers(link);
      link.conn?.close('transport closed', undefined, true);
      link.dialing?.close('transport closed', undefined, true);
      link.conn = null;
      link.dialing = null;
      link.queue.clear();
      link.delayed.clear();
      link.heldBytes = 0;
    }
    for (const pending of this.pendingInbound.values()) pending.closeAll('transport closed');
    this.selfQueue.length = 0;
    const servers = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  /** The port a channel listens on (useful when a port was 0 in tests). */
  listeningPort(channel: Channel): number | undefined {
    const addr = this.servers.get(channel)?.address();
    return addr !== null && typeof addr === 'object' ? addr.port : undefined;
  }

  // -------------------------------------------------------------------------------------
  // Outgoing

  private newLink(peer: PeerAddress, channel: Channel): Link {
    return {
      peer,
      channel,
      dials: this.selfId > peer.id,
      maxFrameBytes: channel === 'election' ? ELECTION_MAX_FRAME_BYTES : this.maxFrameBytes,
      conn: null,
      dialing: null,
      generation: 0,
      establishedAt: 0,
      queue: new Fifo(),
      delayed: new Fifo(),
      heldBytes: 0,
      snapBacklog: 0,
      arriving: null,
      lastReleaseAt: 0,
      delayTimer: null,
      expiryTimer: null,
      reconnectTimer: null,
      broken: false,
      notifyToken: 0,
      failedDials: 0,
    };
  }

  /** A frame leaves now: onto the connection, or into the queue while there is none. */
  /**
   * `whole`: a SNAP, as big as the tree; it may pass the queue limit by itself (the limit is
   * for a peer that stopped reading, which the backlog before it shows).
   */
  private deliver(link: Link, frame: Buffer, whole = false, isMessage = true): void {
    const conn = link.conn;
    if (conn !== null) {
      const limit = link.channel === 'election' ? ELECTION_BACKLOG_BYTES_MAX : this.maxQueueBytes;
      // The backlog drains in order, so what is left of it is at most what it was, and a SNAP
      // draining is not a peer that stopped reading.
      link.snapBacklog = Math.min(link.snapBacklog, conn.backlogBytes);
      if (conn.backlogBytes - link.snapBacklog + (whole ? 0 : frame.length) > limit) {
        if (link.channel === 'election') this.counters.messagesDropped++;
        else this.lose(link, `server ${link.peer.id} is not reading: ${conn.backlogBytes} bytes wait to be sent`, { droppedNow: 1, fromSend: true });
        return;
      }
      conn.write(frame, isMessage);
      if (whole) link.snapBacklog = conn.backlogBytes;
      return;
    }
    if (link.channel === 'election') {
      if (link.queue.length >= ELECTION_QUEUE_MAX) {
        link.heldBytes -= link.queue.shift()!.length;
        this.counters.messagesDropped++;
      }
    } else if (link.heldBytes + frame.length > this.maxQueueBytes) {
      this.lose(link, `more than ${this.maxQueueBytes} bytes queued for server ${link.peer.id}, which is not connected`, { droppedNow: 1, fromSend: true });
      return;
    } else if (link.expiryTimer === null) {
      link.expiryTimer = unrefTimer(() => {
        link.expiryTimer = null;
        this.lose(link, `no connection to server ${link.peer.id} within ${this.connectTimeoutMs} ms`, {});
      }, this.connectTimeoutMs);
    }
    link.queue.push(frame);
    link.heldBytes += frame.length;
  }

  /** Hold a frame back for an injected delay, keeping FIFO order (TCP never reorders). */
  private hold(link: Link, frame: Buffer, delayMs: number): void {
    if (link.heldBytes + frame.length > this.maxQueueBytes) {
      this.drop(link, `more than ${this.maxQueueBytes} bytes held back by an injected delay`);
      return;
    }
    const at = Math.max(performance.now() + delayMs, link.lastReleaseAt);
    link.lastReleaseAt = at;
    link.delayed.push({ at, frame });
    link.heldBytes += frame.length;
    if (link.delayTimer === null) this.armDelayTimer(link);
  }

  private armDelayTimer(link: Link): void {
    const head = link.delayed.peek();
    if (head === undefined) return;
    link.delayTimer = unrefTimer(() => {
      link.delayTimer = null;
      const now = performance.now();
      for (let d = link.delayed.peek(); d !== undefined && d.at <= now; d = link.delayed.peek()) {
        link.delayed.shift();
        link.heldBytes -= d.frame.length;
        this.deliver(link, d.frame);
      }
      if (link.delayTimer === null) this.armDelayTimer(link);
    }, Math.max(0, head.at - performance.now()));
  }

  /** One message is lost on purpose or by necessity: a boundary on the quorum channel. */
  private drop(link: Link, reason: string): void {
    if (link.channel === 'election') {
      this.counters.messagesDropped++;
      return;
    }
    // What was written before this message still goes out: TCP would have sent it.
    this.lose(link, reason, { droppedNow: 1, fromSend: true, graceful: true });
  }

  /**
   * The quorum stream to this peer broke: close the connection, discard what is held, and
   * tell the owner (once) if anything was or may have been lost. `fromSend` defers the
   * callback to a microtask so that it never re-enters the caller of send() (or of a fault
   * controller); microtasks still run before any newer connection can deliver. `graceful`
   * lets what was already written reach the peer before the connection ends.
   */
  private lose(link: Link, reason: string, how: { droppedNow?: number; fromSend?: boolean; graceful?: boolean }): void {
    const { droppedNow = 0, fromSend = false, graceful = false } = how;
    const conn = link.conn;
    const discarded = link.queue.length + link.delayed.length + droppedNow;
    this.counters.messagesDropped += discarded;
    link.conn = null;
    link.queue.clear();
    link.delayed.clear();
    link.heldBytes = 0;
    link.lastReleaseAt = 0;
    clearTimer(link.expiryTimer);
    link.expiryTimer = null;
    clearTimer(link.delayTimer);
    link.delayTimer = null;
    conn?.close(reason, undefined, true, graceful);
    if (conn !== null) this.log.info('lost the connection to a peer', { peer: link.peer.id, channel: link.channel, generation: link.generation, reason });
    if (link.channel === 'quorum' && (conn !== null || discarded > 0)) this.notifyDisconnect(link, fromSend);
    if (conn !== null) this.scheduleReconnect(link);
  }

  private notifyDisconnect(link: Link, deferred: boolean): void {
    const token = ++link.notifyToken;
    if (!deferred) {
      link.broken = false;
      this.onDisconnect(link.peer.id);
      return;
    }
    link.broken = true;
    queueMicrotask(() => {
      if (link.notifyToken !== token || this.state === 'closed') return;
      link.broken = false;
      this.onDisconnect(link.peer.id);
    });
  }

  private sendToSelf(msg: Message): void {
    if (this.selfQueue.length >= SELF_QUEUE_MAX) {
      this.counters.messagesDropped++;
      return;
    }
    this.selfQueue.push(msg);
    if (this.selfFlushScheduled) return;
    this.selfFlushScheduled = true;
    setImmediate(() => {
      this.selfFlushScheduled = false;
      for (const m of this.selfQueue.splice(0)) {
        if (this.state === 'closed') return;
        this.onMessage(this.selfId, m);
      }
    });
  }

  private warnUnknown(to: number, msg: Message): void {
    if (this.warnedUnknown.has(to) || this.warnedUnknown.size >= UNKNOWN_WARNINGS_MAX) return;
    this.warnedUnknown.add(to);
    this.log.warn('message for a server that is not in the ensemble dropped', { to, kind: msg.kind, members: [...this.members.keys()].join(',') });
  }

  // -------------------------------------------------------------------------------------
  // Connections

  private dial(link: Link): void {
    if (this.state !== 'running' || link.conn !== null || link.dialing !== null) return;
    if (this.isCut(link.peer.id)) {
      // Hooks that announce heals dial at once; others are polled.
      if (this.faults?.subscribe === undefined) this.scheduleReconnect(link);
      return;
    }
    clearTimer(link.reconnectTimer);
    link.reconnectTimer = null;
    const port = link.channel === 'election' ? link.peer.electionPort : link.peer.quorumPort;
    const socket = this.tls?.connect(link.peer.host, port) ?? net.connect({ host: link.peer.host, port });
    if (this.tcpKeepAlive) socket.setKeepAlive(true);
    const conn = new PeerConnection(socket, link.channel, 'out', HANDSHAKE_MAX_FRAME_BYTES, this.counters, this.connectionEvents);
    conn.peerId = link.peer.id;
    link.dialing = conn;
    conn.armTimeout(this.connectTimeoutMs, `no handshake from server ${link.peer.id} within ${this.connectTimeoutMs} ms`);
    if (this.auth !== undefined) conn.nonce = newNonce();
    conn.write(encodeHandshake({ serverId: this.selfId, channel: link.channel, ...(conn.nonce === undefined ? {} : { nonce: conn.nonce }) }), false);
  }

  private scheduleReconnect(link: Link): void {
    if (this.state !== 'running' || link.reconnectTimer !== null) return;
    link.reconnectTimer = unrefTimer(() => {
      link.reconnectTimer = null;
      this.dial(link);
    }, this.reconnectDelayMs);
  }

  /** A TCP connection arrived (under TLS: before the TLS handshake). */
  private admitInbound(channel: Channel, socket: net.Socket): boolean {
    if (this.state !== 'running') {
      socket.destroy();
      return false;
    }
    if (this.tcpKeepAlive) socket.setKeepAlive(true);
    const admitted = this.pendingInbound.get(channel)!.admit(socket);
    if (admitted === false) {
      socket.destroy();
      return false;
    }
    if (admitted.dropped !== null) {
      this.refusals.warn('peer connection dropped: too many unfinished handshakes, the oldest goes', {
        channel,
        remote: `${admitted.dropped.remoteAddress ?? '?'}:${admitted.dropped.remotePort ?? '?'}`,
        limit: PENDING_INBOUND_MAX,
      });
    }
    return true;
  }

  /** Plaintext: the socket carries frames at once. */
  private onInbound(channel: Channel, socket: net.Socket): void {
    if (this.admitInbound(channel, socket)) this.startInbound(channel, socket);
  }

  /** TLS: the dialer's certificate chains to our trust store; now its handshake frame. */
  private onSecureInbound(channel: Channel, socket: tls.TLSSocket): void {
    if (this.state !== 'running') {
      socket.destroy();
      return;
    }
    this.startInbound(channel, socket);
  }

  private startInbound(channel: Channel, socket: net.Socket): void {
    const conn = new PeerConnection(socket, channel, 'in', HANDSHAKE_MAX_FRAME_BYTES, this.counters, this.connectionEvents);
    if (!this.pendingInbound.get(channel)!.attach(conn)) {
      conn.close('dropped before its handshake', undefined, true);
      return;
    }
    conn.armTimeout(this.connectTimeoutMs, `no handshake within ${this.connectTimeoutMs} ms`);
  }

  private onTlsClientError(channel: Channel, err: NodeJS.ErrnoException, socket: tls.TLSSocket): void {
    if (this.state !== 'running') return;
    // A probe that connects and leaves is not worth a warning.
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
    let problem = err.code !== undefined && err.code.startsWith('ERR_SSL_') ? err.code : `${err.code ?? 'error'}: ${err.message.split('\n')[0]!.trim()}`;
    // Our frames start with a length whose first byte is 0: no TLS record looks like that.
    if (err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || err.code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') problem += '; the peer does not speak TLS: set sslQuorum the same on every server';
    this.refusals.warn('peer connection refused', { channel, remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, problem: `TLS: ${problem}` });
  }

  private readonly connectionEvents = {
    frame: (conn: PeerConnection, frame: PeerFrame): void => this.onFrame(conn, frame),
    closed: (conn: PeerConnection, reason: string, protocol: PeerProtocolError | undefined): void => this.onClosed(conn, reason, protocol),
  };

  private onFrame(conn: PeerConnection, frame: PeerFrame): void {
    if (!conn.established) {
      if (frame.type === 'message') {
        const unproven = conn.direction === 'in' && conn.hello !== undefined;
        this.reject(conn, unproven ? `sent ${frame.msg.kind} before proving that it is server ${conn.peerId}` : `expected a handshake first, got ${frame.msg.kind}`);
        return;
      }
      if (conn.direction === 'in') this.onAcceptorFrame(conn, frame);
      else this.onDialerFrame(conn, frame);
      return;
    }
    if (frame.type === 'snapArriving') {
      const link = conn.channel === 'quorum' ? this.links.get(linkKey(conn.peerId!, 'quorum')) : undefined;
      if (link !== undefined && link.conn === conn) {
        const arriving = frame.snapshot;
        link.arriving = arriving;
        // Abandoned with its connection: the link holds no pieces of it.
        arriving.whenAbandoned(() => {
          if (link.arriving === arriving) link.arriving = null;
        });
        this.onSnapArriving(conn.peerId!, arriving);
      }
      return;
    }
    if (frame.type !== 'message') {
      conn.close('a second handshake', new PeerProtocolError('unexpected-frame', `peer sent a ${frame.type} frame on an established connection`));
      return;
    }
    const msg = frame.msg;
    if (isElectionMessage(msg) !== (conn.channel === 'election')) {
      conn.close('wrong channel', new PeerProtocolError('unexpected-frame', `${msg.kind} is not allowed on the ${conn.channel} channel`));
      return;
    }
    const from = conn.peerId!;
    const link = this.links.get(linkKey(from, conn.channel));
    if (link === undefined || link.conn !== conn) return; // an old connection: never deliver
    this.counters.messagesReceived++;
    const arriving = msg.kind === 'snap' ? link.arriving : null;
    if (arriving !== null) link.arriving = null;
    if (this.faults?.admit !== undefined && !this.faults.admit(from, msg)) {
      this.counters.messagesDropped++;
      // Whoever began on its pieces (onSnapArriving) learns that this SNAP will not come.
      arriving?.abandon();
      return;
    }
    this.onMessage(from, msg);
  }

  /** A problem with the handshake's content, or undefined when the peer may connect. */
  private handshakeProblem(h: Handshake, channel: Channel, expectedId: number | undefined): string | undefined {
    if (h.channel !== channel) {
      return `server ${h.serverId} sent a ${h.channel} handshake on the ${channel} port; check that every server.N line lists host:quorumPort:electionPort in that order`;
    }
    if (h.serverId === this.selfId) return `a peer claims this server's own id ${h.serverId}; two servers share a myid`;
    if (!this.members.has(h.serverId)) {
      return `server ${h.serverId} is not in this ensemble (members ${[...this.members.keys()].join(',')}); add server.${h.serverId} or fix its myid`;
    }
    if (expectedId !== undefined && h.serverId !== expectedId) {
      return `the server at this address says it is server ${h.serverId}, expected ${expectedId}; check the server.N lines`;
    }
    return undefined;
  }

  // ---- the acceptor's side of the handshake -------------------------------------------

  private onAcceptorFrame(conn: PeerConnection, frame: Exclude<PeerFrame, { type: 'message' }>): void {
    if (frame.type === 'handshake' && conn.hello === undefined) this.onHello(conn, frame.handshake);
    else if (frame.type === 'proof' && conn.nonce !== undefined && this.auth !== undefined) this.onProof(conn, frame.proof, this.auth);
    else this.reject(conn, `sent an unexpected ${frameName(frame)} frame during the handshake`);
  }

  /** The dialer says who it is; nothing happens on its word until it has proven it (when we authenticate). */
  private onHello(conn: PeerConnection, h: Handshake): void {
    const problem = this.handshakeProblem(h, conn.channel, undefined) ?? this.tls?.dialerIdentityProblem(conn.socket, this.members.get(h.serverId)!.host);
    conn.peerId = h.serverId;
    if (problem !== undefined) {
      this.reject(conn, problem);
      return;
    }
    conn.hello = h;
    const auth = this.auth;
    if (auth === undefined) {
      this.accept(conn, false);
      return;
    }
    if (h.nonce === undefined) {
      if (auth.serverRequire) {
        this.reject(conn, `server ${h.serverId} did not authenticate: set quorum.auth.enableSasl=true and this ensemble's quorum.auth.secretFile on it (this server has quorum.auth.serverRequireSasl=true)`);
        return;
      }
      this.refusals.warn('peer accepted without authentication (quorum.auth.serverRequireSasl=false)', { peer: h.serverId, channel: conn.channel, remote: conn.remote });
      this.accept(conn, false);
      return;
    }
    conn.nonce = newNonce();
    conn.write(encodeChallenge(conn.nonce), false);
  }

  private onProof(conn: PeerConnection, proof: Buffer, auth: QuorumAuthOptions): void {
    const h = conn.hello!;
    if (proofMatches(auth.secret, 'dialer', this.transcript(conn.channel, h.serverId, this.selfId, h.nonce!, conn.nonce!), proof)) {
      this.accept(conn, true);
      return;
    }
    if (auth.serverRequire) {
      this.reject(conn, `server ${h.serverId} failed to prove that it knows the quorum secret: its quorum.auth.secretFile differs from this server's, or it is not server ${h.serverId}`);
      return;
    }
    // ZooKeeper keeps such a learner when SASL is not required: the rolling-upgrade mode.
    this.refusals.warn('peer accepted despite failed authentication (quorum.auth.serverRequireSasl=false)', { peer: h.serverId, channel: conn.channel, remote: conn.remote });
    this.accept(conn, false);
  }

  /** The dialer's claim stands: a lower id nudges us, a higher id gets its connection. */
  private accept(conn: PeerConnection, authenticated: boolean): void {
    this.pendingInbound.get(conn.channel)!.release(conn);
    const h = conn.hello!;
    if (this.isCut(h.serverId)) {
      conn.close('edge cut by fault injection', undefined, true);
      return;
    }
    const link = this.links.get(linkKey(h.serverId, conn.channel))!;
    if (h.serverId < this.selfId) {
      this.onNudge(link, conn);
      return;
    }
    // The peer's dial is the connection: our nudge, if any, has done its work.
    link.dialing?.close('the peer dialed us', undefined, true);
    link.dialing = null;
    clearTimer(link.reconnectTimer);
    link.reconnectTimer = null;
    // The dialer only dials when it has no connection: an old one here is dead.
    if (link.conn !== null) {
      if (link.channel === 'quorum') this.lose(link, `server ${h.serverId} reconnected`, {});
      else link.conn.close(`server ${h.serverId} reconnected`, undefined, true);
      link.conn = null;
    }
    const answer: Handshake = { serverId: this.selfId, channel: conn.channel };
    if (authenticated) answer.proof = proofOf(this.auth!.secret, 'acceptor', this.transcript(conn.channel, h.serverId, this.selfId, h.nonce!, conn.nonce!));
    conn.write(encodeHandshake(answer), false);
    this.establish(link, conn);
  }

  /**
   * A lower id dialed us: it has no connection to us on this channel. Dial back, dropping
   * ours unless it is too young to be stale; the nudge itself is closed unanswered.
   */
  private onNudge(link: Link, nudge: PeerConnection): void {
    nudge.close('nudge received', undefined, true);
    const fields = { peer: link.peer.id, channel: link.channel, remote: nudge.remote };
    if (link.dialing !== null) {
      this.log.debug('nudged by a peer; our dial is under way', fields);
      return;
    }
    const conn = link.conn;
    if (conn !== null) {
      const age = performance.now() - link.establishedAt;
      if (age < NUDGE_GRACE_MS) {
        this.log.debug('nudged by a peer; ignored, our connection is new', { ...fields, ageMs: Math.round(age) });
        return;
      }
      const reason = `server ${link.peer.id} has no ${link.channel} connection to this server, so this one is stale`;
      if (link.channel === 'quorum') {
        this.lose(link, reason, {});
      } else {
        link.conn = null;
        conn.close(reason, undefined, true);
        this.log.info('lost the connection to a peer', { peer: link.peer.id, channel: link.channel, generation: link.generation, reason });
      }
    } else {
      this.log.debug('nudged by a peer; dialing it now', fields);
    }
    this.dial(link);
  }

  // ---- the dialer's side of the handshake ---------------------------------------------

  private onDialerFrame(conn: PeerConnection, frame: Exclude<PeerFrame, { type: 'message' }>): void {
    if (frame.type === 'challenge' && conn.peerNonce === undefined) this.onChallenge(conn, frame.nonce);
    else if (frame.type === 'handshake') this.checkAnswer(conn, frame.handshake);
    else this.reject(conn, `sent an unexpected ${frameName(frame)} frame during the handshake`);
  }

  private onChallenge(conn: PeerConnection, nonce: Buffer): void {
    if (this.auth === undefined || conn.nonce === undefined) {
      this.reject(conn, `server ${conn.peerId} requires quorum authentication: set quorum.auth.enableSasl=true and this ensemble's quorum.auth.secretFile on this server`);
      return;
    }
    conn.peerNonce = nonce;
    conn.write(encodeProof(proofOf(this.auth.secret, 'dialer', this.transcript(conn.channel, this.selfId, conn.peerId!, conn.nonce, nonce))), false);
  }

  private checkAnswer(conn: PeerConnection, h: Handshake): void {
    const problem = this.handshakeProblem(h, conn.channel, conn.peerId);
    if (problem !== undefined) {
      this.reject(conn, problem);
      return;
    }
    const link = this.links.get(linkKey(h.serverId, conn.channel))!;
    if (link.dialing !== conn) {
      conn.close('superseded', undefined, true);
      return;
    }
    if (!link.dials) {
      // A nudge is never answered; a peer that does so cannot carry this link.
      this.reject(conn, `server ${h.serverId} answered a connection from the lower id ${this.selfId}; run the same zablab version on every server`);
      return;
    }
    const authProblem = this.answerAuthProblem(conn, h);
    if (authProblem !== undefined) {
      this.reject(conn, authProblem);
      return;
    }
    link.dialing = null;
    this.establish(link, conn);
  }

  /** Whether the acceptor proved that it knows the secret, when we authenticate. */
  private answerAuthProblem(conn: PeerConnection, h: Handshake): string | undefined {
    const auth = this.auth;
    if (auth === undefined) return undefined;
    const id = h.serverId;
    if (conn.peerNonce !== undefined && h.proof !== undefined) {
      if (proofMatches(auth.secret, 'acceptor', this.transcript(conn.channel, this.selfId, id, conn.nonce!, conn.peerNonce), h.proof)) return undefined;
      return `server ${id} answered with a wrong proof: its quorum.auth.secretFile differs from this server's, or it is not server ${id}`;
    }
    if (auth.learnerRequire) {
      return `server ${id} did not authenticate: set quorum.auth.enableSasl=true and this ensemble's quorum.auth.secretFile on it (this server has quorum.auth.learnerRequireSasl=true)`;
    }
    this.refusals.warn('connected to a peer that did not authenticate (quorum.auth.learnerRequireSasl=false)', { peer: id, channel: conn.channel });
    return undefined;
  }

  private transcript(channel: Channel, dialerId: number, acceptorId: number, dialerNonce: Buffer, acceptorNonce: Buffer): AuthTranscript {
    return { channel, dialerId, acceptorId, dialerNonce, acceptorNonce };
  }

  private establish(link: Link, conn: PeerConnection): void {
    conn.disarmTimeout();
    conn.established = true;
    conn.setMaxFrameBytes(link.maxFrameBytes);
    link.conn = conn;
    link.generation++;
    link.establishedAt = performance.now();
    clearTimer(link.expiryTimer);
    link.expiryTimer = null;
    const fields = { peer: link.peer.id, channel: link.channel, generation: link.generation, dialed: conn.direction === 'out', failedDials: link.failedDials || undefined };
    if (link.failedDials > 0 || link.channel === 'quorum') this.log.info('connected to a peer', fields);
    else this.log.debug('connected to a peer', fields);
    link.failedDials = 0;
    this.onPeerUp(link.peer.id);
    // Held-back (delayed) frames stay behind their timer; queued ones leave now, in order.
    for (const frame of link.queue.drain()) {
      link.heldBytes -= frame.length;
      conn.write(frame, true);
    }
  }

  /** Refuse a peer: a warning that says what was wrong (at most one a second: anyone can cause them), then close. */
  private reject(conn: PeerConnection, problem: string): void {
    if (conn.direction === 'in') this.pendingInbound.get(conn.channel)!.release(conn);
    this.refusals.warn('peer connection refused', { channel: conn.channel, remote: conn.remote, peer: conn.peerId, problem });
    conn.close(problem, undefined, true);
    this.afterDialFailure(conn);
  }

  private onClosed(conn: PeerConnection, reason: string, protocol: PeerProtocolError | undefined): void {
    if (this.state === 'closed') return;
    if (protocol !== undefined) {
      const hint = !conn.established && conn.firstByte === TLS_HANDSHAKE_RECORD ? '; it speaks TLS: set sslQuorum the same on every server' : '';
      this.refusals.warn('peer connection dropped: protocol error', { channel: conn.channel, remote: conn.remote, peer: conn.peerId, reason: protocol.reason, problem: protocol.message + hint });
    }
    if (conn.direction === 'in' && !conn.established) {
      this.pendingInbound.get(conn.channel)!.release(conn);
      // A silent connection is a misbehaving peer; one that just closes is a port probe.
      if (conn.timedOut) this.refusals.warn('peer connection dropped: no handshake', { channel: conn.channel, remote: conn.remote, peer: conn.peerId, problem: reason });
      else if (protocol === undefined) this.log.debug('unidentified peer connection closed', { channel: conn.channel, remote: conn.remote, reason });
      return;
    }
    const link = this.links.get(linkKey(conn.peerId!, conn.channel));
    if (link === undefined) return;
    if (link.conn === conn) {
      if (conn.endedByPeer) this.onPeerDown(link.peer.id);
      if (link.channel === 'quorum') {
        this.lose(link, reason, {});
      } else {
        link.conn = null;
        this.log.info('lost the connection to a peer', { peer: link.peer.id, channel: link.channel, generation: link.generation, reason });
        this.scheduleReconnect(link);
      }
      return;
    }
    this.afterDialFailure(conn, reason);
  }

  private afterDialFailure(conn: PeerConnection, reason?: string): void {
    if (conn.direction !== 'out' || conn.peerId === undefined) return;
    const link = this.links.get(linkKey(conn.peerId, conn.channel));
    if (link === undefined || link.dialing !== conn) return;
    link.dialing = null;
    if (!link.dials) {
      // A nudge ends this way even when it worked: the peer closes it and dials back.
      this.log.debug('nudge ended', { peer: link.peer.id, channel: link.channel, reason });
      this.scheduleReconnect(link);
      return;
    }
    link.failedDials++;
    if (conn.endedByPeer) this.onPeerDown(link.peer.id);
    if (reason?.startsWith('TLS: ') === true) {
      this.refusals.warn('peer connection refused', { channel: link.channel, peer: link.peer.id, problem: reason });
    } else if (link.failedDials === 1 && reason !== undefined) {
      this.log.info('cannot reach a peer; will keep retrying', { peer: link.peer.id, channel: link.channel, address: `${link.peer.host}:${conn.channel === 'election' ? link.peer.electionPort : link.peer.quorumPort}`, reason, retryMs: this.reconnectDelayMs });
    }
    this.scheduleReconnect(link);
  }

  // -------------------------------------------------------------------------------------
  // Faults

  private isCut(peer: number): boolean {
    return this.faults?.isCut?.(peer) ?? false;
  }

  private onFaultEvent(ev: FaultEvent): void {
    if (this.state !== 'running') return;
    for (const link of this.links.values()) {
      if (ev.peer !== undefined && link.peer.id !== ev.peer) continue;
      if (ev.type === 'cut') {
        link.dialing?.close('edge cut by fault injection', undefined, true);
        link.dialing = null;
        clearTimer(link.reconnectTimer);
        link.reconnectTimer = null;
        if (link.channel === 'quorum') {
          if (link.conn !== null || link.queue.length > 0 || link.delayed.length > 0) this.lose(link, 'edge cut by fault injection', { fromSend: true });
        } else {
          link.conn?.close('edge cut by fault injection', undefined, true);
          link.conn = null;
          link.queue.clear();
          link.delayed.clear();
          link.heldBytes = 0;
        }
        clearTimer(link.reconnectTimer); // lose() schedules one; a cut edge waits for heal
        link.reconnectTimer = null;
      } else if (!this.isCut(link.peer.id)) {
        this.dial(link);
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // Listening

  /** A server for one port: plain TCP, or TLS whose raw sockets count as pending before their TLS handshake. */
  private createListener(channel: Channel): net.Server {
    if (this.tls === undefined) return net.createServer({ noDelay: true }, (s) => this.onInbound(channel, s));
    const server = this.tls.createServer(this.connectTimeoutMs);
    server.on('connection', (raw: net.Socket) => void this.admitInbound(channel, raw));
    server.on('secureConnection', (s: tls.TLSSocket) => this.onSecureInbound(channel, s));
    server.on('tlsClientError', (err: NodeJS.ErrnoException, s: tls.TLSSocket) => this.onTlsClientError(channel, err, s));
    return server;
  }

  private async listen(channel: Channel, port: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const server = await listenOnce(this.listenHost, port, this.createListener(channel));
        if (this.state === 'closed') {
          server.close();
          return;
        }
        this.servers.set(channel, server);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        const where = `${this.listenHost}:${port}`;
        if (this.state === 'closed') throw new PeerTransportError('ZABLAB_PEER_STATE', 'the transport was closed while starting');
        if (this.bindRetry !== 0 && attempt >= this.bindRetry) {
          throw new PeerTransportError(
            'ZABLAB_PEER_BIND',
            `cannot listen on ${where} for the ${channel} channel after ${attempt} attempts (${code}); stop whatever holds the port or change server.${this.selfId}`,
          );
        }
        this.log.warn('cannot listen on a peer port; retrying', { channel, address: where, error: code, attempt, retryMs: this.bindRetryDelayMs });
        await new Promise((resolve) => setTimeout(resolve, this.bindRetryDelayMs));
      }
    }
  }
}

function listenOnce(host: string, port: number, server: net.Server): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      server.on('error', () => undefined); // accept errors surface on sockets; a listener error after bind is not fatal
      resolve(server);
    });
  });
}

function linkKey(peer: number, channel: Channel): string {
  return `${peer}/${channel}`;
}

function clearTimer(t: NodeJS.Timeout | null): void {
  if (t !== null) clearTimeout(t);
}

function clearLinkTimers(link: Link): void {
  clearTimer(link.delayTimer);
  clearTimer(link.expiryTimer);
  clearTimer(link.reconnectTimer);
  link.delayTimer = null;
  link.expiryTimer = null;
  link.reconnectTimer = null;
}

function unrefTimer(fn: () => void, ms: number): NodeJS.Timeout {
  const t = setTimeout(fn, ms);
  t.unref();
  return t;
}

function configError(message: string): PeerTransportError {
  return new PeerTransportError('ZABLAB_PEER_CONFIG', message);
}

function positiveInt(v: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw configError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  return v;
}

function checkAddress(p: PeerAddress): void {
  if (!Number.isSafeInteger(p.id) || p.id < 0) throw configError(`server id must be a non-negative integer, got ${p.id}`);
  for (const [name, port] of [['quorumPort', p.quorumPort], ['electionPort', p.electionPort]] as const) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw configError(`server.${p.id} ${name} must be a port number, got ${port}`);
  }
  if (p.host === '') throw configError(`server.${p.id} has an empty host`);
}
