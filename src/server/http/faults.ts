/**
 * Fault control over HTTP (zablab's own; `tc netem` is not available where zablab runs):
 *
 *   GET  /v1/faults → {serverId, cut, delayMs, dropRate}
 *   POST /v1/faults   {"cut": [ids], "heal": [ids] | "all", "delayMs": {"<id>|*": ms}, "dropRate": {"<id>|*": p}}
 *
 * A POST is checked whole before anything is applied, then applied in the order heal, cut,
 * delayMs, dropRate (so {"heal": "all", "cut": [2]} leaves exactly the edge to 2 cut).
 * Faults act on this server's edges only; to partition a server, cut it on every side.
 * A standalone server has no peers: both routes answer 404.
 */
import type { FastifyInstance } from 'fastify';
import type { ZabConfig } from '../config.js';
import { FAULT_DELAY_MS_MAX, type FaultController, type FaultState } from '../quorum/faults.js';
import { zablabError, type HttpError } from './errors.js';

/** More than any ensemble zablab runs; bounds the work one request can ask for. */
const FAULT_ENTRIES_MAX = 256;

export interface FaultRequest {
  cut: number[];
  heal: number[] | 'all';
  delayMs: [number | '*', number][];
  dropRate: [number | '*', number][];
}

export interface FaultReport extends FaultState {
  serverId: number;
}

function argError(message: string): HttpError {
  return zablabError(400, 'ZABLAB_HTTP_FAULT_ARGUMENT', message);
}

/** Check a POST body against this server's ensemble. Throws a 400 HttpError that says what is allowed. */
export function parseFaultRequest(body: unknown, cfg: ZabConfig): FaultRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw argError('the body must be a JSON object with any of: cut, heal, delayMs, dropRate');
  }
  const fields = body as Record<string, unknown>;
  for (const k of Object.keys(fields)) {
    if (!['cut', 'heal', 'delayMs', 'dropRate'].includes(k)) throw argError(`unknown field "${k}"; allowed: cut, heal, delayMs, dropRate`);
  }
  const peers = new Set(cfg.servers.map((s) => s.id).filter((id) => id !== cfg.serverId));
  const peerList = [...peers].sort((a, b) => a - b).join(', ');
  const peerId = (v: unknown, where: string): number => {
    const id = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || !peers.has(id)) {
      throw argError(`${where}: ${JSON.stringify(v)} is not a peer of server ${cfg.serverId}; its peers are ${peerList}`);
    }
    return id;
  };
  const ids = (v: unknown, field: string): number[] => {
    if (!Array.isArray(v) || v.length > FAULT_ENTRIES_MAX) throw argError(`${field} must be an array of at most ${FAULT_ENTRIES_MAX} server ids`);
    return v.map((x) => peerId(x, field));
  };
  const edges = (v: unknown, field: string, max: number, unit: string): [number | '*', number][] => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw argError(`${field} must be an object from a server id (or "*" for every peer) to ${unit}`);
    }
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length > FAULT_ENTRIES_MAX) throw argError(`${field} may name at most ${FAULT_ENTRIES_MAX} edges`);
    return entries.map(([k, x]): [number | '*', number] => {
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > max) {
        throw argError(`${field}["${k}"] must be ${unit} in [0, ${max}], got ${JSON.stringify(x)}`);
      }
      return [k === '*' ? '*' : peerId(k, field), x];
    });
  };
  let heal: number[] | 'all' = [];
  if (fields['heal'] !== undefined) heal = fields['heal'] === 'all' ? 'all' : ids(fields['heal'], 'heal');
  return {
    cut: fields['cut'] === undefined ? [] : ids(fields['cut'], 'cut'),
    heal,
    delayMs: fields['delayMs'] === undefined ? [] : edges(fields['delayMs'], 'delayMs', FAULT_DELAY_MS_MAX, 'milliseconds'),
    dropRate: fields['dropRate'] === undefined ? [] : edges(fields['dropRate'], 'dropRate', 1, 'a probability'),
  };
}

export function applyFaults(faults: FaultController, req: FaultRequest, random: () => number = Math.random): void {
  if (req.heal === 'all') faults.heal();
  else for (const id of req.heal) faults.heal(id);
  for (const id of req.cut) faults.cut(id);
  for (const [edge, ms] of req.delayMs) faults.setDelay(edge, ms);
  for (const [edge, p] of req.dropRate) faults.setDropRate(edge, p, random);
}

export function registerFaultRoutes(app: FastifyInstance, cfg: ZabConfig, faults: FaultController | undefined): void {
  const report = (f: FaultController): FaultReport => ({ serverId: cfg.serverId, ...f.state() });
  const need = (): FaultController => {
    if (faults !== undefined) return faults;
    throw zablabError(404, 'ZABLAB_HTTP_NOT_QUORUM', 'fault injection needs an ensemble: this server runs standalone (its zoo.cfg lists no server.N peers)');
  };
  app.get('/v1/faults', async () => report(need()));
  app.post('/v1/faults', { bodyLimit: 64 * 1024 }, async (req) => {
    const f = need();
    applyFaults(f, parseFaultRequest(req.body, cfg));
    return report(f);
  });
}
