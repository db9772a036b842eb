/**
 * Fires a run's faults, one step at a time (scenario/schedule.ts): each step is resolved
 * against the ensemble of that moment (who leads, which voters are up) and, for a random
 * choice, against the run's seed (one generator per firing, nemesis/seed.ts). A repeating
 * fault remembers what its latest firing did, undoes it before the next firing and at its
 * end: restarts the server it killed, resumes the one it paused, heals the cut it made.
 * Every step that acts is recorded (AppliedFault); a step that fails is an error of the run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from '../errors.js';
import type { EnsembleHandle } from '../drivers/types.js';
import type { LoadRun } from '../load/types.js';
import { nowEpochMs } from '../load/recorder.js';
import type { EnsembleObserver } from '../measure/observe.js';
import { RESTORING, type AppliedFault } from '../measure/recovery.js';
import { cutFor, firingRandom, leaderKeepsQuorum, sidesText } from '../nemesis/index.js';
import { targetText } from '../scenario/faults.js';
import { undoOf, type FaultStep } from '../scenario/schedule.js';
import type { FaultAction, FaultSpec, FaultTarget, RunPlan } from '../scenario/types.js';
import type { ProgressSink } from './progress.js';
import type { CatchUps } from './catch-ups.js';

/** What undoes a firing: a restart or resume of the server it hit, a heal of that server or (null) of the sides. */
interface Undo {
  action: FaultAction;
  serverId: number | null;
  /** The firing's target as the scenario wrote it, for the record of the undo. */
  target: string;
}

/** The part of a step's record that depends on what it did. */
type Outcome = Pick<AppliedFault, 'action' | 'target' | 'serverId'> & Partial<Pick<AppliedFault, 'takesLeader' | 'mode' | 'sides' | 'bridge' | 'undid'>>;

export interface FaultRunnerOptions {
  handle: EnsembleHandle;
  observer: EnsembleObserver;
  load: LoadRun;
  plan: RunPlan;
  /** The run's seed: random-halves, bridge and random-voter choose from it. */
  seed: number;
  progress: ProgressSink;
  onFault?: (fault: AppliedFault) => void;
  /** Measures each restart and add-observer as a catch-up (time to serve, sync). */
  catchUps?: CatchUps;
}

/** Restoring faults: how often the member is asked whether it serves again. */
const SERVING_POLL_MS = 5;
const SERVING_MODES: ReadonlySet<string> = new Set(['leader', 'follower', 'observer', 'standalone']);

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** How results.json names a target: `leader`, `random-voter`, `id:3`. */
function recordedTarget(t: FaultTarget): string {
  return typeof t === 'string' ? t : `id:${t.id}`;
}

export class FaultRunner {
  private last: number | null = null;
  /** Per repeating fault (by index): what undoes its latest firing. */
  private readonly pending = new Map<number, Undo>();
  readonly applied: AppliedFault[] = [];
  readonly errors: string[] = [];
  private readonly watching: Promise<void>[] = [];
  private stopped = false;
  /** When the current step's own action began (after any undo of a previous firing). */
  private actedEpochMs = 0;

  constructor(private readonly o: FaultRunnerOptions) {}

