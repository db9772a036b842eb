/**
 * The certificate authority of src/harness/tls: what it issues must pass Node's own X.509
 * checks and carry a real TLS handshake, with client certificates checked both ways.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, writeStores, type CertificateAuthority } from '../../../src/harness/tls/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function certs(pem: string): crypto.X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((c) => new crypto.X509Certificate(c));
}

/** One TLS connection on loopback: what the client read (the server says hello), and the client certificate the server accepted. */
async function handshake(server: tls.TlsOptions, client: tls.ConnectionOptions): Promise<{ read: string | null; clientCN: string | null; error: string | null }> {
  let clientCN: string | null = null;
  const srv = tls.createServer(server, (sock) => {
    const cn = sock.getPeerCertificate().subject?.CN;
    clientCN = typeof cn === 'string' ? cn : null;
    sock.end('hello');
  });
  srv.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  try {
    return await new Promise((resolve) => {
      let read = '';
      const sock = tls.connect({ host: '127.0.0.1', port, ...client });
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => (read += d));
      sock.on('end', () => resolve({ read, clientCN, error: null }));
      // TLS 1.3: a refused client certificate shows up as an alert after the client's side of the handshake.
      sock.on('error', (err) => resolve({ read: read === '' ? null : read, clientCN, error: err.message }));
    });
  } finally {
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}

describe('createCertificateAuthority', () => {
  let ca: CertificateAuthority;

  it('issues a server certificate that Node verifies against the CA, for its hosts only', async () => {
    ca = await createCertificateAuthority();
    const server = await ca.issueServer({ hosts: ['localhost', '127.0.0.1', '::1'] });
    const [caCert] = certs(ca.certPem);
    const [leaf, chained] = certs(server.certPem);
    expect(caCert!.ca).toBe(true);
    expect(leaf!.ca).toBe(false);
    expect(chained!.fingerprint256).toBe(caCert!.fingerprint256);
    expect(leaf!.verify(caCert!.publicKey)).toBe(true);
    expect(leaf!.checkIssued(caCert!)).toBe(true);
    expect(leaf!.checkHost('localhost')).toBe('localhost');
    expect(leaf!.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf!.checkHost('evil.example')).toBeUndefined();
    expect(leaf!.checkIP('10.0.0.1')).toBeUndefined();
    // The key store is ZooKeeper's PEM layout: the key, then the chain; the key matches the certificate.
    expect(server.keyStorePem.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
    expect(leaf!.checkPrivateKey(crypto.createPrivateKey(server.keyStorePem))).toBe(true);
    expect(new Date(leaf!.validTo).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  });

  it('carries mutual TLS: the server accepts a client certificate from the CA and refuses one from another CA', async () => {
    const server = await ca.issueServer({ hosts: ['127.0.0.1'], keyAlgorithm: 'rsa-2048' });
    const client = await ca.issueClient({ commonName: 'bench' });
    const serverOpts: tls.TlsOptions = { key: server.keyPem, cert: server.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true };
    const ok = await handshake(serverOpts, { ca: ca.certPem, key: client.keyPem, cert: client.certPem });
    expect(ok).toEqual({ read: 'hello', clientCN: 'bench', error: null });

    const other = await createCertificateAuthority({ commonName: 'someone else' });
    const stranger = await other.issueClient();
    const refused = await handshake(serverOpts, { ca: ca.certPem, key: stranger.keyPem, cert: stranger.certPem });
    // The server never gets to say hello (TLS 1.3 tells the client after its side of the handshake).
    expect(refused.read ?? '').toBe('');
    expect(refused.clientCN).toBeNull();
    const anonymous = await handshake(serverOpts, { ca: ca.certPem });
    expect(anonymous.read ?? '').toBe('');

    const untrusted = await handshake(serverOpts, { ca: other.certPem, key: client.keyPem, cert: client.certPem });
    expect(untrusted.error).toMatch(/self[- ]signed|unable to verify|unable to get local issuer/i);
  });

  it('writes ZooKeeper-style PEM stores: the key store private to its owner, the trust store readable', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-certs-'));
    dirs.push(dir);
    const server = await ca.issueServer({ hosts: ['localhost'] });
    const files = writeStores(dir, 'admin', server, ca);
    expect(fs.statSync(files.keyStore).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(files.trustStore, 'utf8')).toBe(ca.certPem);
    expect(() => writeStores(dir, '../x', server, ca)).toThrow(/store name/);
  });

  it('refuses a server certificate without hosts and absurd lifetimes', async () => {
    await expect(ca.issueServer({ hosts: [] })).rejects.toThrow(/at least one host/);
    await expect(ca.issueClient({ validDays: 0 })).rejects.toThrow(/validDays/);
  });
});
