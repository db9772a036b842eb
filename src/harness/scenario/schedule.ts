/**
 * A run's faults as a timeline of steps: a one-off fault is one step; a repeating fault
 * (`every`, `for`) fires at at, at + every, ... while before at + for, and ends at at + for
 * with a step that undoes its last firing. Pure, so that `--dry-run` shows the same timeline
 * the runner follows.
 */
import type { FaultAction, FaultSpec } from './types.js';

export interface FaultStep {
  /** Milliseconds after the measured window starts. */
  atMs: number;
  /** The fault's index in the scenario's list. */
  fault: number;
  /** `fire`: apply the fault (a repeating one first undoes its previous firing); `end`: undo a repeating fault's last firing. */
  kind: 'fire' | 'end';
  /** 0-based firing of a repeating fault (0 for a one-off); for `end`, the number of firings. */
  firing: number;
}

/** What undoes a repeatable action: a killed server is restarted, a paused one resumed, a cut healed. */
export function undoOf(action: FaultAction): FaultAction {
  switch (action) {
    case 'kill':
      return 'restart';
    case 'pause':
      return 'resume';
    case 'partition':
      return 'heal';
    case 'resume':
    case 'restart':
    case 'heal':
    case 'add-observer':
      return action;
  }
}

/** Every step of the faults, in time order; at one instant an `end` goes first, then faults in list order. */
export function faultSteps(faults: readonly FaultSpec[]): FaultStep[] {
  const steps: FaultStep[] = [];
  faults.forEach((f, fault) => {
    if (f.repeat === undefined) {
      steps.push({ atMs: f.atMs, fault, kind: 'fire', firing: 0 });
      return;
    }
    const endMs = f.atMs + f.repeat.forMs;
    let firing = 0;
    for (let t = f.atMs; t < endMs; t += f.repeat.everyMs) steps.push({ atMs: t, fault, kind: 'fire', firing: firing++ });
    steps.push({ atMs: endMs, fault, kind: 'end', firing });
  });
  return steps.sort((a, b) => a.atMs - b.atMs || (a.kind === b.kind ? 0 : a.kind === 'end' ? -1 : 1) || a.fault - b.fault);
}

/** When the fault's last step happens: its time, or the end of its repetition. */
export function faultEndMs(f: FaultSpec): number {
  return f.atMs + (f.repeat?.forMs ?? 0);
}
