/**
 * The `local` ensemble driver: zablab servers as processes on 127.0.0.1 (LocalEnsemble), and
 * the handle it shares with the `zookeeper` driver, which runs Apache ZooKeeper the same way.
 *
 * Faults: kill = SIGKILL (resolves once the process is gone), pause = SIGSTOP, resume =
 * SIGCONT, restart = start again on the same data (resolves once it serves, or once it runs
 * when cuts keep it from some peers), partition/heal and sides = zablab's fault hook on every
 * side of every cut edge (see partitions.ts for what happens to a server that is paused or
 * down meanwhile: it is brought in line when it is resumed or restarted), or for Apache
 * ZooKeeper the harness's relay between the peers (peer-relay.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { HarnessError } from '../errors.js';
import {
  DEFAULT_UP_TIMEOUT_MS,
  ENSEMBLE_HOST,
  EnsembleError,
  LocalEnsemble,
  type EnsembleServer,
  type PeerRoute,
  type ServerProgram,
  type ServerStatus,
} from '../ensemble/index.js';
import type { Sides } from '../nemesis/sides.js';
import type { EnsembleDriverName, FaultAction } from '../scenario/types.js';
import { FAULT_ACTIONS } from '../scenario/types.js';
import { SPANS_DIR_ENV } from '../../telemetry/spans-file.js';
import { FaultHookNetwork, PartitionBook, RelayNetwork, type PeerNetwork } from './partitions.js';
import { PeerRelay } from './peer-relay.js';
import { samplerEnv } from './sampler-env.js';
import { connectStringOf, hostPort, httpUrlsOf, memberMetrics, memberMode, soleLeader } from './probe.js';
import type { ClientTlsFiles, EnsembleDriver, EnsembleHandle, Member, MemberMetrics, MemberMode, MemberStatus, UpOptions } from './types.js';

const MIN_WAIT_MS = 1_000;
const MAX_WAIT_MS = 3_600_000;
/** How long partition/heal keep trying to reach a running server's HTTP face. */
const FAULT_POST_MS = 10_000;

/** How a LocalEnsemble-backed driver runs its servers. */
export interface LocalFamily {
  driver: Extract<EnsembleDriverName, 'local' | 'zookeeper'>;
  program: ServerProgram;
  faults: ReadonlySet<FaultAction>;
  /** Environment for every server (also on restart). */
  env: Record<string, string>;
  spansDir: string | null;
  /**
   * How cuts become real: zablab's fault hook, the harness's relay between the peers (Apache
   * ZooKeeper), or none (with why, for the error a partition then gets).
   */
  peers: { kind: 'fault-hook' } | { kind: 'relay' } | { kind: 'none'; why: string };
}

/**
 * A run without spans makes none, whatever the caller's shell exports (ZABLAB_SPANS_DIR, an
 * OTLP endpoint): it is the baseline a matrix over `spans` compares with.
 */
const TRACING_OFF_ENV: Readonly<Record<string, string>> = { [SPANS_DIR_ENV]: '', OTEL_TRACES_EXPORTER: 'none' };

export const LOCAL_FAULTS: ReadonlySet<FaultAction> = new Set(FAULT_ACTIONS);

export function localDriver(): EnsembleDriver {
  return {
    name: 'local',
    faults: LOCAL_FAULTS,
    async up(opts: UpOptions): Promise<EnsembleHandle> {
      const spansDir = opts.spansDir === undefined ? null : path.resolve(opts.spansDir);
      if (spansDir !== null) fs.mkdirSync(spansDir, { recursive: true });
      return upLocalFamily(opts, {
        driver: 'local',
        program: { kind: 'zablab' },
        faults: LOCAL_FAULTS,
        env: spansDir === null ? { ...TRACING_OFF_ENV } : { [SPANS_DIR_ENV]: spansDir, ...samplerEnv(opts.spansSample) },
        spansDir,
        peers: { kind: 'fault-hook' },
      });
    },
  };
}

