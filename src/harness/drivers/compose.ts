/**
 * The `compose` ensemble driver: zablab servers as containers of one docker compose project,
 * started through testcontainers' DockerComposeEnvironment. Every server publishes its client
 * port and HTTP face on 127.0.0.1 (ports picked free on this host), so members look like the
 * local driver's; a remote Docker engine is not supported (zoo.cfg files are bind mounts).
 *
 * Faults go through the engine: kill = `docker kill` (SIGKILL to the container's init),
 * restart = `docker start` (resolves once the server serves again), pause/resume =
 * `docker pause`/`unpause` (the cgroup freezer), partition = disconnect the container from
 * the compose project's `peers` network, heal = connect it again under its peer name. Only
 * peer traffic runs on `peers`, so a partitioned server's clients still reach it through its
 * published port; its peers' TCP connections to it die as on a real network, and after a
 * heal it rejoins once TCP retransmission or a new connection gets through (seconds).
 * A partition is the container's network configuration: it survives kill and restart.
 *
 * Needs: a Docker engine (DOCKER_HOST or the default socket), Compose (`docker compose` v2,
 * else `docker-compose` 1.29), the image (default zablab:latest: `docker build -t zablab .`),
 * and the testcontainers package. Without registry access set TESTCONTAINERS_RYUK_DISABLED=true
 * (testcontainers' reaper is an image it would pull); down() removes everything anyway.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import type { StartedDockerComposeEnvironment, WaitStrategy } from 'testcontainers';
import { HarnessError } from '../errors.js';
import { DEFAULT_UP_TIMEOUT_MS, fourLetterWord, readAdminToken } from '../ensemble/index.js';
import { PORTS_PER_SERVER, allocatePorts } from '../ensemble/layout.js';
import {
  COMPOSE_FILE,
  DEFAULT_BIND_ADDRESS,
  DEFAULT_IMAGE,
  PEERS_NETWORK,
  composeServers,
  writeComposeDir,
  type ComposeServer,
  type ComposeSpec,
} from '../compose/index.js';
import { FAULT_ACTIONS, type EnsembleDriverName, type FaultAction } from '../scenario/types.js';
import { PROBE_TIMEOUT_MS, connectStringOf, hostPort, httpUrlsOf, memberMetrics, probeSrvr, soleLeader, waitMembersServing } from './probe.js';
import { samplerEnv } from './sampler-env.js';
import type { EnsembleDriver, EnsembleHandle, Member, MemberMetrics, MemberStatus, UpOptions } from './types.js';

export const COMPOSE_FAULTS: ReadonlySet<FaultAction> = new Set(FAULT_ACTIONS);

export interface ComposeDriverOptions {
  /** The zablab image every server runs (default zablab:latest); it must be on the engine already. */
  image?: string;
  /** Which Compose to run: v2 (`docker compose`) or v1 (`docker-compose`); default: v2 when it answers, else v1. */
  compose?: 'v1' | 'v2';
}

/** The project's files go here, inside UpOptions.dir. */
const COMPOSE_SUBDIR = 'compose';
const DOCKER_OP_TIMEOUT_MS = 30_000;
const STOP_POLL_MS = 100;
const LOG_TAIL_LINES = 15;
const DOWN_TIMEOUT_MS = 10_000;
const CLI_TIMEOUT_MS = 10_000;

export function composeDriver(opts: ComposeDriverOptions = {}): EnsembleDriver {
  const image = opts.image ?? DEFAULT_IMAGE;
  return {
    name: 'compose',
    faults: COMPOSE_FAULTS,
    up: (up) => upCompose(up, image, opts.compose),
  };
}

type Testcontainers = typeof import('testcontainers');

async function loadTestcontainers(): Promise<Testcontainers> {
  try {
    return await import('testcontainers');
  } catch (err) {
    throw driverError(`the compose driver needs the testcontainers package (npm install testcontainers@11): ${message(err)}`);
  }
}

