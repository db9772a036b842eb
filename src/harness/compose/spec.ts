/**
 * What a compose directory holds: V voters and O observers as services zk1..zkN of one image,
 * each publishing its client port and its HTTP face (admin.serverPort) on the host, and
 * optionally the observability stack beside them (Prometheus, Grafana, OTel Collector, Jaeger).
 *
 * Inside the compose network every server uses ZooKeeper's usual ports (client 2181, quorum
 * 2888, election 3888, admin 8080); peers find each other as `zk<id>-peer`, a name that only
 * the `peers` network knows, so that disconnecting a server from that network partitions it
 * from its peers while its published ports (on the default network) keep working.
 */
import net from 'node:net';
import { ComposeError } from './errors.js';

export type ComposeRole = 'voter' | 'observer';

export const MAX_COMPOSE_SERVERS = 32;
export const DEFAULT_IMAGE = 'zablab:latest';
export const DEFAULT_BIND_ADDRESS = '127.0.0.1';
export const DEFAULT_CLIENT_PORT_BASE = 2181;
export const DEFAULT_ADMIN_PORT_BASE = 8080;

/** Ports inside every server container. */
export const CONTAINER_PORTS = { client: 2181, quorum: 2888, election: 3888, admin: 8080 } as const;
/** Where the image expects zoo.cfg, dataDir, the HTTP face's token file, the quorum secret, and (when asked) the spans directory. */
export const CONTAINER_PATHS = { config: '/conf/zoo.cfg', dataDir: '/data', adminToken: '/conf/admin-token', quorumSecret: '/conf/quorum-secret', spans: '/spans' } as const;
/** The image's `node` user, which the servers run as (see Dockerfile). */
export const CONTAINER_UID = 1000;
/** The network peers talk on; `docker network disconnect <project>_peers <container>` partitions a server. */
export const PEERS_NETWORK = 'peers';

/** Host ports the observability stack publishes (on the bind address). */
export const STACK_PORTS = { prometheus: 9090, grafana: 3000, jaeger: 16686, otlpHttp: 4318 } as const;

const MAX_OVERRIDES = 256;
const MAX_OVERRIDE_CHARS = 4_096;
const MAX_ENV = 256;
const MIN_HOST_PORT = 1;
const MAX_HOST_PORT = 65_535;

/** zoo.cfg keys the layout owns: changing them would break the image's paths, ports or the peers network. */
const LAYOUT_KEYS = new Set([
  'dataDir',
  'dataLogDir',
  'clientPort',
  'clientPortAddress',
  'admin.serverPort',
  'admin.serverAddress',
  'admin.tokenFile',
  'quorum.auth.secretFile',
  'peerType',
  'quorumListenOnAllIPs',
  'dynamicConfigFile',
]);

export interface ComposeSpec {
  voters: number;
  observers: number;
  /** The zablab image every server runs. */
  image: string;
  /** zoo.cfg settings for every server (`--set key=value`). */
  config: Record<string, string>;
  /** Host ports, one per server in id order: the client port and the HTTP face. */
  clientPorts: number[];
  httpPorts: number[];
  /** The host address published ports bind (default 127.0.0.1: nothing is reachable from outside). */
  bindAddress: string;
  /** Add Prometheus, Grafana, the OpenTelemetry Collector and Jaeger, and point the servers' OTLP export at the collector. */
  stack: boolean;
  /** A host directory bind-mounted at /spans with ZABLAB_SPANS_DIR=/spans (absolute path), or null. */
  spansDir: string | null;
  /** More environment for every server container. */
  env: Record<string, string>;
}

export interface ComposeServer {
  id: number;
  role: ComposeRole;
  /** The compose service: zk<id>. */
  service: string;
  /** Its name on the peers network: zk<id>-peer. */
  peerHost: string;
  clientHostPort: number;
  httpHostPort: number;
}

/** Host ports base, base+1, ... for `total` servers. */
export function consecutivePorts(base: number, total: number): number[] {
  return Array.from({ length: total }, (_, k) => base + k);
}

/** The servers in id order: voters 1..V, then observers V+1..V+O. */
export function composeServers(spec: ComposeSpec): ComposeServer[] {
  const total = spec.voters + spec.observers;
  return Array.from({ length: total }, (_, k) => {
    const id = k + 1;
    return {
      id,
      role: id <= spec.voters ? 'voter' : 'observer',
      service: `zk${id}`,
      peerHost: `zk${id}-peer`,
      clientHostPort: spec.clientPorts[k]!,
      httpHostPort: spec.httpPorts[k]!,
    };
  });
}

