/** How runs, faults and topologies are named in tables, legends and markers. */
import { OP_KINDS, type OpKind } from '../scenario/types.js';
import { sidesText } from '../nemesis/sides.js';
import { formatNumber } from './format.js';
import type { LeaderChange, RecoveryResult, RunResult } from './results.js';

/** `3v+2o`: voters and observers, the short form for legends. */
export function topologyLabel(run: RunResult): string {
  return `${run.ensemble.voters}v+${run.ensemble.observers}o`;
}

/**
 * `local/zablab` (`+tls` with clients over TLS, `+peer-tls` with sslQuorum): where the ensemble
 * ran, what ran in it, and how clients and peers reached it.
 */
export function systemLabel(run: RunResult): string {
  const e = run.ensemble;
  return `${e.driver}/${e.program}${e.tls === true ? '+tls' : ''}${e.peerSecurity === 'tls' ? '+peer-tls' : ''}`;
}

/** `3 voters + 2 observers, local/zablab`: the long form for tables. */
export function topologyText(run: RunResult): string {
  const { voters, observers } = run.ensemble;
  return `${voters} ${voters === 1 ? 'voter' : 'voters'} + ${observers} ${observers === 1 ? 'observer' : 'observers'}, ${systemLabel(run)}`;
}

/**
 * Who a fault hit: `leader (id 2)`, `server 3` when the scenario named the id, the sides of a
 * partition by mode (`random-halves {1,2,4} | {3,5}`), `all` for a heal of every cut.
 */
export function faultTargetLabel(r: RecoveryResult): string {
  if (r.sides !== undefined) return `${r.target} ${sidesText(r.sides)}`;
  if (r.serverId === null) return r.target;
  return /^id:\d+$/.test(r.target) ? `server ${r.serverId}` : `${r.target} (id ${r.serverId})`;
}

/** `kill leader (id 2)`: a fault marker's label. */
export function faultLabel(r: RecoveryResult): string {
  return `${r.fault} ${faultTargetLabel(r)}`;
}

/** `leader → 3`, or `no leader`. */
export function leaderChangeLabel(c: LeaderChange): string {
  return c.leader === null ? 'no leader' : `leader → ${c.leader}`;
}

/** The last segment of a dotted matrix field: `workload.readPct` → `readPct`. */
export function cellKeyLabel(key: string): string {
  return key.slice(key.lastIndexOf('.') + 1);
}

/** The read share as the tables show it: `90`, `99.5`. */
export function readPctText(run: RunResult): string {
  const p = run.workload.readPct;
  return formatNumber(p, Number.isInteger(p) ? 0 : 1);
}

/** A run name without its repeat suffix (`quickstart/readPct=90#2` → `quickstart/readPct=90`). */
export function withoutRepeat(name: string): string {
  return name.replace(/#\d+$/, '');
}

/** Runs are "the same cell" when scenario and matrix cell agree (repeats of one configuration). */
export function cellKey(run: RunResult): string {
  const cell = Object.entries(run.cell).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([run.scenario, cell]);
}

/** The ops a run did, in OP_KINDS order. */
export function opsOf(byOp: Partial<Record<OpKind, unknown>>): OpKind[] {
  return OP_KINDS.filter((op) => byOp[op] !== undefined);
}

/** Short labels for chart axes: the part of each name after a prefix every name shares (up to a `/`). */
export function shortRunLabels(names: readonly string[]): string[] {
  if (names.length < 2) return [...names];
  let prefix = names[0]!;
  for (const n of names) {
    while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  const cut = prefix.lastIndexOf('/') + 1;
  return cut === 0 ? [...names] : names.map((n) => n.slice(cut) || n);
}
