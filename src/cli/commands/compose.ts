/**
 * `zablab compose`: writes a docker compose directory for a zablab ensemble (servers zk1..zkN
 * with published ports, plus Prometheus, Grafana with the dashboards, the OpenTelemetry
 * Collector and Jaeger).
 */
import {
  ComposeError,
  consecutivePorts,
  DEFAULT_ADMIN_PORT_BASE,
  DEFAULT_BIND_ADDRESS,
  DEFAULT_CLIENT_PORT_BASE,
  DEFAULT_IMAGE,
  MAX_COMPOSE_SERVERS,
  writeComposeDir,
  type ComposeSpec,
} from '../../harness/compose/index.js';
import { SET_OPTION, zooCfgOverrides } from './zoo-cfg-overrides.js';
import { UsageError, type CliCommand, type CliIO, type ParsedArgs } from '../registry.js';

const HELP = 'zablab compose --help';

export const composeCommand: CliCommand = {
  name: 'compose',
  summary: 'write a docker compose directory: the ensemble plus Prometheus, Grafana and tracing',
  description: [
    'Writes DIR/docker-compose.yml with services zk1..zkN (voters first, then observers), each',
    "running the zablab image with its own zoo.cfg (DIR/zk<id>/zoo.cfg), myid and data volume, and",
    'publishing its client port (--client-port + id - 1) and HTTP face (--admin-port + id - 1) on',
    '127.0.0.1. Beside them: Prometheus (scrapes every /metrics, :9090), Grafana (the Prometheus',
    "data source and this package's dashboards, :3000), the OpenTelemetry Collector (the servers'",
    'OTLP spans) and Jaeger (:16686). Then: docker build -t <image> . && cd DIR && docker compose up -d',
    '(Compose v1: docker-compose up -d). Running it again over its own output replaces it.',
    "The servers authenticate each other with a secret it writes to DIR/quorum-secret (mode 600, kept",
    "on re-runs, git-ignored; quorum.auth.* in every zoo.cfg); --peer-security none leaves the peers",
    "open, as ZooKeeper's default does.",
  ].join('\n'),
  options: {
    voters: { type: 'string', short: 'v', valueName: '<V>', description: `voting members (1 to ${MAX_COMPOSE_SERVERS})`, required: true },
    observers: { type: 'string', short: 'o', valueName: '<O>', description: 'observers (default 0)' },
    out: { type: 'string', valueName: '<DIR>', description: 'the directory to write (new, empty, or an earlier output)', required: true },
    image: { type: 'string', valueName: '<image>', description: `the zablab image the servers run (default ${DEFAULT_IMAGE})` },
    set: SET_OPTION,
    'client-port': { type: 'string', valueName: '<P>', description: `host port of zk1's client port; zk<id> gets P+id-1 (default ${DEFAULT_CLIENT_PORT_BASE})` },
    'admin-port': { type: 'string', valueName: '<P>', description: `host port of zk1's HTTP face; zk<id> gets P+id-1 (default ${DEFAULT_ADMIN_PORT_BASE})` },
    bind: { type: 'string', valueName: '<address>', description: `host address the ports are published on (default ${DEFAULT_BIND_ADDRESS})` },
    'servers-only': { type: 'boolean', description: 'only the zablab servers: no Prometheus, Grafana, Collector or Jaeger' },
    dashboards: { type: 'string', valueName: '<DIR>', description: "where the dashboards' JSON files are (default: this package's dashboards/)" },
    'peer-security': { type: 'string', valueName: '<secret|none>', description: 'how the servers authenticate each other (default secret)' },
  },
  run: runCompose,
};

async function runCompose(args: ParsedArgs, io: CliIO): Promise<number> {
  const voters = intOption(args, 'voters', 1, MAX_COMPOSE_SERVERS)!;
  const observers = intOption(args, 'observers', 0, MAX_COMPOSE_SERVERS - 1) ?? 0;
  const total = voters + observers;
  const clientBase = intOption(args, 'client-port', 1, 65_535) ?? DEFAULT_CLIENT_PORT_BASE;
  const adminBase = intOption(args, 'admin-port', 1, 65_535) ?? DEFAULT_ADMIN_PORT_BASE;
  const config = peerSecurityConfig(args, zooCfgOverrides(args, HELP));
  const spec: ComposeSpec = {
    voters,
    observers,
    image: args.string('image') ?? DEFAULT_IMAGE,
    config,
    clientPorts: consecutivePorts(clientBase, total),
    httpPorts: consecutivePorts(adminBase, total),
    bindAddress: args.string('bind') ?? DEFAULT_BIND_ADDRESS,
    stack: !args.flag('servers-only'),
    spansDir: null,
    env: {},
  };
  const dashboardsDir = args.string('dashboards');
  let written;
  try {
    written = writeComposeDir(args.string('out')!, spec, { readme: true, ...(dashboardsDir === undefined ? {} : { dashboardsDir }) });
  } catch (err) {
    if (err instanceof ComposeError && err.code === 'ZABLAB_COMPOSE_SPEC') throw new UsageError(err.message, HELP);
    throw err;
  }
  for (const w of written.warnings) io.stderr(`zablab compose: warning: ${w}\n`);
  const hostPorts = (ports: number[]): string => `${spec.bindAddress}:${ports[0]}${total > 1 ? `-${ports.at(-1)}` : ''}`;
  const lines = [
    `wrote ${written.composeFile} (${voters} voter${voters === 1 ? '' : 's'}, ${observers} observer${observers === 1 ? '' : 's'}; ${written.files.length} files)`,
    `  client ports ${hostPorts(spec.clientPorts)}, HTTP ${hostPorts(spec.httpPorts)}`,
  ];
  if (spec.stack) lines.push(`  dashboards: ${written.dashboards.length === 0 ? 'none' : written.dashboards.join(', ')}`);
  if (written.adminTokenFile !== null) lines.push(`  HTTP token: ${written.adminTokenFile} (REST, /v1/faults and session commands: Authorization: Bearer <token>)`);
  if (written.quorumSecretFile !== null) lines.push(`  peers: authenticated with the secret in ${written.quorumSecretFile} (quorum.auth.*)`);
  else if (total > 1) lines.push('  peers: open (anyone who reaches the quorum and election ports is taken for a member)');
  lines.push('', 'next:', `  docker build -t ${spec.image} .          # in the zablab source tree`, `  cd ${args.string('out')!} && docker compose up -d   # Compose v1: docker-compose up -d`);
  io.stdout(lines.join('\n') + '\n');
  return 0;
}

/**
 * --peer-security: `secret` (the default) or `none`, which is quorum.auth.enableSasl=false in
 * every zoo.cfg. TLS between containers needs certificates for their peer names: set sslQuorum
 * and the ssl.quorum stores with --set.
 */
function peerSecurityConfig(args: ParsedArgs, config: Record<string, string>): Record<string, string> {
  const mode = args.string('peer-security')?.trim().toLowerCase();
  if (mode === undefined || mode === 'secret') {
    if (mode === 'secret' && config['quorum.auth.enableSasl']?.toLowerCase() === 'false') {
      throw new UsageError('--peer-security secret and --set quorum.auth.enableSasl=false contradict each other; keep one', HELP);
    }
    return config;
  }
  if (mode === 'none') return { ...config, 'quorum.auth.enableSasl': 'false' };
  throw new UsageError(`--peer-security must be secret or none, got "${args.string('peer-security')}" (for TLS, set sslQuorum and the ssl.quorum stores with --set)`, HELP);
}

function intOption(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = args.string(name);
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`, HELP);
  }
  return n;
}
