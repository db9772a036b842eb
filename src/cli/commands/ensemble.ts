/**
 * `zablab ensemble up|status|down|kill|start`: a local ensemble of zablab servers as
 * background processes on 127.0.0.1, described by DIR/ensemble.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_UP_TIMEOUT_MS,
  EnsembleError,
  EnsembleNotServingError,
  ensembleSignal,
  LocalEnsemble,
  MAX_ENSEMBLE_SERVERS,
  PEER_SECURITY_MODES,
  PEER_TLS_DIR,
  parsePeerSecurityMode,
  validateSpec,
  type EnsembleSpec,
  type ServerStatus,
} from '../../harness/ensemble/index.js';
import { intOption, UsageError, type CliCommand, type CliIO, type OptionSpec, type ParsedArgs } from '../registry.js';
import { SET_OPTION, zooCfgOverrides } from './zoo-cfg-overrides.js';

const MAX_TIMEOUT_MS = 3_600_000;

const dirOption: OptionSpec = { type: 'string', short: 'd', valueName: '<DIR>', description: 'the ensemble directory (holds ensemble.json)', required: true };
const jsonOption: OptionSpec = { type: 'boolean', description: 'print JSON instead of a table' };

const upCommand: CliCommand = {
  name: 'up',
  summary: 'start a local ensemble and wait until it serves',
  description: [
    'Starts V voters and O observers as background zablab servers on 127.0.0.1, each with',
    'its own client, quorum, election and admin (HTTP) port. Writes DIR/s<id>/zoo.cfg,',
    'DIR/s<id>/data/myid and DIR/ensemble.json; each server logs to DIR/s<id>/server.log.',
    "The HTTP face's token goes to DIR/admin-token (mode 600; every zoo.cfg's admin.tokenFile,",
    'and adminTokenFile in ensemble.json): REST, /v1/faults and the session commands need',
    '`Authorization: Bearer <token>` (--set admin.auth.enabled=false turns that off).',
    'The servers accept only each other on their quorum and election ports: by default they',
    'share a random secret, DIR/quorum-secret (mode 600; quorum.auth.* in every zoo.cfg), and',
    'prove it on every peer connection. --peer-security tls gives each server a certificate',
    "from a CA made for this ensemble instead (sslQuorum; DIR/peer-tls/); none is ZooKeeper's",
    'open default (as is --set quorum.auth.enableSasl=false).',
    'With --tls every server also serves TLS on its own secureClientPort (ssl.clientAuth=need):',
    'a CA, the servers\' certificate and a client certificate go to DIR/tls (ca.crt,',
    'client.crt, client.key, and client.pem for Java clients); ensemble.json names them (tls)',
    'and each server\'s secureClientPort.',
    'Exits 0 once every server serves (one leader; every learner synced with it). Otherwise,',
    'after --timeout-ms, prints which servers do not serve and their last log lines, stops',
    'the servers it started (data and logs stay) and exits 1. The servers inherit this',
    "command's environment (e.g. OTEL_* variables).",
  ].join('\n'),
  options: {
    voters: { type: 'string', short: 'v', valueName: '<V>', description: `voting members (1 to ${MAX_ENSEMBLE_SERVERS})`, required: true },
    observers: { type: 'string', short: 'o', valueName: '<O>', description: 'observers (default 0)' },
    dir: { ...dirOption, required: false, description: 'directory for the ensemble (default: a new temp directory)' },
    set: SET_OPTION,
    'base-port': { type: 'string', valueName: '<P>', description: 'use ports P, P+1, ... (4 per server) instead of free ports the OS picks' },
    'timeout-ms': { type: 'string', valueName: '<ms>', description: `how long to wait until the ensemble serves (default ${DEFAULT_UP_TIMEOUT_MS})` },
    'peer-security': { type: 'string', valueName: `<${PEER_SECURITY_MODES.join('|')}>`, description: 'how the servers authenticate each other (default secret)' },
    tls: { type: 'boolean', description: 'also serve TLS on a secureClientPort per server, with certificates in DIR/tls' },
    json: jsonOption,
  },
  run: runUp,
};

const statusCommand: CliCommand = {
  name: 'status',
  summary: "show each server's role, mode, zxid, epoch and pid",
  description: [
    "Asks every server of the ensemble in DIR for its mode and last zxid (the `srvr` four-letter",
    'word). mode is leader, follower, observer or standalone when it serves; "not serving" when it',
    'runs but does not serve (starting, electing, paused); "down" when its process is gone.',
  ].join('\n'),
  options: { dir: dirOption, json: jsonOption },
  run: runStatus,
};

const downCommand: CliCommand = {
  name: 'down',
  summary: 'stop every server of the ensemble',
  description: 'Sends SIGTERM to every server this tool started, waits, then SIGKILLs what is left.\nData and logs stay unless --purge.',
  options: {
    dir: dirOption,
    purge: { type: 'boolean', description: 'also delete every server directory and ensemble.json' },
  },
  run: runDown,
};

const killCommand: CliCommand = {
  name: 'kill',
  summary: 'send a signal to the leader or to one server',
  description: [
    'Sends a signal to one server: KILL (default) and TERM wait until it has exited;',
    'STOP pauses it and CONT resumes it. --leader finds the leader with `srvr`.',
  ].join('\n'),
  options: {
    dir: dirOption,
    leader: { type: 'boolean', description: 'signal the current leader' },
    id: { type: 'string', valueName: '<N>', description: 'signal server N' },
    signal: { type: 'string', short: 's', valueName: '<KILL|STOP|CONT|TERM>', description: 'the signal (default KILL)' },
  },
  run: runKill,
};

const startCommand: CliCommand = {
  name: 'start',
  summary: 'restart one server and wait until it serves again',
  description: [
    'Starts server N again on its zoo.cfg and data, and waits until it serves: it has joined',
    'the current leader and caught up with it. If it does not within --timeout-ms, it is',
    'stopped again and the command exits 1 with its last log lines.',
  ].join('\n'),
  options: {
    dir: dirOption,
    id: { type: 'string', valueName: '<N>', description: 'the server to start', required: true },
    'timeout-ms': { type: 'string', valueName: '<ms>', description: `how long to wait until it serves (default ${DEFAULT_START_TIMEOUT_MS})` },
  },
  run: runStart,
};

export const ensembleCommand: CliCommand = {
  name: 'ensemble',
  summary: 'run a local ensemble as background processes (up, status, down, kill, start)',
  description: 'A local ensemble of zablab servers on 127.0.0.1, started in the background and described by DIR/ensemble.json.',
  subcommands: [upCommand, statusCommand, downCommand, killCommand, startCommand],
};

// ---- up ---------------------------------------------------------------------------------

async function runUp(args: ParsedArgs, io: CliIO): Promise<number> {
  const help = 'zablab ensemble up --help';
  const voters = intOption(args, 'voters', 1, MAX_ENSEMBLE_SERVERS, help)!;
  const observers = intOption(args, 'observers', 0, MAX_ENSEMBLE_SERVERS - 1, help) ?? 0;
  const basePort = intOption(args, 'base-port', 1024, 65_535, help);
  const timeoutMs = intOption(args, 'timeout-ms', 1_000, MAX_TIMEOUT_MS, help) ?? DEFAULT_UP_TIMEOUT_MS;
  const config = zooCfgOverrides(args, help);
  const spec: EnsembleSpec = { voters, observers, dir: args.string('dir') ?? '(temp)', config, env: definedEnv(io.env), timeoutMs, tls: args.flag('tls') };
  if (basePort !== undefined) spec.basePort = basePort;
  const peerSecurity = args.string('peer-security');
  if (peerSecurity !== undefined) spec.peerSecurity = specOrUsage(() => parsePeerSecurityMode(peerSecurity), help);
  // Check everything before creating a temp directory that a mistake would leave behind.
  specOrUsage(() => validateSpec(spec), help);
  const dir = args.string('dir') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-ensemble-'));
  const startedMs = Date.now();
  let ensemble: LocalEnsemble;
  try {
    ensemble = await LocalEnsemble.up({ ...spec, dir });
  } catch (err) {
    if (err instanceof EnsembleError && err.code === 'ZABLAB_ENSEMBLE_SPEC') throw new UsageError(err.message, help);
    if (err instanceof EnsembleNotServingError) {
      throw new EnsembleError(
        err.code,
        `${err.message}\n\nstopped the servers it started; their data and logs stay in ${path.resolve(dir)} ` +
          `(\`zablab ensemble down --dir ${dir} --purge\` removes them)`,
      );
    }
    throw err;
  }
  const statuses = await ensemble.status();
  if (args.flag('json')) {
    const json = {
      dir: ensemble.dir,
      connectString: ensemble.connectString(),
      secureConnectString: ensemble.secureConnectString(),
      adminTokenFile: ensemble.adminTokenFile,
      peerSecurity: ensemble.peerSecurity,
      quorumSecretFile: ensemble.quorumSecretFile,
      tls: ensemble.tls,
      servers: statuses.map(statusJson),
    };
    io.stdout(JSON.stringify(json, null, 2) + '\n');
    return 0;
  }
  const tls = ensemble.tls;
  const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
  io.stdout(
    [
      `ensemble serving after ${seconds} s: ${plural(voters, 'voter')}, ${plural(observers, 'observer')} in ${ensemble.dir}`,
      '',
      statusTable(statuses),
      '',
      `connect string: ${ensemble.connectString()}`,
      ...(tls === null
        ? []
        : [
            `TLS (secureClientPort): ${ensemble.secureConnectString() ?? ''}`,
            `  CA ${tls.caFile}, client certificate ${tls.certFile} and key ${tls.keyFile} (${tls.clientKeyStore}: key and chain for Java)`,
            `  e.g. KazooClient(hosts, use_ssl=True, ca='${tls.caFile}', certfile='${tls.certFile}', keyfile='${tls.keyFile}')`,
          ]),
      ...(ensemble.adminTokenFile === null ? [] : [`HTTP token:     ${ensemble.adminTokenFile} (send Authorization: Bearer <token> to /v1/* and the session commands)`]),
      `peers:          ${peerSecurityLine(ensemble)}`,
      `status: zablab ensemble status --dir ${dir}`,
      `stop:   zablab ensemble down --dir ${dir}`,
    ].join('\n') + '\n',
  );
  return 0;
}

// ---- status, down ---------------------------------------------------------------------------

async function runStatus(args: ParsedArgs, io: CliIO): Promise<number> {
  const ensemble = LocalEnsemble.load(args.string('dir')!);
  const statuses = await ensemble.status();
  if (args.flag('json')) {
    io.stdout(JSON.stringify({ dir: ensemble.dir, connectString: ensemble.connectString(), servers: statuses.map(statusJson) }, null, 2) + '\n');
  } else {
    io.stdout(statusTable(statuses) + '\n');
  }
  return 0;
}

async function runDown(args: ParsedArgs, io: CliIO): Promise<number> {
  const ensemble = LocalEnsemble.load(args.string('dir')!);
  const report = await ensemble.down({ purge: args.flag('purge') });
  const lines = report.stopped.map((s) =>
    s.how === 'already gone' ? `server ${s.id} (pid ${s.pid}): had already exited` : `server ${s.id} (pid ${s.pid}): stopped (${s.how})`,
  );
  if (report.stopped.length === 0) lines.push('no server was running');
  lines.push(report.purged ? `removed the ensemble in ${ensemble.dir}` : `data and logs kept in ${ensemble.dir}`);
  io.stdout(lines.join('\n') + '\n');
  return 0;
}

// ---- kill, start ------------------------------------------------------------------------------

async function runKill(args: ParsedArgs, io: CliIO): Promise<number> {
  const help = 'zablab ensemble kill --help';
  const byLeader = args.flag('leader');
  const idText = args.string('id');
  if (byLeader === (idText !== undefined)) throw new UsageError('`zablab ensemble kill` needs exactly one of --leader or --id N', help);
  const signal = specOrUsage(() => ensembleSignal(args.string('signal') ?? 'KILL'), help);
  const dir = args.string('dir')!;
  const ensemble = LocalEnsemble.load(dir);
  let id: number;
  if (byLeader) {
    const leader = await ensemble.leader();
    if (leader === null) {
      throw new EnsembleError('ZABLAB_ENSEMBLE_NO_LEADER', `no server of the ensemble in ${ensemble.dir} reports leader; \`zablab ensemble status --dir ${dir}\` shows each server's mode`);
    }
    id = leader.id;
  } else {
    id = intOption(args, 'id', 1, Number.MAX_SAFE_INTEGER, help)!;
  }
  const role = byLeader ? 'leader' : ensemble.server(id).role;
  const r = await ensemble.kill(id, signal);
  const outcome = r.exited ? '; it has exited' : signal === 'SIGSTOP' ? '; it is paused (send CONT to resume it)' : '';
  io.stdout(`sent ${r.signal} to server ${r.id} (${role}, pid ${r.pid})${outcome}\n`);
  return 0;
}

async function runStart(args: ParsedArgs, io: CliIO): Promise<number> {
  const help = 'zablab ensemble start --help';
  const id = intOption(args, 'id', 1, Number.MAX_SAFE_INTEGER, help)!;
  const timeoutMs = intOption(args, 'timeout-ms', 1_000, MAX_TIMEOUT_MS, help) ?? DEFAULT_START_TIMEOUT_MS;
  const ensemble = LocalEnsemble.load(args.string('dir')!, { env: definedEnv(io.env) });
  const startedMs = Date.now();
  await ensemble.start(id, timeoutMs);
  const st = (await ensemble.status()).find((s) => s.id === id);
  const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
  io.stdout(`server ${id} (pid ${st?.pid ?? '?'}) serves again after ${seconds} s as ${st?.mode ?? 'unknown'}, zxid ${zxidText(st?.zxid ?? null)}\n`);
  return 0;
}

// ---- formatting and parsing ---------------------------------------------------------------------

function statusJson(s: ServerStatus): Record<string, unknown> {
  return {
    id: s.id,
    role: s.role,
    mode: s.mode,
    zxid: s.zxid === null ? null : zxidText(s.zxid),
    epoch: s.epoch,
    pid: s.pid,
    alive: s.alive,
    paused: s.paused,
    host: s.host,
    clientPort: s.clientPort,
    secureClientPort: s.secureClientPort,
    httpPort: s.httpPort,
    reason: s.reason,
  };
}

function statusTable(statuses: readonly ServerStatus[]): string {
  // The secureClientPort column only for an ensemble that serves TLS.
  const secure = statuses.some((s) => s.secureClientPort !== null);
  const header = ['id', 'role', 'mode', 'zxid', 'epoch', 'pid', 'alive', 'clientPort', ...(secure ? ['secureClientPort'] : []), 'httpPort', 'note'];
  const rows = statuses.map((s) => [
    String(s.id),
    s.role,
    s.mode,
    s.zxid === null ? '-' : zxidText(s.zxid),
    s.epoch === null ? '-' : String(s.epoch),
    s.pid === null ? '-' : String(s.pid),
    s.alive ? 'yes' : 'no',
    String(s.clientPort),
    ...(secure ? [String(s.secureClientPort ?? '-')] : []),
    String(s.httpPort),
    s.reason ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** ZooKeeper prints zxids as 0x and unpadded hex. */
function zxidText(zxid: bigint | null): string {
  return zxid === null ? '-' : `0x${zxid.toString(16)}`;
}

function peerSecurityLine(ensemble: LocalEnsemble): string {
  switch (ensemble.peerSecurity) {
    case 'secret':
      return `authenticated with the secret in ${ensemble.quorumSecretFile ?? '?'} (quorum.auth.*)`;
    case 'tls':
      return `mutual TLS with certificates in ${path.join(ensemble.dir, PEER_TLS_DIR)} (sslQuorum)`;
    case 'none':
      return ensemble.servers.length > 1 ? 'open: anyone who reaches the quorum and election ports is taken for a member' : 'standalone (no peers)';
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Runs a parse that throws a SPEC EnsembleError and turns that into a usage error. */
function specOrUsage<T>(parse: () => T, help: string): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof EnsembleError && err.code === 'ZABLAB_ENSEMBLE_SPEC') throw new UsageError(err.message, help);
    throw err;
  }
}

function definedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
