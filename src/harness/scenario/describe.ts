/** One line per run, for `zablab bench --dry-run`: what each run starts, drives and breaks. */
import { formatDurationMs } from './duration.js';
import { targetText } from './faults.js';
import { expandRuns } from './matrix.js';
import type { EnsembleSection, FaultSpec, RunPlan, Scenario, WorkloadSection } from './types.js';

/** Expands the scenario (throwing as expandRuns does) and describes each run on its own line (no trailing newline). */
export function describeScenario(s: Scenario): string {
  return expandRuns(s).map(describeRun).join('\n');
}

export function describeRun(run: RunPlan): string {
  const parts = [
    topology(run.ensemble),
    `${run.load.driver} load, ${run.workload.clients} clients x ${run.workload.connections} connections, ${loop(run.workload)}`,
    ...(run.history ? [historyMix(run.workload)] : [mix(run.workload), `${run.workload.valueSize} B values, ${run.workload.keys} keys`]),
    `${formatDurationMs(run.workload.warmupMs)} warm-up + ${formatDurationMs(run.workload.durationMs)}`,
    faults(run.faults),
  ];
  if (run.spans) parts.push(run.spansSample < 1 ? `spans ${Math.round(run.spansSample * 10_000) / 100} %` : 'spans');
  return `${run.name}: ${parts.join('; ')}`;
}

function topology(e: EnsembleSection): string {
  const servers = e.driver === 'external' ? `${e.voters} servers` : `${e.voters} voters${e.observers > 0 ? ` + ${e.observers} observers` : ''}`;
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

function faults(list: readonly FaultSpec[]): string {
  if (list.length === 0) return 'no faults';
  return `faults: ${list.map((f) => `${formatDurationMs(f.atMs)} ${f.action} ${targetText(f.target)}`).join(', ')}`;
}
