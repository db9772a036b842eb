/**
 * ZabHost: one ZAB `Peer` (src/zab) on its storage — the loop that carries out each Ready
 * exactly as its contract says: persist (log appends with fsync, truncations, snapshots,
 * epoch files, the recovering mark), apply committed txns, advance, then release the
 * messages the core allows. `zablab server` runs it with the machine's file system and its
 * peer transport; the simulator (src/sim) runs this same code over a MemoryFs that crashes
 * and damages, with its own network and clock. It has no sockets, timers or clock of its own:
 * inputs (step, tick, disconnected, peerDown/peerUp, snapArriving) and how soon work runs (`schedule`) come from outside.
 *
 * Recovery (open): the disk is read as src/storage/recovery.ts plans it. When the history it
 * holds is damaged (acknowledged txns unreadable), the host keeps the valid prefix, marks
 * itself recovering durably, sets the damaged files aside, and starts a Peer that will not
 * vote until it has synced the leader's history; damage never silently shortens a voter.
 */
import * as path from 'node:path';
import { decodeLoggedTxn, encodeLoggedTxn, epochOf, zxidHex, type LoggedTxn } from '../../jute/index.js';
import {
  SnapshotPolicy,
  clearRecovering,
  cutHistory,
  describeDamage,
  markRecovering,
  planCut,
  readEpochFile,
  readRecovering,
  setAside,
  writeEpochFile,
  type EpochName,
  type EpochRead,
} from '../../storage/index.js';
import { collectedSnapStream, isElectionMessage, Peer, snapshotLength, type LogRead, type Message, type PeerConfig, type PeerEvent, type PersistOp, type ServerId, type SnapshotBytes, type SnapStream, type Txn } from '../../zab/index.js';
import type { ArrivingSnapshot } from './arriving-snapshot.js';
import { SNAP_CHUNK_BYTES } from './codec.js';
import { ExitCode, fatalError, type FatalError } from '../fatal.js';
import type { Logger } from '../log.js';
import { decodeSnapshot, inspectStorage, openDatabase, type DecodedSnapshot, type SnapshotInfo, type StorageLayout, type ZKDatabase } from '../zk-database.js';

/** What the host reports as it works (telemetry in a server, checkers in the simulator). */
export interface ZabHostObserver {
  messageReceived?(from: ServerId, msg: Message): void;
  messageSent?(to: ServerId, msg: Message): void;
  /** A persist op is about to be carried out. */
  persisting?(op: PersistOp): void;
  /** A persist op is done (durable, except appends: those are durable at the next op or the end of the Ready). */
  persisted?(op: PersistOp): void;
  logAppended?(zxid: bigint, trace?: string): void;
  logSynced?(fsyncStartedMs: number): void;
  committedApplied?(zxid: bigint): void;
  peerEvent?(e: PeerEvent): void;
  /** A snapshot was started; the result says how it went. */
  snapshot?(taken: Promise<SnapshotInfo | null>): Promise<unknown>;
  /** The state was replaced by a leader's snapshot (SNAP). */
  snapshotInstalled?(zxid: bigint): void;
  /** A SNAP of `bytes` went to a learner (its last piece was handed to the connection). */
  snapSent?(to: ServerId, bytes: number): void;
}

export interface ZabHostOptions {
  peer: PeerConfig;
  layout: StorageLayout;
  snapCount: number;
  log: Logger;
  /** Where the snapshot points fall (Math.random in a server, the seeded generator in the simulator). */
  random: () => number;
  /** Run `fn` after the current input, once (setImmediate in a server; the simulator's queue). */
  schedule: (fn: () => void) => void;
  send: (to: ServerId, msg: Message) => void;
  /** Where a SNAP's pieces go as they are encoded (the transport's stream); absent, the SNAP is sent whole once encoded. */
  openSnapStream?: (to: ServerId, zxid: bigint) => SnapStream;
  /** A committed txn: apply it to the database (and answer whoever waits for it). */
  apply: (txn: LoggedTxn) => void;
  onEvent: (e: PeerEvent) => void;
  /** The host stopped itself (a storage error, a broken invariant); called once. */
  onFatal: (err: FatalError) => void;
  /**
   * A learner behind the txns in memory gets a DIFF from the txn log when its txns are at most
   * `sizeFactor` × the snapshot's size and `maxBytes` (what the peer link can queue); negative
   * sizeFactor, or none: a SNAP (ZooKeeper's snapshotSizeFactor).
   */
  diffFromLog?: { sizeFactor: number; maxBytes: number };
  observer?: ZabHostObserver;
}

