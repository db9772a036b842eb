/**
 * ZooKeeper's PEM key and trust stores (X509Util with `*.type=PEM`), read once when the server
 * starts, before it binds anything: the one loader for every face that serves TLS (the HTTP
 * face and the peer channels with ssl.quorum.*, the client port with ssl.*) and for the
 * secrets zoo.cfg names (the admin token, the quorum secret, JAAS users, key passwords). A
 * store that is missing, unreadable, holds the wrong blocks, or — for secrets — can be read
 * or written by every user stops the server with a ConfigError naming the zoo.cfg line and key.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { configErrorAt, type StoreSpec, type ZabConfig } from '../config.js';
import type { SupportedKey } from '../config-keys.js';

const PEM_BYTES_MAX = 1 << 20;
const PASSWORD_BYTES_MAX = 4096;

/** The zoo.cfg keys of one store family, for messages: `ssl.quorum` or `ssl`. */
export type StorePrefix = 'ssl.quorum' | 'ssl';

/** A key store as Node's TLS options take it. */
export interface KeyStoreMaterial {
  key: string;
  /** The certificate, then its chain. */
  cert: string;
  passphrase?: string;
}

/** The private key and certificate chain of a PEM key store (the key, then the chain). */
export function loadKeyStore(cfg: ZabConfig, prefix: StorePrefix, store: StoreSpec): KeyStoreMaterial {
  const keyKey = `${prefix}.keyStore.location` as SupportedKey;
  const pem = readSecret(cfg, keyKey, store.location, PEM_BYTES_MAX);
  const keys = pemBlocks(pem, /PRIVATE KEY/);
  const certs = pemBlocks(pem, /^CERTIFICATE$/);
  if (keys.length !== 1) throw configErrorAt(cfg, keyKey, `names ${store.location}, which holds ${keys.length} private keys; a PEM key store holds one, then its certificate chain`);
  if (certs.length === 0) throw configErrorAt(cfg, keyKey, `names ${store.location}, which holds no certificate; a PEM key store holds the private key, then its certificate chain`);
  const passphrase = storePassword(cfg, prefix, store);
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(passphrase === undefined ? keys[0]! : { key: keys[0]!, passphrase });
  } catch (err) {
    const hint = passphrase === undefined ? `; if it is encrypted, set ${prefix}.keyStore.passwordPath` : `; check ${prefix}.keyStore.password(Path)`;
    throw configErrorAt(cfg, keyKey, `names ${store.location}, whose private key cannot be read (${(err as Error).message})${hint}`);
  }
  const leaf = certificate(cfg, keyKey, store.location, certs[0]!);
  if (!leaf.checkPrivateKey(privateKey)) {
    throw configErrorAt(cfg, keyKey, `names ${store.location}, whose first certificate (${leaf.subject.replace(/\n/g, ', ')}) is not for its private key; put the server's own certificate first`);
  }
  const material: KeyStoreMaterial = { key: keys[0]!, cert: certs.join('\n') };
  if (passphrase !== undefined) material.passphrase = passphrase;
  return material;
}

/** The CA certificates of a PEM trust store, as one PEM string. */
export function loadTrustStore(cfg: ZabConfig, prefix: StorePrefix, store: StoreSpec): string {
  const key = `${prefix}.trustStore.location` as SupportedKey;
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

function storePassword(cfg: ZabConfig, prefix: StorePrefix, store: StoreSpec): string | undefined {
  if (store.passwordPath !== undefined) {
    // ZooKeeper: the password file wins over the password.
    return readSecret(cfg, `${prefix}.keyStore.passwordPath` as SupportedKey, store.passwordPath, PASSWORD_BYTES_MAX).replace(/\r?\n$/, '');
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
 * A secret's text. Refuses what others could read or replace: on a shared machine a key or
 * password every user can read is no credential. (Windows has no such mode bits.)
 */
export function readSecret(cfg: ZabConfig, key: SupportedKey, file: string, maxBytes: number): string {
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