async function upCompose(opts: UpOptions, image: string, compose: 'v1' | 'v2' | undefined): Promise<EnsembleHandle> {
  if (opts.tls === true) throw new HarnessError('ZABLAB_BENCH_DRIVER', 'driver compose: ensemble.tls is for drivers local and zookeeper (the compose file has no secureClientPort yet)');
  if (opts.peerSecurity !== undefined) throw new HarnessError('ZABLAB_BENCH_DRIVER', 'driver compose: ensemble.peerSecurity is for drivers local and zookeeper (the compose file has its own quorum secret)');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_UP_TIMEOUT_MS;
  const tc = await loadTestcontainers();
  // Members are reached on this host's 127.0.0.1, so that is testcontainers' host too; left
  // to itself inside a container (/.dockerenv) it asks for the gateway of a `bridge` network,
  // which an engine run with --bridge=none does not have.
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= DEFAULT_BIND_ADDRESS;
  let docker: Dockerode;
  try {
    docker = (await tc.getContainerRuntimeClient()).container.dockerode;
  } catch (err) {
    throw driverError(`no Docker engine answers (DOCKER_HOST=${process.env['DOCKER_HOST'] ?? 'unset'}): ${message(err)}; start one or point DOCKER_HOST at it`);
  }
  await checkImage(docker, image);
  const which = compose ?? (await detectCompose());

  const total = opts.voters + opts.observers;
  const ports = await allocatePorts(total);
  const spansDir = opts.spansDir === undefined ? null : path.resolve(opts.spansDir);
  if (spansDir !== null) {
    fs.mkdirSync(spansDir, { recursive: true });
    // The servers run as an unprivileged user (uid 1000 in the image), not as whoever runs us.
    fs.chmodSync(spansDir, 0o777);
  }
  const spec: ComposeSpec = {
    voters: opts.voters,
    observers: opts.observers,
    image,
    config: opts.config,
    // Of each server's ports we publish the first (client) and the last (HTTP).
    clientPorts: Array.from({ length: total }, (_, k) => ports[k * PORTS_PER_SERVER]!),
    httpPorts: Array.from({ length: total }, (_, k) => ports[k * PORTS_PER_SERVER + PORTS_PER_SERVER - 1]!),
    bindAddress: DEFAULT_BIND_ADDRESS,
    stack: false,
    spansDir,
    env: spansDir === null ? {} : samplerEnv(opts.spansSample),
  };
  let written;
  try {
    written = writeComposeDir(path.join(path.resolve(opts.dir), COMPOSE_SUBDIR), spec);
  } catch (err) {
    throw driverError(`cannot write the compose project: ${message(err)}`);
  }

  const project = `zablab-${crypto.randomBytes(4).toString('hex')}`;
  let environment = new tc.DockerComposeEnvironment(written.dir, COMPOSE_FILE).withProjectName(project).withDefaultWaitStrategy(new NoWait());
  if (which === 'v1') environment = environment.withClientOptions({ executable: { standalone: true, executablePath: 'docker-compose' } });
  let started: StartedDockerComposeEnvironment;
  try {
    started = await environment.up();
  } catch (err) {
    throw driverError(`docker compose up of ${written.composeFile} failed: ${message(err)}`);
  }
  const adminToken = written.adminTokenFile === null ? null : readAdminToken(written.adminTokenFile);
  const handle = new ComposeEnsembleHandle(docker, started, project, composeServers(spec), spansDir, timeoutMs, adminToken);
  try {
    await handle.attach();
    await handle.waitServing(timeoutMs);
  } catch (err) {
    const logs = await handle.logsOfUnready();
    await handle.down().catch(() => undefined);
    throw driverError(`${message(err)}${logs}\n(the project was taken down; its files stay in ${written.dir})`);
  }
  return handle;
}

/** testcontainers waits per container; we wait for the ensemble instead (see waitServing). */
class NoWait implements WaitStrategy {
  private timeoutMs = DEFAULT_UP_TIMEOUT_MS;
  waitUntilReady(): Promise<void> {
    return Promise.resolve();
  }
  withStartupTimeout(ms: number): WaitStrategy {
    this.timeoutMs = ms;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return false;
  }
  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}

