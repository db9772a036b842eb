/**
 * ZKDatabase: the in-memory state (data tree + sessions with their timeouts) and the files
 * that make it durable (txn log + snapshots). Recovery = newest valid snapshot + replay of
 * the log after it (planned by src/storage/recovery.ts, which tells a torn tail from damage);
 * snapshots are fuzzy, so replay must be (and is) idempotent.
 */
import { JuteReader, JuteWriter, OpCode, zxidHex, type LoggedTxn } from '../jute/index.js';
import { DataTree, PieceSource, readWhole, SNAPSHOT_READ_STEP_NODES, type ProcessTxnResult, type ReadSignal, type SnapshotSource } from '../tree/index.js';
import {
  DEFAULT_MAX_TXN_SIZE,
  FileSnapStore,
  FileTxnLog,
  nodeFs,
  planRecovery,
  versionDir,
  type RecoveryInputs,
  type RecoveryPlan,
  type SnapStore,
  type StorageFs,
  type TxnLog,
} from '../storage/index.js';
import type { ZabConfig } from './config.js';
import type { Logger } from './log.js';

/**
 * Loaded nodes whose digests one idle step adds to the tree digest: ~4 ms at a million znodes
 * on a quiet machine, where each node is a few cache misses. Steps of 10,000 held a restarted
 * follower's event loop for 100-300 ms at a time in the 3-voter bench (ls1m-h profile).
 */
export const DIGEST_STEP_NODES = 2_000;

export interface SnapshotInfo {
  zxid: bigint;
  durationMs: number;
}

/** Where a server's files live and how big a txn may be. */
export interface StorageLayout {
  fs: StorageFs;
  dataDir: string;
  /** `<dataDir>/version-2`: snapshots, epoch files, the recovering mark. */
  snapDir: string;
  /** `<dataLogDir>/version-2`: the txn log. */
  logDir: string;
  preAllocSize: number;
  maxTxnSize: number;
}

export function storageLayout(cfg: ZabConfig, fs: StorageFs = nodeFs): StorageLayout {
  return {
    fs,
    dataDir: cfg.dataDir,
    snapDir: versionDir(cfg.dataDir),
    logDir: versionDir(cfg.dataLogDir),
    preAllocSize: cfg.preAllocSizeBytes,
    maxTxnSize: Math.max(DEFAULT_MAX_TXN_SIZE, cfg.juteMaxBuffer + 1024),
  };
}

/** Open the snapshots and read what is recoverable. Changes nothing on disk. */
export async function inspectStorage(layout: StorageLayout, log: Logger): Promise<{ inputs: RecoveryInputs; plan: RecoveryPlan }> {
  const snaps = await FileSnapStore.open({ fs: layout.fs, dir: layout.snapDir, log: (m) => log.warn(m) });
  const inputs: RecoveryInputs = { fs: layout.fs, snaps, logDir: layout.logDir, maxTxnSize: layout.maxTxnSize };
  return { inputs, plan: await planRecovery(inputs) };
}

/**
 * Open the database on a disk whose plan shows no damage: damaged snapshots the log reaches
 * past are set aside (nothing is lost), the torn tail of the log is cut, and the state is
 * loaded from the plan's snapshot.
 */
export async function openDatabase(layout: StorageLayout, log: Logger, inputs: RecoveryInputs, plan: RecoveryPlan): Promise<ZKDatabase> {
  if (plan.damage !== null) throw new Error('invariant: openDatabase on a damaged disk; the host decides first');
  for (const s of plan.damagedSnapshots) {
    const aside = await inputs.snaps.setAside(s.zxid);
    log.warn('set aside a damaged snapshot: the log holds every txn it held', { snapshot: s.file, problem: s.problem, now: aside });
  }
  const txnLog = await FileTxnLog.open({
    fs: layout.fs,
    dir: layout.logDir,
    preAllocSize: layout.preAllocSize,
    maxTxnSize: layout.maxTxnSize,
    historyZxid: plan.snapshot?.zxid ?? 0n,
    log: (m) => log.warn(m),
  });
  const db = new ZKDatabase(txnLog, inputs.snaps, log);
  if (plan.snapshot !== null) db.restoreSnapshotAt(plan.snapshot.body, plan.snapshot.zxid);
  return db;
}

