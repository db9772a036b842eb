/**
 * Writes a compose directory: docker-compose.yml, zk<id>/zoo.cfg and zk<id>/myid for every
 * server and, with the stack, the Prometheus, Grafana and Collector configs plus a copy of
 * the dashboards. Re-running over a directory this module wrote replaces what it wrote;
 * any other non-empty directory is refused.
 *
 * The HTTP face's token goes to `admin-token` and the secret the servers authenticate each
 * other with to `quorum-secret` (mode 0600; a .gitignore keeps them out of commits). A re-run
 * keeps them, so that scripts holding the token go on working and a server restarted from an
 * older run still knows its peers. The servers run as the image's uid 1000: when we run as
 * root the files are given to that uid, otherwise they must already be ours as that uid (a
 * warning says what to do).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRandomSecret } from '../ensemble/secret-file.js';
import { ADMIN_TOKEN_ENTRY, COMPOSE_FILE, COMPOSE_MARKER, QUORUM_SECRET_ENTRY, renderComposeFile, serverFiles } from './compose-file.js';
import { ComposeError } from './errors.js';
import { grafanaDashboardProvider, grafanaDatasources, otelCollectorConfig, prometheusConfig, STACK_FILES } from './observability.js';
import { composeNeedsQuorumSecret, composeNeedsToken, composeServers, CONTAINER_UID, validateComposeSpec, type ComposeSpec } from './spec.js';
import { renderComposeZooCfg } from './zoo-cfg.js';

/** This package's dashboards/ (from src/harness/compose/ and dist/harness/compose/ alike). */
export const PACKAGE_DASHBOARDS_DIR = fileURLToPath(new URL('../../../dashboards/', import.meta.url));

/** Containers run as an unprivileged user: what they read must be readable by others. */
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
const MAX_DASHBOARDS = 100;
const MAX_DASHBOARD_BYTES = 16 << 20;
/** Top-level entries a previous run wrote and a new run replaces (admin-token and quorum-secret are kept). */
const OWNED_ENTRY = /^(docker-compose\.yml|README\.md|\.gitignore|zk\d+|prometheus|grafana|otel-collector)$/;

export interface WriteComposeOptions {
  /** Where the dashboards' JSON files come from (stack only); default: this package's dashboards/. */
  dashboardsDir?: string;
  /** Also write a README.md saying how to use the directory. */
  readme?: boolean;
}

export interface WrittenCompose {
  dir: string;
  composeFile: string;
  /** Every file written, relative to dir, sorted. */
  files: string[];
  /** Dashboard files copied (stack only). */
  dashboards: string[];
  /** The HTTP face's token file (absolute), or null when the settings turn credentials off. */
  adminTokenFile: string | null;
  /** The quorum secret's file (absolute), or null when the servers do not authenticate each other. */
  quorumSecretFile: string | null;
  /** Things the user should know (e.g. no dashboards found). */
  warnings: string[];
}

