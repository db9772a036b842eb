/**
 * In-process zablab servers with the HTTP face for these tests: a real standalone server
 * (storage with fsync, client port, HTTP port) in this process, on free loopback ports, with
 * a token file (admin.tokenFile) unless the test's settings say otherwise. http() and
 * rawGet() send the token of the server they talk to, unless the test passes its own
 * `authorization` header ('' sends none).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import nodeHttp from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createLogger, loadConfig, startServer, type RunningServer } from '../../../src/server/index.js';
import { freePorts } from '../../helpers/ports.js';

export interface HttpTarget {
  /** http://127.0.0.1:<admin.serverPort> */
  base: string;
  clientPort: number;
  adminPort: number;
  /** The HTTP face's token, null when the settings give none. */
  token: string | null;
  /** The temp dir holding zoo.cfg, the token and the data. */
  dir: string;
  running: RunningServer;
  stop(): Promise<void>;
}

/** Tokens of the servers started here, by admin port. */
const tokens = new Map<number, string>();

/** A token file as a user would make one: 32 random bytes, base64, mode 0600. */
export function writeTokenFile(file: string): string {
  const token = crypto.randomBytes(32).toString('base64');
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

function withToken(port: number, headers: Record<string, string>): Record<string, string> {
  const token = tokens.get(port);
  if ('authorization' in headers) {
    const { authorization, ...rest } = headers;
    return authorization === '' ? rest : headers;
  }
  return token === undefined ? headers : { ...headers, authorization: `Bearer ${token}` };
}

/** Start a standalone server with `extra` zoo.cfg lines (they win over the defaults). */
export async function startStandaloneHttp(extra: Record<string, string> = {}): Promise<HttpTarget> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-http-'));
  const [clientPort, adminPort] = (await freePorts(2)) as [number, number];
  // Credentials as a user sets them up, unless the test configures them itself.
  const ownToken = !('admin.tokenFile' in extra) && !('admin.auth.enabled' in extra);
  const token = ownToken ? writeTokenFile(path.join(dir, 'admin-token')) : null;
  const entries: Record<string, string> = {
    tickTime: '200',
    dataDir: dir,
    clientPort: String(clientPort),
    clientPortAddress: '127.0.0.1',
    'admin.enableServer': 'true',
    'admin.serverAddress': '127.0.0.1',
    'admin.serverPort': String(adminPort),
    '4lw.commands.whitelist': '*',
    ...(ownToken ? { 'admin.tokenFile': path.join(dir, 'admin-token') } : {}),
    ...extra,
  };
  const text = Object.entries(entries).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
  const cfgFile = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(cfgFile, text);
  const cfg = loadConfig(cfgFile);
  const running = await startServer(cfg, { log: createLogger({ level: 'error' }) });
  if (token !== null) tokens.set(adminPort, token);
  return {
    base: `http://127.0.0.1:${adminPort}`,
    clientPort,
    adminPort,
    token,
    dir,
    running,
    stop: async () => {
      tokens.delete(adminPort);
      await running.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface JsonReply {
  status: number;
  contentType: string | null;
  /** Parsed JSON, or null for an empty body. */
  body: unknown;
  text: string;
}

export async function http(base: string, method: string, url: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<JsonReply> {
  const r = await fetch(base + url, { method, body, headers: withToken(Number(new URL(base).port), headers) });
  const text = await r.text();
  const ct = r.headers.get('content-type');
  return { status: r.status, contentType: ct, text, body: text !== '' && ct?.includes('json') ? (JSON.parse(text) as unknown) : null };
}

/** A request whose path is sent exactly as given (fetch would resolve `.` and `..` segments first). */
export function rawGet(port: number, rawPath: string): Promise<JsonReply> {
  return new Promise((resolve, reject) => {
    const r = nodeHttp.request({ host: '127.0.0.1', port, path: rawPath, method: 'GET', headers: withToken(port, {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const ct = res.headers['content-type'] ?? null;
        resolve({ status: res.statusCode ?? 0, contentType: ct, text, body: text !== '' && ct?.includes('json') ? (JSON.parse(text) as unknown) : null });
      });
    });
    r.on('error', reject);
    r.end();
  });
}
