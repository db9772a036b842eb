/**
 * ZooKeeper's TLS vocabulary in Node's terms: `ssl.protocol` / `ssl.enabledProtocols` as a
 * range of TLS versions, and `ssl.ciphersuites` (Java's IANA names) as OpenSSL cipher names.
 * A name that has no exact counterpart here is refused, never approximated.
 */
import tls from 'node:tls';

/** The TLS versions zablab serves, oldest first (older ones are broken). */
export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** ZooKeeper 3.8's X509Util.DEFAULT_PROTOCOL: with neither key set, only TLS 1.2 is served. */
export const DEFAULT_SSL_PROTOCOL = 'TLSv1.2';

/**
 * X509Util's default cipher suites on Java 9+ (GCM first, then CBC): what a ZooKeeper 3.8
 * server offers when `ssl.ciphersuites` is not set.
 */
export const DEFAULT_CIPHER_SUITES: readonly string[] = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
];

/** TLS 1.3 suites: the same names in Java and OpenSSL. */
const TLS13_SUITES: ReadonlySet<string> = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);

/**
 * The TLS versions the keys ask for, as Node's minVersion/maxVersion; a string saying what is
 * wrong when they name a version zablab does not serve (below 1.2) or one it does not know.
 */
export function tlsVersions(protocol: string, enabledProtocols: readonly string[] | undefined): { min: TlsVersion; max: TlsVersion } | string {
  // X509Util: without ssl.enabledProtocols, the one protocol of the SSLContext ("TLS": any).
  const names = enabledProtocols ?? [protocol];
  const versions = new Set<TlsVersion>();
  for (const name of names) {
    if (name === 'TLS') {
      versions.add('TLSv1.2');
      versions.add('TLSv1.3');
    } else if (name === 'TLSv1.2' || name === 'TLSv1.3') {
      versions.add(name);
    } else if (/^(TLSv1(\.1)?|SSLv[23])$/.test(name)) {
      return `names ${name}, which zablab does not serve (TLS 1.2 and 1.3 only; older versions are broken)`;
    } else {
      return `names "${name}", which is not a TLS protocol name (TLSv1.2, TLSv1.3 or TLS)`;
    }
  }
  if (versions.size === 0) return 'names no protocol; give TLSv1.2, TLSv1.3 or both';
  return { min: versions.has('TLSv1.2') ? 'TLSv1.2' : 'TLSv1.3', max: versions.has('TLSv1.3') ? 'TLSv1.3' : 'TLSv1.2' };
}

const KEY_EXCHANGE: Readonly<Record<string, string>> = {
  ECDHE_ECDSA: 'ECDHE-ECDSA-',
  ECDHE_RSA: 'ECDHE-RSA-',
  DHE_RSA: 'DHE-RSA-',
  RSA: '',
};

/** A TLS 1.2 suite's IANA name (TLS_<kx>_WITH_<cipher>_<mac>) as OpenSSL names it, or undefined. */
function openSslName(iana: string): string | undefined {
  const m = /^TLS_(ECDHE_ECDSA|ECDHE_RSA|DHE_RSA|RSA)_WITH_(AES_128|AES_256)_(GCM|CBC)_(SHA|SHA256|SHA384)$/.exec(iana);
  if (m !== null) {
    const [, kx, aes, mode, mac] = m as unknown as [string, string, string, string, string];
    const bits = aes === 'AES_128' ? 'AES128' : 'AES256';
    return mode === 'GCM' ? `${KEY_EXCHANGE[kx]}${bits}-GCM-${mac}` : `${KEY_EXCHANGE[kx]}${bits}-${mac}`;
  }
  const chacha = /^TLS_(ECDHE_ECDSA|ECDHE_RSA|DHE_RSA)_WITH_CHACHA20_POLY1305_SHA256$/.exec(iana);
  if (chacha !== null) return `${KEY_EXCHANGE[chacha[1]!]}CHACHA20-POLY1305`;
  return undefined;
}

/**
 * `ssl.ciphersuites` (Java's names) as Node's `ciphers` string; a string saying which name has
 * no counterpart when one does not map to a cipher this Node's OpenSSL offers.
 */
export function openSslCiphers(suites: readonly string[]): { ciphers: string } | string {
  const available = new Set(tls.getCiphers().map((c) => c.toUpperCase()));
  const out: string[] = [];
  for (const suite of suites) {
    const name = TLS13_SUITES.has(suite) ? suite : openSslName(suite);
    if (name === undefined || !available.has(name.toUpperCase())) {
      return `names ${suite}, which ${name === undefined ? 'zablab cannot map to an OpenSSL cipher' : `(OpenSSL ${name}) this Node's OpenSSL does not offer`}; name TLS 1.2 ECDHE/DHE/RSA AES-GCM, AES-CBC or CHACHA20 suites, or TLS 1.3 suites`;
    }
    out.push(name);
  }
  if (out.length === 0) return 'names no cipher suite';
  return { ciphers: out.join(':') };
}
