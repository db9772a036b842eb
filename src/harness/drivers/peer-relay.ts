/**
 * A TCP relay the harness puts between ZooKeeper's peers, since ZooKeeper has no fault hook:
 * each server's zoo.cfg names, for every other server, this relay's ports for that directed
 * pair (one for the quorum port, one for the election port), and the relay forwards to the
 * peer's real ports. Cutting a pair makes the relay behave like a network that drops packets:
 *
 * - connections it relays stop moving in both directions, and nothing is closed or reset: the
 *   bytes wait in the kernel's buffers as unacknowledged segments wait for a retransmission,
 *   so both ends see silence, then blocked writes, and time out on their own (syncLimit);
 * - new connections are accepted and held, unconnected and unread;
 * - a heal forwards again: held connections are connected on to the peer and everything that
 *   waited is delivered, as TCP delivers it when a partition ends before the connection timed
 *   out; a close that happened during the cut reaches the other side then.
 *
 * Outside a cut a relay port listens only while the peer's port does (on Linux, watched in
 * /proc/net/tcp): a dialer must be refused by a dead server or by a follower's quorum port,
 * which listens only while it leads, as it would be without the relay. Accepting and then
 * closing instead makes a ZooKeeper learner give up on a leader at once rather than retry,
 * and elections stall (seen: a leader kill not recovered in 10 s, where it takes 0.6 s).
 *
 * The election handshake's address is rewritten (see zk-initial-message.ts), so that the peer
 * that dials back goes through the relay too.
 */
import net from 'node:net';
import { listeningPorts } from './listening-ports.js';
import { InitialMessageRewriter } from './zk-initial-message.js';

export interface RelayEndpoint {
  id: number;
  quorumPort: number;
  electionPort: number;
}

type Channel = 'quorum' | 'election';

/**
 * Where the relay listens and dials from, on Linux (which answers on all of 127/8): not the
 * servers' 127.0.0.1. A server's ports are handed out by the system and released before it
 * binds them, and a follower binds its quorum port only once it leads; a relay port or an
 * outgoing connection on 127.0.0.1 could take that very port meanwhile (the relay opens many,
 * and so may another ensemble's relay), while one on 127.0.0.2 cannot collide with it.
 */
export const RELAY_HOST = process.platform === 'linux' ? '127.0.0.2' : '127.0.0.1';
/** Where the relay dials the peers from: not RELAY_HOST, whose ports it may have to listen on again. */
const DIAL_FROM = process.platform === 'linux' ? '127.0.0.3' : undefined;
/**
 * How often the peers' listening ports are looked up: often while the ensemble is busy
 * changing (a connection came or went, election messages flow, a cut or heal), which is when
 * a port opens or closes, and seldom otherwise, since one look costs the kernel a few ms
 * (it walks its whole TCP table, however few sockets there are).
 */
const WATCH_BUSY_MS = 50;
const WATCH_IDLE_MS = 1_000;
/** How long activity keeps the watch busy; at the start, while the servers come up, longer. */
const BUSY_FOR_MS = 3_000;
const BUSY_AT_START_MS = 30_000;
/** ZooKeeper redials while cut off; past this many held connections on one link the oldest go. */
const HELD_PER_LINK_MAX = 256;
/** Servers the relay serves at most: it listens on 2 · n · (n - 1) ports. */
export const RELAY_SERVERS_MAX = 32;

interface Relayed {
  inbound: net.Socket;
  /** null while held (accepted during a cut, not connected on yet). */
  outbound: net.Socket | null;
  rewriter: InitialMessageRewriter | null;
}

/** One directed pair's channel: from → to, on a port of its own. */
class RelayLink {
  private cut = false;
  /** The peer's port listens (unknown where ports cannot be watched: taken as yes). */
  private targetUp = true;
  /** null while this link does not listen. */
  private server: net.Server | null;
  private reopening = false;
  private closed = false;
  private readonly relayed = new Set<Relayed>();

  constructor(
    server: net.Server,
    private readonly host: string,
    readonly port: number,
    /** The peer's own address and port. */
    private readonly targetHost: string,
    readonly targetPort: number,
    /** Election links: the address the dialer's handshake must name instead of its own. */
    private readonly handshakeAddress: string | null,
    /** Called when something happens that may change which ports listen. */
    private readonly activity: () => void,
  ) {
    this.server = server;
    server.on('connection', (s) => this.accept(s));
  }

  get isCut(): boolean {
    return this.cut;
  }

  setCut(cut: boolean): void {
    if (cut === this.cut) return;
    this.cut = cut;
    for (const r of [...this.relayed]) {
      if (cut) {
        r.inbound.pause();
        r.outbound?.pause();
      } else if (r.outbound === null) {
        this.connectOn(r);
      } else {
        r.inbound.resume();
        r.outbound.resume();
      }
    }
    this.listenAsNeeded();
  }

