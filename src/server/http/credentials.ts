/**
 * The HTTP face's credentials, read once when the server starts, before it binds anything:
 * the bearer token (admin.tokenFile) and, with admin.forceHttps, the PEM key store and trust
 * store (ssl.quorum.keyStore / trustStore, as ZooKeeper's AdminServer uses them; read by
 * tls/pem-stores.ts, the one loader of PEM stores). A secret
 * file that is missing, empty, unreadable, or readable or writable by every user stops the
 * server with a ConfigError that names the zoo.cfg line and key.
 *
 * Only a SHA-256 digest of the token is kept: comparing two digests of equal length with
 * timingSafeEqual takes the same time whatever the guess, and the token itself is never
 * held where a heap dump or a log line could show it.
 */
import crypto from 'node:crypto';
import { configErrorAt, type ZabConfig } from '../config.js';
import type { SupportedKey } from '../config-keys.js';
import { loadKeyStore, loadTrustStore, readSecret } from '../tls/pem-stores.js';

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
  const tls: AdminTls = { ...loadKeyStore(cfg, 'ssl.quorum', cfg.sslQuorumKeyStore!), requestCert: cfg.adminNeedClientAuth };
  if (cfg.adminNeedClientAuth) tls.ca = loadTrustStore(cfg, 'ssl.quorum', cfg.sslQuorumTrustStore!);
  return tls;
}
