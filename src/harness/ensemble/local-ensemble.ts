/**
 * The `local` ensemble driver: servers as detached processes on 127.0.0.1, described by
 * DIR/ensemble.json so that any later command (or another tool) can find, signal and
 * restart them. Used by `zablab ensemble` and by the harness.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { adminTokenPath, readAdminToken, writeAdminToken } from './admin-token.js';
import { EnsembleError, EnsembleNotServingError, type NotServingDetail } from './errors.js';
import { PEER_TLS_DIR, peerCredentialEntries, peerSecurityMode, writePeerCredentials, type PeerSecurityMode } from './peer-credentials.js';
import {
  allocatePorts,
  DEFAULT_UP_TIMEOUT_MS,
  ENSEMBLE_HOST,
  planServers,
  portsPerServer,
  renderZooCfg,
  validateSpec,
  validateTimeout,
  type EnsembleServer,
  type EnsembleSpec,
} from './layout.js';
import { isOurServer, logTail, signalServer, spawnServer, waitGone } from './processes.js';
import { checkProgram, launchCommand, serverMarkers, type ServerProgram } from './program.js';
import { probeServer, servingVerdict, type LeaderMarks, type ServerStatus } from './serving.js';
import { ensembleFile, readState, writeState, type EnsembleState } from './state-file.js';
import { TLS_DIR, writeEnsembleTls, type EnsembleTls } from './tls-files.js';
import { SPANS_DIR_ENV } from '../../telemetry/spans-file.js';

/** Signals `kill` sends; others have no meaning for a server under test. */
export const ENSEMBLE_SIGNALS = ['SIGKILL', 'SIGTERM', 'SIGSTOP', 'SIGCONT'] as const;
export type EnsembleSignal = (typeof ENSEMBLE_SIGNALS)[number];

export const DEFAULT_START_TIMEOUT_MS = 60_000;
const SERVING_POLL_MS = 250;
/** A server gets this long to close cleanly after SIGTERM... */
const TERM_GRACE_MS = 10_000;
/** ...and this long to vanish after SIGKILL. */
const KILL_WAIT_MS = 5_000;
const LOG_TAIL_LINES = 20;

export interface LoadOptions {
  /** Added to this process's environment for servers that start() restarts. */
  env?: Record<string, string>;
}

/** What down() did to each server that was running. */
export interface DownReport {
  stopped: { id: number; pid: number; how: 'SIGTERM' | 'SIGKILL' | 'already gone' }[];
  purged: boolean;
}

/** What kill() did. */
export interface KillReport {
  id: number;
  pid: number;
  signal: EnsembleSignal;
  /** For SIGKILL and SIGTERM: the process has exited. */
  exited: boolean;
}

/** Where the servers will write spans (they inherit ZABLAB_SPANS_DIR), for `zablab watch`. */
function spansDirOf(env: NodeJS.ProcessEnv): string | null {
  const dir = env[SPANS_DIR_ENV];
  return dir === undefined || dir.trim() === '' ? null : path.resolve(dir);
}

export class LocalEnsemble {
  private constructor(
    private readonly state: EnsembleState,
    private readonly env: Record<string, string>,
  ) {}

  /** The directory that holds ensemble.json and s<id>/. */
  get dir(): string {
    return this.state.dir;
  }

  get program(): ServerProgram {
    return this.state.program;
  }

  get servers(): EnsembleServer[] {
    return this.state.servers;
  }

  /** The file holding the HTTP face's bearer token (DIR/admin-token), or null when the servers need none. */
  get adminTokenFile(): string | null {
    return this.state.adminTokenFile;
  }

  /** How the servers authenticate each other (peer-credentials.ts). */
  get peerSecurity(): PeerSecurityMode {
    return this.state.peerSecurity;
  }

  /** The quorum secret's file (DIR/quorum-secret) when peerSecurity is `secret`, else null. */
  get quorumSecretFile(): string | null {
    return this.state.quorumSecretFile;
  }

  /** Where the servers write spans files (ZABLAB_SPANS_DIR of `ensemble up`), or null. */
  get spansDir(): string | null {
    return this.state.spansDir ?? null;
  }

  /** The CA and client certificate of an ensemble that serves TLS (DIR/tls), or null. */
  get tls(): EnsembleTls | null {
    return this.state.tls;
  }

