/**
 * Invariant checkers. The cluster calls them at every state change (an apply, a log append,
 * a message leaving a server, a leader starting to serve), so a broken invariant is caught at
 * the step that broke it. Each violation names the checker and says what was seen.
 *
 *  election   — no two servers establish the same epoch as different leaders.
 *  prefix     — applied sequences are prefixes of one another (zxid and data), grow in zxid
 *               order, never apply a write twice, and never shrink (a snapshot install must
 *               bring a longer-or-equal history that contains the applied one).
 *  acked      — a write acknowledged to a client is in the initial history of every later
 *               epoch's leader, in the state of a learner answering a later SYNC, and in
 *               every server's state at the end of the run.
 *  log        — no two servers ever log different txns under the same zxid.
 *  quorum     — a txn is first applied (committed) only once a quorum of voters holds it
 *               durably (or held it, until damage at rest took it: its ACK was true when sent).
 *               Later applies are not checked again; losing copies to damage is what the
 *               `acked` check and recovery are about.
 *  durability — a server sends ACK, ACKEPOCH, NEWLEADER or LEADERINFO only once what the
 *               message vouches for is durable on its disk (the Ready contract).
 *  digest     — (runner) at the end, every server's data tree has the same digest: the same
 *               txns applied over any mix of fuzzy snapshots, replays, SNAPs and TRUNCs.
 *  liveness   — (runner) after the faults, the cluster converges within a bound.
 *  core/host  — the core threw, the host stopped on something that is not a storage error, or
 *               a server could not start from what its disk holds.
 */
import { decodeLoggedTxn } from '../jute/index.js';
import type { Message, Peer, ServerId, Txn, Zxid } from '../zab/index.js';
import { counterOf, epochOf, makeZxid, zxidHex } from '../zab/index.js';
import type { SimDisk } from './disk.js';
import { writeIdOf, type AppliedEntry } from './state.js';

export type CheckName = 'election' | 'prefix' | 'acked' | 'log' | 'quorum' | 'durability' | 'digest' | 'liveness' | 'core' | 'host';

export interface Violation {
  check: CheckName;
  /** Virtual time of the step that broke it. */
  time: number;
  message: string;
}

export interface AckedWrite {
  writeId: number;
  zxid: Zxid;
  /** Position in the applied sequence (0-based). */
  index: number;
  server: ServerId;
  time: number;
}

/** What the checkers may look at. */
export interface CheckerView {
  readonly now: number;
  readonly voterIds: readonly ServerId[];
  readonly quorumSize: number;
  disk(id: ServerId): SimDisk;
}

/** Bound on recorded violations: the first few say everything. */
const VIOLATIONS_MAX = 20;

export class Checkers {
  readonly violations: Violation[] = [];
  readonly acked: AckedWrite[] = [];
  private readonly leaders = new Map<bigint, ServerId>();
  /** The longest applied sequence seen: every server's applied sequence must be a prefix of it. */
  private readonly canon: AppliedEntry[] = [];
  private readonly canonWrites = new Set<number>();
  /** zxid → write id of every txn any server ever logged. */
  private readonly logged = new Map<Zxid, number>();

  constructor(private readonly view: CheckerView) {}

  get ok(): boolean {
    return this.violations.length === 0;
  }

  /** Length of the longest applied sequence. */
  get canonLength(): number {
    return this.canon.length;
  }

  fail(check: CheckName, message: string): void {
    if (this.violations.length < VIOLATIONS_MAX) this.violations.push({ check, time: this.view.now, message });
  }

  // ---------- election / acked ----------

  onLeaderServing(id: ServerId, epoch: bigint, applied: readonly AppliedEntry[]): void {
    const prev = this.leaders.get(epoch);
    if (prev !== undefined && prev !== id) {
      this.fail('election', `epoch ${epoch} established by server ${id}, but server ${prev} already established it`);
    }
    this.leaders.set(epoch, id);
    for (const w of this.acked) {
      if (epochOf(w.zxid) >= epoch) continue;
      const e = applied[w.index];
      if (!e || e.zxid !== w.zxid || e.writeId !== w.writeId) {
        this.fail(
          'acked',
          `leader ${id} of epoch ${epoch} serves without write ${w.writeId} (${zxidHex(w.zxid)}), acknowledged by server ${w.server} at t=${w.time}`,
        );
      }
    }
  }

