/**
 * docker-compose.yml: the servers zk1..zkN (and, with the stack, Prometheus, Grafana, the
 * OTel Collector and Jaeger) in the Compose Specification that both `docker compose` (v2)
 * and `docker-compose` 1.29 read. Paths of generated files are relative to the compose
 * directory, so the directory can be moved or committed.
 */
import YAML from 'yaml';
import { OTLP_HTTP_ENDPOINT, STACK_FILES, STACK_IMAGES, STACK_MOUNTS, STACK_SERVICES } from './observability.js';
import {
  CONTAINER_PATHS,
  CONTAINER_PORTS,
  PEERS_NETWORK,
  STACK_PORTS,
  composeNeedsQuorumSecret,
  composeNeedsToken,
  composeServers,
  type ComposeServer,
  type ComposeSpec,
} from './spec.js';
import { SPANS_DIR_ENV } from '../../telemetry/spans-file.js';

/** The first comment line of every docker-compose.yml this module writes (how a re-run recognises its own output). */
export const COMPOSE_MARKER = 'written by `zablab compose`';
export const COMPOSE_FILE = 'docker-compose.yml';
/** The HTTP face's token, shared by every server; not in `files` (a secret, mode 0600, kept across re-runs). */
export const ADMIN_TOKEN_ENTRY = 'admin-token';
/** The secret the servers authenticate each other with; like the token, a kept secret outside `files`. */
export const QUORUM_SECRET_ENTRY = 'quorum-secret';

/** Files of one server, relative to the compose directory. */
export function serverFiles(s: ComposeServer): { config: string; myid: string } {
  return { config: `${s.service}/zoo.cfg`, myid: `${s.service}/myid` };
}

type Mount = { type: 'bind'; source: string; target: string; read_only?: true } | { type: 'volume'; source: string; target: string };

/** A bind mount; a relative source is relative to the compose directory. */
function bind(source: string, target: string, readOnly: boolean): Mount {
  const from = source.startsWith('/') ? source : `./${source}`;
  return readOnly ? { type: 'bind', source: from, target, read_only: true } : { type: 'bind', source: from, target };
}

/** `host:hostPort:containerPort`, IPv6 hosts in brackets. */
function publish(bindAddress: string, hostPort: number, containerPort: number): string {
  const host = bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress;
  return `${host}:${hostPort}:${containerPort}`;
}

function serverService(spec: ComposeSpec, s: ComposeServer): Record<string, unknown> {
  const files = serverFiles(s);
  const environment: Record<string, string> = {};
  if (spec.stack) {
    environment['OTEL_EXPORTER_OTLP_ENDPOINT'] = OTLP_HTTP_ENDPOINT;
    environment['OTEL_SERVICE_NAME'] = 'zablab';
    // The stack's collector takes traces only: Prometheus scrapes /metrics, logs stay in `docker logs`.
    environment['OTEL_METRICS_EXPORTER'] = 'none';
    environment['OTEL_LOGS_EXPORTER'] = 'none';
  }
  if (spec.spansDir !== null) environment[SPANS_DIR_ENV] = CONTAINER_PATHS.spans;
  Object.assign(environment, spec.env);
  const volumes: Mount[] = [
    bind(files.config, CONTAINER_PATHS.config, true),
    // myid sits in dataDir, as ZooKeeper wants it; the data volume under it stays the server's.
    bind(files.myid, `${CONTAINER_PATHS.dataDir}/myid`, true),
    { type: 'volume', source: `${s.service}-data`, target: CONTAINER_PATHS.dataDir },
  ];
  if (composeNeedsToken(spec)) volumes.push(bind(ADMIN_TOKEN_ENTRY, CONTAINER_PATHS.adminToken, true));
  if (composeNeedsQuorumSecret(spec)) volumes.push(bind(QUORUM_SECRET_ENTRY, CONTAINER_PATHS.quorumSecret, true));
  if (spec.spansDir !== null) volumes.push(bind(spec.spansDir, CONTAINER_PATHS.spans, false));
  return {
    image: spec.image,
    // tini as PID 1: the server gets SIGTERM from `docker stop` and the container stops in < 1 s.
    init: true,
    hostname: s.service,
    ...(Object.keys(environment).length === 0 ? {} : { environment }),
    ports: [publish(spec.bindAddress, s.clientHostPort, CONTAINER_PORTS.client), publish(spec.bindAddress, s.httpHostPort, CONTAINER_PORTS.admin)],
    volumes,
    networks: { default: {}, [PEERS_NETWORK]: { aliases: [s.peerHost] } },
    stop_grace_period: '15s',
  };
}