  /** The bearer token of the servers' HTTP face, or null when they need none. */
  adminToken(): string | null {
    const file = this.state.adminTokenFile;
    if (file === null) return null;
    try {
      return readAdminToken(file);
    } catch (err) {
      throw new EnsembleError('ZABLAB_ENSEMBLE_STATE', `cannot read the HTTP face's token: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Lays out spec.dir, starts every server and resolves once the ensemble serves. When it
   * does not within spec.timeoutMs, stops what it started (data and logs stay) and throws
   * EnsembleNotServingError naming each server that is not serving, with its log tail.
   */
  static async up(spec: EnsembleSpec, program: ServerProgram = { kind: 'zablab' }): Promise<LocalEnsemble> {
    validateSpec(spec);
    checkProgram(program);
    const dir = path.resolve(spec.dir);
    if (fs.existsSync(ensembleFile(dir))) {
      throw new EnsembleError(
        'ZABLAB_ENSEMBLE_EXISTS',
        `${dir} already holds an ensemble: \`zablab ensemble down --dir ${spec.dir} --purge\` removes it, or choose another directory`,
      );
    }
    const overrides = spec.config ?? {};
    // A standalone server has no peers to authenticate.
    const peerMode = spec.voters + spec.observers + (spec.spareObservers ?? 0) > 1 ? peerSecurityMode(spec.peerSecurity, program.kind, overrides) : 'none';
    const started = spec.voters + spec.observers;
    const ports = await allocatePorts(started + (spec.spareObservers ?? 0), spec.basePort, portsPerServer(spec.tls === true));
    const servers = planServers({ ...spec, dir }, ports);
    fs.mkdirSync(dir, { recursive: true });
    // Only zablab has the token; a user who turned credentials off gets none.
    const needsToken = program.kind === 'zablab' && overrides['admin.auth.enabled']?.toLowerCase() !== 'false';
    const adminTokenFile = needsToken ? adminTokenPath(dir) : null;
    if (adminTokenFile !== null) writeAdminToken(adminTokenFile);
    const peer = await writePeerCredentials(dir, peerMode, servers);
    const tls = spec.tls === true ? await writeEnsembleTls(dir, [ENSEMBLE_HOST, 'localhost']) : null;
    const cfgTls = tls === null ? null : { files: tls, netty: program.kind === 'zookeeper' };
    const route = spec.routePeers === undefined ? null : await spec.routePeers(servers);
    for (const s of servers) {
      fs.mkdirSync(s.dataDir, { recursive: true });
      fs.writeFileSync(path.join(s.dataDir, 'myid'), `${s.id}\n`);
      fs.writeFileSync(s.configFile, renderZooCfg(servers, s, overrides, { adminTokenFile, peer: peerCredentialEntries(peer, s.id), tls: cfgTls, route }));
    }
    const ensemble = new LocalEnsemble(
      { version: 1, dir, program, createdAt: new Date().toISOString(), adminTokenFile, peerSecurity: peerMode, quorumSecretFile: peer.secretFile, tls, servers, spansDir: spansDirOf({ ...process.env, ...spec.env }) },
      spec.env ?? {},
    );
    ensemble.save();
    try {
      // Spare observers (ids after `started`) wait for start(id).
      for (const s of servers) if (s.id <= started) await ensemble.launch(s);
      await ensemble.waitServing(undefined, spec.timeoutMs ?? DEFAULT_UP_TIMEOUT_MS);
    } catch (err) {
      await ensemble.down().catch(() => undefined);
      throw err;
    }
    return ensemble;
  }

  /** The ensemble recorded in dir/ensemble.json. */
  static load(dir: string, opts: LoadOptions = {}): LocalEnsemble {
    return new LocalEnsemble(readState(dir), opts.env ?? {});
  }

  /** `host:port,...` of every member, for ZooKeeper clients. */
  connectString(): string {
    return this.servers.map((s) => `${s.host}:${s.clientPort}`).join(',');
  }

  /** `host:secureClientPort,...` of every member, for TLS clients; null without --tls. */
  secureConnectString(): string | null {
    if (this.state.tls === null) return null;
    return this.servers.map((s) => `${s.host}:${s.secureClientPort ?? 0}`).join(',');
  }

  server(id: number): EnsembleServer {
    const s = this.servers.find((x) => x.id === id);
    if (s === undefined) {
      throw new EnsembleError(
        'ZABLAB_ENSEMBLE_NO_SUCH_SERVER',
        `server ${id} is not a member of the ensemble in ${this.dir} (ids: ${this.servers.map((x) => x.id).join(', ')})`,
      );
    }
    return s;
  }

  /** Every server's mode and zxid as it reports them now, in id order (only the servers `ids` names, when given). */
  async status(ids?: readonly number[]): Promise<ServerStatus[]> {
    const asked = ids === undefined ? this.servers : this.servers.filter((s) => ids.includes(s.id));
    return Promise.all(asked.map((s) => probeServer(s, this.markers(s))));
  }