async function checkImage(docker: Dockerode, image: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404) {
      throw driverError(`image ${image} is not on the Docker engine; build it from the zablab source tree: docker build -t ${image} .`);
    }
    throw driverError(`cannot inspect image ${image}: ${message(err)}`);
  }
}

/** v2 when `docker compose version` answers, else v1 when `docker-compose version` does. */
async function detectCompose(): Promise<'v1' | 'v2'> {
  if (await answers('docker', ['compose', 'version'])) return 'v2';
  if (await answers('docker-compose', ['version'])) return 'v1';
  throw driverError('neither `docker compose` (Compose v2) nor `docker-compose` (v1) runs here; install one (Debian: apt-get install docker-compose)');
}

function answers(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: CLI_TIMEOUT_MS }, (err) => resolve(err === null));
  });
}

interface ServerContainer {
  server: ComposeServer;
  container: Dockerode.Container;
  /** The server process's pid on this host (the init's child), when the engine runs here. */
  pid: number | null;
}

export class ComposeEnsembleHandle implements EnsembleHandle {
  readonly driver: EnsembleDriverName = 'compose';
  readonly program = 'zablab' as const;
  readonly clientTls = null;
  readonly members: readonly Member[];
  private readonly containers = new Map<number, ServerContainer>();
  private peers: Dockerode.Network | null = null;
  private readonly stopped = new Set<number>();
  private readonly paused = new Set<number>();
  private readonly partitioned = new Set<number>();
  private downed = false;

  constructor(
    private readonly docker: Dockerode,
    private readonly env: StartedDockerComposeEnvironment,
    /** The compose project name (containers, networks and volumes carry it as a label). */
    readonly project: string,
    private readonly servers: readonly ComposeServer[],
    readonly spansDir: string | null,
    /** How long restart() waits for the server to serve. */
    private readonly startTimeoutMs: number,
    /** The HTTP face's token (the project's admin-token), null when credentials are off. */
    readonly adminToken: string | null,
  ) {
    this.members = servers.map((s) => ({ id: s.id, role: s.role, host: DEFAULT_BIND_ADDRESS, clientPort: s.clientHostPort, httpPort: s.httpHostPort }));
  }

  /** Finds each server's container and the peers network by their compose labels. */
  async attach(): Promise<void> {
    const label = `com.docker.compose.project=${this.project}`;
    const list = await this.docker.listContainers({ all: true, filters: { label: [label] } });
    for (const s of this.servers) {
      const info = list.find((c) => c.Labels['com.docker.compose.service'] === s.service);
      if (info === undefined) throw driverError(`compose started no container for service ${s.service} (project ${this.project})`);
      const container = this.docker.getContainer(info.Id);
      this.containers.set(s.id, { server: s, container, pid: null });
      await this.refreshPid(s.id);
    }
    const networks = await this.docker.listNetworks({ filters: { label: [label, `com.docker.compose.network=${PEERS_NETWORK}`] } });
    if (networks.length !== 1) throw driverError(`expected one "${PEERS_NETWORK}" network in compose project ${this.project}, found ${networks.length}`);
    this.peers = this.docker.getNetwork(networks[0]!.Id);
  }

  connectString(): string {
    return connectStringOf(this.members);
  }

  httpUrls(): string[] {
    return httpUrlsOf(this.members);
  }

  async status(): Promise<MemberStatus[]> {
    return Promise.all(
      this.members.map(async (m): Promise<MemberStatus> => {
        const paused = this.paused.has(m.id);
        const stopped = this.stopped.has(m.id);
        // A frozen container would only time the probe out.
        if (paused || stopped || this.downed) return { id: m.id, mode: 'down', zxid: null, paused, stopped };
        const p = await probeSrvr(m);
        return { id: m.id, mode: p.mode, zxid: p.zxid, paused, stopped };
      }),
    );
  }

  async leader(): Promise<number | null> {
    return soleLeader(await this.status());
  }

  metrics(id: number): Promise<MemberMetrics> {
    return memberMetrics(this.member(id));
  }