export class ZKDatabase {
  tree = new DataTree();
  /** Global sessions and their negotiated timeouts, as recorded by txns (ZooKeeper's sessionsWithTimeouts). */
  readonly sessionsWithTimeouts = new Map<bigint, number>();
  private snapshotInFlight: Promise<SnapshotInfo | null> | null = null;
  /** The zxid of the state the newest snapshot on disk holds (loaded, installed from a SNAP, or written); null: none. */
  snapshotZxid: bigint | null = null;
  /** A snapshot was asked for while one was being written: `again` takes it once that one is done. */
  private snapshotWanted = false;
  /** The host's way to take a snapshot (rolling the log and watching for failure), for `snapshotWanted`. */
  again: (() => void) | null = null;
  private closed = false;
  /** Where digest counting steps run (the host's scheduler); unset, the digest is counted when first asked for. */
  private idle: ((step: () => void) => void) | null = null;
  /** The tree counting steps are under way for. */
  private countingTree: DataTree | null = null;

  constructor(
    readonly txnLog: TxnLog,
    readonly snaps: SnapStore,
    private readonly log: Logger,
  ) {}

  get lastProcessedZxid(): bigint {
    return this.tree.lastProcessedZxid;
  }

  /** The state of a snapshot taken at `zxid` (recovery's starting point). */
  restoreSnapshotAt(body: Buffer, zxid: bigint): void {
    this.restoreSnapshot(body);
    this.tree.lastProcessedZxid = zxid;
    this.snapshotZxid = zxid;
    this.log.info('loaded snapshot', { zxid: zxidHex(zxid), sessions: this.sessionsWithTimeouts.size });
  }

  /**
   * Count a loaded tree's digests in steps run by `idle` (now, after every installed SNAP, and
   * whenever countDigestsAgain is called), so that the first reader of the digest does not
   * stall the server for all of them.
   */
  countDigestsWhenIdle(idle: (step: () => void) => void): void {
    this.idle = idle;
    this.countDigestsAgain();
  }

  /** Start counting steps for the current tree unless they are under way (digests deferred since the last run ended). */
  countDigestsAgain(): void {
    const idle = this.idle;
    const tree = this.tree;
    if (idle === null || this.countingTree === tree) return;
    this.countingTree = tree;
    const step = (): void => {
      if (this.tree === tree && !tree.countDigests(DIGEST_STEP_NODES)) return idle(step);
      if (this.countingTree === tree) this.countingTree = null;
    };
    idle(step);
  }

  /** Standalone: replay the log after the restored snapshot. Returns the last zxid. */
  async replayLog(): Promise<bigint> {
    let replayed = 0;
    await this.tree.withDigestsDeferred(async () => {
      for await (const t of this.txnLog.read(this.tree.lastProcessedZxid)) {
        this.applyTxn(t);
        replayed++;
      }
    });
    if (replayed > 0) this.log.info('replayed txn log', { txns: replayed, lastZxid: zxidHex(this.lastProcessedZxid) });
    return this.lastProcessedZxid;
  }

  /**
   * Quorum mode: the logged txns after the restored snapshot, not applied — ZAB decides
   * whether they are committed (they may be cut by a TRUNC).
   */
  async readLogTail(): Promise<{ snapshotZxid: bigint; tail: LoggedTxn[] }> {
    const tail: LoggedTxn[] = [];
    for await (const t of this.txnLog.read(this.tree.lastProcessedZxid)) tail.push(t);
    this.log.info('loaded for quorum', {
      snapshotZxid: zxidHex(this.tree.lastProcessedZxid),
      loggedAfterSnapshot: tail.length,
    });
    return { snapshotZxid: this.tree.lastProcessedZxid, tail };
  }