function stackServices(spec: ComposeSpec): Record<string, unknown> {
  const at = (port: number): string => publish(spec.bindAddress, port, port);
  // Anonymous editors can add annotations (the bench's fault markers); only while the stack is on loopback.
  const loopback = spec.bindAddress === '127.0.0.1' || spec.bindAddress === '::1';
  return {
    [STACK_SERVICES.prometheus]: {
      image: STACK_IMAGES.prometheus,
      ports: [at(STACK_PORTS.prometheus)],
      volumes: [bind(STACK_FILES.prometheus, STACK_MOUNTS.prometheus, true), { type: 'volume', source: 'prometheus-data', target: '/prometheus' }],
    },
    [STACK_SERVICES.grafana]: {
      image: STACK_IMAGES.grafana,
      ports: [at(STACK_PORTS.grafana)],
      environment: {
        GF_AUTH_ANONYMOUS_ENABLED: 'true',
        GF_AUTH_ANONYMOUS_ORG_ROLE: loopback ? 'Editor' : 'Viewer',
      },
      volumes: [
        bind('grafana/provisioning', STACK_MOUNTS.grafanaProvisioning, true),
        bind(STACK_FILES.dashboardsDir, STACK_MOUNTS.grafanaDashboards, true),
        { type: 'volume', source: 'grafana-data', target: '/var/lib/grafana' },
      ],
      depends_on: [STACK_SERVICES.prometheus],
    },
    [STACK_SERVICES.otelCollector]: {
      image: STACK_IMAGES.otelCollector,
      command: [`--config=${STACK_MOUNTS.otelCollector}`],
      ports: [at(STACK_PORTS.otlpHttp)],
      volumes: [bind(STACK_FILES.otelCollector, STACK_MOUNTS.otelCollector, true)],
      depends_on: [STACK_SERVICES.jaeger],
    },
    [STACK_SERVICES.jaeger]: {
      image: STACK_IMAGES.jaeger,
      environment: { COLLECTOR_OTLP_ENABLED: 'true' },
      ports: [at(STACK_PORTS.jaeger)],
    },
  };
}

/** The compose document as plain data (for tests and for rendering). */
export function composeDocument(spec: ComposeSpec): Record<string, unknown> {
  const servers = composeServers(spec);
  const services: Record<string, unknown> = {};
  for (const s of servers) services[s.service] = serverService(spec, s);
  const volumes: Record<string, Record<string, never>> = {};
  for (const s of servers) volumes[`${s.service}-data`] = {};
  if (spec.stack) {
    Object.assign(services, stackServices(spec));
    volumes['prometheus-data'] = {};
    volumes['grafana-data'] = {};
  }
  return {
    services,
    // Peers talk only here: no route out, and a server disconnected from it is partitioned.
    networks: { [PEERS_NETWORK]: { internal: true } },
    volumes,
  };
}

function headerLines(spec: ComposeSpec): string[] {
  const servers = composeServers(spec);
  const last = servers.at(-1)!;
  const observers = spec.observers === 0 ? '' : ` and ${spec.observers} observer${spec.observers === 1 ? '' : 's'} (zk${spec.voters + 1}${spec.observers > 1 ? `-zk${last.id}` : ''})`;
  const lines = [
    `# A zablab ensemble of ${spec.voters} voter${spec.voters === 1 ? '' : 's'} (zk1${spec.voters > 1 ? `-zk${spec.voters}` : ''})${observers}, ${COMPOSE_MARKER}.`,
    '#   start: docker compose up -d        (Compose v1: docker-compose up -d)',
    '#   stop:  docker compose down -v      (-v also drops the data volumes)',
    `#   clients: ${servers.map((s) => `${spec.bindAddress}:${s.clientHostPort}`).join(',')}`,
    `#   HTTP (/metrics, /commands, /readyz, /v1/znodes): ${servers.map((s) => `${s.service} :${s.httpHostPort}`).join(', ')}`,
  ];
  if (composeNeedsToken(spec)) {
    lines.push(`#   /v1/* and the session commands need "Authorization: Bearer $(cat ${ADMIN_TOKEN_ENTRY})" (${ADMIN_TOKEN_ENTRY}: written by zablab compose, not committed)`);
  }
  if (composeNeedsQuorumSecret(spec)) {
    lines.push(`#   peers authenticate each other with ${QUORUM_SECRET_ENTRY} (quorum.auth.*; written by zablab compose, not committed)`);
  }
  if (spec.stack) {
    lines.push(
      `#   Grafana http://${spec.bindAddress}:${STACK_PORTS.grafana}  Prometheus http://${spec.bindAddress}:${STACK_PORTS.prometheus}  Jaeger http://${spec.bindAddress}:${STACK_PORTS.jaeger}`,
    );
  }
  lines.push(
    '#   partition zkN from its peers: docker network disconnect <project>_peers <zkN container>',
    '#   heal it:                     docker network connect --alias zkN-peer <project>_peers <zkN container>',
  );
  return lines;
}

/** host:hostPort:containerPort (YAML 1.1 readers may take digits:digits for a base-60 number). */
const PORT_MAPPING = /^[^/\s]*:\d+:\d+$/;

/** docker-compose.yml's text: a header saying how to use it, then the document (ports quoted, as Compose advises). */
export function renderComposeFile(spec: ComposeSpec): string {
  const doc = new YAML.Document(composeDocument(spec));
  YAML.visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && PORT_MAPPING.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return `${headerLines(spec).join('\n')}\n${doc.toString({ lineWidth: 0 })}`;
}