export class ZabHost {
  private processing = false;
  /** The Ready loop's current run (close() waits for it). */
  private running: Promise<void> = Promise.resolve();
  private pumpScheduled = false;
  private stopped = false;
  private readonly snapshotPolicy: SnapshotPolicy;
  /** A truncate or a SNAP's install is rewriting the log: a follow-up snapshot waits for it. */
  private rewritingLog = false;
  private snapshotAfterRewrite = false;
  /**
   * A snapshot was due while the state was still the newest snapshot's: a restarted server
   * logs its sync's txns before it applies them, and its tail too, so a snapshot then would
   * copy the one it loaded (9 s of a 1M restart's CPU). It is taken once a txn applies.
   */
  private snapshotWhenApplied = false;
  /** Learners a SNAP is being encoded for: their quorum messages wait behind it, in order. */
  private readonly snapSends = new Map<ServerId, SnapSend>();
  /**
   * Steps that count a loaded tree's digests run only while the peer serves: before that they
   * took the CPU a restarted follower's sync needs (2.4 s of a 1M restart went to them). And
   * txns applied before it serves leave their digests to those steps (see apply).
   */
  private serving = false;
  private readonly countSteps: (() => void)[] = [];
  /** A SNAP being saved and decoded while it arrives (snapArriving), until the peer takes it or not. */
  private early: EarlySnap | null = null;

  private constructor(
    private readonly opts: ZabHostOptions,
    readonly db: ZKDatabase,
    readonly peer: Peer,
  ) {
    this.snapshotPolicy = new SnapshotPolicy(opts.snapCount, opts.random);
  }

