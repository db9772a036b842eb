/**
 * Were acknowledged writes lost? While a run with faults goes on, a few sessions of the
 * runner's own create unique znodes at a steady, light pace (each writer one create every
 * PACE_MS, beside the scenario's load and not counted in it) and remember every create that
 * was acknowledged. After the run, once the running voters serve with equal zxids, every
 * acknowledged znode is looked up on every running member: one missing anywhere is a lost
 * acknowledged write, which ZAB must never allow. A create whose reply was lost (connection
 * loss) may or may not exist; it is counted apart and never called lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import { ZkClient, ZkError, type ClientTlsOptions } from '../../client/index.js';
import type { ClientTlsFiles, EnsembleHandle, Member, MemberStatus } from '../drivers/types.js';
import { hostPort, isLeaderMode } from '../drivers/probe.js';
import { rotateHosts } from '../load/native/index.js';
import type { AckedWritesResult, LostCheck } from '../report/results.js';

export const ACKED_ROOT = '/zablab-acked';
/** Between one writer's creates: light beside any load, fine enough to see an outage. */
const PACE_MS = 20;
export const ACKED_WRITERS = 2;
/** Long enough that no session expires while the ensemble elects a leader. */
const SESSION_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 15_000;
/** After a failed create: short, so that the first write after an outage is not delayed. */
const RETRY_DELAY_MS = 2;
const STOP_WAIT_MS = 10_000;
const MISSING_SAMPLES_MAX = 10;
const SYNC_POLL_MS = 50;
export const IN_SYNC_TIMEOUT_MS = 60_000;
const COUNTER_MASK = 0xffffffffn;

interface Writer {
  index: number;
  client: ZkClient | null;
  acked: string[];
  loop: Promise<void> | null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isCode(err: unknown, name: string): boolean {
  return err instanceof ZkError && err.codeName === name;
}

function clientTls(files: ClientTlsFiles | null): ClientTlsOptions | null {
  if (files === null) return null;
  return { ca: fs.readFileSync(files.caFile), cert: fs.readFileSync(files.certFile), key: fs.readFileSync(files.keyFile) };
}

/** Where a client reaches `m` (its secureClientPort when the ensemble serves TLS). */
function addressOf(m: Member, tls: boolean): string {
  return hostPort(m.host, tls ? (m.secureClientPort ?? m.clientPort) : m.clientPort);
}

export class AckedWriters {
  private readonly writers: Writer[];
  private readonly tls: ClientTlsOptions | null;
  private readonly connectString: string;
  private running = false;
  private indeterminate = 0;

  constructor(
    private readonly handle: EnsembleHandle,
    /** This run's parent znode, under ACKED_ROOT. */
    readonly dir: string,
    count = ACKED_WRITERS,
  ) {
    this.tls = clientTls(handle.clientTls);
    this.connectString = handle.members.map((m) => addressOf(m, this.tls !== null)).join(',');
    this.writers = Array.from({ length: count }, (_, index) => ({ index, client: null, acked: [], loop: null }));
  }

  /** Connects every writer and creates the parents. */
  async open(): Promise<void> {
    for (const w of this.writers) w.client = await this.connect(w.index);
    const setup = this.writers[0]!.client!;
    for (const p of [ACKED_ROOT, this.dir, ...this.writers.map((w) => this.writerDir(w.index))]) {
      await setup.create(p).catch((err: unknown) => {
        if (!isCode(err, 'NODEEXISTS')) throw err;
      });
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const w of this.writers) w.loop = this.run(w);
  }

  /** Ends the loops (their last creates get a bounded time) and closes the sessions. */
  async stop(): Promise<void> {
    this.running = false;
    const loops = Promise.all(this.writers.map((w) => w.loop ?? Promise.resolve()));
    await Promise.race([loops, sleep(STOP_WAIT_MS, undefined, { ref: false })]);
    await Promise.all(this.writers.map((w) => w.client?.close().catch(() => undefined)));
    await Promise.race([loops, sleep(STOP_WAIT_MS, undefined, { ref: false })]);
    for (const w of this.writers) w.client = null;
  }

  get ackedCount(): number {
    return this.writers.reduce((n, w) => n + w.acked.length, 0);
  }

  /**
   * Waits until the running voters serve with equal zxids, then looks up every acknowledged
   * znode on every running member. Never throws: a failure is the result's error.
   */
  async check(timeoutMs = IN_SYNC_TIMEOUT_MS): Promise<AckedWritesResult> {
    const result: AckedWritesResult = { writes: this.ackedCount, indeterminate: this.indeterminate, lost: 0, servers: [], error: null };
    try {
      const checked = await waitInSync(this.handle, timeoutMs);
      result.servers = await Promise.all(checked.map((m) => this.checkOne(m)));
      result.lost = Math.max(0, ...result.servers.map((s) => s.missing));
      const failed = result.servers.filter((s) => s.error !== null);
      if (failed.length > 0) result.error = failed.map((s) => s.error).join('; ');
    } catch (err) {
      result.error = message(err);
    }
    return result;
  }