  async kill(id: number): Promise<void> {
    await this.fault('kill', id, async (c) => {
      try {
        await c.container.kill({ signal: 'SIGKILL' });
      } catch (err) {
        // 409: it is not running (already gone); the wait below confirms.
        if ((err as { statusCode?: number }).statusCode !== 409) throw err;
      }
      await this.waitNotRunning(c);
      this.stopped.add(id);
      this.paused.delete(id);
      c.pid = null;
    });
  }

  async pause(id: number): Promise<void> {
    await this.fault('pause', id, async (c) => {
      if (this.stopped.has(id)) throw faultError(`server ${id} was killed; restart it before pausing it`);
      if (this.paused.has(id)) return;
      await c.container.pause();
      this.paused.add(id);
    });
  }

  async resume(id: number): Promise<void> {
    await this.fault('resume', id, async (c) => {
      if (!this.paused.has(id)) return;
      await c.container.unpause();
      this.paused.delete(id);
    });
  }

  async restart(id: number): Promise<void> {
    await this.fault('restart', id, async (c) => {
      if (!this.stopped.has(id)) throw faultError(`server ${id} is running; kill it before restarting it`);
      await c.container.start();
      this.stopped.delete(id);
      await this.refreshPid(id);
      if (this.partitioned.has(id)) {
        // Cut off from its peers it cannot serve: resolve once it answers its clients.
        await this.waitAnswering(c.server, this.startTimeoutMs);
        return;
      }
      await waitMembersServing(this.members, () => this.status(), [id], this.startTimeoutMs);
    });
  }

  async partition(id: number): Promise<void> {
    await this.fault('partition', id, async (c) => {
      if (this.partitioned.has(id)) return;
      await this.peersNetwork().disconnect({ Container: c.container.id, Force: true });
      this.partitioned.add(id);
    });
  }

  async heal(id: number): Promise<void> {
    await this.fault('heal', id, async (c) => {
      if (!this.partitioned.has(id)) return;
      await this.peersNetwork().connect({ Container: c.container.id, EndpointConfig: { Aliases: [c.server.peerHost] } });
      this.partitioned.delete(id);
    });
  }

  /** Partitions by mode are not made under compose yet. */
  partitionSides(): Promise<void> {
    return Promise.reject(new HarnessError('ZABLAB_BENCH_FAULT_UNSUPPORTED', 'driver compose cannot cut the network into sides yet; use driver local'));
  }

  healSides(): Promise<void> {
    return Promise.reject(new HarnessError('ZABLAB_BENCH_FAULT_UNSUPPORTED', 'driver compose cannot cut the network into sides yet; use driver local'));
  }

  /** Heals every partitioned member. */
  async healAll(): Promise<void> {
    for (const id of [...this.partitioned]) await this.heal(id);
  }

  /** Waits for every member that runs, is not paused and is not partitioned by this handle. */
  async waitServing(timeoutMs: number): Promise<void> {
    const ids = this.members.map((m) => m.id).filter((id) => !this.stopped.has(id) && !this.paused.has(id) && !this.partitioned.has(id));
    await waitMembersServing(this.members, () => this.status(), ids, timeoutMs);
  }

  pids(): number[] {
    return [...this.containers.values()].flatMap((c) => (c.pid === null ? [] : [c.pid]));
  }

  /** `compose down -v`: containers, networks and data volumes go; the compose files and spans stay. */
  async down(): Promise<void> {
    if (this.downed) return;
    this.downed = true;
    for (const c of this.containers.values()) c.pid = null;
    // A frozen container cannot be stopped gracefully.
    for (const id of this.paused) await this.containers.get(id)?.container.unpause().catch(() => undefined);
    this.paused.clear();
    try {
      await this.env.down({ removeVolumes: true, timeout: DOWN_TIMEOUT_MS });
    } catch (err) {
      throw driverError(`docker compose down of project ${this.project} failed: ${message(err)}; remove it with: docker-compose -p ${this.project} down -v`);
    }
  }

  /** The last log lines of every member that does not serve now, for an error message. */
  async logsOfUnready(): Promise<string> {
    const statuses = await this.status().catch(() => []);
    const parts: string[] = [];
    for (const s of statuses) {
      if (s.mode !== 'down' && s.mode !== 'looking') continue;
      const c = this.containers.get(s.id);
      if (c === undefined) continue;
      const text = await containerLogTail(c.container);
      parts.push(`\n--- ${c.server.service} (${s.mode}), last ${LOG_TAIL_LINES} log lines:\n${text}`);
    }
    return parts.join('');
  }