  /** About how many bytes a snapshot of the state takes: paths and data, plus ~100 bytes of stat and framing per node. */
  approximateSnapshotSize(): number {
    return this.tree.approximateDataSize() + this.tree.nodeCount * 100 + this.sessionsWithTimeouts.size * 12 + 4096;
  }

  /**
   * The snapshot body for a SNAP in chunks of `chunkBytes` (the last one shorter), each a
   * buffer of its own handed to `emit`, encoded over many turns while txns keep applying (a
   * fuzzy snapshot: it holds every txn up to the zxid it started at and maybe later ones,
   * which the learner's replay of those txns absorbs). `emit` may wait (a learner reading
   * slowly): encoding goes on after it. Resolves to the bytes emitted.
   */
  async snapshotChunks(chunkBytes: number, emit: (chunk: Buffer) => Promise<void>, yieldTurn: () => Promise<void>): Promise<number> {
    let chunk = Buffer.allocUnsafe(chunkBytes);
    let used = 0;
    let total = 0;
    for (const piece of this.snapshotBody()) {
      for (let from = 0; from < piece.length; ) {
        const n = Math.min(chunkBytes - used, piece.length - from);
        piece.copy(chunk, used, from, from + n);
        used += n;
        from += n;
        if (used === chunkBytes) {
          total += used;
          await emit(chunk);
          chunk = Buffer.allocUnsafe(chunkBytes);
          used = 0;
        }
      }
      await yieldTurn();
    }
    if (used > 0) await emit(chunk.subarray(0, used));
    return total + used;
  }

  /** Make a leader's snapshot taken at `zxid`, decoded (decodeSnapshot), the state at once. */
  installDecoded(state: DecodedSnapshot, zxid: bigint): void {
    this.replaceState(state.sessions, state.tree);
    this.tree.lastProcessedZxid = zxid;
    this.snapshotZxid = zxid;
    this.countDigestsAgain();
  }

  /** Apply one decided, durable txn: the tree plus the session table. */
  applyTxn(t: LoggedTxn): ProcessTxnResult {
    const { hdr, body } = t;
    if (body.type === OpCode.createSession) {
      this.sessionsWithTimeouts.set(hdr.clientId, body.record.timeOut);
    } else if (body.type === OpCode.closeSession) {
      this.sessionsWithTimeouts.delete(hdr.clientId);
    }
    const rc = this.tree.processTxn(hdr, body);
    if (hdr.zxid > this.tree.lastProcessedZxid) this.tree.lastProcessedZxid = hdr.zxid;
    return rc;
  }

  /** Snapshot body: sessions (ZooKeeper's SerializeUtils order), then the tree in pieces (views: copy one to keep it). */
  *snapshotBody(): Generator<Buffer> {
    const w = new JuteWriter(64 + this.sessionsWithTimeouts.size * 12);
    w.writeInt(this.sessionsWithTimeouts.size);
    for (const [id, timeout] of this.sessionsWithTimeouts) {
      w.writeLong(id);
      w.writeInt(timeout);
    }
    yield w.toBuffer();
    yield* this.tree.serializeChunks();
  }

  private restoreSnapshot(body: Buffer): void {
    const r = new JuteReader(body);
    const sessions = readSessions(r);
    this.replaceState(sessions, DataTree.deserialize(body.subarray(r.offset)));
  }

  private replaceState(sessions: Map<bigint, number>, tree: DataTree): void {
    this.sessionsWithTimeouts.clear();
    for (const [id, timeout] of sessions) this.sessionsWithTimeouts.set(id, timeout);
    this.tree = tree;
  }

