/**
 * The HTTP face's credentials, read once when the server starts, before it binds anything:
 * the bearer token (admin.tokenFile) and, with admin.forceHttps, the PEM key store and trust
 * store (ssl.quorum.keyStore / trustStore, as ZooKeeper's AdminServer uses them). A secret
 * file that is missing, empty, unreadable, or readable or writable by every user stops the
 * server with a ConfigError that names the zoo.cfg line and key.
 *
 * Only a SHA-256 digest of the token is kept: comparing two digests of equal length with
 * timingSafeEqual takes the same time whatever the guess, and the token itself is never
 * held where a heap dump or a log line could show it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { configErrorAt, type StoreSpec, type ZabConfig } from '../config.js';
import type { SupportedKey } from '../config-keys.js';

/** Whether protected routes need a token: `off` (admin.auth.enabled=false), `unset` (no token file: they answer 401), or the token's digest. */
export type AdminAuth = { kind: 'off' } | { kind: 'unset' } | { kind: 'token'; digest: Buffer };

/** TLS material for https.createServer. */
export interface AdminTls {
  key: string;
  cert: string;
  passphrase?: string;
  /** CA certificates client certificates must chain to (admin.needClientAuth). */
  ca?: string;
  requestCert: boolean;
}

export interface AdminCredentials {
  auth: AdminAuth;
  tls: AdminTls | null;
}

/** Shorter tokens are guessable; 16 printable characters are about 100 bits when random. */
export const TOKEN_CHARS_MIN = 16;
export const TOKEN_BYTES_MAX = 4096;
const PEM_BYTES_MAX = 1 << 20;
const PASSWORD_BYTES_MAX = 4096;
/** How to make a token, for error messages. */
const MAKE_TOKEN = 'e.g. `head -c 32 /dev/urandom | base64 > FILE && chmod 600 FILE`';

/** Reads and checks every file the config's admin keys name. Throws ConfigError (line and key) on the first problem. */
export function loadAdminCredentials(cfg: ZabConfig): AdminCredentials {
  return { auth: adminAuth(cfg), tls: cfg.adminForceHttps ? adminTls(cfg) : null };
}

/** True when `presented` is the token (constant time in the guess). */
export function tokenMatches(auth: Extract<AdminAuth, { kind: 'token' }>, presented: string): boolean {
  return crypto.timingSafeEqual(auth.digest, sha256(presented));
}

function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

function adminAuth(cfg: ZabConfig): AdminAuth {
  if (!cfg.adminAuthEnabled) return { kind: 'off' };
  if (cfg.adminTokenFile === undefined) return { kind: 'unset' };
  const key: SupportedKey = 'admin.tokenFile';
  const file = cfg.adminTokenFile;
  const token = readSecret(cfg, key, file, TOKEN_BYTES_MAX).trim();
  if (token === '') throw configErrorAt(cfg, key, `names ${file}, which is empty; put a token in it (${MAKE_TOKEN.replaceAll('FILE', file)})`);
  if (!/^[\x21-\x7e]+$/.test(token)) throw configErrorAt(cfg, key, `names ${file}, whose token must be one line of printable ASCII without spaces (it goes into an HTTP header)`);
  if (token.length < TOKEN_CHARS_MIN) {
    throw configErrorAt(cfg, key, `names ${file}, whose token has ${token.length} characters; use at least ${TOKEN_CHARS_MIN} (${MAKE_TOKEN.replaceAll('FILE', file)})`);
  }
  return { kind: 'token', digest: sha256(token) };
}