/** Starts a LocalEnsemble for a driver (with the peer relay in between when the family asks); its errors become HarnessError DRIVER. */
export async function upLocalFamily(opts: UpOptions, family: LocalFamily): Promise<EnsembleHandle> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_UP_TIMEOUT_MS;
  let relay: PeerRelay | null = null;
  const routePeers =
    family.peers.kind === 'relay'
      ? async (servers: readonly EnsembleServer[]): Promise<PeerRoute> => {
          const reserved = new Set(servers.flatMap((s) => [s.clientPort, s.httpPort, ...(s.secureClientPort === null ? [] : [s.secureClientPort])]));
          const opened = await PeerRelay.open(
            servers.map((s) => ({ id: s.id, quorumPort: s.quorumPort, electionPort: s.electionPort })),
            ENSEMBLE_HOST,
            reserved,
          );
          relay = opened;
          return (from, to) => opened.route(from, to);
        }
      : undefined;
  let ensemble: LocalEnsemble;
  try {
    ensemble = await LocalEnsemble.up(
      { voters: opts.voters, observers: opts.observers, ...(opts.spareObservers === undefined ? {} : { spareObservers: opts.spareObservers }), dir: opts.dir, config: opts.config, env: family.env, timeoutMs, tls: opts.tls === true,
        ...(opts.peerSecurity === undefined ? {} : { peerSecurity: opts.peerSecurity }),
        ...(routePeers === undefined ? {} : { routePeers }) },
      family.program,
    );
  } catch (err) {
    await (relay as PeerRelay | null)?.close();
    throw driverError(family.driver, 'up', err);
  }
  const spares = ensemble.servers.filter((s) => s.id > opts.voters + opts.observers).map((s) => s.id);
  return new LocalEnsembleHandle(ensemble, family, timeoutMs, relay, spares);
}

/** An ensemble this process started; it owns the servers' fault state (see partitions.ts). */
export class LocalEnsembleHandle implements EnsembleHandle {
  readonly driver: EnsembleDriverName;
  readonly program: 'zablab' | 'zookeeper';
  readonly spansDir: string | null;
  readonly adminToken: string | null;
  readonly clientTls: ClientTlsFiles | null;
  /** Every configured server, spare observers included. */
  private readonly configured: readonly Member[];
  /** Spare observers not started yet (addObserver starts them in this order). */
  private readonly spares: number[];
  private readonly stopped = new Set<number>();
  private readonly book: PartitionBook;
  private readonly network: PeerNetwork | null;

  constructor(
    private readonly ensemble: LocalEnsemble,
    private readonly family: LocalFamily,
    /** How long restart() waits for the server to serve. */
    private readonly startTimeoutMs: number,
    relay: PeerRelay | null = null,
    spares: readonly number[] = [],
  ) {
    this.spares = [...spares];
    this.driver = family.driver;
    this.program = family.program.kind;
    this.spansDir = family.spansDir;
    this.adminToken = ensemble.adminToken();
    const tls = ensemble.tls;
    this.clientTls = tls === null ? null : { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile };
    this.configured = ensemble.servers.map((s) => ({
      id: s.id,
      role: s.role,
      host: s.host,
      clientPort: s.clientPort,
      ...(s.secureClientPort === null ? {} : { secureClientPort: s.secureClientPort }),
      httpPort: s.httpPort,
    }));
    this.book = new PartitionBook(
      this.configured.map((m) => m.id),
      this.configured.filter((m) => m.role === 'voter').map((m) => m.id),
    );
    this.network = this.networkOf(family, relay);
  }

  /** The members started so far: a spare observer joins once addObserver() starts it. */
  get members(): readonly Member[] {
    return this.configured.filter((m) => !this.spares.includes(m.id));
  }

  /** The directory holding ensemble.json and each server's s<id>/ (zoo.cfg, data, server.log). */
  get dir(): string {
    return this.ensemble.dir;
  }

  connectString(): string {
    return connectStringOf(this.members);
  }

  httpUrls(): string[] {
    return httpUrlsOf(this.members);
  }

  async status(among?: readonly number[]): Promise<MemberStatus[]> {
    let statuses: ServerStatus[];
    try {
      statuses = await this.ensemble.status(among);
    } catch {
      statuses = [];
    }
    return this.members.filter((m) => among === undefined || among.includes(m.id)).map((m) => {
      const s = statuses.find((x) => x.id === m.id);
      const paused = s?.paused ?? false;
      return { id: m.id, mode: s === undefined ? 'down' : modeOf(s), zxid: s?.zxid ?? null, paused, stopped: this.stopped.has(m.id) };
    });
  }

  async leader(among?: readonly number[]): Promise<number | null> {
    return soleLeader(await this.status(among));
  }

  metrics(id: number): Promise<MemberMetrics> {
    return memberMetrics(this.member(id));
  }

