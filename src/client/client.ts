/**
 * zablab's ZooKeeper client: one session over one pipelined connection at a time. Many
 * requests may be in flight (up to maxInFlight); replies come back in request order, so they
 * are matched against a FIFO queue and each xid is checked. On connection loss the client
 * moves to the next host with the same session, re-sends its auth data and re-registers
 * its watches; requests that were in flight fail with CONNECTIONLOSS.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AddWatchRequest,
  AuthPacket,
  Code,
  Create2Response,
  DeleteRequest,
  ExistsRequest,
  GetACLRequest,
  GetACLResponse,
  GetAllChildrenNumberRequest,
  GetAllChildrenNumberResponse,
  GetChildren2Request,
  GetChildren2Response,
  GetDataRequest,
  GetDataResponse,
  GetEphemeralsRequest,
  GetEphemeralsResponse,
  JuteReader,
  JuteWriter,
  OpCode,
  RemoveWatchesRequest,
  ReplyHeader,
  RequestHeader,
  SetACLRequest,
  SetACLResponse,
  SetDataRequest,
  SetDataResponse,
  Stat,
  SyncRequest,
  WatcherEvent,
  WhoAmIResponse,
  Xid,
  codeName,
  type ACL,
  type ClientInfo,
} from '../jute/index.js';
import { parseConnectString, prependChroot, stripChroot, type ConnectString } from './connect-string.js';
import { Connection, type ClientTlsOptions, type Established, type Handshake } from './connection.js';
import { Deque } from './deque.js';
import { ZkClientBusyError, ZkError, ZkMultiError, ZkProtocolError, connectionLoss } from './errors.js';
import {
  createCall,
  multiFailure,
  readMultiReadResults,
  readMultiResults,
  writeMulti,
  writeMultiRead,
  type CreateOptions,
  type MultiOp,
  type MultiReadOp,
  type MultiReadResult,
  type MultiResult,
} from './ops.js';
import { WatchRegistry } from './watches.js';

export interface ZkClientOptions {
  /** `host:port[,host:port...][/chroot]`. */
  connectString: string;
  /** Requested session timeout; the server clamps it to [minSessionTimeout, maxSessionTimeout]. Default 30000. */
  sessionTimeoutMs?: number;
  /** How long connect() tries before it gives up. Default 15000. */
  connectTimeoutMs?: number;
  /** Resume this session (with passwd) instead of creating one. */
  sessionId?: bigint;
  passwd?: Buffer;
  /** Accept a read-only server (one cut off from its quorum). */
  readOnly?: boolean;
  /** Requests in flight on the connection; further calls wait. Default 1000. */
  maxInFlight?: number;
  /** Largest frame accepted from the server; a larger one drops the connection. Default 4 MiB. */
  maxFrameBytes?: number;
  /** Connect over TLS (every host of the connect string is a secureClientPort). */
  tls?: ClientTlsOptions;
}

export interface WatchedEvent {
  /** EventType. */
  type: number;
  /** KeeperState (SyncConnected for node events). */
  state: number;
  /** Path as the caller sees it (chroot removed). */
  path: string;
  /** The zxid that triggered it, when the server sends one (-1 otherwise). */
  zxid: bigint;
}

export type ZkState = 'connected' | 'disconnected' | 'expired' | 'closed';

export interface ZkClientEvents {
  watch: [WatchedEvent];
  state: [ZkState];
}

type Phase = 'connecting' | 'connected' | 'disconnected' | 'closing' | 'closed' | 'expired';

