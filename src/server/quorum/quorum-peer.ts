/**
 * QuorumPeer: hosts the pure ZAB core (src/zab) in a real server. It feeds the core with
 * ticks and peer messages, carries out each Ready exactly as its contract says (persist
 * with fsync, then apply, then advance), sends what the core releases, and switches the
 * client-facing write path when the role changes.
 */
import { decodeLoggedTxn, encodeLoggedTxn } from '../../jute/index.js';
import { PurgeTask, SnapshotPolicy } from '../../storage/index.js';
import { Peer, QuorumVerifier, epochOf, zxidHex, type PeerEvent, type PersistOp, type Txn } from '../../zab/index.js';
import type { ZabConfig } from '../config.js';
import { ClientPortListener } from '../cnxn-factory.js';
import { isFourLetterWord, runFourLetterWord } from '../four-letter.js';
import type { Logger } from '../log.js';
import { buildServerView, metricsView } from '../server-view.js';
import { setupTelemetry } from '../../telemetry/index.js';
import { startHttpServer, type AdminCredentials, type RunningHttpServer } from '../http/index.js';
import type { RunningServer } from '../standalone.js';
import { openDatabase, type ZKDatabase } from '../zk-database.js';
import { ZooKeeperServer } from '../zk-server.js';
import { ContainerManager, containerCheckIntervalMs } from '../container-manager.js';
import { decodeApp } from './app-messages.js';
import { readEpoch, writeEpoch } from './epoch-files.js';
import { FaultController } from './faults.js';
import { LeaderPath, LearnerPath, LookingPath } from './role-paths.js';
import { PeerTransport } from './transport.js';

/** The core's clock: fine enough for FLE's 200 ms finalize wait, coarse enough to be cheap. */
export function hostTickMs(tickTime: number): number {
  return Math.max(10, Math.min(50, Math.floor(tickTime / 4)));
}

function ticksFor(ms: number, tickMs: number): number {
  return Math.max(1, Math.ceil(ms / tickMs));
}

export interface QuorumServer extends RunningServer {
  readonly peer: Peer;
  readonly faults: FaultController;
}

/** `admin`: the HTTP face's credentials (null when admin.enableServer=false). */
export async function startQuorum(cfg: ZabConfig, log: Logger, admin: AdminCredentials | null): Promise<QuorumServer> {
  const db = await openDatabase(cfg, log);
  const { snapshotZxid, tail } = await db.loadForQuorum();
  const lastLogged = tail.length > 0 ? tail[tail.length - 1]!.hdr.zxid : snapshotZxid;
  // A server upgraded from a version without epoch files derives them from its log (as ZooKeeper).
  const currentEpoch = (await readEpoch(cfg.dataDir, 'currentEpoch')) ?? epochOf(lastLogged);
  const acceptedEpoch = (await readEpoch(cfg.dataDir, 'acceptedEpoch')) ?? currentEpoch;
  if (acceptedEpoch < currentEpoch) {
    throw new Error(`${cfg.dataDir}: acceptedEpoch ${acceptedEpoch} is less than currentEpoch ${currentEpoch}; the epoch files are damaged`);
  }

  const tickMs = hostTickMs(cfg.tickTime);
  const voters = cfg.servers.filter((s) => s.role === 'participant').map((s) => s.id);
  const observers = cfg.servers.filter((s) => s.role === 'observer').map((s) => s.id);
  const peer = new Peer(
    {
      id: cfg.serverId,
      quorum: new QuorumVerifier(voters, observers),
      ticks: {
        finalizeWait: ticksFor(200, tickMs),
        notificationMin: ticksFor(200, tickMs),
        notificationMax: ticksFor(60_000, tickMs),
        ping: ticksFor(cfg.tickTime / 2, tickMs),
        syncLimit: ticksFor(cfg.syncLimit * cfg.tickTime, tickMs),
        initLimit: ticksFor(cfg.initLimit * cfg.tickTime, tickMs),
      },
      committedLogMax: cfg.commitLogCount,
    },
    {
      acceptedEpoch,
      currentEpoch,
      appliedZxid: snapshotZxid,
      log: tail.map((t): Txn => ({ zxid: t.hdr.zxid, data: encodeLoggedTxn(t) })),
    },
  );
  const host = new QuorumHost(cfg, log, db, peer, tickMs, admin);
  await host.start();
  return host;
}