function adminTls(cfg: ZabConfig): AdminTls {
  // parseConfig refuses forceHttps without a key store and needClientAuth without a trust store.
  const keyStore = cfg.sslQuorumKeyStore!;
  const keyKey: SupportedKey = 'ssl.quorum.keyStore.location';
  const pem = readSecret(cfg, keyKey, keyStore.location, PEM_BYTES_MAX);
  const keys = pemBlocks(pem, /PRIVATE KEY/);
  const certs = pemBlocks(pem, /^CERTIFICATE$/);
  if (keys.length !== 1) throw configErrorAt(cfg, keyKey, `names ${keyStore.location}, which holds ${keys.length} private keys; a PEM key store holds one, then its certificate chain`);
  if (certs.length === 0) throw configErrorAt(cfg, keyKey, `names ${keyStore.location}, which holds no certificate; a PEM key store holds the private key, then its certificate chain`);
  const passphrase = storePassword(cfg, keyStore);
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(passphrase === undefined ? keys[0]! : { key: keys[0]!, passphrase });
  } catch (err) {
    const hint = passphrase === undefined ? '; if it is encrypted, set ssl.quorum.keyStore.passwordPath' : '; check ssl.quorum.keyStore.password(Path)';
    throw configErrorAt(cfg, keyKey, `names ${keyStore.location}, whose private key cannot be read (${(err as Error).message})${hint}`);
  }
  const leaf = certificate(cfg, keyKey, keyStore.location, certs[0]!);
  if (!leaf.checkPrivateKey(privateKey)) {
    throw configErrorAt(cfg, keyKey, `names ${keyStore.location}, whose first certificate (${leaf.subject.replace(/\n/g, ', ')}) is not for its private key; put the server's own certificate first`);
  }
  const tls: AdminTls = { key: keys[0]!, cert: certs.join('\n'), requestCert: cfg.adminNeedClientAuth };
  if (passphrase !== undefined) tls.passphrase = passphrase;
  if (cfg.adminNeedClientAuth) tls.ca = trustedCertificates(cfg, cfg.sslQuorumTrustStore!);
  return tls;
}

function trustedCertificates(cfg: ZabConfig, store: StoreSpec): string {
  const key: SupportedKey = 'ssl.quorum.trustStore.location';
  let pem: string;
  try {
    pem = readBounded(store.location, PEM_BYTES_MAX);
  } catch (err) {
    throw configErrorAt(cfg, key, `names ${store.location}, which cannot be read (${reason(err)})`);
  }
  const certs = pemBlocks(pem, /^CERTIFICATE$/);
  if (certs.length === 0) throw configErrorAt(cfg, key, `names ${store.location}, which holds no PEM certificate; put the CA certificates clients are checked against in it`);
  for (const c of certs) certificate(cfg, key, store.location, c);
  return certs.join('\n');
}

function storePassword(cfg: ZabConfig, store: StoreSpec): string | undefined {
  if (store.passwordPath !== undefined) {
    // ZooKeeper: the password file wins over the password.
    return readSecret(cfg, 'ssl.quorum.keyStore.passwordPath', store.passwordPath, PASSWORD_BYTES_MAX).replace(/\r?\n$/, '');
  }
  return store.password === undefined || store.password === '' ? undefined : store.password;
}

function certificate(cfg: ZabConfig, key: SupportedKey, file: string, pem: string): crypto.X509Certificate {
  try {
    return new crypto.X509Certificate(pem);
  } catch (err) {
    throw configErrorAt(cfg, key, `names ${file}, which holds a certificate that cannot be parsed (${(err as Error).message})`);
  }
}

/** The PEM blocks whose label matches, each with its BEGIN and END lines. */
function pemBlocks(text: string, label: RegExp): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)) {
    if (label.test(m[1]!)) out.push(m[0]);
  }
  return out;
}

/**
 * A secret's text. Refuses what others could read or replace: on a shared machine a
 * token every user can read is no credential. (Windows has no such mode bits.)
 */
function readSecret(cfg: ZabConfig, key: SupportedKey, file: string, maxBytes: number): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw configErrorAt(cfg, key, `names ${file}, which does not exist; create it (mode 600)`);
    throw configErrorAt(cfg, key, `names ${file}, which cannot be read (${reason(err)})`);
  }
  if (!st.isFile()) throw configErrorAt(cfg, key, `names ${file}, which is not a regular file`);
  const mode = st.mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o006) !== 0) {
    const what = (mode & 0o004) !== 0 ? 'read' : 'write';
    throw configErrorAt(cfg, key, `names ${file}, which every user can ${what} (mode ${mode.toString(8).padStart(3, '0')}); chmod 600 ${file}`);
  }
  try {
    return readBounded(file, maxBytes);
  } catch (err) {
    throw configErrorAt(cfg, key, `names ${file}, which this server cannot read (${reason(err)}); it must be readable by the user the server runs as`);
  }
}

function readBounded(file: string, maxBytes: number): string {
  const size = fs.statSync(file).size;
  if (size > maxBytes) throw new Error(`it is ${size} bytes, more than ${maxBytes}`);
  return fs.readFileSync(file, 'utf8');
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message;
}
