/**
 * QuorumHost: one member of an ensemble. Its ZabHost (zab-host.ts) runs the ZAB core on the
 * storage; around it this file wires the peer transport (messages in and out, resets), the
 * core's clock, the client-facing role (looking, leader or learner write path, installed on
 * the ZooKeeperServer as the role changes), and the shell (client port, HTTP, containers,
 * autopurge, fatal stop).
 */
import { QuorumVerifier, zxidHex, type PeerEvent } from '../../zab/index.js';
import type { ZabConfig } from '../config.js';
import type { FatalError } from '../fatal.js';
import type { Logger } from '../log.js';
import { ServerShell } from '../server-shell.js';
import type { RunningServer, ServerEdges } from '../standalone.js';
import { storageLayout } from '../zk-database.js';
import { ZooKeeperServer } from '../zk-server.js';
import { setupTelemetry } from '../../telemetry/index.js';
import { DEFAULT_MAX_FRAME_BYTES } from './codec.js';
import { decodeApp } from './app-messages.js';
import { FaultController } from './faults.js';
import type { PeerSecurity } from './quorum-credentials.js';
import { LeaderPath, LearnerPath, LookingPath } from './role-paths.js';
import { PeerTransport } from './transport.js';
import { ZabHost } from './zab-host.js';
import type { Peer } from '../../zab/index.js';

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

/** `security`: the peers' TLS and secret (loadQuorumSecurity), read before anything binds; {} is ZooKeeper's open default. */
export async function startQuorum(cfg: ZabConfig, log: Logger, edges: ServerEdges, security: PeerSecurity = {}): Promise<QuorumServer> {
  const q = new QuorumHost(cfg, log, edges, security);
  await q.start();
  return q;
}

class QuorumHost implements QuorumServer {
  readonly faults = new FaultController();
  server!: ZooKeeperServer;
  private host!: ZabHost;
  private shell: ServerShell | null = null;
  private transport!: PeerTransport;
  private readonly tickMs: number;
  private tickTimer: NodeJS.Timeout | null = null;
  private sessionTimer: NodeJS.Timeout | null = null;
  private leaderPath: LeaderPath | null = null;
  private learnerPath: LearnerPath | null = null;
  private stalledLogged = '';

  constructor(
    readonly cfg: ZabConfig,
    private readonly log: Logger,
    private readonly edges: ServerEdges,
    private readonly security: PeerSecurity,
  ) {
    this.tickMs = hostTickMs(cfg.tickTime);
  }

  get peer(): Peer {
    return this.host.peer;
  }

  get clientPort(): number {
    return this.shell!.clientPort;
  }

  get secureClientPort(): number {
    return this.shell!.secureClientPort;
  }