export function writeComposeDir(dir: string, spec: ComposeSpec, opts: WriteComposeOptions = {}): WrittenCompose {
  validateComposeSpec(spec);
  const root = path.resolve(dir);
  prepareDir(root);
  const files: string[] = [];
  const warnings: string[] = [];
  const put = (rel: string, text: string): void => {
    const file = path.join(root, rel);
    mkdirs(path.dirname(file));
    fs.writeFileSync(file, text);
    fs.chmodSync(file, FILE_MODE);
    files.push(rel);
  };
  const servers = composeServers(spec);
  const adminTokenFile = composeNeedsToken(spec) ? containerSecret(path.join(root, ADMIN_TOKEN_ENTRY), warnings) : null;
  const quorumSecretFile = composeNeedsQuorumSecret(spec) ? containerSecret(path.join(root, QUORUM_SECRET_ENTRY), warnings) : null;
  put('.gitignore', `# the HTTP face's token and the peers' secret: secrets\n/${ADMIN_TOKEN_ENTRY}\n/${QUORUM_SECRET_ENTRY}\n`);
  const credentials = { adminToken: adminTokenFile !== null, quorumSecret: quorumSecretFile !== null };
  for (const s of servers) {
    const f = serverFiles(s);
    put(f.config, renderComposeZooCfg(servers, s, spec.config, credentials));
    put(f.myid, `${s.id}\n`);
  }
  let dashboards: string[] = [];
  if (spec.stack) {
    put(STACK_FILES.prometheus, prometheusConfig(servers));
    put(STACK_FILES.grafanaDatasources, grafanaDatasources());
    put(STACK_FILES.grafanaDashboards, grafanaDashboardProvider());
    put(STACK_FILES.otelCollector, otelCollectorConfig());
    mkdirs(path.join(root, STACK_FILES.dashboardsDir));
    const source = opts.dashboardsDir ?? PACKAGE_DASHBOARDS_DIR;
    dashboards = dashboardFiles(source, warnings);
    for (const name of dashboards) put(`${STACK_FILES.dashboardsDir}/${name}`, fs.readFileSync(path.join(source, name), 'utf8'));
  }
  if (opts.readme === true) put('README.md', readmeText(spec, credentials));
  put(COMPOSE_FILE, renderComposeFile(spec));
  return { dir: root, composeFile: path.join(root, COMPOSE_FILE), files: files.sort(), dashboards, adminTokenFile, quorumSecretFile, warnings };
}

/** A secret the servers read: kept when there, else a new one; readable by the servers' uid and no one else. */
function containerSecret(file: string, warnings: string[]): string {
  if (!fs.existsSync(file)) writeRandomSecret(file);
  fs.chmodSync(file, 0o600);
  const uid = process.getuid?.();
  if (uid === 0) {
    fs.chownSync(file, CONTAINER_UID, CONTAINER_UID);
  } else if (uid !== undefined && fs.statSync(file).uid !== CONTAINER_UID) {
    warnings.push(`${file} belongs to uid ${fs.statSync(file).uid}, but the servers run as uid ${CONTAINER_UID} and will not be able to read it: sudo chown ${CONTAINER_UID} ${file}`);
  }
  return file;
}

/** Creates dir, or empties what an earlier run wrote there; refuses a directory with other content. */
function prepareDir(root: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw outError(`cannot read ${root}: ${(err as Error).message}`);
    mkdirs(root);
    return;
  }
  if (entries.length === 0) return;
  const composeFile = path.join(root, COMPOSE_FILE);
  const ours = fs.existsSync(composeFile) && fs.readFileSync(composeFile, 'utf8').split('\n', 1)[0]!.includes(COMPOSE_MARKER);
  if (!ours) {
    throw outError(`${root} is not empty and holds no docker-compose.yml ${COMPOSE_MARKER}; choose a new or empty directory`);
  }
  for (const e of entries) if (OWNED_ENTRY.test(e)) fs.rmSync(path.join(root, e), { recursive: true, force: true });
}

function mkdirs(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
}

/** The *.json files of the dashboards directory, sorted; a warning instead when there are none. */
function dashboardFiles(source: string, warnings: string[]): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(source).filter((n) => n.endsWith('.json'));
  } catch {
    names = [];
  }
  names.sort();
  if (names.length === 0) {
    warnings.push(`no dashboards in ${source}; Grafana starts without them (\`zablab dashboards\` writes them, then run this again)`);
  }
  if (names.length > MAX_DASHBOARDS) throw outError(`${source} holds ${names.length} dashboards; at most ${MAX_DASHBOARDS}`);
  for (const n of names) {
    const size = fs.statSync(path.join(source, n)).size;
    if (size > MAX_DASHBOARD_BYTES) throw outError(`${path.join(source, n)} is ${size} bytes; a dashboard is at most ${MAX_DASHBOARD_BYTES}`);
  }
  return names;
}