class QuorumHost implements QuorumServer {
  readonly server: ZooKeeperServer;
  readonly faults = new FaultController();
  private readonly transport: PeerTransport;
  private listener!: ClientPortListener;
  private readonly snapshotPolicy: SnapshotPolicy;
  private tickTimer: NodeJS.Timeout | null = null;
  private sessionTimer: NodeJS.Timeout | null = null;
  private processing = false;
  private pumpScheduled = false;
  private closed = false;
  private leaderPath: LeaderPath | null = null;
  private readonly containers: ContainerManager;
  private learnerPath: LearnerPath | null = null;
  private closing: Promise<void> | null = null;
  private http: RunningHttpServer | null = null;

  constructor(
    readonly cfg: ZabConfig,
    private readonly log: Logger,
    private readonly db: ZKDatabase,
    readonly peer: Peer,
    private readonly tickMs: number,
    private readonly admin: AdminCredentials | null,
  ) {
    this.server = new ZooKeeperServer(cfg, db, log, setupTelemetry({ serverId: cfg.serverId, warn: (m) => log.warn(m) }));
    this.server.writePath = new LookingPath();
    this.server.expiresSessions = false;
    this.server.trackDatabaseSessions();
    this.snapshotPolicy = new SnapshotPolicy(cfg.snapCount, Math.random);
    this.containers = new ContainerManager(this.server, containerCheckIntervalMs(cfg));
    this.transport = new PeerTransport({
      selfId: cfg.serverId,
      peers: cfg.servers.map((s) => ({ id: s.id, host: s.host, quorumPort: s.quorumPort, electionPort: s.electionPort })),
      listenHost: cfg.quorumListenOnAllIPs ? '0.0.0.0' : undefined,
      electionPortBindRetry: cfg.electionPortBindRetry,
      connectTimeoutMs: cfg.cnxTimeoutMs,
      tcpKeepAlive: cfg.tcpKeepAlive,
      log,
      faults: this.faults,
    });
    // The core turns a peer's protocol violation into LOOKING; anything else it throws is a
    // broken invariant of ours, so stop this server rather than go on with bad state.
    this.transport.onMessage = (from, msg) => {
      this.server.telemetry.messageReceived(from, msg);
      try {
        this.peer.step(from, msg);
      } catch (err) {
        this.fatal(err);
        return;
      }
      this.pump();
    };
    this.transport.onDisconnect = (p) => {
      try {
        this.peer.disconnected(p);
      } catch (err) {
        this.fatal(err);
        return;
      }
      this.pump();
    };
  }

  get clientPort(): number {
    return this.listener.address.port;
  }

  async start(): Promise<void> {
    await this.transport.start();
    const listener: ClientPortListener = new ClientPortListener(this.server, this.log, {
      host: this.cfg.clientPortAddress,
      port: this.cfg.clientPort,
      maxClientCnxns: this.cfg.maxClientCnxns,
      isFourLetterWord,
      fourLetterWord: (cmd: string): string => runFourLetterWord(cmd, buildServerView(this.server, listener), this.cfg),
    });
    this.listener = listener;
    await listener.listen();
    this.server.telemetry.setView(metricsView(this.server, listener, this.peer));
    this.server.start();
    if (this.admin !== null) {
      this.http = await startHttpServer({
        server: this.server,
        view: () => buildServerView(this.server, listener),
        cfg: this.cfg,
        credentials: this.admin,
        quorum: this,
        metrics: this.server.telemetry.prometheus,
      });
    }
    this.containers.start();
    if (this.cfg.autopurgePurgeIntervalMs > 0) {
      this.server.purgeTask = new PurgeTask({
        dataDir: this.cfg.dataDir,
        dataLogDir: this.cfg.dataLogDir,
        snapRetainCount: this.cfg.autopurgeSnapRetainCount,
        purgeIntervalHours: this.cfg.autopurgePurgeIntervalMs / 3_600_000,
        log: (m) => this.log.info(m),
      });
      this.server.purgeTask.start();
    }
    this.tickTimer = setInterval(() => {
      try {
        this.peer.tick();
      } catch (err) {
        this.fatal(err);
        return;
      }
      this.pump();
    }, this.tickMs);
    this.sessionTimer = setInterval(() => this.learnerPath?.reportSessions(), Math.max(10, this.cfg.tickTime / 2));
    this.log.info('quorum peer started', {
      id: this.cfg.serverId,
      role: this.peer.quorum.isVoter(this.cfg.serverId) ? 'participant' : 'observer',
      clientPort: this.clientPort,
      acceptedEpoch: this.peer.epochs.accepted,
      currentEpoch: this.peer.epochs.current,
      lastLogged: zxidHex(this.peer.lastLoggedZxid),
    });
    this.pump();
  }