  async kill(id: number): Promise<void> {
    await this.fault('kill', id, async () => {
      await this.ensemble.kill(id, 'SIGKILL');
      this.stopped.add(id);
      this.book.forget(id);
    });
  }

  async pause(id: number): Promise<void> {
    await this.fault('pause', id, async () => {
      await this.ensemble.kill(id, 'SIGSTOP');
    });
  }

  async resume(id: number): Promise<void> {
    await this.fault('resume', id, async () => {
      await this.ensemble.kill(id, 'SIGCONT');
      // It may have missed a partition or a heal while stopped.
      await this.network?.rejoin(this.book, id, Date.now() + FAULT_POST_MS);
    });
  }

  async restart(id: number): Promise<void> {
    await this.fault('restart', id, async () => {
      this.book.forget(id);
      if (this.book.servable()?.includes(id) !== true) {
        // Its cuts keep it from a quorum, so it cannot serve: resolve once it runs and has its cuts.
        await this.ensemble.launchServer(id);
        this.stopped.delete(id);
        await this.network?.rejoin(this.book, id, Date.now() + this.startTimeoutMs);
        return;
      }
      await this.ensemble.start(id, clampWait(this.startTimeoutMs));
      this.stopped.delete(id);
      await this.network?.rejoin(this.book, id, Date.now() + FAULT_POST_MS);
    });
  }

  async addObserver(): Promise<number> {
    if (!this.family.faults.has('add-observer')) throw unsupportedFault(this.driver, 'add-observer');
    const id = this.spares[0];
    if (id === undefined) throw new HarnessError('ZABLAB_BENCH_FAULT', 'add-observer: no spare observer is left (start the ensemble with more spareObservers)');
    // A member from now on: status(), leader() and the run's observers see it while it syncs.
    this.spares.shift();
    try {
      this.book.forget(id);
      await this.ensemble.start(id, clampWait(this.startTimeoutMs));
      await this.network?.rejoin(this.book, id, Date.now() + FAULT_POST_MS);
    } catch (err) {
      if (this.ensemble.server(id).pid === null) this.spares.unshift(id);
      if (err instanceof HarnessError) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new HarnessError('ZABLAB_BENCH_FAULT', `add-observer of server ${id} failed (driver ${this.driver}): ${why}`);
    }
    return id;
  }

  spareObservers(): number[] {
    return [...this.spares];
  }

  memberFiles(id: number): { dataDir: string; logFile: string } | null {
    const s = this.ensemble.servers.find((x) => x.id === id);
    return s === undefined ? null : { dataDir: s.dataDir, logFile: s.logFile };
  }

  async partition(id: number): Promise<void> {
    await this.cut('partition', id, () => this.book.partition(id));
  }

  async heal(id: number): Promise<void> {
    await this.cut('heal', id, () => this.book.heal(id));
  }

  async partitionSides(sides: Sides): Promise<void> {
    await this.cut('partition', null, () => this.book.setSides(sides));
  }

  async healSides(): Promise<void> {
    await this.cut('heal', null, () => this.book.setSides(null));
  }

  async healAll(): Promise<void> {
    await this.cut('heal', null, () => this.book.healAll());
  }

  /**
   * Waits for every member that runs, is not paused and can serve under this handle's cuts
   * (with sides: the members of the side that holds a quorum). Throws FAULT while a bridge is
   * cut: which side serves then depends on who leads.
   */
  async waitServing(timeoutMs: number): Promise<void> {
    const servable = this.book.servable();
    if (servable === null) {
      throw new HarnessError('ZABLAB_BENCH_FAULT', 'waitServing: two sides can each hold a quorum (a bridge), so which members serve depends on who leads; heal first');
    }
    const ids = this.ensemble.servers.filter((s) => s.pid !== null && !s.paused && servable.includes(s.id)).map((s) => s.id);
    try {
      await this.ensemble.waitServing(ids, clampWait(timeoutMs));
    } catch (err) {
      throw driverError(this.driver, 'waitServing', err);
    }
  }

  pids(): number[] {
    return this.ensemble.servers.flatMap((s) => (s.pid === null ? [] : [s.pid]));
  }

  pidOf(id: number): number | null {
    return this.ensemble.servers.find((s) => s.id === id)?.pid ?? null;
  }