  /** Recover from disk (see the header) and start the Peer, LOOKING. */
  static async open(opts: ZabHostOptions): Promise<ZabHost> {
    const { layout, log } = opts;
    const { fs, snapDir } = layout;
    let { inputs, plan } = await inspectStorage(layout, log);
    const epochs: Record<EpochName, EpochRead> = {
      acceptedEpoch: await readEpochFile(fs, snapDir, 'acceptedEpoch', layout.dataDir),
      currentEpoch: await readEpochFile(fs, snapDir, 'currentEpoch', layout.dataDir),
    };
    const { acceptedEpoch: a, currentEpoch: c } = epochs;
    if (a.kind === 'ok' && c.kind === 'ok' && a.epoch < c.epoch) {
      // A leader is accepted before it is current: files that say otherwise were damaged.
      epochs.acceptedEpoch = { kind: 'damaged', detail: `holds ${a.epoch}, below currentEpoch ${c.epoch}` };
    }
    const damagedEpochs = (['acceptedEpoch', 'currentEpoch'] as const).filter((n) => epochs[n].kind === 'damaged');
    let recovering = await readRecovering(fs, snapDir);
    if (plan.damage !== null || damagedEpochs.length > 0) {
      const what = [
        ...(plan.damage === null ? [] : [describeDamage(plan.damage)]),
        ...damagedEpochs.map((n) => `${path.join(snapDir, n)} ${(epochs[n] as { detail: string }).detail}`),
      ].join('; ');
      recovering = `storage damage found at start: ${what}`;
      log.error('storage damage: keeping the valid history, setting the rest aside, and recovering it from the leader before voting again', {
        damage: what,
      });
      // The mark first: a crash from here on still restarts as recovering.
      await markRecovering(fs, snapDir, recovering);
      if (plan.damage !== null) await cutHistory(inputs, await planCut(inputs, plan, plan.validThrough));
      for (const n of damagedEpochs) await setAside(fs, path.join(snapDir, n));
      ({ inputs, plan } = await inspectStorage(layout, log));
      if (plan.damage !== null) throw new Error(`invariant: damage left after setting it aside: ${describeDamage(plan.damage)}`);
    } else if (recovering !== null) {
      log.warn('recovering from earlier storage damage: not voting until synced with a leader', { reason: recovering });
    }
    const db = await openDatabase(layout, log, inputs, plan);
    const { snapshotZxid, tail } = await db.readLogTail();
    const lastLogged = tail.at(-1)?.hdr.zxid ?? snapshotZxid;
    // A server upgraded from a version without epoch files derives them from its log (as
    // ZooKeeper does); so does one whose epoch files were damaged (it does not vote until synced).
    const epochOr = (name: EpochName, fallback: bigint): bigint => {
      const e = epochs[name];
      return e.kind === 'ok' ? e.epoch : fallback;
    };
    const currentEpoch = epochOr('currentEpoch', epochOf(lastLogged));
    const acceptedEpoch = epochOr('acceptedEpoch', currentEpoch);
    // What the peer will vouch for must be on disk: write derived epochs, as ZooKeeper does.
    if (epochs.currentEpoch.kind !== 'ok') await writeEpochFile(fs, snapDir, 'currentEpoch', currentEpoch);
    if (epochs.acceptedEpoch.kind !== 'ok') await writeEpochFile(fs, snapDir, 'acceptedEpoch', acceptedEpoch);
    const peer = new Peer({ ...opts.peer, diffFromLog: (opts.diffFromLog?.sizeFactor ?? -1) >= 0 }, {
      acceptedEpoch,
      currentEpoch,
      appliedZxid: snapshotZxid,
      log: tail.map((t): Txn => ({ zxid: t.hdr.zxid, data: encodeLoggedTxn(t) })),
      recovering: recovering !== null,
    });
    const host = new ZabHost(opts, db, peer);
    db.countDigestsWhenIdle((step) => host.whileServing(step));
    db.again = () => {
      if (host.stopped) return;
      // The log cannot roll while it is being cut (soak seed 3347985): take it after the cut.
      if (host.rewritingLog) host.snapshotAfterRewrite = true;
      else host.takeSnapshot();
    };
    return host;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  // ---------- inputs ----------

  step(from: ServerId, msg: Message): void {
    if (this.stopped) return;
    this.opts.observer?.messageReceived?.(from, msg);
    this.guard(() => this.peer.step(from, msg));
    // The early SNAP's message: a peer that did not queue its install (not syncing, or syncing
    // with another leader) never will, and the early save must not hold the store.
    const early = this.early;
    if (msg.kind === 'snap' && early !== null && msg.snapshot === early.snapshot.pieces && !this.peer.installs(msg.snapshot)) this.dropEarly();
  }

  tick(): void {
    if (this.stopped) return;
    this.guard(() => this.peer.tick());
  }

  disconnected(peer: ServerId): void {
    if (this.stopped) return;
    // What was sent to the peer before the loss may be lost (the transport's contract): the
    // SNAP being encoded and what waits behind it belong to the connection that went.
    const sending = this.snapSends.get(peer);
    if (sending !== undefined) {
      sending.lost = true;
      sending.stream?.abort();
      this.snapSends.delete(peer);
    }
    this.guard(() => this.peer.disconnected(peer));
  }

  /**
   * A SNAP began to arrive (whoever sent it: the peer decides at its end whether to take it).
   * Its file is written and its tree decoded as the pieces come (a 1M-znode SNAP streams for
   * seconds), so that the install finds them (nearly) done. The file becomes the snapshot only
   * at the install; a SNAP the peer does not take, or that never completes, leaves nothing.
   */
  snapArriving(snapshot: ArrivingSnapshot): void {
    if (this.stopped) return;
    this.dropEarly();
    let publish: (yes: boolean) => void = () => undefined;
    const gate = new Promise<boolean>((resolve) => (publish = resolve));
    const early: EarlySnap = {
      snapshot,
      publish,
      saved: this.db.snaps.save(snapshot.zxid, snapshot.read(), { publish: gate }),
      decoded: decodeSnapshot(snapshot.read(), () => this.opts.layout.fs.yieldTurn()),
    };
    // Their failures surface at the install that uses them; one dropped unused has no reader.
    early.saved.catch(() => undefined);
    early.decoded.catch(() => undefined);
    this.early = early;
    snapshot.whenAbandoned(() => {
      if (this.early === early) this.dropEarly();
    });
  }

  /** The transport knows `peer` is not running (reset or refused); see Peer.peerDown. */
  peerDown(peer: ServerId): void {
    if (this.stopped) return;
    this.guard(() => this.peer.peerDown(peer));
  }

  peerUp(peer: ServerId): void {
    if (this.stopped) return;
    this.guard(() => this.peer.peerUp(peer));
  }

  /** Run the core's outputs soon (once per scheduled turn, so that inputs batch). */
  pump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    this.opts.schedule(() => {
      this.pumpScheduled = false;
      if (this.stopped) return;
      try {
        this.flushMessages();
      } catch (err) {
        this.stop(fatalError('the ZAB host failed', err));
        return;
      }
      if (!this.processing) this.running = this.processReadies();
    });
  }

