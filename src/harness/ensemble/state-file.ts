/**
 * DIR/ensemble.json: what `ensemble up` started, read by every later command and by other
 * tools. The contract fields per server are id, role, host, clientPort, secureClientPort
 * (null without --tls), httpPort, pid, and at the top `adminTokenFile` (the file holding the
 * HTTP face's bearer token, or null) and `tls` (the CA and client certificate files, or null);
 * the rest is ours (`peerSecurity` and `quorumSecretFile` among it: how the servers
 * authenticate each other, peer-credentials.ts). Written atomically (temp file + rename) so a
 * reader never sees half.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EnsembleError } from './errors.js';
import type { EnsembleServer } from './layout.js';
import { PEER_SECURITY_MODES, type PeerSecurityMode } from './peer-credentials.js';
import type { ServerProgram } from './program.js';
import type { EnsembleTls } from './tls-files.js';

export const ENSEMBLE_FILE = 'ensemble.json';
export const ENSEMBLE_FILE_VERSION = 1;
const MAX_FILE_BYTES = 1024 * 1024;

export interface EnsembleState {
  version: number;
  /** Absolute. */
  dir: string;
  program: ServerProgram;
  createdAt: string;
  /** Absolute path of the HTTP face's token file (admin.tokenFile of every server); null when the servers need none. */
  adminTokenFile: string | null;
  /** How the servers authenticate each other. */
  peerSecurity: PeerSecurityMode;
  /** `secret`: the file holding the quorum secret (absolute); otherwise null. */
  quorumSecretFile: string | null;
  /** The certificates of an ensemble that serves TLS (DIR/tls); null otherwise. */
  tls: EnsembleTls | null;
  servers: EnsembleServer[];
  /** Where the servers write spans files (ZABLAB_SPANS_DIR when they started); absent or null: none. */
  spansDir?: string | null;
}

export function ensembleFile(dir: string): string {
  return path.join(path.resolve(dir), ENSEMBLE_FILE);
}

export function writeState(state: EnsembleState): void {
  const file = ensembleFile(state.dir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/** Reads and checks DIR/ensemble.json; errors say which command makes one. */
export function readState(dir: string): EnsembleState {
  const file = ensembleFile(dir);
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_FILE_BYTES) throw stateError(file, `it is ${size} bytes, more than an ensemble file can be`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof EnsembleError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new EnsembleError('ZABLAB_ENSEMBLE_NOT_FOUND', `${file} not found: run \`zablab ensemble up --dir ${dir}\` first`);
    }
    throw new EnsembleError('ZABLAB_ENSEMBLE_STATE', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw stateError(file, `it is not JSON (${(err as Error).message})`);
  }
  return checkState(json, file, path.resolve(dir));
}

function checkState(json: unknown, file: string, dir: string): EnsembleState {
  const o = object(json, file, 'the file');
  if (o['version'] !== ENSEMBLE_FILE_VERSION) throw stateError(file, `version is ${String(o['version'])}, this zablab reads version ${ENSEMBLE_FILE_VERSION}`);
  const servers = o['servers'];
  if (!Array.isArray(servers) || servers.length === 0) throw stateError(file, '"servers" must be a non-empty array');
  const checked = servers.map((s, i) => checkServer(s, file, i));
  const ids = new Set(checked.map((s) => s.id));
  if (ids.size !== checked.length) throw stateError(file, 'two servers have the same id');
  return {
    version: ENSEMBLE_FILE_VERSION,
    // The directory as given now wins: the ensemble may have been moved since it was written.
    dir,
    program: checkProgram(o['program'], file),
    createdAt: typeof o['createdAt'] === 'string' ? o['createdAt'] : '',
    adminTokenFile: checkTokenFile(o['adminTokenFile'], file, 'adminTokenFile'),
    peerSecurity: checkPeerSecurity(o['peerSecurity'], file),
    quorumSecretFile: checkTokenFile(o['quorumSecretFile'], file, 'quorumSecretFile'),
    tls: checkTls(o['tls'], file),
    servers: checked,
    spansDir: typeof o['spansDir'] === 'string' && path.isAbsolute(o['spansDir']) ? o['spansDir'] : null,
  };
}

function checkServer(json: unknown, file: string, i: number): EnsembleServer {
  const where = `servers[${i}]`;
  const o = object(json, file, where);
  const int = (key: string): number => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw stateError(file, `${where}.${key} must be a non-negative integer`);
    return v;
  };
  const str = (key: string): string => {
    const v = o[key];
    if (typeof v !== 'string' || v === '') throw stateError(file, `${where}.${key} must be a non-empty string`);
    return v;
  };
  const role = o['role'];
  if (role !== 'voter' && role !== 'observer') throw stateError(file, `${where}.role must be "voter" or "observer"`);
  const pid = o['pid'];
  if (pid !== null && (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0)) throw stateError(file, `${where}.pid must be a positive integer or null`);
  // Files from before TLS have no secureClientPort.
  const secure = o['secureClientPort'];
  if (secure !== undefined && secure !== null && (typeof secure !== 'number' || !Number.isInteger(secure) || secure <= 0)) {
    throw stateError(file, `${where}.secureClientPort must be a positive integer or null`);
  }
  return {
    id: int('id'),
    role,
    host: str('host'),
    clientPort: int('clientPort'),
    secureClientPort: typeof secure === 'number' ? secure : null,
    httpPort: int('httpPort'),
    quorumPort: int('quorumPort'),
    electionPort: int('electionPort'),
    pid,
    paused: o['paused'] === true,
    serverDir: str('serverDir'),
    configFile: str('configFile'),
    dataDir: str('dataDir'),
    logFile: str('logFile'),
  };
}

