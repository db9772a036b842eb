/** Each server's zoo.cfg inside the compose network (mounted read-only at /conf/zoo.cfg). */
import { HARNESS_FOUR_LETTER_WORDS, setMembership } from '../ensemble/layout.js';
import { quorumAuthEntries } from '../ensemble/peer-credentials.js';
import { CONTAINER_PATHS, CONTAINER_PORTS, type ComposeServer } from './spec.js';

/** Which credentials files the servers are given (mounted at CONTAINER_PATHS). */
export interface ComposeCredentials {
  adminToken: boolean;
  quorumSecret: boolean;
}

/**
 * ZooKeeper's keys with the container's fixed ports and paths, the credentials, every
 * member's server.N line by its peers-network name, then the user's settings.
 * quorumListenOnAllIPs: a server must keep listening when it is disconnected from the peers
 * network and connected again with another address.
 */
export function renderComposeZooCfg(
  servers: readonly ComposeServer[],
  self: ComposeServer,
  overrides: Record<string, string>,
  credentials: ComposeCredentials = { adminToken: true, quorumSecret: servers.length > 1 },
): string {
  const { client, quorum, election, admin } = CONTAINER_PORTS;
  const entries = new Map<string, string>([
    ['tickTime', '2000'],
    ['initLimit', '10'],
    ['syncLimit', '5'],
    ['dataDir', CONTAINER_PATHS.dataDir],
    ['clientPort', String(client)],
    ['admin.serverPort', String(admin)],
    // The published port reaches the container's address, not its loopback.
    ['admin.serverAddress', '0.0.0.0'],
    ['4lw.commands.whitelist', HARNESS_FOUR_LETTER_WORDS],
    ['quorumListenOnAllIPs', 'true'],
  ]);
  if (credentials.adminToken) entries.set('admin.tokenFile', CONTAINER_PATHS.adminToken);
  if (credentials.quorumSecret) for (const [k, v] of quorumAuthEntries(CONTAINER_PATHS.quorumSecret)) entries.set(k, v);
  setMembership(entries, servers, self, (s) => ({ peers: `${s.peerHost}:${quorum}:${election}`, client: String(client) }));
  for (const [k, v] of Object.entries(overrides)) entries.set(k, v);
  const header = [
    `# ${self.service} (${self.role}, myid ${self.id}) of a zablab ensemble under docker compose.`,
    `# Peers reach each other as zk<id>-peer on the "peers" network; clients use the published ports.`,
  ];
  return [...header, ...[...entries].map(([k, v]) => `${k}=${v}`)].join('\n') + '\n';
}
