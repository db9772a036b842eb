/**
 * Partitions through zablab's fault hook (`POST /v1/faults` on each server's HTTP face).
 *
 * A cut is symmetric from the side that makes it (nothing is sent to, delivered from or held
 * open with the peer), so one side of an edge is enough; we cut both sides anyway, so that a
 * partition holds even while one side cannot be told. The handle keeps the *wanted* state
 * (which members are partitioned) and what it has *applied* on each server, and reconciles
 * a server whenever it can be told: on partition/heal for every running, unpaused server,
 * and again for one server when it is resumed (it may have missed a heal or a partition
 * while stopped) or restarted (a new process starts with no cuts at all).
 */
import { adminAuthHeaders } from '../ensemble/index.js';
import { HarnessError } from '../errors.js';

/** What one server must be told to reach the wanted state. */
export interface FaultPlan {
  heal: number[];
  cut: number[];
}

export class PartitionBook {
  private readonly partitioned = new Set<number>();
  private readonly applied = new Map<number, Set<number>>();

  constructor(private readonly ids: readonly number[]) {}

  isPartitioned(id: number): boolean {
    return this.partitioned.has(id);
  }

  partition(id: number): void {
    this.partitioned.add(id);
  }

  heal(id: number): void {
    this.partitioned.delete(id);
  }

  /** The server's process is new (restarted): it holds no cuts. */
  forget(id: number): void {
    this.applied.delete(id);
  }

  /** Peers server id must have cut: every peer when it is partitioned, else the partitioned ones. */
  wanted(id: number): Set<number> {
    const peers = this.ids.filter((p) => p !== id);
    return new Set(this.partitioned.has(id) ? peers : peers.filter((p) => this.partitioned.has(p)));
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
