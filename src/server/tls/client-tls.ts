/**
 * The client port's TLS, from the ssl.* keys (ZooKeeper's ClientX509Util with PEM stores):
 * the options of the tls.Server that secureClientPort and client.portUnification hand their
 * connections to. Read when the server starts, before it binds; a store that cannot be used
 * stops it with the zoo.cfg line and key.
 */
import tls from 'node:tls';
import { configErrorAt, type ClientAuth, type ClientTlsSpec, type ZabConfig } from '../config.js';
import { loadKeyStore, loadTrustStore } from './pem-stores.js';
import { DEFAULT_CIPHER_SUITES, openSslCiphers, tlsVersions } from './names.js';

export interface ClientTls {
  /** For tls.createServer. */
  options: tls.TlsOptions;
  clientAuth: ClientAuth;
}

/** The tls.Server options the config asks for; null when the client port serves no TLS. */
export function loadClientTls(cfg: ZabConfig): ClientTls | null {
  const spec = cfg.clientTls;
  if (spec === undefined) return null;
  const versions = tlsVersions(spec.protocol, spec.enabledProtocols);
  // parseConfig has checked protocols and cipher suites; a failure here is a bug, not a config error.
  if (typeof versions === 'string') throw new Error(`ssl protocols: ${versions}`);
  const ciphers = openSslCiphers(cipherSuites(spec, versions.max));
  if (typeof ciphers === 'string') throw new Error(`ssl.ciphersuites: ${ciphers}`);
  const options: tls.TlsOptions = {
    ...loadKeyStore(cfg, 'ssl', spec.keyStore),
    minVersion: versions.min,
    maxVersion: versions.max,
    ciphers: ciphers.ciphers,
    honorCipherOrder: true,
    // need: no certificate, or one the trust store does not vouch for, ends the handshake; want: a certificate is optional, but checked when given.
    requestCert: spec.clientAuth !== 'none',
    rejectUnauthorized: spec.clientAuth === 'need',
    // A handshake may not hold a connection open longer than a client without a ConnectRequest may.
    handshakeTimeout: cfg.sessionlessCnxnTimeoutMs,
  };
  if (spec.trustStore !== undefined) options.ca = loadTrustStore(cfg, 'ssl', spec.trustStore);
  try {
    tls.createSecureContext(options);
  } catch (err) {
    throw configErrorAt(cfg, 'ssl.keyStore.location', `names ${spec.keyStore.location}, which Node's TLS cannot use with these settings (${(err as Error).message})`);
  }
  return { options, clientAuth: spec.clientAuth };
}

/**
 * ssl.ciphersuites, or X509Util's defaults. Those name TLS 1.2 suites only; where TLS 1.3 is
 * enabled zablab adds its suites (Java would fail a TLS 1.3-only handshake with them).
 */
function cipherSuites(spec: ClientTlsSpec, max: 'TLSv1.2' | 'TLSv1.3'): readonly string[] {
  if (spec.cipherSuites !== undefined) return spec.cipherSuites;
  return max === 'TLSv1.3' ? [...DEFAULT_CIPHER_SUITES, 'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] : DEFAULT_CIPHER_SUITES;
}