interface Pending {
  xid: number;
  type: number;
  /** Client path, for error messages. */
  path: string | undefined;
  body: ((w: JuteWriter) => void) | null;
  /** Turns the reply into the result; throws to reject. */
  reply: (err: number, r: JuteReader) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface AuthData {
  scheme: string;
  auth: Buffer;
}

interface AuthWaiter extends AuthData {
  resolve?: () => void;
  reject?: (e: Error) => void;
}

const DEFAULTS = {
  sessionTimeoutMs: 30_000,
  connectTimeoutMs: 15_000,
  maxInFlight: 1000,
  maxFrameBytes: 4 * 1024 * 1024,
};
const LIMITS = { maxInFlight: 100_000, maxQueued: 1_000_000, maxAuths: 64, maxXid: 0x7fffffff };
const PASSWD_BYTES = 16;
const ATTEMPT_MIN_MS = 1_000;
/**
 * Pause between rounds of hosts: short while the outage is young (a leader election takes
 * tens to hundreds of ms, and a client that backs off to a second arrives that much late),
 * then doubling up to a second so that a long outage is not hammered.
 */
const BACKOFF_MIN_MS = 20;
const BACKOFF_FLAT_FOR_MS = 2_000;
const BACKOFF_MAX_MS = 1_000;
const CLOSE_WAIT_MAX_MS = 5_000;

export class ZkClient extends EventEmitter<ZkClientEvents> {
  /** The highest zxid seen in a reply; sent on reconnect so a server never goes back in time. */
  lastZxid = 0n;

  private readonly target: ConnectString;
  private readonly opts: Required<Omit<ZkClientOptions, 'sessionId' | 'passwd' | 'tls'>>;
  private readonly tls: ClientTlsOptions | null;
  private sid: bigint;
  private pwd: Buffer;
  private timeoutMs = 0;
  private serverReadOnly = false;
  private phase: Phase = 'connecting';
  private conn: Connection | null = null;
  private hostIndex = 0;
  private xid = 0;
  private readonly queue = new Deque<Pending>();
  private readonly inFlight = new Deque<Pending>();
  private readonly authsInFlight = new Deque<AuthWaiter>();
  private readonly unsentAuths: AuthWaiter[] = [];
  private readonly auths: AuthData[] = [];
  private readonly watches = new WatchRegistry();
  private readonly abort = new AbortController();

  private constructor(opts: ZkClientOptions) {
    super();
    this.target = parseConnectString(opts.connectString);
    this.opts = {
      connectString: opts.connectString,
      sessionTimeoutMs: opts.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs,
      connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      readOnly: opts.readOnly ?? false,
      maxInFlight: opts.maxInFlight ?? DEFAULTS.maxInFlight,
      maxFrameBytes: opts.maxFrameBytes ?? DEFAULTS.maxFrameBytes,
    };
    checkRange('maxInFlight', this.opts.maxInFlight, 1, LIMITS.maxInFlight);
    checkRange('sessionTimeoutMs', this.opts.sessionTimeoutMs, 1, 0x7fffffff);
    checkRange('connectTimeoutMs', this.opts.connectTimeoutMs, 1, 0x7fffffff);
    checkRange('maxFrameBytes', this.opts.maxFrameBytes, 1024, 0x7fffffff);
    this.sid = opts.sessionId ?? 0n;
    this.pwd = opts.passwd ?? Buffer.alloc(PASSWD_BYTES);
    this.tls = opts.tls ?? null;
  }

  /** Connect to one of the servers and establish (or resume) a session. */
  static async connect(opts: ZkClientOptions): Promise<ZkClient> {
    const client = new ZkClient(opts);
    await client.connectLoop(Date.now() + client.opts.connectTimeoutMs);
    return client;
  }

  get sessionId(): bigint {
    return this.sid;
  }
  get passwd(): Buffer {
    return this.pwd;
  }
  get negotiatedTimeoutMs(): number {
    return this.timeoutMs;
  }
  /** The current server is read-only (possible only with opts.readOnly). */
  get readOnly(): boolean {
    return this.serverReadOnly;
  }
  get state(): ZkState {
    switch (this.phase) {
      case 'connected':
        return 'connected';
      case 'connecting':
      case 'disconnected':
        return 'disconnected';
      case 'closing':
      case 'closed':
        return 'closed';
      case 'expired':
        return 'expired';
    }
  }
  /** Requests sent and not yet answered. */
  get inFlightCount(): number {
    return this.inFlight.length;
  }
  /** Requests waiting for a connection or for an in-flight slot. */
  get queuedCount(): number {
    return this.queue.length;
  }