  /** The process is gone (the simulator's crash): nothing more runs, nothing is closed or flushed. */
  kill(): void {
    this.stopped = true;
  }

  /** Stop taking inputs, wait for the Ready in progress, close the database. */
  async close(): Promise<void> {
    this.stopped = true;
    this.dropEarly();
    await this.running;
    await this.db.close();
  }

  // ---------- the Ready loop ----------

  /** The core turns a peer's protocol violation into LOOKING; anything else it throws is a broken invariant of ours. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.stop(fatalError('the ZAB core failed', err));
      return;
    }
    this.pump();
  }

  private stop(err: FatalError): void {
    if (this.stopped) return;
    this.stopped = true;
    this.dropEarly();
    this.opts.onFatal(err);
  }

  private flushMessages(): void {
    for (const env of this.peer.takeMessages()) {
      const { to, msg } = env;
      if (msg.kind === 'snap' && msg.snapshot === undefined && !this.snapSends.has(to) && this.db.lastProcessedZxid !== msg.zxid) {
        // The core releases a SNAP only when our applied state is exactly at its zxid.
        throw new Error(`invariant: SNAP at ${zxidHex(msg.zxid)} but state is at ${zxidHex(this.db.lastProcessedZxid)}`);
      }
      this.dispatch(to, msg);
    }
    for (const read of this.peer.takeLogReads()) void this.readLog(read);
  }

  /** Send `msg`, unless a SNAP to `to` is being encoded: then after it (election messages need not wait). */
  private dispatch(to: ServerId, msg: Message): void {
    const sending = this.snapSends.get(to);
    if (sending !== undefined && !isElectionMessage(msg)) {
      sending.held.push(msg);
    } else if (msg.kind === 'snap' && msg.snapshot === undefined) {
      const started: SnapSend = { held: [], stream: null, lost: false };
      this.snapSends.set(to, started);
      void this.streamSnap(to, msg.zxid, started);
    } else {
      this.transmit(to, msg);
    }
  }

  private transmit(to: ServerId, msg: Message): void {
    this.opts.send(to, msg);
    this.opts.observer?.messageSent?.(to, msg);
  }

  /**
   * Encode a SNAP over many turns while txns keep applying (ZKDatabase.snapshotChunks) and
   * send each chunk as it is encoded (opts.openSnapStream): the leader never stops for a whole
   * tree, no buffer holds one, and the learner receives while the leader encodes. A SNAP held
   * behind another starts past its zxid; fuzzy the same way, and as correct.
   */
  private async streamSnap(to: ServerId, zxid: bigint, sending: SnapSend): Promise<void> {
    const startedAt = performance.now();
    const stream = this.opts.openSnapStream?.(to, zxid) ?? collectedSnapStream(zxid, (msg) => this.transmit(to, msg));
    sending.stream = stream;
    let bytes: number;
    try {
      bytes = await this.db.snapshotChunks(
        SNAP_CHUNK_BYTES,
        (chunk) => {
          // The learner's connection went: encoding the rest would be for nobody.
          if (sending.lost) throw new SnapAbandoned();
          stream.write(chunk);
          return stream.ready();
        },
        () => this.opts.layout.fs.yieldTurn(),
      );
    } catch (err) {
      stream.abort();
      if (!(err instanceof SnapAbandoned)) this.stop(fatalError('cannot encode a SNAP', err));
      return;
    }
    if (this.stopped || sending.lost) {
      stream.abort();
      return;
    }
    stream.end();
    this.opts.log.info('sent a SNAP', { learner: to, zxid: zxidHex(zxid), bytes, ms: Math.round(performance.now() - startedAt) });
    this.opts.observer?.snapSent?.(to, bytes);
    this.snapSends.delete(to);
    for (const m of sending.held) this.dispatch(to, m);
  }

  /** Run a digest-counting step once the peer serves (now, if it does). */
  private whileServing(step: () => void): void {
    if (this.serving) this.opts.schedule(step);
    else this.countSteps.push(step);
  }

  private setServing(serving: boolean): void {
    this.serving = serving;
    if (!serving) return;
    for (const step of this.countSteps.splice(0)) this.opts.schedule(step);
    // Digests deferred while syncing, after an earlier count had finished, need steps again.
    this.db.countDigestsAgain();
  }

