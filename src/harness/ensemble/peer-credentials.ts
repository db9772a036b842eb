/**
 * The peer credentials the harness makes for each zablab ensemble, so that its servers accept
 * only each other on their quorum and election ports (ZooKeeper's default is open):
 *
 * - `secret` (the default): one random secret per ensemble, `DIR/quorum-secret` (mode 0600),
 *   named by every server's quorum.auth.secretFile with quorum.auth required both ways. It
 *   costs one challenge per connection and nothing per message, so benchmarks measure ZAB and
 *   not encryption, and it has no expiry date.
 * - `tls`: a throwaway CA (src/harness/tls) and a certificate per server for 127.0.0.1, under
 *   `DIR/peer-tls/`, for sslQuorum: peer traffic is also encrypted, at a cost per message.
 * - `none`: ZooKeeper's open default. Also what `--set quorum.auth.enableSasl=false` means.
 *
 * Apache ZooKeeper (the zookeeper program) runs open by default, or with `tls` (the same PEM
 * stores, which ZooKeeper 3.5+ reads with the `.type=PEM` keys), so that what peer TLS costs
 * can be measured beside it; its quorum SASL needs JAAS files this harness does not write.
 */
import path from 'node:path';
import { createCertificateAuthority, writeStores, type StoreFiles } from '../tls/index.js';
import { EnsembleError } from './errors.js';
import { writeRandomSecret } from './secret-file.js';

export const PEER_SECURITY_MODES = ['secret', 'tls', 'none'] as const;
export type PeerSecurityMode = (typeof PEER_SECURITY_MODES)[number];

export const QUORUM_SECRET_FILE = 'quorum-secret';
export const PEER_TLS_DIR = 'peer-tls';
/** Certificates of a local ensemble outlive its tests: a stopped ensemble may be started again next month. */
const PEER_CERT_VALID_DAYS = 3650;

/** What a server's zoo.cfg needs for its peer credentials, as written for each server. */
export interface PeerCredentials {
  mode: PeerSecurityMode;
  /** `secret`: the shared secret's file (absolute). */
  secretFile: string | null;
  /** `tls`: each server's key store and the trust store, by server id. */
  stores: Map<number, StoreFiles> | null;
}

export function quorumSecretPath(dir: string): string {
  return path.join(path.resolve(dir), QUORUM_SECRET_FILE);
}

/**
 * The mode an ensemble gets: what was asked for, else `secret`; `none` when the zoo.cfg
 * overrides turn quorum.auth off. Apache ZooKeeper: `none` unless `tls` was asked for.
 */
export function peerSecurityMode(requested: PeerSecurityMode | undefined, program: 'zablab' | 'zookeeper', overrides: Record<string, string>): PeerSecurityMode {
  checkPeerSecurity(requested, overrides);
  if (program === 'zookeeper') {
    if (requested === 'secret') {
      throw specError('peer security "secret" is zablab\'s; Apache ZooKeeper runs open (none) or with sslQuorum (tls)');
    }
    return requested ?? 'none';
  }
  return requested ?? (overrides['quorum.auth.enableSasl']?.toLowerCase() === 'false' ? 'none' : 'secret');
}

/** Refuses a mode that the zoo.cfg overrides contradict. */
export function checkPeerSecurity(requested: PeerSecurityMode | undefined, overrides: Record<string, string>): void {
  if (requested === 'secret' && overrides['quorum.auth.enableSasl']?.toLowerCase() === 'false') {
    throw specError('peer security "secret" and quorum.auth.enableSasl=false contradict each other; keep one');
  }
  if (requested === 'tls' && overrides['sslQuorum']?.toLowerCase() === 'false') throw specError('peer security "tls" and sslQuorum=false contradict each other; keep one');
}

/** The zoo.cfg keys a secured ensemble owns (they differ per server or name generated files). */
export function peerLayoutKeys(mode: PeerSecurityMode): string[] {
  switch (mode) {
    case 'secret':
      return ['quorum.auth.secretFile'];
    case 'tls':
      return ['ssl.quorum.keyStore.location', 'ssl.quorum.keyStore.type', 'ssl.quorum.trustStore.location', 'ssl.quorum.trustStore.type'];
    case 'none':
      return [];
  }
}

/** Writes the ensemble's credentials into `dir` (a secret, or a CA and one certificate per server). */
export async function writePeerCredentials(dir: string, mode: PeerSecurityMode, servers: readonly { id: number; host: string }[]): Promise<PeerCredentials> {
  switch (mode) {
    case 'none':
      return { mode, secretFile: null, stores: null };
    case 'secret': {
      const secretFile = quorumSecretPath(dir);
      writeRandomSecret(secretFile);
      return { mode, secretFile, stores: null };
    }
    case 'tls': {
      const ca = await createCertificateAuthority({ commonName: 'zablab ensemble CA', validDays: PEER_CERT_VALID_DAYS });
      const stores = new Map<number, StoreFiles>();
      for (const s of servers) {
        const issued = await ca.issueServer({ hosts: [s.host], commonName: `zablab server.${s.id}`, validDays: PEER_CERT_VALID_DAYS });
        stores.set(s.id, writeStores(path.join(path.resolve(dir), PEER_TLS_DIR), `s${s.id}`, issued, ca));
      }
      return { mode, secretFile: null, stores };
    }
  }
}

/** quorum.auth switched on and required both ways, with the ensemble's secret. */
export function quorumAuthEntries(secretFile: string): [string, string][] {
  return [
    ['quorum.auth.enableSasl', 'true'],
    ['quorum.auth.learnerRequireSasl', 'true'],
    ['quorum.auth.serverRequireSasl', 'true'],
    ['quorum.auth.secretFile', secretFile],
  ];
}

/** The zoo.cfg entries of server `id` for `creds`. */
export function peerCredentialEntries(creds: PeerCredentials, id: number): [string, string][] {
  if (creds.secretFile !== null) return quorumAuthEntries(creds.secretFile);
  const stores = creds.stores?.get(id);
  // Open peer ports are asked for in writing (zablab refuses a zoo.cfg that leaves them open silently); ZooKeeper reads the same.
  if (stores === undefined) return [['quorum.auth.enableSasl', 'false']];
  return [
    ['sslQuorum', 'true'],
    ['ssl.quorum.keyStore.location', stores.keyStore],
    ['ssl.quorum.keyStore.type', 'PEM'],
    ['ssl.quorum.trustStore.location', stores.trustStore],
    ['ssl.quorum.trustStore.type', 'PEM'],
  ];
}

/** Parses the CLI's --peer-security value. */
export function parsePeerSecurityMode(text: string): PeerSecurityMode {
  const mode = PEER_SECURITY_MODES.find((m) => m === text.trim().toLowerCase());
  if (mode === undefined) throw specError(`peer security must be one of ${PEER_SECURITY_MODES.join(', ')}, got "${text}"`);
  return mode;
}

function specError(message: string): EnsembleError {
  return new EnsembleError('ZABLAB_ENSEMBLE_SPEC', message);
}