  // --- operations ---

  create(path: string, data: Buffer | null = null, opts: CreateOptions = {}): Promise<{ path: string; stat: Stat }> {
    return this.request(path, (p) => {
      const call = createCall(p, data, opts, OpCode.create2);
      return {
        type: call.type,
        body: call.write,
        reply: (r) => {
          const rsp = Create2Response.read(r);
          return { path: this.toClient(rsp.path), stat: rsp.stat };
        },
      };
    });
  }

  delete(path: string, version = -1): Promise<void> {
    return this.request(path, (p) => ({
      type: OpCode.delete,
      body: (w) => DeleteRequest.write(w, { path: p, version }),
      reply: () => undefined,
    }));
  }

  /** The node's Stat, or null when it does not exist (a watch then waits for its creation). */
  exists(path: string, watch = false): Promise<Stat | null> {
    return this.request(path, (p) => ({
      type: OpCode.exists,
      body: (w) => ExistsRequest.write(w, { path: p, watch }),
      onError: (err) => {
        if (err !== Code.NONODE) return undefined;
        if (watch) this.watches.add('exist', p);
        return { value: null };
      },
      reply: (r) => {
        if (watch) this.watches.add('data', p);
        return Stat.read(r);
      },
    }));
  }

  getData(path: string, watch = false): Promise<{ data: Buffer | null; stat: Stat }> {
    return this.request(path, (p) => ({
      type: OpCode.getData,
      body: (w) => GetDataRequest.write(w, { path: p, watch }),
      reply: (r) => {
        if (watch) this.watches.add('data', p);
        return GetDataResponse.read(r);
      },
    }));
  }

  setData(path: string, data: Buffer | null, version = -1): Promise<Stat> {
    return this.request(path, (p) => ({
      type: OpCode.setData,
      body: (w) => SetDataRequest.write(w, { path: p, data, version }),
      reply: (r) => SetDataResponse.read(r).stat,
    }));
  }

  /** Children (names, unordered as the server gives them) and the parent's Stat; getChildren2 on the wire. */
  getChildren(path: string, watch = false): Promise<{ children: string[]; stat: Stat }> {
    return this.request(path, (p) => ({
      type: OpCode.getChildren2,
      body: (w) => GetChildren2Request.write(w, { path: p, watch }),
      reply: (r) => {
        if (watch) this.watches.add('child', p);
        return GetChildren2Response.read(r);
      },
    }));
  }

  getAllChildrenNumber(path: string): Promise<number> {
    return this.request(path, (p) => ({
      type: OpCode.getAllChildrenNumber,
      body: (w) => GetAllChildrenNumberRequest.write(w, { path: p }),
      reply: (r) => GetAllChildrenNumberResponse.read(r).totalNumber,
    }));
  }

  /** Paths of this session's ephemeral nodes under `prefix` (default all). */
  getEphemerals(prefix = '/'): Promise<string[]> {
    return this.request(prefix, (p) => ({
      type: OpCode.getEphemerals,
      body: (w) => GetEphemeralsRequest.write(w, { prefixPath: p }),
      reply: (r) => GetEphemeralsResponse.read(r).ephemerals.map((e) => this.toClient(e)),
    }));
  }

  /** Wait until the server this client talks to has caught up with the leader. */
  sync(path: string): Promise<void> {
    return this.request(path, (p) => ({
      type: OpCode.sync,
      body: (w) => SyncRequest.write(w, { path: p }),
      reply: () => undefined,
    }));
  }

  getACL(path: string): Promise<{ acl: ACL[]; stat: Stat }> {
    return this.request(path, (p) => ({
      type: OpCode.getACL,
      body: (w) => GetACLRequest.write(w, { path: p }),
      reply: (r) => GetACLResponse.read(r),
    }));
  }

