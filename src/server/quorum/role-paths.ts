/**
 * The write path of each ZAB role. A leader preps a request into a txn and proposes it; a
 * learner forwards the request to its leader and answers its client when the txn commits
 * back to it. While LOOKING nothing is served.
 */
import { Code, JuteReader, OpCode, encodeLoggedTxn } from '../../jute/index.js';
import type { Peer, ServerId } from '../../zab/index.js';
import type { ServerState } from '../four-letter.js';
import type { PrepRequestProcessor } from '../prep.js';
import type { Request } from '../request.js';
import type { Revalidation, WritePath, ZooKeeperServer } from '../zk-server.js';
import { encodeApp, SESSIONS_PER_PING_MAX, type AppMessage } from './app-messages.js';

export class LookingPath implements WritePath {
  readonly prep = null;
  readonly expiresSessions = false;
  readonly outstandingLimitDivisor = 1;

  submit(): void {
    throw new Error('LookingPath.submit: the server refuses requests while not serving');
  }
  forwards(): boolean {
    return false;
  }
  revalidate(): Promise<Revalidation> {
    return Promise.resolve('unknown');
  }
  serving(): boolean {
    return false;
  }
  state(): ServerState {
    return 'follower';
  }
}

export class LeaderPath implements WritePath {
  readonly prep: PrepRequestProcessor;
  /** The leader owns session expiry. */
  readonly expiresSessions = true;
  readonly outstandingLimitDivisor = 1;

  constructor(
    private readonly server: ZooKeeperServer,
    private readonly peer: Peer,
    private readonly pump: () => void,
  ) {
    this.prep = server.newPrep();
  }

  submit(req: Request, trace?: string): void {
    if (req.type === OpCode.sync) {
      // A client's sync on the leader: answered once every txn in our log (each proposal made before it) is applied here.
      this.server.completeSync(req.sessionId, req.cxid, syncPath(req.body), this.peer.lastLoggedZxid);
      return;
    }
    const prep = this.prep;
    const proposalTrace = this.server.telemetry.proposalStarting(req, trace);
    const zxid = this.peer.propose((z) => {
      prep.prep(req, z);
      return encodeLoggedTxn(req.txn!);
    }, proposalTrace);
    this.server.telemetry.proposalCreated(zxid, req.type);
    if (zxid === null) this.server.fail(req, Code.CONNECTIONLOSS);
    this.pump();
  }

  /** A sync takes the write path here too, so that it waits for what was proposed before it (see submit). */
  forwards(type: number): boolean {
    return type === OpCode.sync;
  }

  revalidate(sessionId: bigint, timeoutMs: number): Promise<Revalidation> {
    return Promise.resolve(this.server.sessions.touch(sessionId, timeoutMs) ? 'valid' : 'expired');
  }

  serving(): boolean {
    return this.peer.serving;
  }

  state(): ServerState {
    return 'leader';
  }

  reportedZxid(): bigint | null {
    return this.peer.lastProposedZxid;
  }

  acceptsClients(): boolean {
    return this.server.cfg.leaderServes;
  }

  /** A learner's message to us, the leader. */
  onLearnerMessage(from: ServerId, m: AppMessage): void {
    switch (m.kind) {
      case 'request': {
        if (m.type === OpCode.sync) {
          // Answered once everything proposed before it has committed (ZooKeeper's SYNC).
          this.server.telemetry.syncQueued();
          this.peer.sendAppAfterCommit(from, encodeApp({ kind: 'syncReply', sessionId: m.sessionId, cxid: m.cxid, path: syncPath(m.body) }));
          this.pump();
          return;
        }
        const req: Request = {
          sessionId: m.sessionId,
          cxid: m.cxid,
          type: m.type,
          body: m.body,
          origin: null,
          authInfo: m.authInfo,
          receivedAtMs: performance.now(),
          err: Code.OK,
        };
        this.submit(req, m.trace === '' ? undefined : m.trace);
        return;
      }
      case 'revalidate': {
        const valid = this.server.sessions.touch(m.sessionId, m.timeoutMs);
        this.peer.sendApp(from, encodeApp({ kind: 'revalidateReply', reqId: m.reqId, valid }));
        this.pump();
        return;
      }
      case 'sessions':
        for (const [id, timeout] of m.sessions) this.server.sessions.touch(id, timeout);
        return;
      case 'syncReply':
      case 'revalidateReply':
        this.server.log.warn('learner sent a leader-only message', { learner: from, kind: m.kind });
        return;
    }
  }
}

