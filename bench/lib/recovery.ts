/**
 * Leader-kill recovery on a running ensemble (a harness EnsembleHandle: the `local` or
 * `zookeeper` driver), one run at a time: a light write load
 * (sequential creates of unique znodes from a few sessions spread over every server), the
 * leader SIGKILLed, then when a survivor reports itself leader (`srvr` every few ms) and when
 * the first write that was issued after the kill is acknowledged; then the killed server is
 * restarted, the ensemble waits until every voter serves with the same zxid, and every
 * acknowledged znode is looked up on every server.
 *
 * The writers run in this process, on zablab's client, so that kill time and ack times come
 * from one clock. Their reconnects (the client tries the hosts in turn, backing off 50 ms to
 * 1 s between rounds) are part of what is measured, for both server programs alike.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient } from '../../src/client/index.js';
import { probeSrvr } from '../../src/harness/drivers/probe.js';
import type { EnsembleHandle, Member } from '../../src/harness/drivers/types.js';
import { epochOf } from '../../src/harness/ensemble/index.js';
import { rotateHosts } from '../../src/harness/load/native/index.js';

/** Long enough that no session expires while the ensemble elects a leader. */
const WRITER_SESSION_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 15_000;
/** After a failed create: short, so that it hardly adds to the measured recovery. */
const RETRY_DELAY_MS = 2;
/** stop(): how long the writers' last creates may take before their sessions are closed under them. */
const STOP_WAIT_MS = 10_000;
const ERROR_SAMPLES_MAX = 5;
const MISSING_SAMPLES_MAX = 10;
const SRVR_TIMEOUT_MS = 1_000;
const SYNC_POLL_MS = 50;
const WAIT_POLL_MS = 5;
const VALUE = Buffer.from('zablab-bench-recovery');
export const RECOVERY_ROOT = '/recovery';

/** `0x` and 16 hex digits, as ZooKeeper prints zxids. */
export function zxidHex(zxid: bigint): string {
  return `0x${zxid.toString(16).padStart(16, '0')}`;
}

export class RecoveryError extends Error {
  readonly code = 'ZABLAB_BENCH_RECOVERY';
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// --- the write load ---------------------------------------------------------------------------

export interface AckedWrite {
  /** Its index in the writer's sequence (the znode name is derived from it). */
  seq: number;
  issuedMs: number;
  ackedMs: number;
  zxid: bigint;
}

interface Writer {
  index: number;
  client: ZkClient | null;
  acked: AckedWrite[];
  loop: Promise<void> | null;
  /** The writer's latest failure (it names the server whose connection was lost). */
  lastError?: { where: string };
}

export interface ExpiredSession {
  writer: number;
  sessionId: string;
  /** When the client learned it: ms after the kill in a KillRunResult. */
  atMs: number;
  /** The writer's failure just before: which server it had lost. */
  lastError: string;
}

/** What the writers saw around one instant (the kill). */
export interface AroundKill {
  acksBefore: number;
  acksAfter: number;
  /** Acknowledged after the kill although issued before it (committed by the old leader, or after it). */
  ackedAfterIssuedBefore: number;
  /** The first ack, in ack order, of a write issued at or after the kill. */
  firstAfter: AckedWrite | null;
  /** The last ack before the kill, ms relative to it (≤ 0). */
  lastAckBeforeMs: number | null;
  failuresAfter: number;
}

export function znodeName(seq: number): string {
  return `n${String(seq).padStart(9, '0')}`;
}

/** `count` sessions, each creating dir/w<j>/n<seq> one after the other until stopped. */
export class CreateWriters {
  private readonly writers: Writer[];
  private running = false;
  private failures: { atMs: number }[] = [];
  private readonly errorSamples = new Set<string>();
  private readonly kinds = new Map<string, number>();
  private readonly expired: ExpiredSession[] = [];
  private reopened = 0;

