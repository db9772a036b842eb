/**
 * Messages between the runner (parent) and a state worker, over child_process.fork's IPC
 * channel: requests answered with the same id. populate (worker 0: create the znodes), hold
 * (connect this worker's sessions), watch (set their watches), stats (watch events and
 * expiries so far), close (closeSession for each; the worker exits when the parent disconnects).
 */
import type { PopulateResult } from '../../report/results-state.js';
import type { HoldSpec } from './holder.js';

/** PEM file names; the worker reads them. */
export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface PopulateSpec {
  connectString: string;
  tls: TlsFiles | null;
  znodes: number;
  valueSize: number;
}

export type StateCommand =
  | { cmd: 'populate'; spec: PopulateSpec }
  | { cmd: 'hold'; spec: Omit<HoldSpec, 'tls'> & { tls: TlsFiles | null } }
  | { cmd: 'watch' }
  | { cmd: 'stats' }
  | { cmd: 'close' };

export interface HolderStats {
  watchEvents: number;
  expired: number;
}

export interface StateReplies {
  populate: PopulateResult;
  hold: number;
  watch: number;
  stats: HolderStats;
  close: HolderStats;
}

export interface StateRequest {
  id: number;
  command: StateCommand;
}

export type StateReply = { id: number; ok: true; value: StateReplies[StateCommand['cmd']] } | { id: number; ok: false; error: string };

function isObject(m: unknown): m is Record<string, unknown> {
  return typeof m === 'object' && m !== null;
}

export function isStateRequest(m: unknown): m is StateRequest {
  return isObject(m) && typeof m['id'] === 'number' && isObject(m['command']);
}