  /** The server that reports itself leader (or standalone), or null when none or several do. */
  async leader(): Promise<EnsembleServer | null> {
    const leaders = (await this.status()).filter((s) => s.mode === 'leader' || s.mode === 'standalone');
    const only = leaders.length === 1 ? leaders[0] : undefined;
    return only === undefined ? null : this.server(only.id);
  }

  /**
   * Sends a signal to server id (default SIGKILL). SIGKILL and SIGTERM wait until the
   * process has exited and clear its pid; SIGSTOP and SIGCONT mark it paused or running.
   */
  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<KillReport> {
    const sig = ensembleSignal(signal);
    const s = this.server(id);
    const pid = this.runningPid(s);
    if (sig === 'SIGTERM' && s.paused) signalServer(pid, this.markers(s), 'SIGCONT');
    if (!signalServer(pid, this.markers(s), sig)) this.gone(s, pid);
    switch (sig) {
      case 'SIGSTOP':
        s.paused = true;
        this.save();
        return { id, pid, signal: sig, exited: false };
      case 'SIGCONT':
        s.paused = false;
        this.save();
        return { id, pid, signal: sig, exited: false };
      case 'SIGKILL':
      case 'SIGTERM': {
        const waitMs = sig === 'SIGKILL' ? KILL_WAIT_MS : TERM_GRACE_MS;
        if (!(await waitGone(pid, this.markers(s), waitMs))) {
          throw new EnsembleError(
            'ZABLAB_ENSEMBLE_PROCESS',
            `server ${id} (pid ${pid}) still runs ${waitMs} ms after ${sig}` + (sig === 'SIGTERM' ? '; send SIGKILL instead' : ''),
          );
        }
        s.pid = null;
        s.paused = false;
        this.save();
        return { id, pid, signal: sig, exited: true };
      }
    }
  }

  /**
   * Restarts server id on its zoo.cfg and data and resolves once it serves: it has joined
   * the current leader and caught up with it. When it does not within timeoutMs, stops it
   * again and throws EnsembleNotServingError.
   */
  async start(id: number, timeoutMs = DEFAULT_START_TIMEOUT_MS): Promise<void> {
    validateTimeout(timeoutMs);
    const s = this.server(id);
    await this.launchServer(id);
    try {
      await this.waitServing([id], timeoutMs);
    } catch (err) {
      await this.stopServer(s);
      this.save();
      throw err;
    }
  }

  /**
   * Starts server id on its zoo.cfg and data and returns once its process runs, without
   * waiting for it to serve (start() waits; the harness restarts a server it keeps cut off
   * from its peers, which cannot serve).
   */
  async launchServer(id: number): Promise<void> {
    const s = this.server(id);
    if (s.pid !== null && isOurServer(s.pid, this.markers(s))) {
      throw new EnsembleError('ZABLAB_ENSEMBLE_SERVER_STATE', `server ${id} already runs (pid ${s.pid}); kill it first to restart it`);
    }
    checkProgram(this.program);
    await this.launch(s);
  }

  /**
   * Resolves once the servers `ids` (default: every running, unpaused one) serve: each
   * answers srvr with the mode its role allows, exactly one server leads, and each learner
   * has caught up with the leader. Throws EnsembleNotServingError after timeoutMs, or at
   * once when an awaited server's process exits.
   */
  async waitServing(ids?: number[], timeoutMs = DEFAULT_UP_TIMEOUT_MS): Promise<void> {
    validateTimeout(timeoutMs);
    const awaited = ids ?? this.servers.filter((s) => s.pid !== null && !s.paused).map((s) => s.id);
    for (const id of awaited) {
      const s = this.server(id);
      if (s.pid === null) {
        throw new EnsembleError('ZABLAB_ENSEMBLE_SERVER_STATE', `server ${id} is not running; \`zablab ensemble start --dir ${this.dir} --id ${id}\` starts it`);
      }
    }
    const deadline = Date.now() + timeoutMs;
    const marks: LeaderMarks = new Map();
    for (;;) {
      const statuses = await this.status();
      const verdict = servingVerdict(statuses, awaited, marks);
      if (verdict.ok) return;
      const dead = statuses.filter((st) => awaited.includes(st.id) && !st.alive);
      if (dead.length > 0) {
        throw this.notServing(`${dead.length === 1 ? 'server' : 'servers'} ${dead.map((d) => d.id).join(', ')} exited before serving`, new Map(dead.map((d) => [d.id, d.reason ?? 'exited'])));
      }
      if (Date.now() >= deadline) {
        throw this.notServing(`the ensemble in ${this.dir} did not serve within ${timeoutMs} ms`, verdict.notServing);
      }
      await sleep(SERVING_POLL_MS);
    }
  }

