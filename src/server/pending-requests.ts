/**
 * Requests from this server's connections that wait for their txn to commit (or, on a
 * learner, for the leader's answer to a forwarded `sync`), per session in the order they
 * were submitted.
 *
 * A commit answers the earliest waiting request of its session with its cxid, as
 * ZooKeeper's CommitProcessor matches a commit with the oldest of its local writes: a
 * session's txns commit in the order it sent them, so the first match is the right one
 * even when a client repeats an xid (ZooKeeper does not check that xids are unique, and
 * answers every request). Keying requests by (session, cxid) instead lets a repeated xid
 * answer the wrong request and strand the other, wedging the connection and leaking
 * `outstanding_requests`.
 */
import { OpCode } from '../jute/index.js';
import type { Request } from './request.js';

export class PendingRequests {
  private readonly bySession = new Map<bigint, Request[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(req: Request): void {
    const q = this.bySession.get(req.sessionId);
    if (q === undefined) this.bySession.set(req.sessionId, [req]);
    else q.push(req);
    this.count++;
  }

  /**
   * The earliest waiting request of `sessionId` with `cxid` that is (or, with sync false, is
   * not) a forwarded `sync`, removed; undefined when the commit is not for one of ours.
   */
  take(sessionId: bigint, cxid: number, sync: boolean): Request | undefined {
    const q = this.bySession.get(sessionId);
    if (q === undefined) return undefined;
    // Commits come in submission order: the match is the head, save for a sync in between.
    const i = q.findIndex((r) => r.cxid === cxid && (r.type === OpCode.sync) === sync);
    if (i < 0) return undefined;
    const [req] = i === 0 ? [q.shift()!] : q.splice(i, 1);
    this.removed(sessionId, q);
    return req;
  }

  /** Remove `req` itself (the write path could not take it); false when it was not waiting. */
  remove(req: Request): boolean {
    const q = this.bySession.get(req.sessionId);
    const i = q?.indexOf(req) ?? -1;
    if (q === undefined || i < 0) return false;
    q.splice(i, 1);
    this.removed(req.sessionId, q);
    return true;
  }

  /** Every waiting request, removed (the role ended). */
  takeAll(): Request[] {
    const all = [...this.bySession.values()].flat();
    this.bySession.clear();
    this.count = 0;
    return all;
  }

  private removed(sessionId: bigint, q: Request[]): void {
    this.count--;
    if (q.length === 0) this.bySession.delete(sessionId);
  }
}