/** Throws ComposeError SPEC naming the field and what it may be. */
export function validateComposeSpec(spec: ComposeSpec): void {
  if (!Number.isInteger(spec.voters) || spec.voters < 1 || spec.voters > MAX_COMPOSE_SERVERS) {
    throw specError(`voters must be an integer from 1 to ${MAX_COMPOSE_SERVERS}, got ${spec.voters}`);
  }
  if (!Number.isInteger(spec.observers) || spec.observers < 0 || spec.observers > MAX_COMPOSE_SERVERS - 1) {
    throw specError(`observers must be an integer from 0 to ${MAX_COMPOSE_SERVERS - 1}, got ${spec.observers}`);
  }
  const total = spec.voters + spec.observers;
  if (total > MAX_COMPOSE_SERVERS) throw specError(`voters + observers must be at most ${MAX_COMPOSE_SERVERS}, got ${total}`);
  // Docker's reference grammar, loosely: [registry[:port]/]name[:tag][@digest], lowercase name.
  if (!/^[a-z0-9][a-z0-9._/:@-]{0,254}$/.test(spec.image) || spec.image.endsWith(':')) {
    throw specError(`image must be a Docker image reference such as ${DEFAULT_IMAGE} (lowercase name, optional :tag), got "${spec.image}"`);
  }
  if (net.isIP(spec.bindAddress) === 0) {
    throw specError(`the bind address must be an IP address such as ${DEFAULT_BIND_ADDRESS}, got "${spec.bindAddress}"`);
  }
  validatePorts(spec, total);
  validateOverrides(spec.config);
  validateEnv(spec.env);
  if (spec.spansDir !== null && (!spec.spansDir.startsWith('/') || /[\r\n]/.test(spec.spansDir))) {
    throw specError(`the spans directory must be an absolute path, got "${spec.spansDir}"`);
  }
}

function validatePorts(spec: ComposeSpec, total: number): void {
  for (const [name, ports] of [
    ['client', spec.clientPorts],
    ['admin (HTTP)', spec.httpPorts],
  ] as const) {
    if (ports.length !== total) throw specError(`${name} ports: need one per server (${total}), got ${ports.length}`);
    for (const p of ports) {
      if (!Number.isInteger(p) || p < MIN_HOST_PORT || p > MAX_HOST_PORT) {
        throw specError(`${name} port ${p} is not a port from ${MIN_HOST_PORT} to ${MAX_HOST_PORT} (${total} servers take consecutive ports from the base)`);
      }
    }
  }
  const published = [...spec.clientPorts, ...spec.httpPorts, ...(spec.stack ? Object.values(STACK_PORTS) : [])];
  const seen = new Set<number>();
  for (const p of published) {
    if (seen.has(p)) {
      const stack = spec.stack ? ` and the stack's ${Object.values(STACK_PORTS).join(', ')}` : '';
      throw specError(`host port ${p} would be published twice; client ports ${range(spec.clientPorts)}, admin ports ${range(spec.httpPorts)}${stack} must not overlap`);
    }
    seen.add(p);
  }
}

function validateOverrides(config: Record<string, string>): void {
  const entries = Object.entries(config);
  if (entries.length > MAX_OVERRIDES) throw specError(`at most ${MAX_OVERRIDES} zoo.cfg settings, got ${entries.length}`);
  for (const [key, value] of entries) {
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(key)) throw specError(`"${key}" is not a zoo.cfg key (letters, digits, '.', '_', '-')`);
    if (LAYOUT_KEYS.has(key) || /^server\.\d+$/.test(key)) {
      throw specError(
        `zoo.cfg key ${key} is set by the compose layout (dataDir /data, ports 2181/2888/3888/8080, the peers network, the token in DIR/admin-token, the quorum secret in DIR/quorum-secret) and cannot be changed; host ports: use --client-port/--admin-port`,
      );
    }
    if (typeof value !== 'string' || /[\r\n]/.test(value) || value.length > MAX_OVERRIDE_CHARS) {
      throw specError(`the value of ${key} must be one line of at most ${MAX_OVERRIDE_CHARS} characters`);
    }
  }
}

function validateEnv(env: Record<string, string>): void {
  const entries = Object.entries(env);
  if (entries.length > MAX_ENV) throw specError(`at most ${MAX_ENV} environment variables, got ${entries.length}`);
  for (const [k, v] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw specError(`"${k}" is not an environment variable name`);
    if (/[\r\n\0]/.test(v)) throw specError(`the value of ${k} must be one line`);
  }
}

/** Whether the servers need the HTTP face's token: unless the settings turn credentials off. */
export function composeNeedsToken(spec: ComposeSpec): boolean {
  return spec.config['admin.auth.enabled']?.toLowerCase() !== 'false';
}

/** Whether the servers authenticate each other with the quorum secret: when they have peers, unless the settings turn quorum.auth off. */
export function composeNeedsQuorumSecret(spec: ComposeSpec): boolean {
  return spec.voters + spec.observers > 1 && spec.config['quorum.auth.enableSasl']?.toLowerCase() !== 'false';
}

function range(ports: number[]): string {
  return ports.length === 0 ? '(none)' : `${ports[0]}-${ports.at(-1)}`;
}

function specError(message: string): ComposeError {
  return new ComposeError('ZABLAB_COMPOSE_SPEC', message);
}
