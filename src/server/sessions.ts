/**
 * SessionTracker: which sessions are alive, and when each expires. Expiry is bucketed by
 * tickTime like ZooKeeper's ExpiryQueue: a session touched at t expires at the first tick
 * boundary after t + timeout, and all sessions of a bucket expire together.
 */
import { Code, KeeperException } from '../jute/index.js';
import { initialSessionId } from './session-id.js';

export interface Session {
  readonly id: bigint;
  timeoutMs: number;
  /** Bucket (ms, monotonic clock) at which the session expires unless touched. */
  expireAtMs: number;
  /** Set once closeSession was decided; further requests get SESSIONEXPIRED. */
  closing: boolean;
}

export interface SessionTrackerOptions {
  serverId: number;
  tickTimeMs: number;
  now: () => number;
  /** Called once per expired session; the caller submits the closeSession txn. */
  onExpire: (session: Session) => void;
}

export class SessionTracker {
  private readonly sessions = new Map<bigint, Session>();
  private readonly buckets = new Map<number, Set<Session>>();
  private nextSessionId: bigint;
  private nextExpirationMs: number;

  constructor(private readonly opts: SessionTrackerOptions) {
    this.nextSessionId = initialSessionId(opts.serverId, Date.now());
    this.nextExpirationMs = this.roundToNextInterval(opts.now());
  }

  private roundToNextInterval(t: number): number {
    const i = this.opts.tickTimeMs;
    return (Math.floor(t / i) + 1) * i;
  }

  get size(): number {
    return this.sessions.size;
  }

  all(): IterableIterator<Session> {
    return this.sessions.values();
  }

  get(id: bigint): Session | undefined {
    return this.sessions.get(id);
  }

  /** A new id for a session this server creates. */
  createSessionId(): bigint {
    const id = this.nextSessionId;
    this.nextSessionId = BigInt.asIntN(64, this.nextSessionId + 1n);
    return id;
  }

  /** Start tracking a session (on createSession txn, or loaded from disk). */
  track(id: bigint, timeoutMs: number): Session {
    let s = this.sessions.get(id);
    if (!s) {
      s = { id, timeoutMs, expireAtMs: 0, closing: false };
      this.sessions.set(id, s);
    }
    this.touchSession(s, timeoutMs);
    return s;
  }

  /** Extend a live session; false when it is gone or closing (the client must learn it expired). */
  touch(id: bigint, timeoutMs?: number): boolean {
    const s = this.sessions.get(id);
    if (!s || s.closing) return false;
    this.touchSession(s, timeoutMs ?? s.timeoutMs);
    return true;
  }

  private touchSession(s: Session, timeoutMs: number): void {
    const expireAt = this.roundToNextInterval(this.opts.now() + timeoutMs);
    if (expireAt === s.expireAtMs) return;
    this.buckets.get(s.expireAtMs)?.delete(s);
    s.expireAtMs = expireAt;
    let b = this.buckets.get(expireAt);
    if (!b) {
      b = new Set();
      this.buckets.set(expireAt, b);
    }
    b.add(s);
  }

  setClosing(id: bigint): void {
    const s = this.sessions.get(id);
    if (s) s.closing = true;
  }

  remove(id: bigint): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.buckets.get(s.expireAtMs)?.delete(s);
    this.sessions.delete(id);
  }

  /** SessionTrackerImpl.checkSession: SESSIONEXPIRED for unknown or closing sessions. */
  checkSession(id: bigint): void {
    const s = this.sessions.get(id);
    if (!s || s.closing) throw new KeeperException(Code.SESSIONEXPIRED);
  }

  /** Expire every bucket whose time has come; call at least once per tick. */
  tick(): void {
    const now = this.opts.now();
    while (this.nextExpirationMs <= now) {
      const bucket = this.buckets.get(this.nextExpirationMs);
      this.buckets.delete(this.nextExpirationMs);
      this.nextExpirationMs += this.opts.tickTimeMs;
      if (!bucket) continue;
      for (const s of bucket) {
        if (s.closing) continue;
        s.closing = true;
        this.opts.onExpire(s);
      }
    }
  }

  /** Re-arm every session's timer from now (after loading from disk: ZooKeeper restarts them). */
  restartAllTimers(): void {
    for (const s of this.sessions.values()) this.touchSession(s, s.timeoutMs);
  }
}