  /** A DIFF's txns from the txn log (Peer.logRead): the peer is answered once, whatever happens. */
  private async readLog(read: LogRead): Promise<void> {
    const limits = this.opts.diffFromLog ?? { sizeFactor: -1, maxBytes: 0 };
    const maxBytes = Math.min(limits.maxBytes, Math.floor(limits.sizeFactor * this.db.approximateSnapshotSize()));
    let txns: Txn[] | null = null;
    let why = '';
    const started = performance.now();
    try {
      const got = await this.db.txnLog.readHistory(read.after, read.upTo, Math.max(0, maxBytes));
      if (got.kind === 'ok') {
        txns = got.entries.map((e) => ({ zxid: e.zxid, data: e.entry }));
        this.opts.log.info('read a DIFF from the txn log', { learner: read.learner, txns: txns.length, bytes: got.bytes, ms: Math.round(performance.now() - started) });
      } else {
        why = got.why;
      }
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    }
    if (this.stopped) return;
    if (txns === null) {
      this.opts.log.info('sending a SNAP: the txn log cannot give the learner a DIFF', { learner: read.learner, zxid: zxidHex(read.after), why });
    }
    this.guard(() => this.peer.logRead(read.token, txns));
  }

  private async processReadies(): Promise<void> {
    this.processing = true;
    try {
      while (!this.stopped && this.peer.hasReady()) {
        const rd = this.peer.ready();
        // Committed txns are durable on a quorum already: answer them without waiting for this
        // Ready's fsync, unless the Ready rewrites history (a TRUNC or a SNAP must land first).
        const applyFirst = !rd.persist.some((op) => op.kind === 'truncate' || op.kind === 'installSnapshot');
        if (applyFirst) this.apply(rd.apply);
        await this.persist(rd.persist);
        if (this.stopped) return;
        if (!applyFirst) this.apply(rd.apply);
        this.peer.advance(rd);
        this.flushMessages();
        for (const e of rd.events) {
          this.opts.observer?.peerEvent?.(e);
          this.opts.onEvent(e);
          if (e.kind === 'serving' || e.kind === 'looking') this.setServing(e.kind === 'serving');
        }
        this.flushMessages();
      }
    } catch (err) {
      this.stop(fatalError('the ZAB host failed', err));
    } finally {
      this.processing = false;
    }
  }

