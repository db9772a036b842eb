/**
 * The `compose` ensemble driver: zablab servers as containers of one docker compose project,
 * started through testcontainers' DockerComposeEnvironment. Every server publishes its client
 * port and HTTP face on 127.0.0.1 (ports picked free on this host), so members look like the
 * local driver's; a remote Docker engine is not supported (zoo.cfg files are bind mounts).
 *
 * Faults go through the engine: kill = `docker kill` (SIGKILL to the container's init),
 * restart = `docker start` (resolves once the server serves again), pause/resume =
 * `docker pause`/`unpause` (the cgroup freezer), partition = disconnect the container from
 * the compose project's `peers` network, heal = connect it again under its peer name, and
 * sides = one internal network per side (compose-networks.ts): the first side keeps `peers`,
 * the others move to networks this handle makes (and removes in down()). Only peer traffic
 * runs on these networks, so a partitioned server's clients still reach it through its
 * published port; its peers' TCP connections to it die as on a real network, and after a
 * heal it rejoins once TCP retransmission or a new connection gets through (seconds). A
 * container that leaves a network loses its address there, so a connection made over it can
 * never carry a packet again; after each move the driver has zablab close and redial exactly
 * those links (its fault hook), or an idle one would wait minutes for TCP to give up.
 * A partition is the containers' network configuration: it survives kill and restart.
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
import { checkSides, type Sides } from '../nemesis/sides.js';
import { networksNeeded, peerNetworksFor, staleLinks, type PeerNetworkIndex } from './compose-networks.js';
import { postFaultPlan, servableMembers } from './partitions.js';
import { PROBE_TIMEOUT_MS, connectStringOf, hostPort, httpUrlsOf, memberMetrics, probeSrvr, soleLeader, waitMembersServing } from './probe.js';
import { samplerEnv } from './sampler-env.js';
import { unsupportedFault } from './local.js';
import type { EnsembleDriver, EnsembleHandle, Member, MemberMetrics, MemberStatus, UpOptions } from './types.js';

/** Every fault but add-observer: compose starts every service of its file at once. */
export const COMPOSE_FAULTS: ReadonlySet<FaultAction> = new Set(FAULT_ACTIONS.filter((a) => a !== 'add-observer'));

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
/** How long renewing a member's links keeps trying to reach its HTTP face. */
const FAULT_POST_MS = 10_000;

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
  /** The peer networks: `peers` first, then those made for sides (see compose-networks.ts). */
  private readonly peerNetworks: Dockerode.Network[] = [];
  private readonly stopped = new Set<number>();
  private readonly paused = new Set<number>();
  private readonly partitioned = new Set<number>();
  private sides: Sides | null = null;
  /** The peer networks (by index) each member is on now. */
  private readonly attached = new Map<number, Set<PeerNetworkIndex>>();
  /** Per member, peers whose connections a network move left stale and that it has not redialed yet. */
  private readonly stale = new Map<number, Set<number>>();
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
    this.peerNetworks.push(this.docker.getNetwork(networks[0]!.Id));
    for (const s of this.servers) this.attached.set(s.id, new Set([0]));
  }

  connectString(): string {
    return connectStringOf(this.members);
  }

  httpUrls(): string[] {
    return httpUrlsOf(this.members);
  }

  async status(among?: readonly number[]): Promise<MemberStatus[]> {
    return Promise.all(
      this.members.filter((m) => among === undefined || among.includes(m.id)).map(async (m): Promise<MemberStatus> => {
        const paused = this.paused.has(m.id);
        const stopped = this.stopped.has(m.id);
        // A frozen container would only time the probe out.
        if (paused || stopped || this.downed) return { id: m.id, mode: 'down', zxid: null, paused, stopped };
        const p = await probeSrvr(m);
        return { id: m.id, mode: p.mode, zxid: p.zxid, paused, stopped };
      }),
    );
  }

  async leader(among?: readonly number[]): Promise<number | null> {
    return soleLeader(await this.status(among));
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
      // It may have changed networks while frozen.
      await this.renewLinks(id);
    });
  }

  async restart(id: number): Promise<void> {
    await this.fault('restart', id, async (c) => {
      if (!this.stopped.has(id)) throw faultError(`server ${id} is running; kill it before restarting it`);
      await c.container.start();
      this.stopped.delete(id);
      await this.refreshPid(id);
      if (this.servable()?.includes(id) !== true) {
        // Its cuts keep it from a quorum, so it cannot serve: resolve once it answers its clients.
        await this.waitAnswering(c.server, this.startTimeoutMs);
        return;
      }
      await waitMembersServing(this.members, () => this.status(), [id], this.startTimeoutMs);
    });
  }

  async partition(id: number): Promise<void> {
    await this.fault('partition', id, async () => {
      this.partitioned.add(id);
      await this.syncNetworks();
    });
  }

  async heal(id: number): Promise<void> {
    await this.fault('heal', id, async () => {
      this.partitioned.delete(id);
      await this.syncNetworks();
    });
  }

  async partitionSides(sides: Sides): Promise<void> {
    await this.networkFault('partition', async () => {
      checkSides(this.members.map((m) => m.id), sides);
      this.sides = sides.map((side) => [...side]);
      await this.syncNetworks();
    });
  }

  async healSides(): Promise<void> {
    await this.networkFault('heal', async () => {
      this.sides = null;
      await this.syncNetworks();
    });
  }

  async healAll(): Promise<void> {
    await this.networkFault('heal', async () => {
      this.sides = null;
      this.partitioned.clear();
      await this.syncNetworks();
    });
  }

  /**
   * Waits for every member that runs, is not paused and can serve under this handle's cuts
   * (not partitioned; with sides, on the one side that holds a quorum of voters). Throws FAULT
   * while two sides can each hold a quorum (a bridge): which serves depends on who leads.
   */
  async waitServing(timeoutMs: number): Promise<void> {
    const servable = this.servable();
    if (servable === null) throw faultError('waitServing: two sides can each hold a quorum (a bridge), so which members serve depends on who leads; heal first');
    const ids = servable.filter((id) => !this.stopped.has(id) && !this.paused.has(id));
    await waitMembersServing(this.members, () => this.status(), ids, timeoutMs);
  }

  addObserver(): Promise<number> {
    return Promise.reject(unsupportedFault(this.driver, 'add-observer'));
  }

  spareObservers(): number[] {
    return [];
  }

  memberFiles(): null {
    return null;
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
    } finally {
      // The networks made for sides are not in the compose file: compose leaves them.
      for (const n of this.peerNetworks.splice(1)) await n.remove().catch(() => undefined);
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

  /**
   * Moves every container onto the peer networks the wanted cuts give it (compose-networks.ts):
   * every disconnect first, then every connect, so no moment joins members that should be apart.
   */
  private async syncNetworks(): Promise<void> {
    if (this.peerNetworks.length === 0) throw faultError('the handle is not attached to its compose project');
    const plan = peerNetworksFor(this.members.map((m) => m.id), this.partitioned, this.sides);
    const before = new Map([...this.attached].map(([id, nets]) => [id, new Set(nets)]));
    await this.ensureNetworks(networksNeeded(plan));
    for (const [id, want] of plan) {
      const have = this.attached.get(id)!;
      for (const k of [...have].filter((x) => !want.has(x))) {
        await this.peerNetworks[k]!.disconnect({ Container: this.containers.get(id)!.container.id, Force: true });
        have.delete(k);
      }
    }
    for (const [id, want] of plan) {
      const have = this.attached.get(id)!;
      const c = this.containers.get(id)!;
      for (const k of [...want].filter((x) => !have.has(x))) {
        await this.peerNetworks[k]!.connect({ Container: c.container.id, EndpointConfig: { Aliases: [c.server.peerHost] } });
        have.add(k);
      }
    }
    for (const [id, peers] of staleLinks(before, this.attached)) {
      const pending = this.stale.get(id) ?? new Set<number>();
      for (const p of peers) pending.add(p);
      this.stale.set(id, pending);
    }
    await Promise.all([...this.stale.keys()].map((id) => this.renewLinks(id)));
  }

  /**
   * A move left these links stale (compose-networks.ts staleLinks), and an idle one would wait
   * for TCP to give up, minutes later: zablab's fault hook closes the member's connections to
   * those peers and dials them again at once. A paused member is told when it is resumed; a
   * killed one starts with no connection at all.
   */
  private async renewLinks(id: number): Promise<void> {
    const peers = this.stale.get(id);
    if (peers === undefined || this.paused.has(id)) return;
    this.stale.delete(id);
    const m = this.member(id);
    if (this.stopped.has(id) || m.httpPort === null || peers.size === 0) return;
    const list = [...peers].sort((a, b) => a - b);
    const url = `http://${hostPort(m.host, m.httpPort)}`;
    const deadline = Date.now() + FAULT_POST_MS;
    await postFaultPlan(url, { cut: list, heal: [] }, deadline, this.adminToken);
    await postFaultPlan(url, { cut: [], heal: list }, deadline, this.adminToken);
  }

  /** Makes peer networks until there are n: internal, labelled with the project (down() removes them). */
  private async ensureNetworks(n: number): Promise<void> {
    while (this.peerNetworks.length < n) {
      const name = `${this.project}_${PEERS_NETWORK}${this.peerNetworks.length + 1}`;
      const created = await this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        Internal: true,
        CheckDuplicate: true,
        Labels: { 'com.docker.compose.project': this.project, 'zablab.peer-side': String(this.peerNetworks.length) },
      });
      this.peerNetworks.push(created);
    }
  }

  private async networkFault(action: 'partition' | 'heal', apply: () => Promise<void>): Promise<void> {
    if (this.downed || this.peerNetworks.length === 0) throw faultError(`cannot ${action} the network: the compose project is ${this.downed ? 'down' : 'not attached'}`);
    try {
      await apply();
    } catch (err) {
      if (err instanceof HarnessError) throw err;
      throw faultError(`${action} of the network failed (driver compose): ${message(err)}`);
    }
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

  /** The members that can serve under this handle's cuts (servableMembers). */
  private servable(): number[] | null {
    return servableMembers(
      this.members.map((m) => m.id),
      this.members.filter((m) => m.role === 'voter').map((m) => m.id),
      this.partitioned,
      this.sides,
    );
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
