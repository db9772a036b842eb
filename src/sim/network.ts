/**
 * The simulated network between ZAB peers: one TCP-like connection per pair of servers,
 * FIFO in each direction, no ordering across pairs. A partition or a dropped connection
 * loses every in-flight message of the pair (in both directions); the cluster then tells both
 * sides `disconnected()`, as a TCP reset would. Messages sent across a partition are lost.
 */
import type { Message, ServerId } from '../zab/index.js';

export interface InFlight {
  /** Unique, increasing: the order messages were sent in. */
  readonly seq: number;
  readonly from: ServerId;
  readonly to: ServerId;
  readonly msg: Message;
  readonly sentAt: number;
  /** Virtual time of delivery; never earlier than the previous message of the same pair. */
  deliverAt: number;
  /** Set when the message was lost (partition, dropped connection, crash). */
  dropped: boolean;
}

/** Bound on messages in flight in the whole network: a run that exceeds it is broken. */
export const IN_FLIGHT_MAX = 200_000;

export class SimNetworkError extends Error {
  readonly code = 'ZABLAB_SIM_NETWORK';
}

export class Network {
  private readonly size: number;
  /** Per directed pair (from * size + to): messages in flight, in FIFO order. */
  private readonly queues: InFlight[][];
  /** Per directed pair: the delivery time of the last message sent (FIFO floor). */
  private readonly lastDeliverAt: Float64Array;
  /** Per unordered pair (stored symmetrically): true while a partition separates them. */
  private readonly cut: Uint8Array;
  private seq = 0;
  private inFlight = 0;
  sent = 0;
  delivered = 0;
  lost = 0;

  constructor(readonly ids: readonly ServerId[]) {
    this.size = Math.max(...ids) + 1;
    this.queues = Array.from({ length: this.size * this.size }, () => []);
    this.lastDeliverAt = new Float64Array(this.size * this.size);
    this.cut = new Uint8Array(this.size * this.size);
  }

  private idx(from: ServerId, to: ServerId): number {
    return from * this.size + to;
  }

  isCut(a: ServerId, b: ServerId): boolean {
    return this.cut[this.idx(a, b)] === 1;
  }

  /**
   * Queue a message for delivery no earlier than `deliverAt`. Returns null when a partition
   * separates the pair: the message is lost.
   */
  send(from: ServerId, to: ServerId, msg: Message, now: number, deliverAt: number): InFlight | null {
    this.sent++;
    if (this.isCut(from, to)) {
      this.lost++;
      return null;
    }
    if (this.inFlight >= IN_FLIGHT_MAX) {
      throw new SimNetworkError(`more than ${IN_FLIGHT_MAX} messages in flight: a peer is flooding the network`);
    }
    const i = this.idx(from, to);
    const at = Math.max(deliverAt, this.lastDeliverAt[i]!);
    this.lastDeliverAt[i] = at;
    const m: InFlight = { seq: ++this.seq, from, to, msg, sentAt: now, deliverAt: at, dropped: false };
    this.queues[i]!.push(m);
    this.inFlight++;
    return m;
  }

  head(from: ServerId, to: ServerId): InFlight | undefined {
    return this.queues[this.idx(from, to)]![0];
  }

  /** Remove and return the head of the pair's queue (the caller delivers it). */
  shift(from: ServerId, to: ServerId): InFlight | undefined {
    const m = this.queues[this.idx(from, to)]!.shift();
    if (m) {
      this.inFlight--;
      this.delivered++;
    }
    return m;
  }

  /** Messages in flight, optionally only those of one directed pair. */
  pending(from?: ServerId, to?: ServerId): InFlight[] {
    if (from !== undefined && to !== undefined) return [...this.queues[this.idx(from, to)]!];
    const out: InFlight[] = [];
    for (const q of this.queues) {
      for (const m of q) {
        if ((from === undefined || m.from === from) && (to === undefined || m.to === to)) out.push(m);
      }
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Lose every in-flight message between a and b, both directions. Returns how many. */
  dropPair(a: ServerId, b: ServerId): number {
    return this.clear(this.idx(a, b)) + this.clear(this.idx(b, a));
  }

  private clear(i: number): number {
    const q = this.queues[i]!;
    for (const m of q) m.dropped = true;
    const n = q.length;
    this.inFlight -= n;
    this.lost += n;
    q.length = 0;
    return n;
  }

  /** Separate `side` from every other server. Returns the pairs newly cut. */
  partition(side: readonly ServerId[]): [ServerId, ServerId][] {
    const inside = new Set(side);
    const pairs: [ServerId, ServerId][] = [];
    for (const a of inside) {
      for (const b of this.ids) {
        if (inside.has(b) || this.isCut(a, b)) continue;
        this.cut[this.idx(a, b)] = 1;
        this.cut[this.idx(b, a)] = 1;
        this.dropPair(a, b);
        pairs.push([a, b]);
      }
    }
    return pairs;
  }

  heal(): void {
    this.cut.fill(0);
  }

  get partitioned(): boolean {
    return this.cut.includes(1);
  }
}
