/**
 * The ensemble's layout: spec validation, server ids and ports, and each server's zoo.cfg.
 * Voters take ids 1..V and observers V+1..V+O; every server listens on 127.0.0.1 only.
 */
import net from 'node:net';
import path from 'node:path';
import { EnsembleError } from './errors.js';
import { checkPeerSecurity, peerLayoutKeys, type PeerSecurityMode } from './peer-credentials.js';
import { tlsZooCfg, type EnsembleTls } from './tls-files.js';

export interface EnsembleSpec {
  voters: number;
  observers: number;
  /**
   * Observers after the others (ids V+O+1..): every zoo.cfg lists them, up() does not start
   * them; `start(id)` brings one in later, and it joins the leader like any restarted learner.
   */
  spareObservers?: number;
  dir: string;
  /** zoo.cfg overrides (`--set key=value`); the layout's own keys (ports, dataDir, server.N) cannot be overridden. */
  config?: Record<string, string>;
  /** Added to this process's environment for every server. Kept in memory only (never written to disk). */
  env?: Record<string, string>;
  /**
   * Server k (0-based, in id order) gets base+4k (client), +1 (quorum), +2 (election), +3 (admin
   * HTTP); with tls, secureClientPort base+4n+k after all of them (n servers). Default: OS-assigned free ports.
   */
  basePort?: number;
  /** Serve TLS on a secureClientPort per server, with certificates written to DIR/tls (see tls-files.ts). */
  tls?: boolean;
  /** How long up() waits for every server to serve (default 60 s). */
  timeoutMs?: number;
  /** How the servers authenticate each other (peer-credentials.ts); default `secret` for zablab, `none` for Apache ZooKeeper. */
  peerSecurity?: PeerSecurityMode;
  /**
   * Where each server dials each other server's quorum and election ports (default: the peer's
   * own ports). Called once the ports are known, before any zoo.cfg is written: the harness's
   * peer relay (drivers/peer-relay.ts) listens in between.
   */
  routePeers?: (servers: readonly EnsembleServer[]) => Promise<PeerRoute>;
}

/** The address and the quorum and election ports server `from` dials to reach server `to`. */
export type PeerRoute = (from: number, to: number) => { host: string; quorumPort: number; electionPort: number };

export type ServerRole = 'voter' | 'observer';

export interface EnsembleServer {
  id: number;
  role: ServerRole;
  host: string;
  clientPort: number;
  /** secureClientPort; null when the ensemble serves no TLS. */
  secureClientPort: number | null;
  /** admin.serverPort: the HTTP face. */
  httpPort: number;
  quorumPort: number;
  electionPort: number;
  /** null when the server is not running (never started, killed, or stopped by `down`). */
  pid: number | null;
  /** Stopped with SIGSTOP and not yet continued. */
  paused: boolean;
  /** DIR/s<id>: zoo.cfg, server.log. */
  serverDir: string;
  configFile: string;
  dataDir: string;
  logFile: string;
}

export const ENSEMBLE_HOST = '127.0.0.1';
export const MAX_ENSEMBLE_SERVERS = 32;
export const DEFAULT_UP_TIMEOUT_MS = 60_000;
export const MIN_TIMEOUT_MS = 1_000;
export const MAX_TIMEOUT_MS = 3_600_000;
/** Ports allocatePorts hands out per server: client, quorum, election, HTTP (in that order). */
export const PORTS_PER_SERVER = 4;
const MIN_BASE_PORT = 1024;
const MAX_OVERRIDES = 256;
const MAX_OVERRIDE_CHARS = 4_096;

/** zoo.cfg keys the layout owns; overriding them would make ensemble.json lie (or point a server at another's credentials). */
const LAYOUT_KEYS = new Set([
  'dataDir',
  'clientPort',
  'clientPortAddress',
  'secureClientPort',
  'secureClientPortAddress',
  'admin.serverPort',
  'admin.tokenFile',
  'quorum.auth.secretFile',
  'peerType',
  'dynamicConfigFile',
]);

/** Ports per server: PORTS_PER_SERVER, and a secureClientPort with TLS. */
export function portsPerServer(tls: boolean): number {
  return PORTS_PER_SERVER + (tls ? 1 : 0);
}