  /** The peer's port listens now (or not): outside a cut, this link listens exactly then. */
  setTargetUp(up: boolean): void {
    this.targetUp = up;
    this.listenAsNeeded();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.relayed) {
      r.inbound.destroy();
      r.outbound?.destroy();
    }
    this.relayed.clear();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A cut holds whatever arrives (a partitioned peer is silent, not refusing); otherwise listen while the peer does. */
  private listenAsNeeded(): void {
    if (this.closed) return;
    const want = this.cut || this.targetUp;
    if (!want && this.server !== null) {
      // Stops accepting; the connections it relays stay.
      this.server.close();
      this.server = null;
    } else if (want && this.server === null && !this.reopening) {
      this.reopening = true;
      const server = net.createServer({ pauseOnConnect: true });
      server.on('connection', (s) => this.accept(s));
      server.once('error', () => {
        // The port is taken meanwhile (rare on RELAY_HOST): try again at the next look.
        this.reopening = false;
      });
      server.listen({ host: this.host, port: this.port, exclusive: true }, () => {
        this.reopening = false;
        if (this.closed || !(this.cut || this.targetUp)) {
          server.close();
          return;
        }
        this.server = server;
      });
    }
  }

  private accept(inbound: net.Socket): void {
    this.activity();
    inbound.setNoDelay(true);
    const r: Relayed = { inbound, outbound: null, rewriter: this.handshakeAddress === null ? null : new InitialMessageRewriter(this.handshakeAddress) };
    this.relayed.add(r);
    inbound.on('error', () => undefined);
    inbound.on('close', () => {
      // A held connection that its dialer gave up on never reaches the peer.
      if (r.outbound === null) this.relayed.delete(r);
    });
    if (this.cut) {
      inbound.pause();
      this.dropOldestHeld();
      return;
    }
    this.connectOn(r);
  }

  private connectOn(r: Relayed): void {
    const outbound = net.connect({ host: this.targetHost, port: this.targetPort, ...(DIAL_FROM === undefined || this.targetHost !== '127.0.0.1' ? {} : { localAddress: DIAL_FROM }) });
    r.outbound = outbound;
    outbound.setNoDelay(true);
    outbound.on('error', () => undefined);
    const forget = (): void => {
      this.activity();
      r.inbound.destroy();
      outbound.destroy();
      this.relayed.delete(r);
    };
    r.inbound.on('data', (chunk: Buffer) => {
      // Election messages flow while a leader is chosen: a quorum port is about to open or close.
      if (r.rewriter !== null) this.activity();
      const out = r.rewriter === null ? chunk : r.rewriter.push(chunk);
      if (out.length > 0 && !outbound.write(out)) r.inbound.pause();
    });
    outbound.on('data', (chunk: Buffer) => {
      if (!r.inbound.write(chunk)) outbound.pause();
    });
    // Backpressure resumes reading only while the link is not cut.
    outbound.on('drain', () => {
      if (!this.cut) r.inbound.resume();
    });
    r.inbound.on('drain', () => {
      if (!this.cut) outbound.resume();
    });
    // A paused socket reports neither data nor its end: a close during a cut waits for the heal.
    r.inbound.on('end', () => outbound.end());
    outbound.on('end', () => r.inbound.end());
    r.inbound.on('close', forget);
    outbound.on('close', forget);
    if (this.cut) {
      r.inbound.pause();
      outbound.pause();
    } else {
      r.inbound.resume();
    }
  }

  private dropOldestHeld(): void {
    const held = [...this.relayed].filter((r) => r.outbound === null);
    for (const r of held.slice(0, Math.max(0, held.length - HELD_PER_LINK_MAX))) {
      r.inbound.destroy();
      this.relayed.delete(r);
    }
  }
}

export class PeerRelay {
  private watch: NodeJS.Timeout | null = null;
  private busyUntil = 0;
  private lastLook = 0;
  private links: Map<string, Record<Channel, RelayLink>> = new Map();

  private constructor(private readonly ids: readonly number[]) {}

  /** Starts watching the peers' ports (where they can be watched). */
  private startWatch(links: Map<string, Record<Channel, RelayLink>>): void {
    this.links = links;
    this.busyUntil = Date.now() + BUSY_AT_START_MS;
    if (!this.lookAtPeers()) return;
    this.watch = setInterval(() => {
      const now = Date.now();
      if (now < this.busyUntil || now - this.lastLook >= WATCH_IDLE_MS) this.lookAtPeers();
    }, WATCH_BUSY_MS);
    this.watch.unref();
  }

  /** Something happened that may open or close a peer's port: look often for a while. */
  private busy(): void {
    this.busyUntil = Math.max(this.busyUntil, Date.now() + BUSY_FOR_MS);
  }

