/**
 * Partitions as the harness keeps them for a LocalEnsembleHandle. The book records the *wanted*
 * state (members partitioned one by one, and the sides a partition by mode cut the network
 * into) and, for zablab's fault hook, what it has *applied* on each server. The hook reconciles
 * a server whenever it can be told: on every change for each running, unpaused server, and
 * again for one server when it is resumed (it may have missed a change while stopped) or
 * restarted (a new process starts with no cuts at all). The relay in front of Apache ZooKeeper
 * (peer-relay.ts) needs no reconciling: it sits outside the processes.
 */
import { adminAuthHeaders } from '../ensemble/index.js';
import { HarnessError } from '../errors.js';
import { checkSides, quorumSize, sameSide, type Sides } from '../nemesis/sides.js';
import type { PeerRelay } from './peer-relay.js';

/** What one server must be told to reach the wanted state. */
export interface FaultPlan {
  heal: number[];
  cut: number[];
}

export class PartitionBook {
  private readonly partitioned = new Set<number>();
  private sides: Sides | null = null;
  private readonly applied = new Map<number, Set<number>>();

  constructor(
    private readonly ids: readonly number[],
    private readonly voters: readonly number[],
  ) {}

  isPartitioned(id: number): boolean {
    return this.partitioned.has(id);
  }

  partition(id: number): void {
    this.partitioned.add(id);
  }

  heal(id: number): void {
    this.partitioned.delete(id);
  }

  /** The network's sides (null: none); checked against the members. */
  setSides(sides: Sides | null): void {
    if (sides !== null) checkSides(this.ids, sides);
    this.sides = sides === null ? null : sides.map((s) => [...s]);
  }

  healAll(): void {
    this.partitioned.clear();
    this.sides = null;
  }

  /** The server's process is new (restarted): it holds no cuts. */
  forget(id: number): void {
    this.applied.delete(id);
  }

  /** Peers server id must have cut: every peer when it is partitioned, the partitioned ones, and those it shares no side with. */
  wanted(id: number): Set<number> {
    const sides = this.sides;
    return new Set(
      this.ids.filter((p) => p !== id && (this.partitioned.has(id) || this.partitioned.has(p) || (sides !== null && !sameSide(sides, id, p)))),
    );
  }

  /** The members that can serve under the wanted cuts, or null when that depends on who leads (see servableMembers). */
  servable(): number[] | null {
    return servableMembers(this.ids, this.voters, this.partitioned, this.sides);
  }

  /** What to tell server id; empty lists when it already has the wanted cuts. */
  plan(id: number): FaultPlan {
    const want = this.wanted(id);
    const have = this.applied.get(id) ?? new Set<number>();
    return {
      heal: [...have].filter((p) => !want.has(p)).sort((a, b) => a - b),
      cut: [...want].filter((p) => !have.has(p)).sort((a, b) => a - b),
    };
  }

  /** Server id was told plan(id). */
  done(id: number): void {
    this.applied.set(id, this.wanted(id));
  }
}

/**
 * The members that can serve under these cuts: the ones not partitioned and, with sides, on
 * the one side that holds a quorum of the voters not partitioned; null when two sides can
 * each hold one (a bridge: only the leader's serves, so it depends on who leads).
 */
export function servableMembers(ids: readonly number[], voters: readonly number[], partitioned: ReadonlySet<number>, sides: Sides | null): number[] | null {
  const whole = ids.filter((id) => !partitioned.has(id));
  if (sides === null) return whole;
  const need = quorumSize(voters.length);
  const quorate = sides.filter((s) => s.filter((id) => voters.includes(id) && !partitioned.has(id)).length >= need);
  if (quorate.length > 1) return null;
  return quorate.length === 0 ? [] : whole.filter((id) => quorate[0]!.includes(id));
}

/** How a LocalEnsembleHandle's cuts become real. */
export interface PeerNetwork {
  /** Puts the book's wanted cuts in effect everywhere it can now. */
  apply(book: PartitionBook): Promise<void>;
  /** Server id runs again (resumed, or restarted as a new process): brings it in line by `deadline` (epoch ms). */
  rejoin(book: PartitionBook, id: number, deadline: number): Promise<void>;
  close(): Promise<void>;
}

/** zablab's fault hook: POST /v1/faults on each server's HTTP face, on both ends of every edge. */
export class FaultHookNetwork implements PeerNetwork {
  constructor(
    /** The servers whose process runs and is not paused: the ones that can be told. */
    private readonly reachable: () => Promise<number[]>,
    /** The base URL of a server's HTTP face. */
    private readonly httpUrl: (id: number) => string,
    private readonly token: string | null,
    /** How long a change keeps trying to reach a running server. */
    private readonly postMs: number,
  ) {}

  async apply(book: PartitionBook): Promise<void> {
    const deadline = Date.now() + this.postMs;
    await Promise.all((await this.reachable()).map((id) => this.rejoin(book, id, deadline)));
  }

  async rejoin(book: PartitionBook, id: number, deadline: number): Promise<void> {
    const plan = book.plan(id);
    if (plan.heal.length === 0 && plan.cut.length === 0) return;
    await postFaultPlan(this.httpUrl(id), plan, deadline, this.token);
    book.done(id);
  }

  async close(): Promise<void> {
    // Nothing of ours outlives the servers.
  }
}

/** Apache ZooKeeper behind the harness's relay: the relay cuts and heals, whatever the processes do. */
export class RelayNetwork implements PeerNetwork {
  constructor(private readonly relay: PeerRelay) {}

  async apply(book: PartitionBook): Promise<void> {
    this.relay.apply((id) => book.wanted(id));
  }

  async rejoin(): Promise<void> {
    // The relay holds the cuts; a new or resumed process meets them on its own.
  }

  async close(): Promise<void> {
    await this.relay.close();
  }
}

const POST_TIMEOUT_MS = 3_000;
const RETRY_MS = 200;

/**
 * Posts a plan to `baseUrl/v1/faults` with the HTTP face's token, retrying until `deadline`
 * (epoch ms) while the server does not answer (a restarted server opens its HTTP port a
 * moment after it starts). Throws HarnessError FAULT with the last reason when it never accepts.
 */
export async function postFaultPlan(baseUrl: string, plan: FaultPlan, deadline: number, token: string | null): Promise<void> {
  const url = `${baseUrl}/v1/faults`;
  const body = JSON.stringify({ heal: plan.heal, cut: plan.cut });
  for (;;) {
    let why: string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...adminAuthHeaders(token) },
        body,
        signal: AbortSignal.timeout(POST_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.ok) return;
      // The server understood and refused: retrying cannot help.
      if (res.status >= 400 && res.status < 500) {
        throw new HarnessError('ZABLAB_BENCH_FAULT', `${url} refused ${body}: HTTP ${res.status} ${text.slice(0, 300)}`);
      }
      why = `HTTP ${res.status} ${text.slice(0, 300)}`;
    } catch (err) {
      if (err instanceof HarnessError) throw err;
      why = err instanceof Error ? (err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message) : String(err);
    }
    if (Date.now() + RETRY_MS >= deadline) {
      throw new HarnessError('ZABLAB_BENCH_FAULT', `could not apply ${body} at ${url}: ${why}; is the server running, with its HTTP face (admin.serverPort) on?`);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}