  async down(): Promise<void> {
    try {
      await this.ensemble.down();
    } catch (err) {
      throw driverError(this.driver, 'down', err);
    } finally {
      await this.network?.close();
    }
  }

  // ---- internals ------------------------------------------------------------------------

  private networkOf(family: LocalFamily, relay: PeerRelay | null): PeerNetwork | null {
    switch (family.peers.kind) {
      case 'fault-hook':
        return new FaultHookNetwork(
          async () => (await this.ensemble.status()).filter((s) => s.alive && !s.paused).map((s) => s.id),
          (id) => {
            const m = this.member(id);
            if (m.httpPort === null) throw new HarnessError('ZABLAB_BENCH_FAULT', `server ${id} has no HTTP face to apply faults through`);
            return `http://${hostPort(m.host, m.httpPort)}`;
          },
          this.adminToken,
          FAULT_POST_MS,
        );
      case 'relay':
        return relay === null ? null : new RelayNetwork(relay);
      case 'none':
        return null;
    }
  }

  private member(id: number): Member {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) {
      throw new HarnessError('ZABLAB_BENCH_FAULT', `server ${id} is not a member of this ensemble (ids: ${this.members.map((x) => x.id).join(', ')})`);
    }
    return m;
  }

  /** A partition or heal: changes the book, then the network; id null for the sides and for every cut. */
  private async cut(action: 'partition' | 'heal', id: number | null, change: () => void): Promise<void> {
    if (!this.family.faults.has(action)) throw unsupportedFault(this.driver, action);
    const network = this.network;
    if (network === null) {
      const why = this.family.peers.kind === 'none' ? this.family.peers.why : 'this ensemble was started without its peer relay (UpOptions.partitions)';
      throw new HarnessError('ZABLAB_BENCH_FAULT_UNSUPPORTED', `driver ${this.driver} cannot ${action} here: ${why}`);
    }
    if (id !== null) this.member(id);
    try {
      change();
      await network.apply(this.book);
    } catch (err) {
      if (err instanceof HarnessError) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new HarnessError('ZABLAB_BENCH_FAULT', `${action} of ${id === null ? 'the network' : `server ${id}`} failed (driver ${this.driver}): ${why}`);
    }
  }

  private async fault(action: FaultAction, id: number, apply: () => Promise<void>): Promise<void> {
    if (!this.family.faults.has(action)) throw unsupportedFault(this.driver, action);
    this.member(id);
    try {
      await apply();
    } catch (err) {
      if (err instanceof HarnessError) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new HarnessError('ZABLAB_BENCH_FAULT', `${action} of server ${id} failed (driver ${this.driver}): ${why}`);
    }
  }
}

/** A paused server does not answer: it is down to its clients, and `paused` says why. */
function modeOf(s: ServerStatus): MemberMode {
  switch (s.mode) {
    case 'down':
      return 'down';
    case 'not serving':
      return s.paused ? 'down' : 'looking';
    case 'leader':
    case 'follower':
    case 'observer':
    case 'standalone':
    case 'read-only':
      return memberMode(s.mode);
  }
}

function clampWait(ms: number): number {
  return Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, Math.round(ms)));
}

/** The error for a fault this driver cannot apply, naming the drivers that can. */
export function unsupportedFault(driver: EnsembleDriverName, action: FaultAction): HarnessError {
  const where =
    action === 'partition' || action === 'heal'
      ? 'partition and heal need a driver that can cut servers off their peers: local (POST /v1/faults), zookeeper (the harness\'s relay between the peers) or compose (Docker networks)'
      : action === 'add-observer'
        ? 'add-observer starts a spare observer late: use driver local or zookeeper, with ensemble.spareObservers'
        : 'kill, pause, resume and restart need a driver that runs the servers: local, zookeeper or compose';
  return new HarnessError('ZABLAB_BENCH_FAULT_UNSUPPORTED', `driver ${driver} cannot ${action} a server; ${where}`);
}

function driverError(driver: EnsembleDriverName, what: string, err: unknown): HarnessError {
  if (err instanceof HarnessError) return err;
  const why = err instanceof Error ? err.message : String(err);
  const hint = err instanceof EnsembleError && err.code === 'ZABLAB_ENSEMBLE_SPEC' ? ' (check the ensemble section of the scenario)' : '';
  return new HarnessError('ZABLAB_BENCH_DRIVER', `driver ${driver}: ${what} failed${hint}: ${why}`);
}