/** Files from before tokens (or quorum secrets) have none. */
function checkTokenFile(json: unknown, file: string, key: string): string | null {
  if (json === undefined || json === null) return null;
  if (typeof json !== 'string' || !path.isAbsolute(json)) throw stateError(file, `${key} must be an absolute path or null`);
  return json;
}

/** Ensembles from before peer security were open. */
function checkPeerSecurity(json: unknown, file: string): PeerSecurityMode {
  if (json === undefined) return 'none';
  const mode = PEER_SECURITY_MODES.find((m) => m === json);
  if (mode === undefined) throw stateError(file, `peerSecurity must be one of ${PEER_SECURITY_MODES.join(', ')}`);
  return mode;
}

function checkTls(json: unknown, file: string): EnsembleTls | null {
  if (json === undefined || json === null) return null;
  const o = object(json, file, 'tls');
  const out: Partial<Record<keyof EnsembleTls, string>> = {};
  for (const key of ['caFile', 'certFile', 'keyFile', 'clientKeyStore', 'serverKeyStore'] as const) {
    const v = o[key];
    if (typeof v !== 'string' || !path.isAbsolute(v)) throw stateError(file, `tls.${key} must be an absolute path`);
    out[key] = v;
  }
  return out as EnsembleTls;
}

function checkProgram(json: unknown, file: string): EnsembleState['program'] {
  const o = object(json, file, 'program');
  if (o['kind'] === 'zablab') return { kind: 'zablab' };
  if (o['kind'] === 'zookeeper') {
    const cp = o['classpath'];
    if (!Array.isArray(cp) || !cp.every((e): e is string => typeof e === 'string')) throw stateError(file, 'program.classpath must be an array of strings');
    const java = o['java'];
    const heapMb = o['heapMb'];
    const fastStart = o['fastStart'];
    return {
      kind: 'zookeeper',
      classpath: cp,
      ...(typeof java === 'string' ? { java } : {}),
      ...(typeof heapMb === 'number' ? { heapMb } : {}),
      ...(typeof fastStart === 'boolean' ? { fastStart } : {}),
    };
  }
  throw stateError(file, 'program.kind must be "zablab" or "zookeeper"');
}

function object(json: unknown, file: string, where: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw stateError(file, `${where} must be a JSON object`);
  return json as Record<string, unknown>;
}

function stateError(file: string, why: string): EnsembleError {
  return new EnsembleError('ZABLAB_ENSEMBLE_STATE', `${file} is not an ensemble file zablab can use: ${why}; stop its servers by hand and remove the directory, or use another --dir`);
}
