/**
 * Gathers what measure/catch-up.ts needs around each restart and add-observer of a run: the
 * leader's mntr just before the process starts, then (in the background, while the fault
 * runner waits) polls the server until it serves, and once it does reads the leader's mntr
 * again, the learner's mntr, its log since the start and the snapshot files it wrote. Every
 * read is best effort: what is not there makes the result say "unknown", never fails the run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EnsembleHandle, MemberMetrics } from '../drivers/types.js';
import { notServing } from '../drivers/probe.js';
import { nowEpochMs } from '../load/recorder.js';
import { catchUpResult, overlapping, type CatchUpEvidence } from '../measure/catch-up.js';
import type { ProcessStart } from '../measure/snapshot-windows.js';
import type { CatchUpAction, CatchUpResult } from '../report/results-sync.js';

/** How often a catching-up server is asked whether it serves (it and the leader: two srvr per poll). */
export const CATCH_UP_POLL_MS = 20;
/** The most of a learner's log read for its sync line (it logs a few lines a second). */
const LOG_READ_MAX_BYTES = 8 * 1024 * 1024;

interface Pending {
  evidence: CatchUpEvidence;
  logFile: string | null;
  logOffset: number;
  snapshotDir: string | null;
  snapshotsBefore: Set<string>;
  done: Promise<void>;
}

export class CatchUps {
  private readonly pending: Pending[] = [];
  private stopped = false;

  constructor(
    private readonly handle: EnsembleHandle,
    /** The leader as last polled (the fault runner has just asked afresh). */
    private readonly leader: () => number | null,
  ) {}

  /**
   * Runs `act` (which starts server `id`'s process) as a catch-up: measured from just before
   * it, until the server serves (in the background; stop() waits for it).
   */
  async around(id: number, action: CatchUpAction, act: () => Promise<void>): Promise<void> {
    const files = this.handle.memberFiles(id);
    const leaderId = this.leader();
    const leaderBefore = leaderId === null || leaderId === id ? null : await this.mntr(leaderId);
    const snapshotDir = files === null ? null : path.join(files.dataDir, 'version-2');
    const p: Omit<Pending, 'done'> = {
      evidence: {
        serverId: id,
        action,
        role: action === 'add-observer' ? 'observer' : (this.handle.members.find((m) => m.id === id)?.role ?? 'voter'),
        program: this.handle.program,
        startedAtEpochMs: 0,
        servingAtEpochMs: null,
        leaderBefore: leaderId === null || leaderBefore === null ? null : { id: leaderId, mntr: leaderBefore },
        leaderAfter: null,
        learnerMntr: null,
        learnerLog: null,
        newSnapshots: [],
      },
      logFile: files?.logFile ?? null,
      logOffset: files === null ? 0 : fileSize(files.logFile),
      snapshotDir,
      snapshotsBefore: new Set(snapshotDir === null ? [] : snapshotNames(snapshotDir)),
    };
    p.evidence.startedAtEpochMs = nowEpochMs();
    const entry: Pending = { ...p, done: this.follow(p) };
    this.pending.push(entry);
    await act();
  }

  /** The run is over: stop polling, and wait for what is being gathered. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.pending.map((p) => p.done));
  }

  /** When a server's process started anew (its counters start from 0 there). */
  processStarts(): ProcessStart[] {
    return this.pending.map((p) => ({ id: p.evidence.serverId, atEpochMs: p.evidence.startedAtEpochMs }));
  }

  /** Catch-up windows in epoch ms (start → serving, or the end when it never served). */
  spans(endEpochMs: number): { serverId: number; fromEpochMs: number; toEpochMs: number; mode: CatchUpResult['syncMode'] }[] {
    return this.results(0).map((r, i) => {
      const e = this.pending[i]!.evidence;
      return { serverId: r.serverId, fromEpochMs: e.startedAtEpochMs, toEpochMs: e.servingAtEpochMs ?? endEpochMs, mode: r.syncMode };
    });
  }

  results(windowStartEpochMs: number): CatchUpResult[] {
    const evidence = this.pending.map((p) => p.evidence);
    const overlaps = overlapping(evidence.map((e) => ({ fromEpochMs: e.startedAtEpochMs, toEpochMs: e.servingAtEpochMs })));
    return evidence.map((e, i) => catchUpResult(e, windowStartEpochMs, overlaps[i] === true));
  }

  private async follow(p: Omit<Pending, 'done'>): Promise<void> {
    const id = p.evidence.serverId;
    p.evidence.servingAtEpochMs = await this.servingAt(id);
    if (p.evidence.servingAtEpochMs === null) return;
    const leaderId = this.leader();
    const [leaderAfter, learner] = await Promise.all([leaderId === null ? null : this.mntr(leaderId), this.mntr(id)]);
    if (leaderId !== null && leaderAfter !== null) p.evidence.leaderAfter = { id: leaderId, mntr: leaderAfter };
    p.evidence.learnerMntr = learner;
    if (p.logFile !== null) p.evidence.learnerLog = readFrom(p.logFile, p.logOffset);
    if (p.snapshotDir !== null) {
      p.evidence.newSnapshots = snapshotNames(p.snapshotDir)
        .filter((n) => !p.snapshotsBefore.has(n))
        .map((n) => ({ zxid: n.slice('snapshot.'.length), bytes: fileSize(path.join(p.snapshotDir!, n)) }));
    }
  }

  /** Polls until the server serves in its role and has caught up with the leader; null when the run ends first. */
  private async servingAt(id: number): Promise<number | null> {
    const firstSeen = new Map<string, bigint>();
    while (!this.stopped) {
      const leader = this.leader();
      const among = leader === null || leader === id ? undefined : [id, leader];
      const statuses = await this.handle.status(among).catch(() => []);
      const at = nowEpochMs();
      if (statuses.length > 0 && !notServing(this.handle.members, statuses, [id], firstSeen).has(id)) return at;
      await sleep(CATCH_UP_POLL_MS);
    }
    return null;
  }

  private async mntr(id: number): Promise<MemberMetrics | null> {
    return this.handle.metrics(id).catch(() => null);
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** What a file holds from `offset` on (at most LOG_READ_MAX_BYTES, the latest ones); null when it cannot be read. */
function readFrom(file: string, offset: number): string | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const from = Math.max(offset, size - LOG_READ_MAX_BYTES);
    const buf = Buffer.alloc(Math.max(0, size - from));
    fs.readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8');
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

function snapshotNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => /^snapshot\.[0-9a-f]+$/i.test(n));
  } catch {
    return [];
  }
}
