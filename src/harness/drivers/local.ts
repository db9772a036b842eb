/**
 * The `local` ensemble driver: zablab servers as processes on 127.0.0.1 (LocalEnsemble), and
 * the handle it shares with the `zookeeper` driver, which runs Apache ZooKeeper the same way.
 *
 * Faults: kill = SIGKILL (resolves once the process is gone), pause = SIGSTOP, resume =
 * SIGCONT, restart = start again on the same data (resolves once it serves), partition/heal
 * = zablab's fault hook on every side (see partitions.ts for what happens to a server that
 * is paused or down meanwhile: it is brought in line when it is resumed or restarted).
 */
import fs from 'node:fs';
import path from 'node:path';
import { HarnessError } from '../errors.js';
import { DEFAULT_UP_TIMEOUT_MS, EnsembleError, LocalEnsemble, type ServerProgram, type ServerStatus } from '../ensemble/index.js';
import type { EnsembleDriverName, FaultAction } from '../scenario/types.js';
import { FAULT_ACTIONS } from '../scenario/types.js';
import { SPANS_DIR_ENV } from '../../telemetry/spans-file.js';
import { PartitionBook, postFaultPlan } from './partitions.js';
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
}

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
        env: spansDir === null ? {} : { [SPANS_DIR_ENV]: spansDir, ...samplerEnv(opts.spansSample) },
        spansDir,
      });
    },
  };
}

/** Starts a LocalEnsemble for a driver; its errors become HarnessError DRIVER. */
export async function upLocalFamily(opts: UpOptions, family: LocalFamily): Promise<EnsembleHandle> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_UP_TIMEOUT_MS;
  let ensemble: LocalEnsemble;
  try {
    ensemble = await LocalEnsemble.up(
      { voters: opts.voters, observers: opts.observers, dir: opts.dir, config: opts.config, env: family.env, timeoutMs, tls: opts.tls === true,
        ...(opts.peerSecurity === undefined ? {} : { peerSecurity: opts.peerSecurity }) },
      family.program,
    );
  } catch (err) {
    throw driverError(family.driver, 'up', err);
  }
  return new LocalEnsembleHandle(ensemble, family, timeoutMs);
}

/** An ensemble this process started; it owns the servers' fault state (see partitions.ts). */
export class LocalEnsembleHandle implements EnsembleHandle {
  readonly driver: EnsembleDriverName;
  readonly program: 'zablab' | 'zookeeper';
  readonly members: readonly Member[];
  readonly spansDir: string | null;
  readonly adminToken: string | null;
  readonly clientTls: ClientTlsFiles | null;
  private readonly stopped = new Set<number>();
  private readonly book: PartitionBook;