  setACL(path: string, acl: ACL[], version = -1): Promise<Stat> {
    return this.request(path, (p) => ({
      type: OpCode.setACL,
      body: (w) => SetACLRequest.write(w, { path: p, acl, version }),
      reply: (r) => SetACLResponse.read(r).stat,
    }));
  }

  /** All ops or none. Rejects with ZkMultiError (carrying every op's result) when one fails. */
  multi(ops: MultiOp[]): Promise<MultiResult[]> {
    let body: Buffer;
    try {
      // Encoded now, so that a bad op rejects this call instead of corrupting the stream.
      const w = new JuteWriter();
      writeMulti(w, ops, (p) => this.toServer(p));
      body = w.toBuffer();
    } catch (err) {
      return Promise.reject(asError(err));
    }
    return this.submit(OpCode.multi, undefined, (w) => w.writeRaw(body), (err, r) => {
      if (err !== Code.OK) throw new ZkError(err);
      const results = readMultiResults(r, (p) => this.toClient(p));
      const failed = multiFailure(results);
      if (failed !== null) throw new ZkMultiError(failed.err, ops[failed.index]?.path, results);
      return results;
    });
  }

  /** Reads in one round trip; each op succeeds or fails on its own. */
  multiRead(ops: MultiReadOp[]): Promise<MultiReadResult[]> {
    let body: Buffer;
    try {
      const w = new JuteWriter();
      writeMultiRead(w, ops, (p) => this.toServer(p));
      body = w.toBuffer();
    } catch (err) {
      return Promise.reject(asError(err));
    }
    return this.submit(OpCode.multiRead, undefined, (w) => w.writeRaw(body), (err, r) => {
      if (err !== Code.OK) throw new ZkError(err);
      return readMultiReadResults(r);
    });
  }

  /** Add credentials to the session (e.g. `digest`, `user:password`); re-sent after every reconnect. */
  addAuth(scheme: string, auth: Buffer): Promise<void> {
    const closed = this.closedError();
    if (closed !== null) return Promise.reject(closed);
    if (this.auths.length + this.unsentAuths.length + this.authsInFlight.length >= LIMITS.maxAuths) {
      return Promise.reject(new ZkError(Code.BADARGUMENTS, undefined, `BADARGUMENTS: at most ${LIMITS.maxAuths} auth entries per session`));
    }
    return new Promise((resolve, reject) => {
      const waiter: AuthWaiter = { scheme, auth, resolve, reject };
      if (this.phase === 'connected') this.sendAuth(waiter);
      else this.unsentAuths.push(waiter);
    });
  }

  /** A persistent (or persistent recursive) watch; `mode` is AddWatchMode. */
  addWatch(path: string, mode: number): Promise<void> {
    return this.request(path, (p) => ({
      type: OpCode.addWatch,
      body: (w) => AddWatchRequest.write(w, { path: p, mode }),
      reply: () => this.watches.addPersistent(p, mode),
    }));
  }

  /** Remove this session's watches of `type` (WatcherType) on path; NOWATCHER when there is none. */
  removeWatches(path: string, type: number): Promise<void> {
    return this.request(path, (p) => ({
      type: OpCode.removeWatches,
      body: (w) => RemoveWatchesRequest.write(w, { path: p, type }),
      reply: () => this.watches.removed(p, type),
    }));
  }

  whoAmI(): Promise<ClientInfo[]> {
    return this.submit(OpCode.whoAmI, undefined, null, (err, r) => {
      if (err !== Code.OK) throw new ZkError(err);
      return WhoAmIResponse.read(r).clientInfo;
    });
  }

  /** Close the session (its ephemerals go at once) and the connection. */
  async close(): Promise<void> {
    switch (this.phase) {
      case 'closed':
      case 'expired':
      case 'closing':
        return;
      case 'connecting':
      case 'disconnected':
        this.shutdown('closed', connectionLoss('client closed'));
        return;
      case 'connected':
        break;
    }
    const done = this.submit(OpCode.closeSession, undefined, null, () => undefined, true);
    this.phase = 'closing';
    const waitMs = Math.min(CLOSE_WAIT_MAX_MS, Math.max(ATTEMPT_MIN_MS, this.timeoutMs));
    const stopWaiting = new AbortController();
    const timer = sleep(waitMs, undefined, { signal: stopWaiting.signal }).catch(() => undefined);
    await Promise.race([done.catch(() => undefined), timer]);
    stopWaiting.abort();
    this.shutdown('closed', connectionLoss('client closed'));
  }

