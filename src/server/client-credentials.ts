/**
 * The client port's credentials, read once when the server starts, before it binds anything
 * (as the HTTP face's are): the TLS key and trust stores (ssl.*), and the DIGEST-MD5 users of
 * zablab.sasl.jaasFile. A file that cannot be used stops the server with a ConfigError naming
 * the zoo.cfg line and key. Passwords stay in memory only; nothing here logs them.
 */
import { JaasSyntaxError, parseJaas, saslUsersOf, type SaslUsers } from './auth/jaas.js';
import { configErrorAt, type ZabConfig } from './config.js';
import { readSecret } from './tls/pem-stores.js';
import { loadClientTls, type ClientTls } from './tls/client-tls.js';

export interface ClientCredentials {
  /** null: the client port serves no TLS. */
  tls: ClientTls | null;
  /** null: no JAAS file, so every SASL login fails. */
  saslUsers: SaslUsers | null;
}

const JAAS_BYTES_MAX = 1 << 20;

export function loadClientCredentials(cfg: ZabConfig): ClientCredentials {
  return { tls: loadClientTls(cfg), saslUsers: cfg.saslJaasFile === undefined ? null : loadSaslUsers(cfg, cfg.saslJaasFile) };
}

function loadSaslUsers(cfg: ZabConfig, file: string): SaslUsers {
  // It holds passwords: the same checks as every secret file (exists, regular, not world-readable).
  const text = readSecret(cfg, 'zablab.sasl.jaasFile', file, JAAS_BYTES_MAX);
  let sections;
  try {
    sections = parseJaas(text);
  } catch (err) {
    if (!(err instanceof JaasSyntaxError)) throw err;
    throw configErrorAt(cfg, 'zablab.sasl.jaasFile', `names ${file}, which is not a JAAS login configuration (line ${err.line}: ${err.message})`);
  }
  const users = saslUsersOf(sections, cfg.saslLoginContext);
  if (typeof users === 'string') throw configErrorAt(cfg, 'zablab.sasl.jaasFile', `names ${file}, which ${users}`);
  return users;
}