  onWriteAcked(w: AckedWrite): void {
    this.acked.push(w);
  }

  /** A SYNC's answer reached learner `id`: every write acknowledged before the SYNC left must be applied. */
  onSyncAnswered(id: ServerId, syncId: number, ackedBefore: number, applied: readonly AppliedEntry[]): void {
    for (let i = 0; i < ackedBefore; i++) {
      const w = this.acked[i]!;
      const e = applied[w.index];
      if (!e || e.zxid !== w.zxid || e.writeId !== w.writeId) {
        this.fail('acked', `server ${id} answers SYNC #${syncId} without write ${w.writeId} (${zxidHex(w.zxid)}), acknowledged before the SYNC`);
        return;
      }
    }
  }

  // ---------- prefix ----------

  /** `applied` already holds the new entry at its end. */
  onApply(id: ServerId, applied: readonly AppliedEntry[]): void {
    const i = applied.length - 1;
    const e = applied[i]!;
    const before = applied[i - 1];
    if (before && before.zxid >= e.zxid) {
      this.fail('prefix', `server ${id} applied ${zxidHex(e.zxid)} after ${zxidHex(before.zxid)}`);
    }
    if (this.matchCanon(id, applied, i)) this.checkQuorumDurable(id, e);
  }

  /** A snapshot install replaced `before` with `after`. */
  onInstallSnapshot(id: ServerId, before: readonly AppliedEntry[], after: readonly AppliedEntry[]): void {
    if (after.length < before.length) {
      this.fail('prefix', `server ${id} installed a snapshot of ${after.length} txns over ${before.length} applied ones`);
    }
    for (let i = 0; i < after.length; i++) this.matchCanon(id, after, i);
    for (let i = 0; i < Math.min(before.length, after.length); i++) {
      if (before[i]!.zxid !== after[i]!.zxid) {
        this.fail('prefix', `server ${id}: snapshot install replaced applied ${zxidHex(before[i]!.zxid)}`);
        return;
      }
    }
  }

  /** A restarted server's state (its snapshot) must agree with what was applied before. */
  onRestore(id: ServerId, applied: readonly AppliedEntry[]): void {
    for (let i = 0; i < applied.length; i++) this.matchCanon(id, applied, i);
  }

  /** The host truncates its log below what its state machine applied: it would un-apply. */
  onTruncate(id: ServerId, zxid: Zxid, applied: readonly AppliedEntry[]): void {
    const last = applied.at(-1);
    if (last && zxid < last.zxid) {
      this.fail('prefix', `server ${id} truncates its log to ${zxidHex(zxid)} below its applied ${zxidHex(last.zxid)}`);
    }
  }

  /** Match entry i against the longest history; true when it extends that history (a first apply). */
  private matchCanon(id: ServerId, applied: readonly AppliedEntry[], i: number): boolean {
    const e = applied[i]!;
    if (i < this.canon.length) {
      const c = this.canon[i]!;
      if (c.zxid !== e.zxid || c.writeId !== e.writeId) {
        this.fail(
          'prefix',
          `server ${id} applied #${i} = ${zxidHex(e.zxid)}/w${e.writeId}, another server applied ${zxidHex(c.zxid)}/w${c.writeId}`,
        );
      }
      return false;
    }
    if (i !== this.canon.length) throw new Error(`checker: apply #${i} skips past the known history (${this.canon.length})`);
    if (this.canonWrites.has(e.writeId)) this.fail('prefix', `write ${e.writeId} applied twice (again at ${zxidHex(e.zxid)})`);
    this.canon.push(e);
    this.canonWrites.add(e.writeId);
    return true;
  }

  // ---------- log ----------

  onLogAppend(id: ServerId, t: Txn): void {
    const w = writeIdOf(decodeLoggedTxn(Buffer.from(t.data)));
    if (w === null) return;
    const prev = this.logged.get(t.zxid);
    if (prev === undefined) this.logged.set(t.zxid, w);
    else if (prev !== w) this.fail('log', `server ${id} logged ${zxidHex(t.zxid)} as write ${w}, elsewhere it is write ${prev}`);
  }