  constructor(
    private readonly ensemble: LocalEnsemble,
    private readonly family: LocalFamily,
    /** How long restart() waits for the server to serve. */
    private readonly startTimeoutMs: number,
  ) {
    this.driver = family.driver;
    this.program = family.program.kind;
    this.spansDir = family.spansDir;
    this.adminToken = ensemble.adminToken();
    const tls = ensemble.tls;
    this.clientTls = tls === null ? null : { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile };
    this.members = ensemble.servers.map((s) => ({
      id: s.id,
      role: s.role,
      host: s.host,
      clientPort: s.clientPort,
      ...(s.secureClientPort === null ? {} : { secureClientPort: s.secureClientPort }),
      httpPort: s.httpPort,
    }));
    this.book = new PartitionBook(this.members.map((m) => m.id));
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

  async status(): Promise<MemberStatus[]> {
    let statuses: ServerStatus[];
    try {
      statuses = await this.ensemble.status();
    } catch {
      statuses = [];
    }
    return this.members.map((m) => {
      const s = statuses.find((x) => x.id === m.id);
      const paused = s?.paused ?? false;
      return { id: m.id, mode: s === undefined ? 'down' : modeOf(s), zxid: s?.zxid ?? null, paused, stopped: this.stopped.has(m.id) };
    });
  }

  async leader(): Promise<number | null> {
    return soleLeader(await this.status());
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
      await this.reconcile(id, Date.now() + FAULT_POST_MS);
    });
  }

  async restart(id: number): Promise<void> {
    await this.fault('restart', id, async () => {
      this.book.forget(id);
      if (this.book.isPartitioned(id)) {
        // Its peers keep it cut off, so it cannot serve: resolve once it runs and has cut them too.
        await this.ensemble.launchServer(id);
        this.stopped.delete(id);
        await this.reconcile(id, Date.now() + this.startTimeoutMs);
        return;
      }
      await this.ensemble.start(id, clampWait(this.startTimeoutMs));
      this.stopped.delete(id);
      await this.reconcile(id, Date.now() + FAULT_POST_MS);
    });
  }

  async partition(id: number): Promise<void> {
    await this.fault('partition', id, async () => {
      this.book.partition(id);
      await this.reconcileReachable();
    });
  }

  async heal(id: number): Promise<void> {
    await this.fault('heal', id, async () => {
      this.book.heal(id);
      await this.reconcileReachable();
    });
  }

  /** Waits for every member that runs, is not paused and is not partitioned by this handle. */
  async waitServing(timeoutMs: number): Promise<void> {
    const ids = this.ensemble.servers.filter((s) => s.pid !== null && !s.paused && !this.book.isPartitioned(s.id)).map((s) => s.id);
    try {
      await this.ensemble.waitServing(ids, clampWait(timeoutMs));
    } catch (err) {
      throw driverError(this.driver, 'waitServing', err);
    }
  }

  pids(): number[] {
    return this.ensemble.servers.flatMap((s) => (s.pid === null ? [] : [s.pid]));
  }

  async down(): Promise<void> {
    try {
      await this.ensemble.down();
    } catch (err) {
      throw driverError(this.driver, 'down', err);
    }
  }

  // ---- internals ------------------------------------------------------------------------

  private member(id: number): Member {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) {
      throw new HarnessError('ZABLAB_BENCH_FAULT', `server ${id} is not a member of this ensemble (ids: ${this.members.map((x) => x.id).join(', ')})`);
    }
    return m;
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

  /**
   * Brings every server that can be told (its process runs and is not paused) in line with
   * the wanted partitions; the others are brought in line when they are resumed or restarted.
   */
  private async reconcileReachable(): Promise<void> {
    const deadline = Date.now() + FAULT_POST_MS;
    const reachable = (await this.ensemble.status()).filter((s) => s.alive && !s.paused);
    await Promise.all(reachable.map((s) => this.reconcile(s.id, deadline)));
  }

  private async reconcile(id: number, deadline: number): Promise<void> {
    if (!this.family.faults.has('partition')) return;
    const plan = this.book.plan(id);
    if (plan.heal.length === 0 && plan.cut.length === 0) return;
    const m = this.member(id);
    if (m.httpPort === null) throw new HarnessError('ZABLAB_BENCH_FAULT', `server ${id} has no HTTP face to apply faults through`);
    await postFaultPlan(`http://${hostPort(m.host, m.httpPort)}`, plan, deadline, this.adminToken);
    this.book.done(id);
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
      ? 'partition and heal need a driver that can cut a server off its peers: local (POST /v1/faults) or compose (the Docker network)'
      : 'kill, pause, resume and restart need a driver that runs the servers: local, zookeeper or compose';
  return new HarnessError('ZABLAB_BENCH_FAULT_UNSUPPORTED', `driver ${driver} cannot ${action} a server; ${where}`);
}

function driverError(driver: EnsembleDriverName, what: string, err: unknown): HarnessError {
  if (err instanceof HarnessError) return err;
  const why = err instanceof Error ? err.message : String(err);
  const hint = err instanceof EnsembleError && err.code === 'ZABLAB_ENSEMBLE_SPEC' ? ' (check the ensemble section of the scenario)' : '';
  return new HarnessError('ZABLAB_BENCH_DRIVER', `driver ${driver}: ${what} failed${hint}: ${why}`);
}