function readmeText(spec: ComposeSpec, credentials: { adminToken: boolean; quorumSecret: boolean }): string {
  const withToken = credentials.adminToken;
  const servers = composeServers(spec);
  const rows = servers.map((s) => `| ${s.service} | ${s.role} | ${spec.bindAddress}:${s.clientHostPort} | http://${spec.bindAddress}:${s.httpHostPort} |`);
  const lines = [
    '# zablab under docker compose',
    '',
    `Written by \`zablab compose --voters ${spec.voters} --observers ${spec.observers}\`; run it again to change the shape`,
    '(the directory is replaced). Build the image first, from the zablab source tree:',
    '',
    '```sh',
    `docker build -t ${spec.image} .`,
    'docker compose up -d          # Compose v1: docker-compose up -d',
    'docker compose ps             # every server turns "healthy" once it serves (GET /readyz)',
    'docker compose down -v        # -v also removes the data volumes',
    '```',
    '',
    '| service | role | client port | HTTP face |',
    '|---|---|---|---|',
    ...rows,
    '',
    `Connect string: \`${servers.map((s) => `${spec.bindAddress}:${s.clientHostPort}`).join(',')}\`. Each server's`,
    'zoo.cfg is `zk<id>/zoo.cfg` (mounted at /conf/zoo.cfg); its data lives in the volume `zk<id>-data`.',
  ];
  if (withToken) {
    lines.push(
      '',
      `The HTTP face's token is \`${ADMIN_TOKEN_ENTRY}\` (every server's admin.tokenFile, mounted at /conf/admin-token).`,
      '`zablab compose` writes it (mode 600, owned by uid 1000, the servers\' user) and keeps it on re-runs; git',
      "ignores it. Without it the servers do not start; make one by hand with",
      `\`head -c 32 /dev/urandom | base64 > ${ADMIN_TOKEN_ENTRY} && chmod 600 ${ADMIN_TOKEN_ENTRY} && sudo chown 1000 ${ADMIN_TOKEN_ENTRY}\`.`,
      'REST (/v1/znodes, /v1/children), /v1/faults and the session, connection and watch commands need it:',
      '',
      '```sh',
      `curl -H "Authorization: Bearer $(cat ${ADMIN_TOKEN_ENTRY})" http://${spec.bindAddress}:${servers[0]!.httpHostPort}/v1/children/`,
      '```',
      '',
      'Health (/healthz, /readyz), /metrics (Prometheus) and the stat-only commands stay open.',
    );
  }
  if (spec.stack) {
    lines.push(
      '',
      `Grafana http://${spec.bindAddress}:3000 (dashboards in the "zablab" folder), Prometheus`,
      `http://${spec.bindAddress}:9090 (scrapes every server's /metrics), Jaeger http://${spec.bindAddress}:16686 (the servers`,
      'send spans through the OpenTelemetry Collector: one trace per write, across the ensemble).',
    );
  }
  if (credentials.quorumSecret) {
    lines.push(
      '',
      `The servers accept only each other on their quorum and election ports: they share the secret in \`${QUORUM_SECRET_ENTRY}\``,
      '(mounted at /conf/quorum-secret; quorum.auth.enableSasl, learnerRequireSasl and serverRequireSasl in every',
      "zoo.cfg) and prove it on every peer connection. Written and kept like the token; `--peer-security none` (or",
      "`--set quorum.auth.enableSasl=false`) leaves the peers open, as ZooKeeper's default does.",
    );
  }
  lines.push(
    '',
    'Peers talk on the internal network `peers` as `zk<id>-peer`. To partition a server from its',
    'peers while its clients keep reaching it:',
    '',
    '```sh',
    'docker network disconnect <project>_peers <project>_zk1_1                    # v2 names it <project>-zk1-1',
    'docker network connect --alias zk1-peer <project>_peers <project>_zk1_1      # heal',
    '```',
    '',
    '`<project>` is the directory name unless `-p` says otherwise. Run a benchmark against it with',
    `the \`external\` ensemble driver, the connect string above${withToken ? ` and \`adminTokenFile: <this directory>/${ADMIN_TOKEN_ENTRY}\`` : ''}.`,
  );
  return lines.join('\n') + '\n';
}

function outError(message: string): ComposeError {
  return new ComposeError('ZABLAB_COMPOSE_OUT', message);
}