function syncPath(body: Buffer): string {
  try {
    return new JuteReader(body).readString() ?? '/';
  } catch {
    return '/';
  }
}

export class LearnerPath implements WritePath {
  readonly prep = null;
  /** Sessions expire at the leader; a learner reports the ones its clients touch. */
  readonly expiresSessions = false;
  readonly outstandingLimitDivisor: number;
  private nextReqId = 1;
  private readonly revalidations = new Map<number, { resolve: (v: Revalidation) => void; timer: NodeJS.Timeout; sessionId: bigint; timeoutMs: number }>();

  constructor(
    private readonly server: ZooKeeperServer,
    private readonly peer: Peer,
    private readonly leader: ServerId,
    private readonly observer: boolean,
    private readonly pump: () => void,
  ) {
    const voters = peer.quorum.voters.size;
    this.outstandingLimitDivisor = voters > 2 ? voters - 1 : 1;
  }

  submit(req: Request): void {
    const msg: AppMessage = {
      kind: 'request',
      sessionId: req.sessionId,
      cxid: req.cxid,
      type: req.type,
      body: req.body,
      authInfo: req.authInfo,
      trace: this.server.telemetry.traceparentOf(req) ?? '',
    };
    if (!this.peer.sendApp(this.leader, encodeApp(msg))) this.server.fail(req, Code.CONNECTIONLOSS);
    this.pump();
  }

  forwards(type: number): boolean {
    return type === OpCode.sync;
  }

  revalidate(sessionId: bigint, timeoutMs: number): Promise<Revalidation> {
    const reqId = this.nextReqId++;
    if (!this.peer.sendApp(this.leader, encodeApp({ kind: 'revalidate', reqId, sessionId, timeoutMs }))) {
      return Promise.resolve('unknown');
    }
    this.pump();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.revalidations.delete(reqId);
        resolve('unknown');
      }, this.server.cfg.tickTime * this.server.cfg.syncLimit);
      this.revalidations.set(reqId, { resolve, timer, sessionId, timeoutMs });
    });
  }

  serving(): boolean {
    return this.peer.serving;
  }

  state(): ServerState {
    return this.observer ? 'observer' : 'follower';
  }

  /** The leader's message to us. */
  onLeaderMessage(m: AppMessage): void {
    switch (m.kind) {
      case 'syncReply':
        // The leader sent it after the commits of everything proposed before the sync: those are queued here to apply.
        this.server.completeSync(m.sessionId, m.cxid, m.path, this.peer.lastAppliedZxid);
        return;
      case 'revalidateReply': {
        const r = this.revalidations.get(m.reqId);
        if (!r) return;
        this.revalidations.delete(m.reqId);
        clearTimeout(r.timer);
        if (m.valid) this.server.sessions.track(r.sessionId, r.timeoutMs);
        r.resolve(m.valid ? 'valid' : 'expired');
        return;
      }
      case 'request':
      case 'revalidate':
      case 'sessions':
        this.server.log.warn('leader sent a learner-only message', { kind: m.kind });
        return;
    }
  }

  /** Every tick: tell the leader which sessions are alive here (ZooKeeper piggybacks them on PING). */
  reportSessions(): void {
    const sessions = this.server.takeTouchedSessions();
    if (sessions.length === 0) return;
    for (let i = 0; i < sessions.length; i += SESSIONS_PER_PING_MAX) {
      this.peer.sendApp(this.leader, encodeApp({ kind: 'sessions', sessions: sessions.slice(i, i + SESSIONS_PER_PING_MAX) }));
    }
  }

  close(): void {
    for (const r of this.revalidations.values()) {
      clearTimeout(r.timer);
      r.resolve('unknown');
    }
    this.revalidations.clear();
  }
}
