/**
 * The certificates of an ensemble started with `--tls` (DIR/tls/), made by the harness's one
 * certificate module: a CA of the ensemble's own, one server certificate every member serves
 * on its secureClientPort (valid for 127.0.0.1 and localhost), and one client certificate for
 * the load, the probes and the user's own clients (kazoo, zkCli).
 *
 *   ca.crt      the CA: clients trust it, and the servers check client certificates against it
 *   client.crt  the client certificate (then the CA), client.key its key (mode 600)
 *   client.pem  key and chain in one file: a PEM key store for Java clients (mode 600)
 *   server.pem  the servers' PEM key store (mode 600)
 */
import fs from 'node:fs';
import path from 'node:path';
import { createCertificateAuthority } from '../tls/index.js';

export const TLS_DIR = 'tls';
/** The subject of the client certificate: an ACL names it as x509:CN=zablab client. */
export const ENSEMBLE_CLIENT_CN = 'zablab client';

/** What ensemble.json records (`tls`), absolute paths. */
export interface EnsembleTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** client.pem: key and chain, for Java's -Dzookeeper.ssl.keyStore.location. */
  clientKeyStore: string;
  /** server.pem: every server's ssl.keyStore.location. */
  serverKeyStore: string;
}

export function tlsPaths(dir: string): EnsembleTls {
  const tls = path.join(path.resolve(dir), TLS_DIR);
  return {
    caFile: path.join(tls, 'ca.crt'),
    certFile: path.join(tls, 'client.crt'),
    keyFile: path.join(tls, 'client.key'),
    clientKeyStore: path.join(tls, 'client.pem'),
    serverKeyStore: path.join(tls, 'server.pem'),
  };
}

/** Makes the CA and certificates and writes them to DIR/tls (keys mode 600). */
export async function writeEnsembleTls(dir: string, hosts: readonly string[]): Promise<EnsembleTls> {
  const files = tlsPaths(dir);
  const ca = await createCertificateAuthority({ commonName: 'zablab ensemble CA' });
  const server = await ca.issueServer({ hosts });
  const client = await ca.issueClient({ commonName: ENSEMBLE_CLIENT_CN });
  fs.mkdirSync(path.dirname(files.caFile), { recursive: true, mode: 0o755 });
  const write = (file: string, text: string, mode: number): void => {
    fs.writeFileSync(file, text, { mode });
    fs.chmodSync(file, mode);
  };
  write(files.caFile, ca.certPem, 0o644);
  write(files.certFile, client.certPem, 0o644);
  write(files.keyFile, client.keyPem, 0o600);
  write(files.clientKeyStore, client.keyStorePem, 0o600);
  write(files.serverKeyStore, server.keyStorePem, 0o600);
  return files;
}

/** The zoo.cfg keys that make a server serve TLS on `securePort` with these files (ZooKeeper's names). */
export function tlsZooCfg(tls: EnsembleTls, host: string, securePort: number, netty: boolean): [string, string][] {
  return [
    ['secureClientPort', String(securePort)],
    ['secureClientPortAddress', host],
    // Apache ZooKeeper serves TLS only with its Netty connection factory; zablab has one client port implementation.
    ...(netty ? ([['serverCnxnFactory', 'org.apache.zookeeper.server.NettyServerCnxnFactory']] as [string, string][]) : []),
    ['ssl.keyStore.location', tls.serverKeyStore],
    ['ssl.keyStore.type', 'PEM'],
    ['ssl.trustStore.location', tls.caFile],
    ['ssl.trustStore.type', 'PEM'],
  ];
}
