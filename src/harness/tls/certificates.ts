/**
 * X.509 certificates for zablab's own TLS: a throwaway certificate authority that issues
 * server and client certificates, all as PEM, for tests and for ensembles the harness starts
 * (`admin.forceHttps`, and later `ensemble up --tls` and client-port TLS). Built with
 * @peculiar/x509 over Node's WebCrypto; nothing here writes ASN.1 by hand or runs openssl.
 *
 * The PEM layouts are ZooKeeper's (X509Util with `keyStore.type=PEM`): a key store is one
 * file holding the private key and then the certificate chain; a trust store holds CA
 * certificates. Keys are PKCS#8, unencrypted.
 */
// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import crypto, { webcrypto as wc } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export type KeyAlgorithm = 'ecdsa-p256' | 'rsa-2048';

export interface CertificateOptions {
  /** Subject CN; default `zablab test CA`, the first host, or `zablab client`. */
  commonName?: string;
  /** Days from now until it expires (default 30): throwaway certificates should not outlive their tests by much. */
  validDays?: number;
  /** Default ecdsa-p256 (fast to make); rsa-2048 for peers that need RSA. */
  keyAlgorithm?: KeyAlgorithm;
}

export interface ServerCertificateOptions extends CertificateOptions {
  /** DNS names and IP addresses the certificate is valid for (subjectAltName); at least one. */
  hosts: readonly string[];
}

/** One issued certificate with its key, as PEM. */
export interface IssuedCertificate {
  /** The certificate, then the CA's (the chain a peer is shown). */
  readonly certPem: string;
  /** PKCS#8 private key, unencrypted. */
  readonly keyPem: string;
  /** ZooKeeper's PEM key store: the key, then the chain. */
  readonly keyStorePem: string;
}

export interface CertificateAuthority {
  /** The CA certificate: what a trust store holds. */
  readonly certPem: string;
  issueServer(opts: ServerCertificateOptions): Promise<IssuedCertificate>;
  issueClient(opts?: CertificateOptions): Promise<IssuedCertificate>;
}

const DAY_MS = 86_400_000;
const DEFAULT_VALID_DAYS = 30;
const MAX_VALID_DAYS = 3_650;
/** notBefore lies this far back, so that a peer whose clock is a little behind accepts it. */
const CLOCK_SKEW_MS = 5 * 60_000;
const webcrypto: wc.Crypto = wc;

interface KeyParams {
  generate: wc.RsaHashedKeyGenParams | wc.EcKeyGenParams;
  signing: wc.Algorithm | wc.EcdsaParams;
}

function keyParams(alg: KeyAlgorithm): KeyParams {
  switch (alg) {
    case 'ecdsa-p256':
      return { generate: { name: 'ECDSA', namedCurve: 'P-256' }, signing: { name: 'ECDSA', hash: 'SHA-256' } as wc.EcdsaParams };
    case 'rsa-2048':
      return {
        generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        signing: { name: 'RSASSA-PKCS1-v1_5' },
      };
  }
}

async function generateKeys(alg: KeyAlgorithm): Promise<wc.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(keyParams(alg).generate, true, ['sign', 'verify'])) as wc.CryptoKeyPair;
}

async function keyPem(key: wc.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** A positive serial of 16 random bytes (RFC 5280: positive, at most 20 octets). */
function serialNumber(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f | 0x01;
  return bytes.toString('hex');
}

function validity(days: number | undefined): { notBefore: Date; notAfter: Date } {
  const d = days ?? DEFAULT_VALID_DAYS;
  if (!Number.isInteger(d) || d < 1 || d > MAX_VALID_DAYS) throw new RangeError(`validDays must be an integer from 1 to ${MAX_VALID_DAYS}, got ${d}`);
  const now = Date.now();
  return { notBefore: new Date(now - CLOCK_SKEW_MS), notAfter: new Date(now + d * DAY_MS) };
}

/** `CN=<name>`, with the characters a distinguished name reserves escaped. */
function distinguishedName(commonName: string): string {
  if (commonName === '' || /[\r\n\0]/.test(commonName)) throw new RangeError(`a common name must be one non-empty line, got ${JSON.stringify(commonName)}`);
  return `CN=${commonName.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`)}`;
}

function subjectAltNames(hosts: readonly string[]): x509.SubjectAlternativeNameExtension {
  if (hosts.length === 0) throw new RangeError('a server certificate needs at least one host name or IP address');
  return new x509.SubjectAlternativeNameExtension(
    hosts.map((h) => {
      const host = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
      return net.isIP(host) === 0 ? { type: 'dns', value: host } : { type: 'ip', value: host };
    }),
  );
}

/** A new CA (self-signed, may sign end-entity certificates only) and the means to issue from it. */
export async function createCertificateAuthority(opts: CertificateOptions = {}): Promise<CertificateAuthority> {
  const alg = opts.keyAlgorithm ?? 'ecdsa-p256';
  const keys = await generateKeys(alg);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: distinguishedName(opts.commonName ?? 'zablab test CA'),
      keys,
      signingAlgorithm: keyParams(alg).signing,
      ...validity(opts.validDays),
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  const caPem = caCert.toString('pem') + '\n';

  const issue = async (o: CertificateOptions, commonName: string, extra: x509.Extension[], usages: x509.ExtendedKeyUsage[]): Promise<IssuedCertificate> => {
    const leafAlg = o.keyAlgorithm ?? 'ecdsa-p256';
    const leafKeys = await generateKeys(leafAlg);
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serialNumber(),
        subject: distinguishedName(o.commonName ?? commonName),
        issuer: caCert.subject,
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: keyParams(alg).signing,
        ...validity(o.validDays),
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension(usages, false),
          await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, webcrypto),
          await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
          ...extra,
        ],
      },
      webcrypto,
    );
    const chain = cert.toString('pem') + '\n' + caPem;
    const key = await keyPem(leafKeys.privateKey);
    return { certPem: chain, keyPem: key, keyStorePem: key + chain };
  };

  return {
    certPem: caPem,
    // Server certificates also allow clientAuth: a ZooKeeper peer is the client of the peers it dials.
    issueServer: async (o) => issue(o, o.hosts[0] ?? 'zablab server', [subjectAltNames(o.hosts)], [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    issueClient: async (o = {}) => issue(o, 'zablab client', [], [x509.ExtendedKeyUsage.clientAuth]),
  };
}

/** Paths written by writeKeyStore / writeTrustStore. */
export interface StoreFiles {
  keyStore: string;
  trustStore: string;
}

/**
 * Writes `dir/<name>.pem` (key store: key + chain, mode 0600) and `dir/<name>-ca.pem` (trust
 * store: the CA, mode 0644): the files ZooKeeper's `ssl.*.keyStore.location` and
 * `ssl.*.trustStore.location` name with type PEM.
 */
export function writeStores(dir: string, name: string, issued: IssuedCertificate, ca: CertificateAuthority): StoreFiles {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new RangeError(`a store name is letters, digits, '.', '_' and '-', got ${JSON.stringify(name)}`);
  fs.mkdirSync(dir, { recursive: true });
  const keyStore = path.join(dir, `${name}.pem`);
  const trustStore = path.join(dir, `${name}-ca.pem`);
  fs.writeFileSync(keyStore, issued.keyStorePem, { mode: 0o600 });
  fs.chmodSync(keyStore, 0o600);
  fs.writeFileSync(trustStore, ca.certPem, { mode: 0o644 });
  return { keyStore, trustStore };
}