  /**
   * @param hostOffset writer j lists connectString's hosts rotated by hostOffset + j (zablab's
   *   client tries them in order), so that the sessions spread over every server.
   */
  constructor(
    private readonly connectString: string,
    readonly dir: string,
    count: number,
    private readonly hostOffset: number,
  ) {
    this.writers = Array.from({ length: count }, (_, index) => ({ index, client: null, acked: [], loop: null }));
  }

  writerDir(j: number): string {
    return `${this.dir}/w${j}`;
  }

  /** Connects every session and creates the root, dir and dir/w<j>. */
  async open(): Promise<void> {
    for (const w of this.writers) w.client = await this.connect(w);
    const setup = this.writers[0]!.client!;
    for (const p of [RECOVERY_ROOT, this.dir, ...this.writers.map((w) => this.writerDir(w.index))]) {
      await setup.create(p).catch((err: unknown) => {
        if (!(err instanceof Error && 'code' in err && err.code === NODE_EXISTS)) throw err;
      });
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const w of this.writers) w.loop = this.run(w);
  }

  get ackCount(): number {
    return this.writers.reduce((n, w) => n + w.acked.length, 0);
  }

  get failureCount(): number {
    return this.failures.length;
  }

  get failureSamples(): string[] {
    return [...this.errorSamples];
  }

  /** Failed creates by error code name (CONNECTIONLOSS, SESSIONEXPIRED, ...). */
  get failuresByKind(): Record<string, number> {
    return Object.fromEntries(this.kinds);
  }

  /** Sessions the ensemble expired while the writers ran. */
  get expiredSessions(): ExpiredSession[] {
    return [...this.expired];
  }

  /** Sessions opened again because the old one had expired or was closed. */
  get sessionsReopened(): number {
    return this.reopened;
  }

  /** Writers that had a write acknowledged at or after atMs. */
  writersAckedSince(atMs: number): number {
    return this.writers.filter((w) => (w.acked.at(-1)?.ackedMs ?? -Infinity) >= atMs).length;
  }

  /** Some write issued at or after atMs has been acknowledged (cheap: looks only at the newest acks). */
  ackedIssuedSince(atMs: number): boolean {
    return this.writers.some((w) => (w.acked.at(-1)?.issuedMs ?? -Infinity) >= atMs);
  }

  around(killMs: number): AroundKill {
    const out: AroundKill = { acksBefore: 0, acksAfter: 0, ackedAfterIssuedBefore: 0, firstAfter: null, lastAckBeforeMs: null, failuresAfter: 0 };
    for (const w of this.writers) {
      for (const a of w.acked) {
        if (a.ackedMs < killMs) {
          out.acksBefore += 1;
          const rel = a.ackedMs - killMs;
          if (out.lastAckBeforeMs === null || rel > out.lastAckBeforeMs) out.lastAckBeforeMs = rel;
          continue;
        }
        out.acksAfter += 1;
        if (a.issuedMs < killMs) out.ackedAfterIssuedBefore += 1;
        else if (out.firstAfter === null || a.ackedMs < out.firstAfter.ackedMs) out.firstAfter = a;
      }
    }
    out.failuresAfter = this.failures.filter((f) => f.atMs >= killMs).length;
    return out;
  }

  /** Every acknowledged znode, by writer directory. */
  acknowledged(): AckedDir[] {
    return this.writers.map((w) => ({ dir: this.writerDir(w.index), names: w.acked.map((a) => znodeName(a.seq)) }));
  }

  /** Ends the loops (their last creates get a bounded time) and closes every session. */
  async stop(): Promise<void> {
    this.running = false;
    const loops = Promise.all(this.writers.map((w) => w.loop ?? Promise.resolve()));
    await Promise.race([loops, sleep(STOP_WAIT_MS, undefined, { ref: false })]);
    // Closing fails whatever is still queued, which ends the loops that were waiting on it.
    await Promise.all(this.writers.map((w) => w.client?.close().catch(() => undefined)));
    await Promise.race([loops, sleep(STOP_WAIT_MS, undefined, { ref: false })]);
    for (const w of this.writers) w.client = null;
  }

