/**
 * The peers' credentials, read once when the server starts and before anything binds (through
 * the server's one loader, tls/pem-stores.ts): with sslQuorum the PEM key and trust stores, with
 * quorum.auth.enableSasl the shared secret. A bad file stops the server with a ConfigError
 * that names the zoo.cfg line and key; the secret itself never reaches a log line.
 */
import crypto from 'node:crypto';
import { configErrorAt, type ZabConfig } from '../config.js';
import { loadKeyStore, loadTrustStore, readSecret } from '../tls/pem-stores.js';
import type { QuorumAuthOptions } from './peer-auth.js';
import { PeerTls } from './peer-tls.js';

/** How the transport secures its connections; each part absent when off. */
export interface PeerSecurity {
  tls?: PeerTls;
  auth?: QuorumAuthOptions;
}

/** Shorter secrets are guessable; 16 printable characters are about 100 bits when random. */
export const QUORUM_SECRET_CHARS_MIN = 16;
const SECRET_BYTES_MAX = 4096;
const MAKE_SECRET = 'e.g. `head -c 32 /dev/urandom | base64 > FILE && chmod 600 FILE`, the same file on every server';

export function loadQuorumSecurity(cfg: ZabConfig): PeerSecurity {
  const out: PeerSecurity = {};
  if (cfg.sslQuorum) {
    // parseConfig refuses sslQuorum without both stores.
    const store = loadKeyStore(cfg, 'ssl.quorum', cfg.sslQuorumKeyStore!);
    out.tls = new PeerTls({
      key: store.key,
      cert: store.cert,
      ...(store.passphrase === undefined ? {} : { passphrase: store.passphrase }),
      ca: loadTrustStore(cfg, 'ssl.quorum', cfg.sslQuorumTrustStore!),
      hostnameVerification: cfg.sslQuorumHostnameVerification,
      protocols: cfg.sslQuorumProtocols,
    });
  }
  if (cfg.quorumAuthEnableSasl) {
    out.auth = { secret: quorumSecret(cfg), learnerRequire: cfg.quorumAuthLearnerRequireSasl, serverRequire: cfg.quorumAuthServerRequireSasl };
  }
  return out;
}

function quorumSecret(cfg: ZabConfig): crypto.KeyObject {
  const key = 'quorum.auth.secretFile';
  // parseConfig refuses enableSasl without a secret file.
  const file = cfg.quorumAuthSecretFile!;
  const secret = readSecret(cfg, key, file, SECRET_BYTES_MAX).trim();
  const make = MAKE_SECRET.replaceAll('FILE', file);
  if (secret === '') throw configErrorAt(cfg, key, `names ${file}, which is empty; put the ensemble's secret in it (${make})`);
  if (secret.length < QUORUM_SECRET_CHARS_MIN) {
    throw configErrorAt(cfg, key, `names ${file}, whose secret has ${secret.length} characters; use at least ${QUORUM_SECRET_CHARS_MIN} (${make})`);
  }
  return crypto.createSecretKey(Buffer.from(secret, 'utf8'));
}