  /** Tells every link whether its peer's port listens; false where that cannot be watched. */
  private lookAtPeers(): boolean {
    this.lastLook = Date.now();
    const ports = listeningPorts();
    if (ports === null) return false;
    for (const link of this.links.values()) {
      link.quorum.setTargetUp(ports.has(link.quorum.targetPort));
      link.election.setTargetUp(ports.has(link.election.targetPort));
    }
    return true;
  }

  /**
   * Listens on RELAY_HOST for every directed pair of `servers` (which listen on `targetHost`)
   * and both channels, never on a port in `reserved` nor on the servers' peer ports: where the
   * relay shares the servers' address, those were handed out and released moments ago and
   * could be handed out again (a quorum port is bound only once its server leads).
   */
  static async open(servers: readonly RelayEndpoint[], targetHost = '127.0.0.1', reserved: ReadonlySet<number> = new Set()): Promise<PeerRelay> {
    const host = RELAY_HOST;
    if (servers.length > RELAY_SERVERS_MAX) throw new RangeError(`the peer relay serves at most ${RELAY_SERVERS_MAX} servers, got ${servers.length}`);
    const avoid = new Set([...reserved, ...servers.flatMap((s) => [s.quorumPort, s.electionPort])]);
    const listeners: net.Server[] = [];
    /** Listeners that got a reserved port: held open until every link has its port, so it is not handed out again. */
    const skipped: net.Server[] = [];
    const listen = async (): Promise<net.Server> => {
      for (;;) {
        const server = net.createServer({ pauseOnConnect: true });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host, port: 0 }, () => resolve());
        });
        if (!avoid.has((server.address() as net.AddressInfo).port)) {
          listeners.push(server);
          return server;
        }
        skipped.push(server);
      }
    };
    const closeAll = (list: net.Server[]): Promise<void[]> => Promise.all(list.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))));
    try {
      const ports = new Map<string, Record<Channel, net.Server>>();
      for (const from of servers) {
        for (const to of servers) {
          if (from.id !== to.id) ports.set(key(from.id, to.id), { quorum: await listen(), election: await listen() });
        }
      }
      const relay = new PeerRelay(servers.map((s) => s.id));
      const activity = (): void => relay.busy();
      const links = new Map<string, Record<Channel, RelayLink>>();
      for (const from of servers) {
        for (const to of servers) {
          if (from.id === to.id) continue;
          const back = ports.get(key(to.id, from.id))!;
          const here = ports.get(key(from.id, to.id))!;
          // `to` dials `from` back through the relay's port for to → from.
          const backAddress = `${host}:${(back.election.address() as net.AddressInfo).port}`;
          const portOf = (l: net.Server): number => (l.address() as net.AddressInfo).port;
          links.set(key(from.id, to.id), {
            quorum: new RelayLink(here.quorum, host, portOf(here.quorum), targetHost, to.quorumPort, null, activity),
            election: new RelayLink(here.election, host, portOf(here.election), targetHost, to.electionPort, backAddress, activity),
          });
        }
      }
      relay.startWatch(links);
      return relay;
    } catch (err) {
      await closeAll(listeners);
      throw err;
    } finally {
      await closeAll(skipped);
    }
  }

  /** The relay's address and ports through which server `from` reaches server `to`. */
  route(from: number, to: number): { host: string; quorumPort: number; electionPort: number } {
    const link = this.link(from, to);
    return { host: RELAY_HOST, quorumPort: link.quorum.port, electionPort: link.election.port };
  }

  /** Cuts (or heals) a and b: both directions, both channels. */
  setCut(a: number, b: number, cut: boolean): void {
    this.busy();
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const link = this.link(x, y);
      link.quorum.setCut(cut);
      link.election.setCut(cut);
    }
  }

  isCut(a: number, b: number): boolean {
    return this.link(a, b).quorum.isCut;
  }

  /** Sets every pair: cut exactly where `wanted(a)` names b (the grudge must be symmetric). */
  apply(wanted: (id: number) => ReadonlySet<number>): void {
    for (const a of this.ids) {
      const cut = wanted(a);
      for (const b of this.ids) if (a < b) this.setCut(a, b, cut.has(b) || wanted(b).has(a));
    }
  }

  async close(): Promise<void> {
    if (this.watch !== null) clearInterval(this.watch);
    await Promise.all([...this.links.values()].flatMap((l) => [l.quorum.close(), l.election.close()]));
    this.links.clear();
  }

  private link(from: number, to: number): Record<Channel, RelayLink> {
    const link = this.links.get(key(from, to));
    if (link === undefined) throw new RangeError(`the peer relay has no link from server ${from} to server ${to}`);
    return link;
  }
}

function key(from: number, to: number): string {
  return `${from}>${to}`;
}
