/**
 * The phases a script benchmark runs, as harness workloads: setData only, getData only, or
 * `mixed`: the quick-start scenario's mix (bench/quickstart.yaml: 80 % reads of getData,
 * exists and getChildren; writes of setData, create and delete), read from that file so the
 * two cannot drift apart.
 */
import { builtinScenario, loadScenarioFile, type WorkloadSection } from '../../src/harness/scenario/index.js';

export const PHASE_OPS = ['setData', 'getData', 'mixed'] as const;
export type PhaseOp = (typeof PHASE_OPS)[number];

/** How much load, in the scripts' words. */
export interface LoadShape {
  /** Load processes (workload.clients). */
  workers: number;
  /** Sessions per worker (workload.connections). */
  clients: number;
  /** Requests in flight per session (workload.pipelining). */
  inflight: number;
  valueSize: number;
  keys: number;
  warmupSec: number;
  durationSec: number;
}

function mix(op: PhaseOp): Pick<WorkloadSection, 'readPct' | 'reads' | 'writes'> {
  switch (op) {
    case 'setData':
      return { readPct: 0, reads: { getData: 1 }, writes: { setData: 1 } };
    case 'getData':
      return { readPct: 100, reads: { getData: 1 }, writes: { setData: 1 } };
    case 'mixed': {
      const w = loadScenarioFile(builtinScenario('quickstart')).workload;
      return { readPct: w.readPct, reads: w.reads, writes: w.writes };
    }
  }
}

/** The closed-loop workload of one phase. */
export function workloadFor(op: PhaseOp, shape: LoadShape): WorkloadSection {
  return {
    ...mix(op),
    valueSize: shape.valueSize,
    keys: shape.keys,
    clients: shape.workers,
    connections: shape.clients,
    pipelining: shape.inflight,
    rate: null,
    durationMs: shape.durationSec * 1_000,
    warmupMs: shape.warmupSec * 1_000,
  };
}

/** `80 % reads {getData: 8, exists: 1, getChildren: 1}, writes {setData: 3, ...}`: what a phase ran. */
export function describeMix(op: PhaseOp): string {
  const m = mix(op);
  const weights = (w: Record<string, number | undefined>): string => Object.entries(w).map(([k, v]) => `${k}: ${v ?? 0}`).join(', ');
  return `${m.readPct} % reads {${weights(m.reads)}}, writes {${weights(m.writes)}}`;
}