  async step(s: FaultStep, windowStartEpochMs: number): Promise<void> {
    const f = this.o.plan.faults[s.fault]!;
    const name = s.kind === 'end' ? `end of faults[${s.fault}] (${undoOf(f.action)})` : `${f.action} ${targetText(f)}${f.repeat === undefined ? '' : ` #${s.firing + 1}`}`;
    try {
      const leaderBefore = await this.o.observer.leaderNowFresh();
      this.acting();
      const outcome = s.kind === 'end' ? await this.end(s) : await this.fire(s, f, leaderBefore);
      if (outcome === null) return;
      // From when the fault itself acted: a repeating fault first undoes its previous firing (a
      // restart waits for the server to serve), and that wait is not this fault's recovery.
      const atEpochMs = this.actedEpochMs;
      // Only writes issued once the fault is in effect count as "after" it: one issued while
      // the signal was on its way could still be acknowledged by the server it then took away.
      const effectiveEpochMs = nowEpochMs();
      this.o.load.noteFault(effectiveEpochMs);
      const applied: AppliedFault = {
        ...outcome,
        atMs: atEpochMs - windowStartEpochMs,
        atEpochMs,
        effectiveEpochMs,
        leaderBefore,
        ...(f.repeat === undefined ? {} : { schedule: { fault: s.fault, firing: s.kind === 'end' ? 'end' : s.firing + 1 } }),
      };
      const what = outcome.sides !== undefined ? sidesText(outcome.sides) : outcome.serverId === null ? 'every cut' : `server ${outcome.serverId}`;
      const undid = outcome.undid === undefined ? '' : `, after ${outcome.undid.action} of ${outcome.undid.serverId === null ? 'the sides' : `server ${outcome.undid.serverId}`}`;
      this.o.progress.note(`fault at ${((atEpochMs - windowStartEpochMs) / 1_000).toFixed(1)} s: ${name} (${what}${undid})`);
      if (RESTORING.has(applied.action) && applied.serverId !== null) this.watching.push(this.watchServing(applied, applied.serverId));
      this.o.onFault?.(applied);
      this.applied.push(applied);
    } catch (err) {
      this.errors.push(`fault ${name} at ${s.atMs} ms: ${message(err)}`);
      this.o.progress.note(`fault ${name} failed: ${message(err)}`);
    }
  }

  /** The fault's own action starts now: its recovery counts from here, and the leader is polled fast. */
  private acting(): void {
    this.actedEpochMs = nowEpochMs();
    this.o.observer.pollFast();
  }