  // --- requests ---

  private request<T>(
    path: string,
    build: (serverPath: string) => {
      type: number;
      body: (w: JuteWriter) => void;
      reply: (r: JuteReader) => T;
      /** Turn some error codes into a result: return { value } to resolve with it. */
      onError?: (err: number) => { value: T } | undefined;
    },
  ): Promise<T> {
    let spec;
    try {
      spec = build(this.toServer(path));
    } catch (err) {
      return Promise.reject(asError(err));
    }
    return this.submit(spec.type, path, spec.body, (err, r) => {
      if (err === Code.OK) return spec.reply(r);
      const handled = spec.onError?.(err);
      if (handled !== undefined) return handled.value;
      throw new ZkError(err, path);
    });
  }

  private submit<T>(
    type: number,
    path: string | undefined,
    body: ((w: JuteWriter) => void) | null,
    reply: (err: number, r: JuteReader) => T,
    evenIfClosing = false,
  ): Promise<T> {
    const closed = this.closedError();
    if (closed !== null && !evenIfClosing) return Promise.reject(closed);
    if (this.queue.length >= LIMITS.maxQueued) {
      return Promise.reject(new ZkClientBusyError(LIMITS.maxQueued));
    }
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { xid: 0, type, path, body, reply, resolve: resolve as (v: unknown) => void, reject };
      if (this.canSend() && this.queue.length === 0) this.send(p);
      else this.queue.push(p);
    });
  }

  private canSend(): boolean {
    return (this.phase === 'connected' || this.phase === 'closing') && this.inFlight.length < this.opts.maxInFlight;
  }

  private send(p: Pending): void {
    p.xid = this.nextXid();
    try {
      this.conn!.writeFrame((w) => {
        RequestHeader.write(w, { xid: p.xid, type: p.type });
        p.body?.(w);
      });
    } catch (err) {
      // The body could not be encoded; nothing was sent, so nothing is awaited.
      p.reject(asError(err));
      return;
    }
    this.inFlight.push(p);
  }

  private drainQueue(): void {
    while (this.queue.length > 0 && this.canSend()) this.send(this.queue.shift()!);
  }

  private nextXid(): number {
    this.xid = this.xid >= LIMITS.maxXid ? 1 : this.xid + 1;
    return this.xid;
  }

  private sendAuth(waiter: AuthWaiter): void {
    this.authsInFlight.push(waiter);
    this.conn!.writeFrame((w) => {
      RequestHeader.write(w, { xid: Xid.auth, type: OpCode.auth });
      AuthPacket.write(w, { type: 0, scheme: waiter.scheme, auth: waiter.auth });
    });
  }

  /** Re-reads the phase (TypeScript keeps a narrowed phase across awaits). */
  private isFinal(): boolean {
    const phase: Phase = this.phase;
    return phase === 'closed' || phase === 'expired' || phase === 'closing';
  }

  private closedError(): ZkError | null {
    switch (this.phase) {
      case 'closing':
      case 'closed':
        return connectionLoss('client closed');
      case 'expired':
        return new ZkError(Code.SESSIONEXPIRED, undefined, `SESSIONEXPIRED: session 0x${this.sid.toString(16)} has expired; connect a new client`);
      case 'connecting':
      case 'connected':
      case 'disconnected':
        return null;
    }
  }

  private toServer(path: string): string {
    if (!path.startsWith('/')) {
      throw new ZkError(Code.BADARGUMENTS, path, `BADARGUMENTS: path must start with / (got ${JSON.stringify(path)})`);
    }
    return prependChroot(this.target.chroot, path);
  }

  private toClient(path: string): string {
    return stripChroot(this.target.chroot, path);
  }

  // --- replies ---

  private onFrame(conn: Connection, frame: Buffer): void {
    const r = new JuteReader(frame);
    const hdr = ReplyHeader.read(r);
    switch (hdr.xid) {
      case Xid.notification:
        this.onNotification(hdr.zxid, r);
        return;
      case Xid.ping:
      case Xid.setWatches:
        return;
      case Xid.auth:
        this.onAuthReply(hdr.err);
        return;
      default:
        break;
    }
    const p = this.inFlight.peek();
    if (p === undefined || p.xid !== hdr.xid) {
      const expected = p === undefined ? 'no request in flight' : `expected xid ${p.xid}`;
      conn.destroy(new ZkProtocolError('ZABLAB_CLIENT_XID_MISMATCH', `reply with xid ${hdr.xid} (${codeName(hdr.err)}) but ${expected}`));
      return;
    }
    this.inFlight.shift();
    if (hdr.zxid > 0n) this.lastZxid = hdr.zxid;
    try {
      p.resolve(p.reply(hdr.err, r));
    } catch (err) {
      p.reject(asError(err));
    }
    this.drainQueue();
  }

  private onNotification(zxid: bigint, r: JuteReader): void {
    const ev = WatcherEvent.read(r);
    this.watches.fired(ev.type, ev.path);
    this.notify('watch', { type: ev.type, state: ev.state, path: this.toClient(ev.path), zxid });
  }

  private onAuthReply(err: number): void {
    const waiter = this.authsInFlight.shift();
    if (waiter === undefined) return;
    if (err === Code.OK) {
      const known = this.auths.some((a) => a.scheme === waiter.scheme && a.auth.equals(waiter.auth));
      if (!known) this.auths.push({ scheme: waiter.scheme, auth: waiter.auth });
      waiter.resolve?.();
      return;
    }
    // The server closes the connection after AUTHFAILED; do not send these credentials again.
    const i = this.auths.findIndex((a) => a.scheme === waiter.scheme && a.auth.equals(waiter.auth));
    if (i !== -1) this.auths.splice(i, 1);
    waiter.reject?.(new ZkError(err, undefined, `${codeName(err)}: the server refused ${waiter.scheme} credentials`));
  }

  // --- connection lifecycle ---

  /** Try hosts in turn until a session is established, the deadline passes, or the client closes. */
  private async connectLoop(deadlineMs: number | null): Promise<void> {
    const hosts = this.target.hosts;
    let lastError: Error | null = null;
    let backoffMs = BACKOFF_MIN_MS;
    const startedMs = Date.now();
    for (let attempt = 0; ; attempt++) {
      if (this.phase !== 'connecting' && this.phase !== 'disconnected') return;
      const remaining = deadlineMs === null ? Infinity : deadlineMs - Date.now();
      if (remaining <= 0) {
        const err = connectionLoss(
          `could not establish a session with ${this.opts.connectString} within ${this.opts.connectTimeoutMs} ms (last error: ${lastError?.message ?? 'none'})`,
          lastError,
        );
        this.shutdown('closed', err);
        throw err;
      }
      const host = hosts[this.hostIndex % hosts.length]!;
      this.hostIndex = (this.hostIndex + 1) % hosts.length;
      const attemptMs = Math.min(remaining, Math.max(ATTEMPT_MIN_MS, Math.floor(this.opts.sessionTimeoutMs / hosts.length)));
      try {
        const est = await Connection.open(host, this.handshake(), attemptMs, this.opts.maxFrameBytes, this.abort.signal, this.tls);
        if (this.established(est)) return;
        // Not adopted: the session expired or the client was closed meanwhile.
        throw this.closedError() ?? connectionLoss('client closed');
      } catch (err) {
        if (this.isFinal()) throw this.closedError() ?? asError(err);
        lastError = asError(err);
      }
      if ((attempt + 1) % hosts.length === 0) {
        await sleep(Math.min(backoffMs, Math.max(0, remaining)), undefined, { signal: this.abort.signal }).catch(() => undefined);
        if (Date.now() - startedMs >= BACKOFF_FLAT_FOR_MS) backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
      }
    }
  }

  private handshake(): Handshake {
    return {
      request: {
        protocolVersion: 0,
        lastZxidSeen: this.lastZxid,
        timeOut: this.opts.sessionTimeoutMs,
        sessionId: this.sid,
        passwd: this.pwd,
      },
      readOnly: this.opts.readOnly,
    };
  }

  /** Adopt a handshaken connection; false when it cannot be used (session expired, client closed). */
  private established(est: Established): boolean {
    const { conn, response } = est;
    if (this.phase !== 'connecting' && this.phase !== 'disconnected') {
      conn.destroy(connectionLoss('client closed'));
      return false;
    }
    if (response.timeOut <= 0) {
      conn.destroy(new ZkError(Code.SESSIONEXPIRED));
      this.shutdown('expired', new ZkError(Code.SESSIONEXPIRED, undefined, `SESSIONEXPIRED: session 0x${this.sid.toString(16)} expired`));
      return false;
    }
    this.sid = response.sessionId;
    this.pwd = response.passwd ?? Buffer.alloc(PASSWD_BYTES);
    this.timeoutMs = response.timeOut;
    this.serverReadOnly = est.readOnly;
    this.conn = conn;
    conn.onFrame = (frame) => this.onFrame(conn, frame);
    conn.onClose = (err) => this.onConnectionLost(conn, err);
    conn.startKeepAlive(this.timeoutMs, () =>
      conn.writeFrame((w) => RequestHeader.write(w, { xid: Xid.ping, type: OpCode.ping })),
    );
    this.primeConnection(conn);
    this.phase = 'connected';
    this.notify('state', 'connected');
    this.drainQueue();
    return true;
  }

  /** Before any queued request: credentials, then watches (as ZooKeeper's own client does). */
  private primeConnection(conn: Connection): void {
    for (const a of this.auths) this.sendAuth({ scheme: a.scheme, auth: a.auth });
    for (const waiter of this.unsentAuths.splice(0)) this.sendAuth(waiter);
    for (const packet of this.watches.setWatchesPackets(this.lastZxid)) {
      conn.writeFrame((w) => {
        RequestHeader.write(w, { xid: Xid.setWatches, type: packet.type });
        packet.write(w);
      });
    }
  }

  private onConnectionLost(conn: Connection, err: Error): void {
    if (conn !== this.conn) return;
    this.conn = null;
    const loss = connectionLoss(`lost the connection to ${conn.where}: ${err.message}`, err);
    this.failInFlight(loss);
    if (this.phase === 'closing') {
      this.shutdown('closed', connectionLoss('client closed'));
      return;
    }
    if (this.phase !== 'connected') return;
    this.phase = 'disconnected';
    this.notify('state', 'disconnected');
    this.connectLoop(null).catch(() => undefined);
  }

  /**
   * Emit without letting a throwing listener break the connection that is delivering the
   * event: the error is rethrown on its own, as an uncaught exception of the caller's code.
   */
  private notify<K extends keyof ZkClientEvents>(event: K, ...args: ZkClientEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: ZkClientEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  private failInFlight(err: ZkError): void {
    for (const p of this.inFlight.drain()) p.reject(err);
    for (const a of this.authsInFlight.drain()) a.reject?.(err);
  }

  private shutdown(final: 'closed' | 'expired', err: ZkError): void {
    if (this.phase === 'closed' || this.phase === 'expired') return;
    this.phase = final;
    this.abort.abort();
    const conn = this.conn;
    this.conn = null;
    conn?.destroy(err, true);
    const reason = final === 'expired' ? this.closedError()! : err;
    this.failInFlight(reason);
    for (const p of this.queue.drain()) p.reject(reason);
    for (const a of this.unsentAuths.splice(0)) a.reject?.(reason);
    this.watches.clear();
    this.notify('state', final);
  }
}

function checkRange(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`ZkClientOptions.${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
