/**
 * Which loopback TCP ports listen on this host now, from /proc/net/tcp and tcp6 (Linux), so
 * that the peer relay can listen for a peer exactly while the peer listens: asking the port
 * itself would be a connection the server has to accept and log (ZooKeeper starts a learner
 * handler for every connection to a leader's quorum port).
 */
import fs from 'node:fs';

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];
/** st 0A: TCP_LISTEN. */
const LISTEN = '0A';
/** /proc's hex forms of 127.0.0.1 and the wildcard, as IPv4, IPv4-mapped IPv6 and IPv6 (::1, ::). */
const SERVER_ADDRESSES = new Set(['0100007F', '00000000', '0000000000000000FFFF00000100007F', '0000000000000000FFFF000000000000', '00000000000000000000000001000000', '00000000000000000000000000000000']);

/** Ports in LISTEN state on 127.0.0.1 or the wildcard, from the text of /proc/net/tcp{,6}. */
export function parseListeningPorts(text: string): Set<number> {
  const ports = new Set<number>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== LISTEN) continue;
    const [address, port] = (f[1] ?? '').split(':');
    if (address === undefined || port === undefined || !SERVER_ADDRESSES.has(address.toUpperCase())) continue;
    const n = parseInt(port, 16);
    if (Number.isInteger(n) && n > 0) ports.add(n);
  }
  return ports;
}

/** The loopback ports that listen now; null where /proc/net/tcp is not there (not Linux). */
export function listeningPorts(): Set<number> | null {
  const found = TABLES.filter((t) => fs.existsSync(t));
  if (found.length === 0) return null;
  const ports = new Set<number>();
  for (const table of found) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const p of parseListeningPorts(text)) ports.add(p);
  }
  return ports;
}