  // ---- internals ------------------------------------------------------------------------

  private member(id: number): Member {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw faultError(`server ${id} is not a member of this ensemble (ids: ${this.members.map((x) => x.id).join(', ')})`);
    return m;
  }

  private peersNetwork(): Dockerode.Network {
    if (this.peers === null) throw faultError('the handle is not attached to its compose project');
    return this.peers;
  }

  private async fault(action: FaultAction, id: number, apply: (c: ServerContainer) => Promise<void>): Promise<void> {
    this.member(id);
    const c = this.containers.get(id);
    if (c === undefined || this.downed) throw faultError(`cannot ${action} server ${id}: the compose project is ${this.downed ? 'down' : 'not attached'}`);
    try {
      await apply(c);
    } catch (err) {
      if (err instanceof HarnessError) throw err;
      throw faultError(`${action} of server ${id} (${c.server.service}) failed (driver compose): ${message(err)}`);
    }
  }

  private async waitNotRunning(c: ServerContainer): Promise<void> {
    const deadline = Date.now() + DOCKER_OP_TIMEOUT_MS;
    while ((await c.container.inspect()).State.Running) {
      if (Date.now() >= deadline) throw faultError(`${c.server.service} still runs ${DOCKER_OP_TIMEOUT_MS} ms after docker kill`);
      await sleep(STOP_POLL_MS);
    }
  }

  /**
   * Until the server answers srvr at all. docker-proxy accepts on the published port before
   * the server listens and then closes without a word: only an answer counts.
   */
  private async waitAnswering(s: ComposeServer, timeoutMs: number): Promise<void> {
    const m = this.member(s.id);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let why: string;
      try {
        if ((await fourLetterWord(m.host, m.clientPort, 'srvr', PROBE_TIMEOUT_MS)).trim() !== '') return;
        why = 'the connection closed without an answer';
      } catch (err) {
        why = message(err);
      }
      if (Date.now() >= deadline) throw faultError(`${s.service} did not answer srvr within ${timeoutMs} ms of docker start: ${why}`);
      await sleep(STOP_POLL_MS * 2);
    }
  }

  /** The server's pid on this host: the child of the container's init (tini), when /proc shows it. */
  private async refreshPid(id: number): Promise<void> {
    const c = this.containers.get(id)!;
    const initPid = (await c.container.inspect()).State.Pid;
    c.pid = initPid > 0 ? serverPid(initPid) : null;
  }
}

/** The node process under the container's init, or null when this host cannot see it (remote engine). */
function serverPid(initPid: number): number | null {
  const isServer = (pid: number): boolean => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('main.js');
    } catch {
      return false;
    }
  };
  if (isServer(initPid)) return initPid;
  let children: number[];
  try {
    children = fs.readFileSync(`/proc/${initPid}/task/${initPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return null;
  }
  return children.find(isServer) ?? null;
}

async function containerLogTail(container: Dockerode.Container): Promise<string> {
  try {
    const raw = (await container.logs({ stdout: true, stderr: true, tail: LOG_TAIL_LINES, follow: false })) as unknown as Buffer;
    return demuxLogs(raw).trimEnd();
  } catch (err) {
    return `(no logs: ${message(err)})`;
  }
}

/** Docker's log stream without a TTY: frames of [stream, 0, 0, 0, size (u32 BE)] + payload. */
export function demuxLogs(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length && raw[at]! <= 2 && raw[at + 1] === 0 && raw[at + 2] === 0 && raw[at + 3] === 0) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  if (at < raw.length) parts.push(raw.subarray(at));
  return Buffer.concat(parts).toString('utf8');
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function driverError(text: string): HarnessError {
  return new HarnessError('ZABLAB_BENCH_DRIVER', `driver compose: ${text}`);
}

function faultError(text: string): HarnessError {
  return new HarnessError('ZABLAB_BENCH_FAULT', text);
}
