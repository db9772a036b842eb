/**
 * Incoming peer connections that have not finished their handshake yet (TLS, the handshake
 * frame, the proof of the quorum secret), for one port. Anyone who reaches the port can open
 * them, so they are bounded: at the bound the oldest is dropped to make room for the newest.
 * A real peer's handshake takes milliseconds while a connection that never finishes holds its
 * place until its deadline (cnxTimeout), so a flood of them ages out ahead of real peers
 * instead of locking them out, as refusing new connections would.
 */
import type net from 'node:net';
import type { PeerConnection } from './peer-connection.js';

interface Entry {
  /** The accepted TCP socket (under TLS, the one beneath the TLS socket). */
  socket: net.Socket;
  /** Once the socket can carry frames (at once in plaintext, after the TLS handshake otherwise). */
  conn: PeerConnection | null;
}

export class PendingInbound {
  /** By remote address:port, oldest first (Map keeps insertion order). */
  private readonly entries = new Map<string, Entry>();
  /** Each attached connection's key (a closed socket may no longer know its address). */
  private readonly keys = new WeakMap<PeerConnection, string>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Takes a newly accepted socket. Returns the entry dropped to make room (already closed),
   * or null; false when the socket has no address (it is gone already).
   */
  admit(socket: net.Socket): { dropped: net.Socket | null } | false {
    const key = endpointOf(socket);
    if (key === undefined) return false;
    let dropped: net.Socket | null = null;
    if (this.entries.size >= this.max) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldestKey);
      if (oldest.conn !== null) oldest.conn.close('too many unfinished handshakes; the oldest is dropped', undefined, true);
      oldest.socket.destroy();
      dropped = oldest.socket;
    }
    const entry: Entry = { socket, conn: null };
    this.entries.set(key, entry);
    socket.once('close', () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return { dropped };
  }

  /** The connection that carries frames for an admitted socket; false when that socket was dropped meanwhile. */
  attach(conn: PeerConnection): boolean {
    const key = endpointOf(conn.socket);
    const entry = key === undefined ? undefined : this.entries.get(key);
    if (entry === undefined || entry.conn !== null) return false;
    entry.conn = conn;
    this.keys.set(conn, key!);
    return true;
  }

  /** The handshake finished (or failed): the connection no longer counts here. */
  release(conn: PeerConnection): void {
    const key = this.keys.get(conn);
    if (key !== undefined && this.entries.get(key)?.conn === conn) this.entries.delete(key);
  }

  closeAll(reason: string): void {
    for (const e of this.entries.values()) {
      e.conn?.close(reason, undefined, true);
      e.socket.destroy();
    }
    this.entries.clear();
  }
}

/** address:port of the far end: unique among a listening port's live connections. */
function endpointOf(socket: net.Socket): string | undefined {
  const { remoteAddress, remotePort } = socket;
  return remoteAddress === undefined || remotePort === undefined ? undefined : `${remoteAddress}:${remotePort}`;
}