  /**
   * Stops every running server: SIGTERM, a grace period, then SIGKILL. Keeps the data and
   * logs unless purge, which removes every s<id>/ and ensemble.json (and DIR when empty).
   */
  async down(opts: { purge?: boolean } = {}): Promise<DownReport> {
    const report: DownReport = { stopped: [], purged: false };
    const running = this.servers.filter((s) => s.pid !== null);
    const outcomes = await Promise.all(running.map(async (s) => ({ s, pid: s.pid!, how: await this.stopServer(s) })));
    for (const { s, pid, how } of outcomes) report.stopped.push({ id: s.id, pid, how });
    this.save();
    if (opts.purge === true) {
      for (const s of this.servers) fs.rmSync(s.serverDir, { recursive: true, force: true });
      if (this.state.adminTokenFile !== null) fs.rmSync(this.state.adminTokenFile, { force: true });
      if (this.state.quorumSecretFile !== null) fs.rmSync(this.state.quorumSecretFile, { force: true });
      if (this.state.peerSecurity === 'tls') fs.rmSync(path.join(this.dir, PEER_TLS_DIR), { recursive: true, force: true });
      if (this.state.tls !== null) fs.rmSync(path.join(this.dir, TLS_DIR), { recursive: true, force: true });
      fs.rmSync(ensembleFile(this.dir), { force: true });
      try {
        fs.rmdirSync(this.dir);
      } catch {
        // Not empty: it holds files that are not ours; leave them.
      }
      report.purged = true;
    }
    return report;
  }

  // ---- internals ------------------------------------------------------------------------

  private markers(s: EnsembleServer): string[] {
    return serverMarkers(this.program, s.configFile);
  }

  private async launch(s: EnsembleServer): Promise<void> {
    const cmd = launchCommand(this.program, s.serverDir, s.configFile);
    s.pid = await spawnServer({ launch: cmd, cwd: s.serverDir, env: { ...process.env, ...this.env }, logFile: s.logFile });
    s.paused = false;
    this.save();
  }

  /** SIGTERM (after SIGCONT, a paused process cannot act on it), then SIGKILL; clears the pid. */
  private async stopServer(s: EnsembleServer): Promise<DownReport['stopped'][number]['how']> {
    const pid = s.pid;
    if (pid === null) return 'already gone';
    const markers = this.markers(s);
    s.pid = null;
    s.paused = false;
    if (!isOurServer(pid, markers)) return 'already gone';
    signalServer(pid, markers, 'SIGCONT');
    signalServer(pid, markers, 'SIGTERM');
    if (await waitGone(pid, markers, TERM_GRACE_MS)) return 'SIGTERM';
    signalServer(pid, markers, 'SIGKILL');
    if (await waitGone(pid, markers, KILL_WAIT_MS)) return 'SIGKILL';
    s.pid = pid;
    throw new EnsembleError('ZABLAB_ENSEMBLE_PROCESS', `server ${s.id} (pid ${pid}) still runs after SIGKILL; check the process by hand`);
  }

  /** The recorded pid when it still runs this server; else clears it and throws. */
  private runningPid(s: EnsembleServer): number {
    if (s.pid === null) {
      throw new EnsembleError('ZABLAB_ENSEMBLE_SERVER_STATE', `server ${s.id} is not running; \`zablab ensemble start --dir ${this.dir} --id ${s.id}\` starts it`);
    }
    if (!isOurServer(s.pid, this.markers(s))) this.gone(s, s.pid);
    return s.pid;
  }

  private gone(s: EnsembleServer, pid: number): never {
    s.pid = null;
    s.paused = false;
    this.save();
    throw new EnsembleError(
      'ZABLAB_ENSEMBLE_SERVER_STATE',
      `server ${s.id} (pid ${pid}) is no longer running (see ${s.logFile}); \`zablab ensemble start --dir ${this.dir} --id ${s.id}\` starts it`,
    );
  }

  private notServing(headline: string, reasons: Map<number, string>): EnsembleNotServingError {
    const details: NotServingDetail[] = [...reasons].map(([id, reason]) => {
      const s = this.server(id);
      return { id, reason, logFile: s.logFile, logTail: logTail(s.logFile, LOG_TAIL_LINES) };
    });
    return new EnsembleNotServingError(details, headline);
  }

  private save(): void {
    writeState(this.state);
  }
}

/** Accepts KILL, kill, SIGKILL, ... for the four signals kill() supports. */
export function ensembleSignal(name: string): EnsembleSignal {
  const upper = name.trim().toUpperCase();
  const sig = ENSEMBLE_SIGNALS.find((s) => s === upper || s === `SIG${upper}`);
  if (sig === undefined) {
    throw new EnsembleError('ZABLAB_ENSEMBLE_SPEC', `signal must be one of ${ENSEMBLE_SIGNALS.map((s) => s.slice(3)).join(', ')}, got "${name}"`);
  }
  return sig;
}