/** Checks a spec and throws a SPEC error that names the field and its allowed range. */
export function validateSpec(spec: EnsembleSpec): void {
  const spares = spec.spareObservers ?? 0;
  if (!Number.isInteger(spares) || spares < 0 || spares > MAX_ENSEMBLE_SERVERS - 1) {
    throw specError(`spare observers must be an integer from 0 to ${MAX_ENSEMBLE_SERVERS - 1}, got ${spares}`);
  }
  const total = spec.voters + spec.observers + spares;
  if (!Number.isInteger(spec.voters) || spec.voters < 1 || spec.voters > MAX_ENSEMBLE_SERVERS) {
    throw specError(`voters must be an integer from 1 to ${MAX_ENSEMBLE_SERVERS}, got ${spec.voters}`);
  }
  if (!Number.isInteger(spec.observers) || spec.observers < 0 || spec.observers > MAX_ENSEMBLE_SERVERS - 1) {
    throw specError(`observers must be an integer from 0 to ${MAX_ENSEMBLE_SERVERS - 1}, got ${spec.observers}`);
  }
  if (total > MAX_ENSEMBLE_SERVERS) throw specError(`voters + observers + spare observers must be at most ${MAX_ENSEMBLE_SERVERS}, got ${total}`);
  if (typeof spec.dir !== 'string' || spec.dir.trim() === '') throw specError('dir must name a directory');
  if (spec.basePort !== undefined) {
    const each = portsPerServer(spec.tls === true);
    const maxBase = 65_536 - each * total;
    if (!Number.isInteger(spec.basePort) || spec.basePort < MIN_BASE_PORT || spec.basePort > maxBase) {
      throw specError(`base port must be an integer from ${MIN_BASE_PORT} to ${maxBase} for ${total} servers (${each} ports each), got ${spec.basePort}`);
    }
  }
  if (spec.timeoutMs !== undefined) validateTimeout(spec.timeoutMs);
  validateOverrides(spec.config ?? {}, new Set([...LAYOUT_KEYS, ...peerLayoutKeys(spec.peerSecurity ?? 'secret')]));
  checkPeerSecurity(spec.peerSecurity, spec.config ?? {});
}

export function validateTimeout(timeoutMs: number): void {
  if (!Number.isInteger(timeoutMs) || timeoutMs < MIN_TIMEOUT_MS || timeoutMs > MAX_TIMEOUT_MS) {
    throw specError(`timeout must be an integer number of ms from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}, got ${timeoutMs}`);
  }
}

function validateOverrides(config: Record<string, string>, layoutKeys: ReadonlySet<string>): void {
  const entries = Object.entries(config);
  if (entries.length > MAX_OVERRIDES) throw specError(`at most ${MAX_OVERRIDES} zoo.cfg overrides, got ${entries.length}`);
  for (const [key, value] of entries) {
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(key)) throw specError(`"${key}" is not a zoo.cfg key (letters, digits, '.', '_', '-')`);
    if (layoutKeys.has(key) || /^server\.\d+$/.test(key)) {
      throw specError(
        `zoo.cfg key ${key} is set by the ensemble layout and cannot be overridden (ports: use the base port; dataDir: use the directory; admin.tokenFile: DIR/admin-token; peer credentials: --peer-security)`,
      );
    }
    if (typeof value !== 'string' || /[\r\n]/.test(value) || value.length > MAX_OVERRIDE_CHARS) {
      throw specError(`the value of ${key} must be one line of at most ${MAX_OVERRIDE_CHARS} characters`);
    }
  }
}

/** Parses `key=value` (the CLI's --set). */
export function parseOverride(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw specError(`"${text}" is not key=value`);
  return [text.slice(0, eq).trim(), text.slice(eq + 1).trim()];
}

/** Servers in id order, with their ports, directories and files; none is running yet. */
export function planServers(spec: EnsembleSpec, ports: number[]): EnsembleServer[] {
  const dir = path.resolve(spec.dir);
  const total = spec.voters + spec.observers + (spec.spareObservers ?? 0);
  const tls = spec.tls === true;
  const need = total * portsPerServer(tls);
  if (ports.length !== need) throw new RangeError(`planServers: need ${need} ports, got ${ports.length}`);
  const servers: EnsembleServer[] = [];
  for (let k = 0; k < total; k++) {
    const id = k + 1;
    const serverDir = path.join(dir, `s${id}`);
    const [clientPort, quorumPort, electionPort, httpPort] = ports.slice(k * PORTS_PER_SERVER, (k + 1) * PORTS_PER_SERVER) as [number, number, number, number];
    servers.push({
      id,
      role: id <= spec.voters ? 'voter' : 'observer',
      host: ENSEMBLE_HOST,
      clientPort,
      secureClientPort: tls ? ports[total * PORTS_PER_SERVER + k]! : null,
      httpPort,
      quorumPort,
      electionPort,
      pid: null,
      paused: false,
      serverDir,
      configFile: path.join(serverDir, 'zoo.cfg'),
      dataDir: path.join(serverDir, 'data'),
      logFile: path.join(serverDir, 'server.log'),
    });
  }
  return servers;
}

/**
 * The membership part of a server's zoo.cfg: peerType for an observer, standaloneEnabled=false
 * when one voter has observers (ZooKeeper runs a quorum of one only so), and a server.N line per
 * member, `peers` giving its host:quorumPort:electionPort and `client` its client address.
 */
