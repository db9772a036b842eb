/**
 * Network faults inside our own transport (`tc netem` is not available where zablab runs):
 * partitions, delays and drops, per peer edge, as seen from this server.
 */
import type { Message } from '../../zab/index.js';

export interface FaultDecision {
  drop?: boolean;
  delayMs?: number;
}

export type FaultEvent = { type: 'cut'; peer: number } | { type: 'heal'; peer?: number };

/** What the transport asks about traffic. Only `decide` is required; the rest refine it. */
export interface FaultHook {
  /** Consulted for every outgoing message. */
  decide(to: number, msg: Message): FaultDecision;
  /** May a message from `from` be delivered? Absent = always. */
  admit?(from: number, msg: Message): boolean;
  /** Is the edge to `peer` cut? A cut edge has no connections at all. Absent = never. */
  isCut?(peer: number): boolean;
  /** Hear about cuts (to close connections at once) and heals (to reconnect at once). */
  subscribe?(listener: (event: FaultEvent) => void): () => void;
}

/** A fault setting that cannot be applied; the message says which value is allowed. */
export class FaultArgumentError extends Error {
  readonly code = 'ZABLAB_FAULT_ARGUMENT';
  constructor(message: string) {
    super(message);
    this.name = 'FaultArgumentError';
  }
}

/** Longest delay that can be injected; beyond this a peer is better cut. */
export const FAULT_DELAY_MS_MAX = 600_000;
/** Listeners are transports; more than a handful means a leak. */
const LISTENERS_MAX = 16;

type Edge = number | '*';

interface DropRate {
  p: number;
  random: () => number;
}

export interface FaultState {
  cut: number[];
  delayMs: Record<string, number>;
  dropRate: Record<string, number>;
}

/**
 * The faults of one server's edges. A peer's own setting overrides '*'. A cut is
 * symmetric from this server's view: nothing goes to the peer, nothing from it is delivered,
 * and no connection to it is held.
 */
export class FaultController implements FaultHook {
  private readonly cuts = new Set<number>();
  private readonly delays = new Map<Edge, number>();
  private readonly dropRates = new Map<Edge, DropRate>();
  private readonly listeners = new Set<(event: FaultEvent) => void>();

  cut(peer: number): void {
    checkPeer(peer);
    this.cuts.add(peer);
    this.emit({ type: 'cut', peer });
  }

  /** Remove every fault on `peer`'s edge (cut, delay, drop rate), or every fault when no peer is given. */
  heal(peer?: number): void {
    if (peer === undefined) {
      this.cuts.clear();
      this.delays.clear();
      this.dropRates.clear();
      this.emit({ type: 'heal' });
      return;
    }
    checkPeer(peer);
    this.cuts.delete(peer);
    this.delays.delete(peer);
    this.dropRates.delete(peer);
    this.emit({ type: 'heal', peer });
  }

  /** Delay every outgoing message to `peer` (or to everyone) by `ms`; 0 removes the setting. */
  setDelay(peer: Edge, ms: number): void {
    checkEdge(peer);
    if (!Number.isFinite(ms) || ms < 0 || ms > FAULT_DELAY_MS_MAX) {
      throw new FaultArgumentError(`delay must be a number of milliseconds in [0, ${FAULT_DELAY_MS_MAX}], got ${ms}`);
    }
    if (ms === 0) this.delays.delete(peer);
    else this.delays.set(peer, ms);
  }

  /** Drop each outgoing message to `peer` (or to everyone) with probability `p`; `random` returns [0, 1). */
  setDropRate(peer: Edge, p: number, random: () => number): void {
    checkEdge(peer);
    if (!Number.isFinite(p) || p < 0 || p > 1) throw new FaultArgumentError(`drop rate must be a probability in [0, 1], got ${p}`);
    if (p === 0) this.dropRates.delete(peer);
    else this.dropRates.set(peer, { p, random });
  }

  decide(to: number, _msg: Message): FaultDecision {
    if (this.cuts.has(to)) return { drop: true };
    const rate = this.dropRates.get(to) ?? this.dropRates.get('*');
    if (rate !== undefined && rate.random() < rate.p) return { drop: true };
    const delayMs = this.delays.get(to) ?? this.delays.get('*') ?? 0;
    return delayMs > 0 ? { delayMs } : {};
  }

  admit(from: number, _msg: Message): boolean {
    return !this.cuts.has(from);
  }

  isCut(peer: number): boolean {
    return this.cuts.has(peer);
  }

  subscribe(listener: (event: FaultEvent) => void): () => void {
    if (this.listeners.size >= LISTENERS_MAX) {
      throw new FaultArgumentError(`at most ${LISTENERS_MAX} transports may share a FaultController; unsubscribe closed ones`);
    }
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** The current faults, for the admin API. */
  state(): FaultState {
    const record = <T>(m: Map<Edge, T>, f: (v: T) => number): Record<string, number> =>
      Object.fromEntries([...m].map(([k, v]) => [String(k), f(v)]));
    return {
      cut: [...this.cuts].sort((a, b) => a - b),
      delayMs: record(this.delays, (v) => v),
      dropRate: record(this.dropRates, (v) => v.p),
    };
  }

  private emit(event: FaultEvent): void {
    for (const l of [...this.listeners]) l(event);
  }
}

function checkPeer(peer: number): void {
  if (!Number.isSafeInteger(peer) || peer < 0) throw new FaultArgumentError(`peer must be a server id (a non-negative integer), got ${peer}`);
}

function checkEdge(peer: Edge): void {
  if (peer !== '*') checkPeer(peer);
}