  /**
   * Take a fuzzy snapshot named after the last applied zxid; txns keep applying while the
   * tree is written in pieces. At most one runs at a time. ZooKeeper skips one asked for
   * while another is written; zablab takes it when that one is done (through `again`), since
   * a million-znode snapshot under load outlasts snapCount txns, and every skip adds them to
   * the log a restart must replay.
   */
  takeSnapshot(): Promise<SnapshotInfo | null> {
    if (this.snapshotInFlight) {
      if (!this.snapshotWanted) this.log.warn('still writing the last snapshot: the next one follows it');
      this.snapshotWanted = true;
      return Promise.resolve(null);
    }
    const zxid = this.lastProcessedZxid;
    const started = performance.now();
    this.snapshotInFlight = this.snaps
      .save(zxid, this.snapshotBody())
      .then(() => {
        const durationMs = performance.now() - started;
        this.snapshotZxid = zxid;
        this.log.info('snapshot taken', { zxid: zxidHex(zxid), ms: Math.round(durationMs) });
        return { zxid, durationMs };
      })
      .finally(() => {
        this.snapshotInFlight = null;
        if (this.snapshotWanted && !this.closed) {
          this.snapshotWanted = false;
          this.again?.();
        }
      });
    return this.snapshotInFlight;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.snapshotInFlight) await this.snapshotInFlight.catch(() => null);
    await this.txnLog.close();
    await this.snaps.close();
  }
}

/** A snapshot body decoded, not yet the state (ZKDatabase.installDecoded makes it so). */
export interface DecodedSnapshot {
  sessions: Map<bigint, number>;
  tree: DataTree;
}

/**
 * Decode a leader's snapshot, given in pieces as it came off the wire, a few thousand znodes
 * at a time with `yieldTurn` between steps (a million-znode SNAP decoded in one go stalled the
 * learner's event loop for seconds); nothing sees the tree before it is complete, and no
 * buffer holds the whole snapshot. JuteDecodeError on anything malformed.
 */
export async function decodeSnapshot(pieces: readonly Buffer[] | AsyncIterable<Buffer>, yieldTurn: () => Promise<void>): Promise<DecodedSnapshot> {
  const src = new PieceSource();
  const steps = decodeSteps(src);
  // Pieces still arriving (a SNAP decoded as it comes) are waited for; pieces in hand are not.
  let inHand: readonly Buffer[] = [];
  let arriving: AsyncIterator<Buffer> | null = null;
  if (isPieceArray(pieces)) inHand = pieces;
  else arriving = pieces[Symbol.asyncIterator]();
  let next = 0;
  for (;;) {
    const step = steps.next();
    if (step.done === true) {
      // At least one turn, even for a tree of one step: the simulator's small trees then
      // interleave with an install as a million-znode one does.
      await yieldTurn();
      return step.value;
    }
    if (step.value === 'step') await yieldTurn();
    else if (arriving !== null) {
      const piece = await arriving.next();
      if (piece.done === true) src.end();
      else src.push(piece.value);
    } else if (next < inHand.length) src.push(inHand[next++]!);
    else src.end();
  }
}

function isPieceArray(pieces: readonly Buffer[] | AsyncIterable<Buffer>): pieces is readonly Buffer[] {
  return Array.isArray(pieces);
}

function* decodeSteps(src: SnapshotSource): Generator<ReadSignal, DecodedSnapshot> {
  const sessions = yield* readWhole(src, readSessions);
  const tree = yield* DataTree.deserializeInSteps(src, SNAPSHOT_READ_STEP_NODES);
  return { sessions, tree };
}

/** A snapshot body's sessions and their timeouts (ZooKeeper's SerializeUtils order). */
function readSessions(r: JuteReader): Map<bigint, number> {
  const n = r.readCount();
  const sessions = new Map<bigint, number>();
  for (let i = 0; i < n; i++) {
    const id = r.readLong();
    sessions.set(id, r.readInt());
  }
  return sessions;
}