  async start(): Promise<void> {
    const { cfg, log, tickMs } = this;
    const telemetry = setupTelemetry({ serverId: cfg.serverId, warn: (m) => log.warn(m), otel: this.edges.otel });
    const voters = cfg.servers.filter((s) => s.role === 'participant').map((s) => s.id);
    const observers = cfg.servers.filter((s) => s.role === 'observer').map((s) => s.id);
    this.host = await ZabHost.open({
      peer: {
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
      layout: storageLayout(cfg),
      snapCount: cfg.snapCount,
      // Half of what a peer link may queue (2 frames), so that a DIFF never closes it.
      diffFromLog: { sizeFactor: cfg.snapshotSizeFactor, maxBytes: DEFAULT_MAX_FRAME_BYTES },
      log,
      random: Math.random,
      schedule: (fn) => setImmediate(fn),
      send: (to, msg) => this.transport.send(to, msg),
      openSnapStream: (to, zxid) => this.transport.openSnapStream(to, zxid),
      apply: (txn) => this.server.applyCommitted(txn),
      onEvent: (e) => this.onEvent(e),
      onFatal: (err) => this.fatal(err),
      observer: {
        messageReceived: (from, msg) => telemetry.messageReceived(from, msg),
        messageSent: (to, msg) => telemetry.messageSent(to, msg),
        logAppended: (zxid, trace) => telemetry.logAppended(zxid, trace),
        logSynced: (startedMs) => telemetry.logSynced(startedMs),
        committedApplied: (zxid) => telemetry.committedApplied(zxid),
        peerEvent: (e) => telemetry.peerEvent(e),
        snapshot: (taken) => telemetry.snapshot(taken),
        snapshotInstalled: () => this.server.trackDatabaseSessions(),
        snapSent: (_to, bytes) => telemetry.snapSent(bytes),
      },
    });
    this.server = new ZooKeeperServer(cfg, this.host.db, log, telemetry);
    this.server.installRole(new LookingPath());
    this.transport = new PeerTransport({
      selfId: cfg.serverId,
      peers: cfg.servers.map((s) => ({ id: s.id, host: s.host, quorumPort: s.quorumPort, electionPort: s.electionPort })),
      listenHost: cfg.quorumListenOnAllIPs ? '0.0.0.0' : undefined,
      electionPortBindRetry: cfg.electionPortBindRetry,
      connectTimeoutMs: cfg.cnxTimeoutMs,
      tcpKeepAlive: cfg.tcpKeepAlive,
      security: this.security,
      log,
      faults: this.faults,
    });
    this.transport.onMessage = (from, msg) => this.host.step(from, msg);
    this.transport.onDisconnect = (p) => this.host.disconnected(p);
    this.transport.onSnapArriving = (_from, snapshot) => this.host.snapArriving(snapshot);
    this.transport.onPeerDown = (p) => this.host.peerDown(p);
    this.transport.onPeerUp = (p) => this.host.peerUp(p);
    await this.transport.start();
    try {
      await ServerShell.start({ server: this.server, cfg, log, quorum: this, ...this.edges, listening: (shell) => this.startPeer(shell) });
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
  }

  /** The client port listens: tick, and let the peer elect. */
  private startPeer(shell: ServerShell): void {
    const { cfg, log, tickMs } = this;
    this.shell = shell;
    this.tickTimer = setInterval(() => this.host.tick(), tickMs);
    this.sessionTimer = setInterval(() => this.learnerPath?.reportSessions(), Math.max(10, cfg.tickTime / 2));
    const peer = this.host.peer;
    log.info('quorum peer started', {
      id: cfg.serverId,
      role: peer.quorum.isVoter(cfg.serverId) ? 'participant' : 'observer',
      clientPort: this.clientPort,
      ...(this.secureClientPort === 0 ? {} : { secureClientPort: this.secureClientPort }),
      acceptedEpoch: peer.epochs.accepted,
      currentEpoch: peer.epochs.current,
      lastLogged: zxidHex(peer.lastLoggedZxid),
      ...(peer.isRecovering ? { recovering: true } : {}),
    });
    this.host.pump();
  }

  private onEvent(e: PeerEvent): void {
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
        this.log.info('learner synced', { learner: e.learner, mode: e.mode, fromLog: e.fromLog, txns: e.txns, observer: e.observer });
        return;
      case 'learnerLost':
        this.log.info('learner lost', { learner: e.learner, reason: e.reason });
        return;
      case 'stalled': {
        const key = e.recovering.join(',');
        if (key === this.stalledLogged) return;
        this.stalledLogged = key;
        this.log.error(
          `no leader can be elected: servers ${key} lost acknowledged txns to storage damage, which leaves fewer than a quorum of voters whose history is whole. ` +
            'Electing one of the others could lose committed writes, so the ensemble waits. Restore one damaged server from a backup and restart it, ' +
            'or accept the loss on one of them with `zablab repair-log --config <its zoo.cfg> --yes`',
          { recovering: e.recovering },
        );
        return;
      }
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
    const pump = (): void => this.host.pump();
    const peer = this.host.peer;
    if (state === 'LEADING') {
      this.leaderPath = new LeaderPath(this.server, peer, pump);
      this.server.installRole(this.leaderPath);
    } else {
      this.learnerPath = new LearnerPath(this.server, peer, leader, state === 'OBSERVING', pump);
      this.server.installRole(this.learnerPath);
    }
    this.log.info('serving', { state, leader, epoch: peer.epochs.current, zxid: zxidHex(this.host.db.lastProcessedZxid) });
  }

  private leaveRole(reason: string): void {
    this.learnerPath?.close();
    this.leaderPath = null;
    this.learnerPath = null;
    this.server.installRole(new LookingPath());
    this.server.failPending(reason);
    this.server.closeAllConnections(`server is electing a leader (${reason})`);
  }

  private stopTimers(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.sessionTimer) clearInterval(this.sessionTimer);
    this.tickTimer = null;
    this.sessionTimer = null;
    this.learnerPath?.close();
  }

  /** What close() and a fatal stop do after the shell's faces are down. */
  private readonly closeInner = async (): Promise<void> => {
    this.stopTimers();
    await this.transport.close();
    await this.host.close();
  };

  private fatal(err: FatalError): void {
    this.stopTimers();
    if (this.shell !== null) {
      this.shell.fatal(err, this.closeInner);
      return;
    }
    // Failed before the shell existed (during start): nothing serves yet.
    this.log.error(`fatal, stopping: ${err.message.split('\n')[0]}`, { exitCode: err.exitCode });
    void this.closeInner().finally(() => this.edges.onFatal(err));
  }

  close(): Promise<void> {
    if (this.shell === null) return this.closeInner();
    return this.shell.close(this.closeInner);
  }
}