  private async connect(w: Writer): Promise<ZkClient> {
    const client = await ZkClient.connect({
      connectString: rotateHosts(this.connectString, this.hostOffset + w.index),
      sessionTimeoutMs: WRITER_SESSION_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
    const lastServer = { where: '' };
    client.on('state', (state) => {
      if (state === 'expired') {
        this.expired.push({ writer: w.index, sessionId: `0x${client.sessionId.toString(16)}`, atMs: performance.now(), lastError: lastServer.where });
      }
    });
    w.lastError = lastServer;
    return client;
  }

  private async run(w: Writer): Promise<void> {
    let seq = 0;
    while (this.running) {
      const client = w.client;
      if (client === null || client.state === 'expired' || client.state === 'closed') {
        // The session is gone (expired while the ensemble had no leader): a new one keeps the load going.
        try {
          w.client = await this.connect(w);
          this.reopened += 1;
        } catch (err) {
          this.failed(err);
          await sleep(RETRY_DELAY_MS);
        }
        continue;
      }
      const s = seq++;
      const issuedMs = performance.now();
      try {
        const r = await client.create(`${this.writerDir(w.index)}/${znodeName(s)}`, VALUE);
        w.acked.push({ seq: s, issuedMs, ackedMs: performance.now(), zxid: r.stat.czxid });
      } catch (err) {
        // Outcome unknown (the create may have committed): the next attempt uses a new name.
        this.failed(err, w);
        await sleep(RETRY_DELAY_MS);
      }
    }
  }

  private failed(err: unknown, w?: Writer): void {
    this.failures.push({ atMs: performance.now() });
    const text = message(err);
    if (w?.lastError !== undefined) w.lastError.where = text;
    const kind = /^[A-Z_]+\b/.exec(text)?.[0] ?? (err instanceof Error ? err.name : 'unknown');
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    if (this.errorSamples.size < ERROR_SAMPLES_MAX || (!this.errorSamples.has(text) && this.kinds.get(kind) === 1)) this.errorSamples.add(text);
  }
}

/** ZooKeeper's NODEEXISTS. */
const NODE_EXISTS = -110;

// --- watching for the new leader ----------------------------------------------------------------

export interface LeaderSeen {
  id: number;
  /** What it reported: its last applied zxid (a new leader may still report the old epoch's last txn). */
  zxid: bigint;
  atMs: number;
}

/** Polls `srvr` on the survivors until one leads and all of them serve. */
export class LeaderWatch {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly servingAt = new Map<number, number>();
  /** Survivors seen not serving (or not answering) since the kill. */
  private readonly leftService = new Set<number>();
  leader: LeaderSeen | null = null;
  /** When every survivor served again (leader, or follower after a spell of not serving). */
  allServingAtMs: number | null = null;
  probes = 0;

  constructor(
    private readonly survivors: readonly Member[],
    private readonly oldLeaderId: number,
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  get done(): boolean {
    return this.leader !== null && this.allServingAtMs !== null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped && !this.done) {
      const started = performance.now();
      await Promise.all(this.survivors.map((s) => this.probe(s)));
      const left = this.pollMs - (performance.now() - started);
      if (left > 0) await sleep(left);
    }
  }

  private async probe(s: Member): Promise<void> {
    this.probes += 1;
    // Not listening, too slow, or not serving: all count as out of service.
    const srvr = await probeSrvr(s, SRVR_TIMEOUT_MS);
    const atMs = performance.now();
    if (srvr.zxid === null || (srvr.mode !== 'leader' && srvr.mode !== 'follower')) {
      this.leftService.add(s.id);
      return;
    }
    if (srvr.mode === 'leader' && s.id !== this.oldLeaderId && this.leader === null) this.leader = { id: s.id, zxid: srvr.zxid, atMs };
    // A follower answers as one until it notices that its leader is gone: it serves again
    // only after it stopped serving (or leads now).
    const back = srvr.mode === 'leader' || this.leftService.has(s.id);
    if (back && !this.servingAt.has(s.id)) this.servingAt.set(s.id, atMs);
    if (this.allServingAtMs === null && this.survivors.every((x) => this.servingAt.has(x.id))) this.allServingAtMs = atMs;
  }
}

// --- checks -----------------------------------------------------------------------------------

export interface AckedDir {
  dir: string;
  names: string[];
}

/** One server's answer to "does every acknowledged znode exist?". */
export interface LostCheck {
  serverId: number;
  checked: number;
  missing: number;
  missingSamples: string[];
  /** Present although never acknowledged: creates whose reply was lost (their outcome was unknown). */
  presentUnacknowledged: number;
  /** The check itself failed (could not connect, ...): then missing means nothing. */
  error: string | null;
}

/** Looks up every acknowledged znode on each server on its own (after a sync with the leader). */
export async function checkAcknowledged(servers: readonly Member[], dirs: readonly AckedDir[]): Promise<LostCheck[]> {
  return Promise.all(servers.map((s) => checkOne(s, dirs)));
}

async function checkOne(s: Member, dirs: readonly AckedDir[]): Promise<LostCheck> {
  const out: LostCheck = { serverId: s.id, checked: 0, missing: 0, missingSamples: [], presentUnacknowledged: 0, error: null };
  let client: ZkClient | null = null;
  try {
    client = await ZkClient.connect({ connectString: `${s.host}:${s.clientPort}`, connectTimeoutMs: CONNECT_TIMEOUT_MS, sessionTimeoutMs: WRITER_SESSION_TIMEOUT_MS });
    await client.sync('/');
    for (const d of dirs) {
      let present: Set<string>;
      try {
        present = new Set((await client.getChildren(d.dir)).children);
      } catch (err) {
        if (!(err instanceof Error && 'code' in err && err.code === NO_NODE)) throw err;
        present = new Set();
      }
      const acked = new Set(d.names);
      for (const name of d.names) {
        out.checked += 1;
        if (present.has(name)) continue;
        out.missing += 1;
        if (out.missingSamples.length < MISSING_SAMPLES_MAX) out.missingSamples.push(`${d.dir}/${name}`);
      }
      for (const name of present) if (!acked.has(name)) out.presentUnacknowledged += 1;
    }
  } catch (err) {
    out.error = `server ${s.id}: ${message(err)}`;
  } finally {
    await client?.close().catch(() => undefined);
  }
  return out;
}

/** ZooKeeper's NONODE. */
const NO_NODE = -101;

const COUNTER_MASK = 0xffffffffn;

/**
 * Resolves once every voter serves, exactly one leads and all report the same zxid (an idle
 * ensemble that has applied everything); the leader's zxid. One exception: a leader whose
 * epoch has no txn yet reports <epoch, 0> while its followers report their last txn, which
 * no txn tells apart; then serving with a lower zxid counts as in sync.
 */
export async function waitInSync(ens: EnsembleHandle, timeoutMs: number, check: () => void): Promise<bigint> {
  const deadline = performance.now() + timeoutMs;
  const voterIds = new Set(ens.members.filter((m) => m.role === 'voter').map((m) => m.id));
  let last = '';
  for (;;) {
    check();
    const voters = (await ens.status()).filter((s) => voterIds.has(s.id));
    const leaders = voters.filter((s) => s.mode === 'leader');
    const lead = leaders.length === 1 ? leaders[0]!.zxid : null;
    const inSync = (z: bigint | null): boolean => z !== null && lead !== null && (z === lead || ((lead & COUNTER_MASK) === 0n && z < lead));
    if (lead !== null && voters.every((s) => (s.mode === 'leader' || s.mode === 'follower') && inSync(s.zxid))) return lead;
    last = voters.map((s) => `server ${s.id}: ${s.mode}${s.zxid === null ? '' : ` ${zxidHex(s.zxid)}`}`).join('; ');
    if (performance.now() >= deadline) throw new RecoveryError(`the voters did not serve with equal zxids within ${timeoutMs} ms: ${last}`);
    await sleep(SYNC_POLL_MS);
  }
}

// --- one run ----------------------------------------------------------------------------------

export interface KillRunOptions {
  run: number;
  writers: number;
  /** Writes before the kill. */
  settleMs: number;
  /** Writes after recovery, before the writers stop. */
  afterMs: number;
  /** srvr poll period on the survivors. */
  pollMs: number;
  /** Give up on a run when no new leader or no post-kill ack came within this. */
  recoveryTimeoutMs: number;
  /** The wait for equal zxids after the restart (the restart itself waits as long as the handle's up() did). */
  restartTimeoutMs: number;
  /** Throws to abandon the run (e.g. on SIGINT). */
  check: () => void;
}

export interface KillRunResult {
  run: number;
  killedId: number | null;
  oldEpoch: number | null;
  /** Kill → the first acknowledged write that was issued after the kill: the headline number. */
  recoveryMs: number | null;
  /** The epoch of that write's zxid (the new leader's epoch, unless the old leader committed it). */
  firstAckEpoch: number | null;
  /** Kill → a survivor answers srvr with Mode: leader. */
  newLeaderMs: number | null;
  newLeaderId: number | null;
  /** The zxid the new leader reported when first seen leading. */
  newLeaderZxid: string | null;
  /** Kill → both survivors answer srvr as serving. */
  survivorsServingMs: number | null;
  /** The last ack before the kill, ms before it (≤ 0). */
  lastAckBeforeKillMs: number | null;
  acksBeforeKill: number;
  acksAfterKill: number;
  ackedAfterKillIssuedBefore: number;
  failedWritesAfterKill: number;
  failureSamples: string[];
  failuresByKind: Record<string, number>;
  /** Writer sessions that the ensemble expired (a 30 s session should survive a failover). */
  expiredSessions: ExpiredSession[];
  sessionsReopened: number;
  srvrProbes: number;
  /** Restart of the killed server → it serves and has caught up (EnsembleHandle.restart). */
  restartMs: number | null;
  /** Then → every voter serves with the same zxid. */
  inSyncMs: number | null;
  syncedZxid: string | null;
  /** This run's acknowledged znodes, looked up on every server after the restart. */
  lost: LostCheck[];
  error: string | null;
  /** Where this run's znodes are (for the final check). */
  acknowledged: AckedDir[];
}

function emptyResult(run: number): KillRunResult {
  return {
    run,
    killedId: null,
    oldEpoch: null,
    recoveryMs: null,
    firstAckEpoch: null,
    newLeaderMs: null,
    newLeaderId: null,
    newLeaderZxid: null,
    survivorsServingMs: null,
    lastAckBeforeKillMs: null,
    acksBeforeKill: 0,
    acksAfterKill: 0,
    ackedAfterKillIssuedBefore: 0,
    failedWritesAfterKill: 0,
    failureSamples: [],
    failuresByKind: {},
    expiredSessions: [],
    sessionsReopened: 0,
    srvrProbes: 0,
    restartMs: null,
    inSyncMs: null,
    syncedZxid: null,
    lost: [],
    error: null,
    acknowledged: [],
  };
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number, check: () => void): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    check();
    if (performance.now() >= deadline) throw new RecoveryError(`no ${what} within ${timeoutMs} ms`);
    await sleep(WAIT_POLL_MS);
  }
}

const round = (ms: number | null): number | null => (ms === null ? null : Math.round(ms * 10) / 10);

/**
 * One run: load, SIGKILL the leader, measure, restart it, wait for equal zxids, check every
 * acknowledged write. Never throws for a failure of the ensemble: the result's error says
 * what went wrong, and the caller decides whether to go on. Throws only what check() throws.
 */
export async function killRun(ens: EnsembleHandle, opts: KillRunOptions): Promise<KillRunResult> {
  const r = emptyResult(opts.run);
  const writers = new CreateWriters(ens.connectString(), `${RECOVERY_ROOT}/r${opts.run}`, opts.writers, opts.run);
  let watch: LeaderWatch | null = null;
  let killedId: number | null = null;
  try {
    await writers.open();
    writers.start();
    const settleFrom = performance.now();
    await sleep(opts.settleMs);
    await waitFor('write from every writer before the kill', () => writers.writersAckedSince(settleFrom) === opts.writers, opts.recoveryTimeoutMs, opts.check);
    opts.check();

    const statuses = await ens.status();
    const leaders = statuses.filter((s) => s.mode === 'leader');
    if (leaders.length !== 1) throw new RecoveryError(`expected one leader before the kill, got: ${statuses.map((s) => `${s.id} ${s.mode}`).join(', ')}`);
    const leader = leaders[0]!;
    r.killedId = killedId = leader.id;
    r.oldEpoch = leader.zxid === null ? null : epochOf(leader.zxid);
    const survivors = ens.members.filter((m) => m.role === 'voter' && m.id !== leader.id);
    watch = new LeaderWatch(survivors, leader.id, opts.pollMs);

    const killMs = performance.now();
    const killing = ens.kill(leader.id); // SIGKILL goes out before this returns; it resolves once the process is gone
    watch.start();
    await killing;
    const w = watch;
    await waitFor('new leader (srvr on the survivors)', () => w.leader !== null, opts.recoveryTimeoutMs, opts.check);
    await waitFor('acknowledged write issued after the kill', () => writers.ackedIssuedSince(killMs), opts.recoveryTimeoutMs, opts.check);
    await sleep(opts.afterMs);
    await writers.stop();
    await watch.stop();

    const around = writers.around(killMs);
    r.recoveryMs = round(around.firstAfter === null ? null : around.firstAfter.ackedMs - killMs);
    r.firstAckEpoch = around.firstAfter === null ? null : epochOf(around.firstAfter.zxid);
    r.newLeaderMs = round(w.leader === null ? null : w.leader.atMs - killMs);
    r.newLeaderId = w.leader?.id ?? null;
    r.newLeaderZxid = w.leader === null ? null : zxidHex(w.leader.zxid);
    r.survivorsServingMs = round(w.allServingAtMs === null ? null : w.allServingAtMs - killMs);
    r.lastAckBeforeKillMs = round(around.lastAckBeforeMs);
    r.acksBeforeKill = around.acksBefore;
    r.acksAfterKill = around.acksAfter;
    r.ackedAfterKillIssuedBefore = around.ackedAfterIssuedBefore;
    r.failedWritesAfterKill = around.failuresAfter;
    r.failureSamples = writers.failureSamples;
    r.failuresByKind = writers.failuresByKind;
    r.expiredSessions = writers.expiredSessions.map((e) => ({ ...e, atMs: Math.round(e.atMs - killMs) }));
    r.sessionsReopened = writers.sessionsReopened;
    r.srvrProbes = w.probes;

    const restartFrom = performance.now();
    await ens.restart(leader.id);
    killedId = null;
    const syncFrom = performance.now();
    r.restartMs = round(syncFrom - restartFrom);
    r.syncedZxid = zxidHex(await waitInSync(ens, opts.restartTimeoutMs, opts.check));
    r.inSyncMs = round(performance.now() - syncFrom);
    r.acknowledged = writers.acknowledged();
    r.lost = await checkAcknowledged(ens.members, r.acknowledged);
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ZABLAB_BENCH_INTERRUPTED') throw err;
    r.error = message(err);
  } finally {
    await writers.stop();
    await watch?.stop();
    if (r.acknowledged.length === 0) r.acknowledged = writers.acknowledged();
  }
  if (r.error !== null && killedId !== null) {
    // The run failed between kill and restart: bring the server back so the next run has three.
    opts.check();
    try {
      const id = killedId;
      if ((await ens.status()).find((s) => s.id === id)?.stopped === true) await ens.restart(id);
    } catch (err) {
      r.error += `; restarting server ${killedId} failed too: ${message(err)}`;
    }
  }
  return r;
}
