/**
 * One line per run, for `zablab bench --dry-run`: what each run starts, drives and breaks; under
 * a run with repeating faults or partitions by mode, its fault timeline, one step a line.
 */
import { cutFor, firingRandom, sidesText } from '../nemesis/index.js';
import { formatDurationMs } from './duration.js';
import { targetText } from './faults.js';
import { largeStateOf } from './large-state.js';
import { expandRuns } from './matrix.js';
import { faultSteps, undoOf, type FaultStep } from './schedule.js';
import type { EnsembleSection, FaultSpec, RunPlan, Scenario, WorkloadSection } from './types.js';

/** Expands the scenario (throwing as expandRuns does) and describes each run (no trailing newline). */
export function describeScenario(s: Scenario): string {
  return expandRuns(s)
    .map((run) => [describeRun(run), ...describeTimeline(run).map((l) => `  ${l}`)].join('\n'))
    .join('\n');
}

export function describeRun(run: RunPlan): string {
  const parts = [
    topology(run.ensemble),
    `${run.load.driver} load, ${run.workload.clients} clients x ${run.workload.connections} connections, ${loop(run.workload)}`,
    ...(run.history ? [historyMix(run.workload)] : [mix(run.workload), `${run.workload.valueSize} B values, ${run.workload.keys} keys`]),
    ...largeState(run.workload),
    `${formatDurationMs(run.workload.warmupMs)} warm-up + ${formatDurationMs(run.workload.durationMs)}`,
    faults(run.faults),
  ];
  if (run.spans) parts.push(run.spansSample < 1 ? `spans ${Math.round(run.spansSample * 10_000) / 100} %` : 'spans');
  if (run.seed !== undefined) parts.push(`seed ${run.seed}`);
  return `${run.name}: ${parts.join('; ')}`;
}

/**
 * The steps of a run whose faults repeat or partition by mode (none otherwise): when each
 * firing happens and what it does. With a seed, the sides of random-halves and bridge (they
 * depend on the seed and the members only); isolate-leader and random-voter depend on the
 * ensemble at that moment.
 */
export function describeTimeline(run: RunPlan): string[] {
  if (!run.faults.some((f) => f.repeat !== undefined || f.mode !== undefined)) return [];
  const members = memberIds(run.ensemble);
  const lines = faultSteps(run.faults).map((step) => `${formatDurationMs(step.atMs)} ${stepText(run, step, members)}`);
  if (run.seed === undefined && run.faults.some((f) => f.mode === 'random-halves' || f.mode === 'bridge' || f.target === 'random-voter')) {
    lines.push("random choices come from the run's seed, drawn when it starts and recorded in results.json (set seed: to replay them)");
  }
  return lines;
}

function memberIds(e: EnsembleSection): { voters: number[]; observers: number[] } {
  const ids = (from: number, n: number): number[] => Array.from({ length: n }, (_, k) => from + k);
  return { voters: ids(1, e.voters), observers: ids(e.voters + 1, e.observers) };
}

function stepText(run: RunPlan, step: FaultStep, members: { voters: number[]; observers: number[] }): string {
  const f = run.faults[step.fault]!;
  if (step.kind === 'end') return `${undoOf(f.action)} (end of faults[${step.fault}]: undoes firing ${step.firing})`;
  const undo = step.firing > 0 ? `, after ${undoText(f.action, step.firing)}` : '';
  const firing = f.repeat === undefined ? '' : ` (faults[${step.fault}] firing ${step.firing + 1}${undo})`;
  const what = `${f.action} ${targetText(f)}${firing}`;
  if (run.seed !== undefined && (f.mode === 'random-halves' || f.mode === 'bridge')) {
    const cut = cutFor(f.mode, members, firingRandom(run.seed, step.fault, step.firing), null);
    return `${what}: ${sidesText(cut.sides)}${cut.bridge === undefined ? '' : ` (bridge ${cut.bridge})`}`;
  }
  return what;
}

/** What a repeating fault undoes before firing again: `the restart of firing 2's server`. */
function undoText(action: FaultSpec['action'], firing: number): string {
  switch (action) {
    case 'kill':
      return `restarting firing ${firing}'s server`;
    case 'pause':
      return `resuming firing ${firing}'s server`;
    case 'partition':
    case 'heal':
    case 'resume':
    case 'restart':
    case 'add-observer':
      return `healing firing ${firing}'s cut`;
  }
}

function topology(e: EnsembleSection): string {
  const spares = (e.spareObservers ?? 0) > 0 ? ` + ${e.spareObservers} spare observers` : '';
  const servers = e.driver === 'external' ? `${e.voters} servers` : `${e.voters} voters${e.observers > 0 ? ` + ${e.observers} observers` : ''}${spares}`;
  const config = Object.entries(e.config).map(([k, v]) => `${k}=${v}`);
  const peers = e.peerSecurity === undefined ? '' : `, peers ${e.peerSecurity}`;
  return `${e.driver} ${servers}${e.tls ? ' over TLS' : ''}${peers}${config.length > 0 ? ` (${config.join(', ')})` : ''}`;
}

function loop(w: WorkloadSection): string {
  return w.rate === null ? `closed loop, pipelining ${w.pipelining}` : `open loop at ${w.rate} ops/s`;
}

function mix(w: WorkloadSection): string {
  const weights = (m: Partial<Record<string, number>>): string =>
    Object.entries(m)
      .filter(([, x]) => (x ?? 0) > 0)
      .map(([op, x]) => `${op} ${x}`)
      .join(', ');
  const sides: string[] = [];
  if (w.readPct > 0) sides.push(`reads (${weights(w.reads)})`);
  if (w.readPct < 100) sides.push(`writes (${weights(w.writes)})`);
  return `${w.readPct}% reads: ${sides.join(', ')}`;
}

/** The register workload that replaces the mix when a run records its history (see load/native/register.ts). */
function historyMix(w: WorkloadSection): string {
  return `history: register workload on ${w.keys} keys, ${w.readPct}% reads (sync + getData), writes half setData of unique values, half cas (setData at a version), plus set adds and counter increments; checked after the run`;
}

/** The extra state a run builds before its window: populated znodes, held sessions and their watches. */
function largeState(workload: WorkloadSection): string[] {
  const w = largeStateOf(workload);
  const parts: string[] = [];
  if (w.populate > 0) parts.push(`${w.populate} znodes populated`);
  if (w.sessions > 0) parts.push(`${w.sessions} sessions held${w.watches > 0 ? ` x ${w.watches} ${w.watchMode} watches` : ''}`);
  return parts;
}

function faults(list: readonly FaultSpec[]): string {
  if (list.length === 0) return 'no faults';
  const repeat = (f: FaultSpec): string => (f.repeat === undefined ? '' : ` every ${formatDurationMs(f.repeat.everyMs)} for ${formatDurationMs(f.repeat.forMs)}`);
  return `faults: ${list.map((f) => `${formatDurationMs(f.atMs)} ${f.action} ${targetText(f)}${repeat(f)}`).join(', ')}`;
}