export function setMembership<S extends { id: number; role: 'voter' | 'observer' }>(
  entries: Map<string, string>,
  servers: readonly S[],
  self: S,
  address: (s: S) => { peers: string; client: string },
): void {
  if (self.role === 'observer') entries.set('peerType', 'observer');
  const voters = servers.filter((s) => s.role === 'voter').length;
  if (voters === 1 && servers.length > 1) entries.set('standaloneEnabled', 'false');
  for (const s of servers) {
    const { peers, client } = address(s);
    entries.set(`server.${s.id}`, `${peers}${s.role === 'observer' ? ':observer' : ''};${client}`);
  }
}

/**
 * The four-letter words the harness's servers answer: counters and settings only, the ones the
 * HTTP face leaves open. cons, stat, dump, wchc, wchp, crst and srst show sessions, client
 * addresses and watched paths or reset state; they need the token on the HTTP face, so the
 * client port (which has no token) does not answer them. `--set 4lw.commands.whitelist=*` opens all.
 */
export const HARNESS_FOUR_LETTER_WORDS = 'srvr,mntr,conf,ruok,isro,envi,dirs,wchs';

/** A TLS ensemble's certificates, and whether the servers are Apache ZooKeeper (which serves TLS with Netty only). */
export interface ZooCfgTls {
  files: EnsembleTls;
  netty: boolean;
}

/** What a server's zoo.cfg names besides its layout: credentials files and TLS keys. */
export interface ZooCfgCredentials {
  /** The HTTP face's token file (zablab only); null for Apache ZooKeeper or when the overrides turn credentials off. */
  adminTokenFile: string | null;
  /** This server's peer credential keys (peerCredentialEntries). */
  peer: readonly [string, string][];
  /** The client port's TLS, when the ensemble serves TLS. */
  tls?: ZooCfgTls | null;
  /** Where this server dials its peers (LocalEnsemble's routePeers); default their own ports. */
  route?: PeerRoute | null;
}

/**
 * The zoo.cfg of `self`: ZooKeeper's keys, our defaults, the credentials, the TLS keys when
 * the ensemble serves TLS, every member's server.N line, then the overrides.
 */
export function renderZooCfg(
  servers: readonly EnsembleServer[],
  self: EnsembleServer,
  overrides: Record<string, string>,
  credentials: ZooCfgCredentials = { adminTokenFile: null, peer: [] },
): string {
  const entries = new Map<string, string>([
    ['tickTime', '2000'],
    ['initLimit', '10'],
    ['syncLimit', '5'],
    ['dataDir', self.dataDir],
    ['clientPort', String(self.clientPort)],
    ['clientPortAddress', self.host],
    ['admin.serverPort', String(self.httpPort)],
    ['admin.serverAddress', self.host],
    ['4lw.commands.whitelist', HARNESS_FOUR_LETTER_WORDS],
  ]);
  if (credentials.adminTokenFile !== null) entries.set('admin.tokenFile', credentials.adminTokenFile);
  for (const [k, v] of credentials.peer) entries.set(k, v);
  const tls = credentials.tls ?? null;
  if (tls !== null && self.secureClientPort !== null) {
    for (const [k, v] of tlsZooCfg(tls.files, self.host, self.secureClientPort, tls.netty)) entries.set(k, v);
  }
  const route = credentials.route ?? null;
  setMembership(entries, servers, self, (s) => {
    // Its own line keeps its real address and ports: a server listens where its own line says.
    const via = route === null || s.id === self.id ? { host: s.host, quorumPort: s.quorumPort, electionPort: s.electionPort } : route(self.id, s.id);
    return { peers: `${via.host}:${via.quorumPort}:${via.electionPort}`, client: `${s.host}:${s.clientPort}` };
  });
  for (const [k, v] of Object.entries(overrides)) entries.set(k, v);
  return [...entries].map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

/** Ports for `total` servers (`perServer` each): from basePort, checked free; or OS-assigned. */
export async function allocatePorts(total: number, basePort?: number, perServer = PORTS_PER_SERVER): Promise<number[]> {
  const count = total * perServer;
  if (basePort === undefined) return freePorts(count);
  const ports = Array.from({ length: count }, (_, i) => basePort + i);
  for (const port of ports) {
    if (!(await portFree(port))) {
      throw new EnsembleError('ZABLAB_ENSEMBLE_PORT', `port ${port} on ${ENSEMBLE_HOST} is in use (the layout needs ${basePort}-${basePort + count - 1}); choose another base port or stop what uses it`);
    }
  }
  return ports;
}

/** n distinct OS-assigned free ports: all held open at once so none is handed out twice. */
async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listen(0));
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host: ENSEMBLE_HOST, exclusive: true }, () => resolve(server));
  });
}

async function portFree(port: number): Promise<boolean> {
  try {
    const s = await listen(port);
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return true;
  } catch {
    return false;
  }
}

function specError(message: string): EnsembleError {
  return new EnsembleError('ZABLAB_ENSEMBLE_SPEC', message);
}