  // ---------- quorum ----------

  private checkQuorumDurable(id: ServerId, e: AppliedEntry): void {
    let holders = 0;
    for (const v of this.view.voterIds) {
      const disk = this.view.disk(v);
      if (disk.holdsDurably(e.zxid, e.writeId) || disk.heldBeforeDamage(e.zxid, e.writeId)) holders++;
    }
    if (holders < this.view.quorumSize) {
      this.fail(
        'quorum',
        `server ${id} applied ${zxidHex(e.zxid)} while only ${holders} voters hold it durably (quorum ${this.view.quorumSize})`,
      );
    }
  }

  // ---------- durability ----------

  /** A message leaves server `id`: what it vouches for must already be durable. */
  onSend(id: ServerId, to: ServerId, msg: Message, peer: Peer, disk: SimDisk): void {
    switch (msg.kind) {
      case 'ack':
        if (counterOf(msg.zxid) !== 0n) {
          if (!disk.hasZxid(msg.zxid)) {
            this.fail('durability', `server ${id} ACKs ${zxidHex(msg.zxid)} to ${to} before logging it durably`);
          }
          return;
        }
        this.checkNewLeaderAck(id, to, epochOf(msg.zxid), peer, disk);
        return;
      case 'ackepoch':
        // It promises the epoch it answers: that promise must be durable.
        if (disk.acceptedEpoch < msg.epoch) {
          this.fail('durability', `server ${id} sends ACKEPOCH for epoch ${msg.epoch} before accepting it durably (on disk: ${disk.acceptedEpoch})`);
        }
        return;
      case 'leaderinfo':
        if (disk.acceptedEpoch < msg.newEpoch) {
          this.fail('durability', `leader ${id} sends LEADERINFO(${msg.newEpoch}) before persisting it as its accepted epoch`);
        }
        return;
      case 'newleader':
        if (disk.currentEpoch < epochOf(msg.zxid)) {
          this.fail('durability', `leader ${id} sends NEWLEADER(${epochOf(msg.zxid)}) before persisting it as its current epoch`);
        }
        return;
      case 'notification':
      case 'followerinfo':
      case 'diff':
      case 'trunc':
      case 'snap':
      case 'proposal':
      case 'commit':
      case 'inform':
      case 'uptodate':
      case 'ping':
      case 'pingreply':
      case 'app':
        return;
    }
  }

  private checkNewLeaderAck(id: ServerId, to: ServerId, epoch: bigint, peer: Peer, disk: SimDisk): void {
    if (disk.currentEpoch < epoch) {
      this.fail('durability', `server ${id} ACKs NEWLEADER(${epoch}) to ${to} before persisting its current epoch`);
      return;
    }
    // Still in that sync: everything of earlier epochs it holds is the leader's initial history.
    if (peer.leaderId !== to || peer.epochs.current !== epoch) return;
    const lastOld = peer.history.floor(makeZxid(epoch, 0n) - 1n);
    if (lastOld !== null && lastOld > disk.lastDurableZxid) {
      this.fail(
        'durability',
        `server ${id} ACKs NEWLEADER(${epoch}) with synced txns up to ${zxidHex(lastOld)} durable only up to ${zxidHex(disk.lastDurableZxid)}`,
      );
    }
  }

  // ---------- end of run ----------

  /** At the end: every server's tree is the same (servers as [id, digest]). */
  checkDigests(digests: readonly [ServerId, bigint][]): void {
    const [first, ...rest] = digests;
    if (first === undefined) return;
    for (const [id, d] of rest) {
      if (d !== first[1]) {
        this.fail('digest', `server ${id} ends with tree digest ${d}, server ${first[0]} with ${first[1]}: the same txns made different trees`);
        return;
      }
    }
  }

  /** Every acknowledged write is in `applied` (a server's final state). */
  checkHoldsAcked(id: ServerId, applied: readonly AppliedEntry[]): void {
    for (const w of this.acked) {
      const e = applied[w.index];
      if (!e || e.zxid !== w.zxid || e.writeId !== w.writeId) {
        this.fail('acked', `server ${id} ends without acknowledged write ${w.writeId} (${zxidHex(w.zxid)})`);
        return;
      }
    }
  }
}