  private writerDir(j: number): string {
    return `${this.dir}/w${j}`;
  }

  private connect(index: number): Promise<ZkClient> {
    return ZkClient.connect({
      connectString: rotateHosts(this.connectString, index),
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      ...(this.tls === null ? {} : { tls: this.tls }),
    });
  }

  private async run(w: Writer): Promise<void> {
    let seq = 0;
    while (this.running) {
      const client = w.client;
      if (client === null || client.state === 'expired' || client.state === 'closed') {
        // The session is gone (expired while the ensemble had no leader): a new one goes on.
        try {
          w.client = await this.connect(w.index);
        } catch {
          await sleep(RETRY_DELAY_MS);
        }
        continue;
      }
      const name = `n${String(seq++).padStart(9, '0')}`;
      const started = performance.now();
      try {
        await client.create(`${this.writerDir(w.index)}/${name}`, Buffer.from(name));
        w.acked.push(name);
        const left = PACE_MS - (performance.now() - started);
        if (left > 0) await sleep(left);
      } catch (err) {
        // Connection loss: the create may have committed. The next attempt uses a new name.
        // A definite refusal needs no count: the create did not happen and is never looked up.
        if (isCode(err, 'CONNECTIONLOSS') || isCode(err, 'SESSIONEXPIRED') || isCode(err, 'OPERATIONTIMEOUT')) this.indeterminate++;
        await sleep(RETRY_DELAY_MS);
      }
    }
  }

  private async checkOne(m: Member): Promise<LostCheck> {
    const out: LostCheck = { serverId: m.id, checked: 0, missing: 0, missingSamples: [], error: null };
    let client: ZkClient | null = null;
    try {
      client = await ZkClient.connect({
        connectString: addressOf(m, this.tls !== null),
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        ...(this.tls === null ? {} : { tls: this.tls }),
      });
      for (const w of this.writers) {
        let present: Set<string>;
        try {
          present = new Set((await client.getChildren(this.writerDir(w.index))).children);
        } catch (err) {
          if (!isCode(err, 'NONODE')) throw err;
          present = new Set();
        }
        for (const name of w.acked) {
          out.checked++;
          if (present.has(name)) continue;
          out.missing++;
          if (out.missingSamples.length < MISSING_SAMPLES_MAX) out.missingSamples.push(`${this.writerDir(w.index)}/${name}`);
        }
      }
    } catch (err) {
      out.error = `server ${m.id}: ${message(err)}`;
    } finally {
      await client?.close().catch(() => undefined);
    }
    return out;
  }
}

/**
 * Resolves once the voters that run (not killed, not paused) serve, one of them leads, and
 * all report the same zxid; returns the members to check (those voters and the serving
 * observers). A leader whose epoch has no txn yet reports <epoch, 0> while its followers
 * report their last txn, which no txn tells apart: then a lower zxid counts as in sync.
 */
export async function waitInSync(handle: EnsembleHandle, timeoutMs: number): Promise<Member[]> {
  const deadline = performance.now() + timeoutMs;
  const role = new Map(handle.members.map((m) => [m.id, m.role]));
  let last = '';
  for (;;) {
    const all = await handle.status();
    const running = all.filter((s) => !s.stopped && !s.paused);
    const voters = running.filter((s) => role.get(s.id) === 'voter');
    // A one-server ensemble's server leads as 'standalone'.
    const leaders = voters.filter((s) => isLeaderMode(s.mode));
    const lead = leaders.length === 1 ? leaders[0]!.zxid : null;
    const inSync = (z: bigint | null): boolean => z !== null && lead !== null && (z === lead || ((lead & COUNTER_MASK) === 0n && z < lead));
    const voting = (s: MemberStatus): boolean => isLeaderMode(s.mode) || s.mode === 'follower';
    if (lead !== null && voters.every((s) => voting(s) && inSync(s.zxid))) {
      const serving = new Set(running.filter((s) => voting(s) || (s.mode === 'observer' && inSync(s.zxid))).map((s) => s.id));
      return handle.members.filter((m) => serving.has(m.id));
    }
    last = voters.map((s) => `server ${s.id}: ${s.mode}${s.zxid === null ? '' : ` 0x${s.zxid.toString(16)}`}`).join('; ');
    if (performance.now() >= deadline) throw new Error(`the running voters did not serve with equal zxids within ${timeoutMs} ms (${last}): acknowledged writes not checked`);
    await sleep(SYNC_POLL_MS);
  }
}