  /** The run is over: stop watching for members to serve again. */
  async stopWatching(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.watching);
  }

  /** Polls until the member a restoring action gave back serves again (or the run ends). */
  private async watchServing(applied: AppliedFault, id: number): Promise<void> {
    applied.servingAgainEpochMs = null;
    while (!this.stopped) {
      const st = (await this.o.handle.status().catch(() => [])).find((m) => m.id === id);
      if (st !== undefined && SERVING_MODES.has(st.mode)) {
        applied.servingAgainEpochMs = nowEpochMs();
        return;
      }
      await sleep(SERVING_POLL_MS);
    }
  }

  /** A firing: a repeating fault first undoes its previous firing; then the fault acts. */
  private async fire(s: FaultStep, f: FaultSpec, leaderBefore: number | null): Promise<Outcome> {
    let undid: Outcome['undid'];
    const previous = this.pending.get(s.fault);
    if (previous !== undefined) {
      await this.undo(previous);
      this.pending.delete(s.fault);
      undid = { action: previous.action, serverId: previous.serverId };
      this.acting();
    }
    const outcome = await this.act(s, f, leaderBefore);
    if (f.repeat !== undefined) {
      this.pending.set(s.fault, { action: undoOf(f.action), serverId: outcome.sides !== undefined ? null : outcome.serverId, target: outcome.sides !== undefined ? 'sides' : outcome.target });
    }
    return undid === undefined ? outcome : { ...outcome, undid };
  }

  /** The end of a repeating fault: undo its last firing (nothing when that firing failed). */
  private async end(s: FaultStep): Promise<Outcome | null> {
    const previous = this.pending.get(s.fault);
    if (previous === undefined) {
      this.o.progress.note(`end of faults[${s.fault}]: its last firing did not take effect, nothing to undo`);
      return null;
    }
    await this.undo(previous);
    this.pending.delete(s.fault);
    return { action: previous.action, target: previous.target, serverId: previous.serverId };
  }

  private async act(s: FaultStep, f: FaultSpec, leaderBefore: number | null): Promise<Outcome> {
    const h = this.o.handle;
    const random = firingRandom(this.o.seed, s.fault, s.firing);
    if (f.mode !== undefined) {
      const voters = h.members.filter((m) => m.role === 'voter').map((m) => m.id);
      const observers = h.members.filter((m) => m.role === 'observer').map((m) => m.id);
      let cut;
      try {
        cut = cutFor(f.mode, { voters, observers }, random, leaderBefore);
      } catch (err) {
        throw new HarnessError('ZABLAB_BENCH_FAULT', message(err));
      }
      await h.partitionSides(cut.sides);
      this.last = null;
      return {
        action: 'partition',
        target: f.mode,
        serverId: f.mode === 'isolate-leader' ? leaderBefore : null,
        takesLeader: leaderBefore !== null && !leaderKeepsQuorum(cut.sides, voters, leaderBefore),
        mode: f.mode,
        sides: cut.sides,
        ...(cut.bridge === undefined ? {} : { bridge: cut.bridge }),
      };
    }
    if (f.action === 'add-observer') {
      const id = await this.addObserver();
      this.last = id;
      return { action: 'add-observer', target: 'spare', serverId: id };
    }
    if (f.target === null) {
      await h.healAll();
      this.last = null;
      return { action: 'heal', target: 'all', serverId: null };
    }
    const id = await this.resolve(f.target, leaderBefore, random);
    await this.apply(f.action, id);
    this.last = id;
    return { action: f.action, target: recordedTarget(f.target), serverId: id };
  }

  /** Starts the next spare observer, as a catch-up. */
  private async addObserver(): Promise<number> {
    const h = this.o.handle;
    const id = h.spareObservers()[0];
    if (id === undefined) {
      // The driver says why (none left, or it cannot start servers late).
      return h.addObserver();
    }
    await this.measured(id, 'add-observer', async () => {
      const started = await h.addObserver();
      if (started !== id) throw new HarnessError('ZABLAB_BENCH_FAULT', `add-observer started server ${started}, not the next spare ${id}`);
    });
    return id;
  }

  private measured(id: number, action: 'restart' | 'add-observer', act: () => Promise<void>): Promise<void> {
    return this.o.catchUps === undefined ? act() : this.o.catchUps.around(id, action, act);
  }

  private async undo(u: Undo): Promise<void> {
    if (u.serverId === null) {
      await this.o.handle.healSides();
      return;
    }
    await this.apply(u.action, u.serverId);
  }

  private async resolve(t: FaultTarget, leader: number | null, random: () => number): Promise<number> {
    if (typeof t === 'object') return t.id;
    switch (t) {
      case 'last':
        if (this.last === null) throw new HarnessError('ZABLAB_BENCH_FAULT', 'target `last`: no earlier fault hit a server');
        return this.last;
      case 'leader':
        if (leader === null) throw new HarnessError('ZABLAB_BENCH_FAULT', 'target `leader`: no server reports itself leader now');
        return leader;
      case 'random-voter': {
        const st = await this.o.handle.status();
        const voters = new Set(this.o.handle.members.filter((m) => m.role === 'voter').map((m) => m.id));
        const up = st.filter((s) => voters.has(s.id) && !s.paused && !s.stopped).map((s) => s.id);
        if (up.length === 0) throw new HarnessError('ZABLAB_BENCH_FAULT', 'target `random-voter`: no voter is up now');
        return up[Math.floor(random() * up.length)]!;
      }
      case 'follower':
      case 'observer': {
        const st = await this.o.handle.status();
        const m = st.find((s) => s.mode === t && !s.paused && !s.stopped);
        if (m === undefined) throw new HarnessError('ZABLAB_BENCH_FAULT', `target \`${t}\`: no ${t} is serving now`);
        return m.id;
      }
    }
  }

  private async apply(action: FaultAction, id: number): Promise<void> {
    const { handle, observer } = this.o;
    switch (action) {
      case 'kill':
        observer.setDown(id, true);
        return handle.kill(id);
      case 'pause':
        observer.setDown(id, true);
        return handle.pause(id);
      case 'resume':
        await handle.resume(id);
        observer.setDown(id, false);
        return;
      case 'restart':
        await this.measured(id, 'restart', () => handle.restart(id));
        observer.setDown(id, false);
        return;
      case 'add-observer':
        throw new HarnessError('ZABLAB_BENCH_FAULT', 'add-observer starts the next spare observer; it takes no server');
      case 'partition':
        return handle.partition(id);
      case 'heal':
        return handle.heal(id);
    }
  }
}