  /** Run the core's outputs soon (once per event-loop turn, so inputs batch). */
  private pump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      try {
        this.flushMessages();
      } catch (err) {
        this.fatal(err);
        return;
      }
      void this.processReadies();
    });
  }

  private flushMessages(): void {
    for (const env of this.peer.takeMessages()) {
      let msg = env.msg;
      if (msg.kind === 'snap' && msg.snapshot === undefined) {
        // The core releases a SNAP only when our applied state is exactly at its zxid.
        if (this.db.lastProcessedZxid !== msg.zxid) {
          throw new Error(`invariant: SNAP at ${zxidHex(msg.zxid)} but state is at ${zxidHex(this.db.lastProcessedZxid)}`);
        }
        msg = { ...msg, snapshot: this.db.snapshotBytes() };
      }
      this.transport.send(env.to, msg);
      this.server.telemetry.messageSent(env.to, msg);
    }
  }

  private async processReadies(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.closed && this.peer.hasReady()) {
        const rd = this.peer.ready();
        // Committed txns are durable on a quorum already: answer them without waiting for this
        // Ready's fsync, unless the Ready rewrites history (a TRUNC or a SNAP must land first).
        const applyFirst = !rd.persist.some((op) => op.kind === 'truncate' || op.kind === 'installSnapshot');
        if (applyFirst) this.apply(rd.apply);
        await this.persist(rd.persist);
        if (!applyFirst) this.apply(rd.apply);
        this.peer.advance(rd);
        this.flushMessages();
        for (const e of rd.events) this.onEvent(e);
        this.flushMessages();
      }
    } catch (err) {
      this.fatal(err);
    } finally {
      this.processing = false;
    }
  }

  private apply(txns: readonly Txn[]): void {
    for (const t of txns) {
      this.server.applyCommitted(decodeLoggedTxn(Buffer.from(t.data)));
      this.server.telemetry.committedApplied(t.zxid);
    }
  }

  /** Carry out persist ops in order; appends before an epoch change are fsynced first. */
  private async persist(ops: PersistOp[]): Promise<void> {
    let unsynced = false;
    const sync = async () => {
      if (unsynced) {
        const fsyncStartedMs = performance.now();
        await this.db.txnLog.commit();
        this.server.telemetry.logSynced(fsyncStartedMs);
      }
      unsynced = false;
    };
    for (const op of ops) {
      switch (op.kind) {
        case 'append':
          for (const t of op.txns) {
            this.db.txnLog.append(decodeLoggedTxn(Buffer.from(t.data)));
            this.server.telemetry.logAppended(t.zxid, t.trace);
            if (this.snapshotPolicy.onTxnLogged()) {
              this.db.txnLog.rollLog();
              this.server.telemetry.snapshot(this.db.takeSnapshot()).catch((e: unknown) => this.log.error('snapshot failed', { error: String(e) }));
            }
          }
          unsynced = true;
          break;
        case 'truncate':
          await sync();
          await this.db.txnLog.truncate(op.zxid);
          this.log.info('log truncated', { zxid: zxidHex(op.zxid) });
          break;
        case 'installSnapshot':
          await sync();
          await this.db.snaps.save(op.zxid, [Buffer.from(op.snapshot)]);
          await this.db.txnLog.truncate(op.zxid);
          this.db.installSnapshot(op.snapshot, op.zxid);
          this.server.trackDatabaseSessions();
          this.log.info('installed snapshot from leader', { zxid: zxidHex(op.zxid), bytes: op.snapshot.length });
          break;
        case 'acceptedEpoch':
          await sync();
          await writeEpoch(this.cfg.dataDir, 'acceptedEpoch', op.epoch);
          break;
        case 'currentEpoch':
          await sync();
          await writeEpoch(this.cfg.dataDir, 'currentEpoch', op.epoch);
          break;
      }
    }
    await sync();
  }

  private onEvent(e: PeerEvent): void {
    this.server.telemetry.peerEvent(e);
    switch (e.kind) {
      case 'looking':
        this.log.info('LOOKING', { electionEpoch: e.electionEpoch, reason: e.reason });
        this.leaveRole(e.reason);
        return;
      case 'elected':
        this.log.info('election finished', { leader: e.leader, state: e.state, electionEpoch: e.electionEpoch, votes: e.votesReceived, ms: e.ticks * this.tickMs });
        return;
      case 'discovered':
        this.log.info('discovery done', { epoch: e.epoch, leader: e.leader });
        return;
      case 'synced':
        this.log.info('synced with leader', { epoch: e.epoch, leader: e.leader, mode: e.mode ?? 'leader' });
        return;
      case 'serving':
        this.enterBroadcast(e.state, e.leader);
        return;
      case 'learnerSynced':
        this.log.info('learner synced', { learner: e.learner, mode: e.mode, txns: e.txns, observer: e.observer });
        return;
      case 'learnerLost':
        this.log.info('learner lost', { learner: e.learner, reason: e.reason });
        return;
      case 'committed':
        return;
      case 'app':
        this.onApp(e.from, e.payload);
        return;
    }
  }

  private onApp(from: number, payload: Uint8Array): void {
    let m;
    try {
      m = decodeApp(payload);
    } catch (err) {
      this.log.warn('undecodable learner message', { from, error: String(err) });
      return;
    }
    if (this.leaderPath) this.leaderPath.onLearnerMessage(from, m);
    else this.learnerPath?.onLeaderMessage(m);
  }

  private enterBroadcast(state: 'LOOKING' | 'FOLLOWING' | 'LEADING' | 'OBSERVING', leader: number): void {
    const pump = () => this.pump();
    if (state === 'LEADING') {
      this.leaderPath = new LeaderPath(this.server, this.peer, pump);
      this.server.writePath = this.leaderPath;
    } else {
      this.learnerPath = new LearnerPath(this.server, this.peer, leader, state === 'OBSERVING', pump);
      this.server.writePath = this.learnerPath;
    }
    this.log.info('serving', { state, leader, epoch: this.peer.epochs.current, zxid: zxidHex(this.db.lastProcessedZxid) });
  }

  private leaveRole(reason: string): void {
    this.learnerPath?.close();
    this.leaderPath = null;
    this.learnerPath = null;
    this.server.writePath = new LookingPath();
    this.server.prep = null;
    this.server.expiresSessions = false;
    this.server.failPending(reason);
    this.server.closeAllConnections(`server is electing a leader (${reason})`);
  }

  private fatal(err: unknown): void {
    this.log.error('fatal error in the quorum peer, shutting down', { error: err instanceof Error ? err.stack ?? err.message : String(err) });
    void this.close().finally(() => process.exit(1));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      if (this.tickTimer) clearInterval(this.tickTimer);
      if (this.sessionTimer) clearInterval(this.sessionTimer);
      this.containers.stop();
      this.learnerPath?.close();
      await this.http?.close();
      await this.listener?.close();
      await this.server.shutdown();
      await this.transport.close();
      while (this.processing) await new Promise((r) => setTimeout(r, 5));
      await this.db.close();
      await this.server.telemetry.shutdown();
    })();
    return this.closing;
  }
}