  private apply(txns: readonly Txn[]): void {
    // Until it serves, a server applies its log tail and the leader's DIFF: their digests wait
    // for the counting steps, as a loaded snapshot's do (two CRC32s per txn, before serving).
    if (txns.length > 0) this.db.tree.setDigestsDeferred(!this.serving);
    for (const t of txns) {
      // A view: the decoded txn copies what it keeps (Buffer.from would copy it all, byte by byte).
      this.opts.apply(decodeLoggedTxn(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
      this.opts.observer?.committedApplied?.(t.zxid);
    }
    if (this.snapshotWhenApplied && txns.length > 0) {
      this.snapshotWhenApplied = false;
      this.takeSnapshot();
    }
  }

  /** Carry out persist ops in order; appends before anything else are fsynced first. */
  private async persist(ops: PersistOp[]): Promise<void> {
    const { db } = this;
    const { fs, snapDir } = this.opts.layout;
    const observer = this.opts.observer;
    let unsynced = false;
    const sync = async (): Promise<void> => {
      if (!unsynced) return;
      const fsyncStartedMs = performance.now();
      await db.txnLog.commit();
      observer?.logSynced?.(fsyncStartedMs);
      unsynced = false;
    };
    for (const op of ops) {
      observer?.persisting?.(op);
      switch (op.kind) {
        case 'append':
          for (const t of op.txns) {
            db.txnLog.appendEntry(t.data);
            observer?.logAppended?.(t.zxid, t.trace);
            if (this.snapshotPolicy.onTxnLogged()) this.takeSnapshot();
          }
          unsynced = true;
          break;
        case 'truncate':
          await sync();
          await this.rewritingLogWhile(() => db.txnLog.truncate(op.zxid));
          this.opts.log.info('log truncated', { zxid: zxidHex(op.zxid) });
          break;
        case 'installSnapshot': {
          await sync();
          const startedAt = performance.now();
          let savedMs = 0;
          let decodedMs = 0;
          const early = this.takeEarly(op.zxid, op.snapshot);
          await this.rewritingLogWhile(async () => {
            // The file is written while the tree is decoded (the disk and the CPU at once), since
            // the first piece arrived when the SNAP came through the transport (snapArriving). The
            // log is cut only once the file is durable, and the state replaced only then.
            // Views, not copies: the SNAP's pieces are written and decoded in order, never changed.
            const pieces = (op.snapshot instanceof Uint8Array ? [op.snapshot] : op.snapshot).map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
            early?.publish(true);
            const saved = (early?.saved ?? db.snaps.save(op.zxid, pieces)).then(() => {
              savedMs = performance.now() - startedAt;
            });
            const decoded = (early?.decoded ?? decodeSnapshot(pieces, () => fs.yieldTurn())).then((state) => {
              decodedMs = performance.now() - startedAt;
              return state;
            });
            // Both settle before anything goes on: a failed save does not leave a decode running.
            const [save, decode] = await Promise.allSettled([saved, decoded]);
            if (save.status === 'rejected') throw save.reason;
            if (decode.status === 'rejected') {
              // A SNAP that does not decode must not be the newest snapshot on this disk: a restart would load it.
              await db.snaps.setAside(op.zxid).catch(() => undefined);
              throw decode.reason;
            }
            await db.txnLog.truncate(op.zxid, { snapshot: true });
            db.installDecoded(decode.value, op.zxid);
          });
          observer?.snapshotInstalled?.(op.zxid);
          this.opts.log.info('installed snapshot from leader', {
            zxid: zxidHex(op.zxid),
            bytes: snapshotLength(op.snapshot),
            whileArriving: early !== null,
            savedMs: Math.round(savedMs),
            decodedMs: Math.round(decodedMs),
            ms: Math.round(performance.now() - startedAt),
          });
          break;
        }
        case 'acceptedEpoch':
        case 'currentEpoch':
          await sync();
          await writeEpochFile(fs, snapDir, op.kind, op.epoch);
          break;
        case 'recovered':
          await sync();
          await clearRecovering(fs, snapDir);
          this.opts.log.info('recovered from storage damage: synced the leader\'s history, voting again');
          break;
      }
      if (op.kind !== 'append') observer?.persisted?.(op);
    }
    await sync();
    for (const op of ops) if (op.kind === 'append') observer?.persisted?.(op);
  }

  /** The early SNAP these pieces are, if they are one: the install takes it (nobody else will). */
  private takeEarly(zxid: bigint, snapshot: SnapshotBytes): EarlySnap | null {
    const early = this.early;
    if (early === null || early.snapshot.pieces !== snapshot || early.snapshot.zxid !== zxid) return null;
    this.early = null;
    return early;
  }

  /** Forget the early SNAP: its readers stop, and its file, written or not, is withdrawn. */
  private dropEarly(): void {
    const early = this.early;
    if (early === null) return;
    this.early = null;
    early.snapshot.abandon();
    early.publish(false);
  }

  /** Run a cut of the log (and what replaces the history), then any snapshot asked for meanwhile. */
  private async rewritingLogWhile(cut: () => Promise<void>): Promise<void> {
    this.rewritingLog = true;
    try {
      await cut();
    } finally {
      this.rewritingLog = false;
    }
    if (this.snapshotAfterRewrite && !this.stopped) {
      this.snapshotAfterRewrite = false;
      this.takeSnapshot();
    }
  }

  /** Fuzzy snapshot off the Ready loop; a snapshot that cannot be written stops the server (as ZooKeeper). */
  takeSnapshot(): void {
    if (this.db.lastProcessedZxid === this.db.snapshotZxid) {
      this.snapshotWhenApplied = true;
      return;
    }
    this.db.txnLog.rollLog();
    const taken = this.db.takeSnapshot();
    const watched = this.opts.observer?.snapshot?.(taken) ?? taken;
    watched.catch((err: unknown) => this.stop(fatalError('cannot write a snapshot', err, ExitCode.TXNLOG_ERROR_TAKING_SNAPSHOT)));
  }
}

/** A SNAP being encoded for a learner, and the messages to it that wait behind it. */
interface SnapSend {
  held: Message[];
  stream: SnapStream | null;
  /** The learner's connection was lost: drop the SNAP and what waits behind it. */
  lost: boolean;
}

/** A SNAP saved and decoded as it arrives; the install takes these instead of starting over. */
interface EarlySnap {
  snapshot: ArrivingSnapshot;
  /** Opens (true) or withdraws (false) the saved file as the snapshot. */
  publish: (yes: boolean) => void;
  saved: Promise<void>;
  decoded: Promise<DecodedSnapshot>;
}

/** Thrown into a SNAP's encoding to stop it once its learner's connection is lost. */
class SnapAbandoned extends Error {}
