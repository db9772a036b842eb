/**
 * The `faults:` list: each fault's fields, and checks that the sequence makes sense before
 * anything runs (a resume needs a paused server, a restart a killed one, `last` a previous
 * fault). Checks that depend on the run (member ids, the window's length, the driver) are
 * in matrix.ts, after a matrix cell is applied.
 */
import { FAULT_ACTIONS, type FaultAction, type FaultSpec, type FaultTarget } from './types.js';
import { fail, readDuration, readMapping, readOneOf, shown, type FieldContext } from './fields.js';
import { formatDurationMs } from './duration.js';
import { MAX_DURATION_MS, MAX_FAULTS, MAX_MEMBERS } from './schema.js';

const FAULT_KEYS = ['at', 'action', 'target'] as const;
const ROLE_TARGETS = ['leader', 'follower', 'observer', 'last'] as const;

/** How a fault's target reads in messages and run descriptions: `leader`, `last`, `3`. */
export function targetText(target: FaultTarget): string {
  return typeof target === 'string' ? target : String(target.id);
}

export function parseFaults(ctx: FieldContext, value: unknown): FaultSpec[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) fail(ctx, ['faults'], `must be a list of faults ({at, action, target}), got ${shown(value)}`);
  if (value.length > MAX_FAULTS) fail(ctx, ['faults'], `must have at most ${MAX_FAULTS} faults, got ${value.length}`);
  const faults = value.map((raw, i) => parseFault(ctx, i, raw));
  checkSequence(ctx, faults);
  return faults;
}

function parseFault(ctx: FieldContext, i: number, raw: unknown): FaultSpec {
  const f = readMapping(ctx, ['faults', i], raw, FAULT_KEYS, 'fault');
  for (const key of FAULT_KEYS) {
    if (f[key] === undefined) fail(ctx, ['faults', i, key], `is required (a fault is {at, action, target}, e.g. {at: 10s, action: kill, target: leader})`);
  }
  return {
    atMs: readDuration(ctx, ['faults', i, 'at'], f.at, 0, MAX_DURATION_MS),
    action: readOneOf(ctx, ['faults', i, 'action'], f.action, FAULT_ACTIONS),
    target: parseTarget(ctx, i, f.target),
  };
}

function parseTarget(ctx: FieldContext, i: number, value: unknown): FaultTarget {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_MEMBERS) return { id: value };
  if (typeof value === 'string' && (ROLE_TARGETS as readonly string[]).includes(value)) return value as FaultTarget;
  return fail(ctx, ['faults', i, 'target'], `must be one of ${ROLE_TARGETS.join(', ')} or a server id (1 to ${MAX_MEMBERS}), got ${shown(value)}`);
}

/** What earlier faults did to one server, as far as the list alone can tell. */
interface ServerState {
  killed: boolean;
  paused: boolean;
  partitioned: boolean;
}

/** The state an action needs of its server before it, with the action that creates that state. */
const NEEDS: Partial<Record<FaultAction, { state: keyof ServerState; by: FaultAction; word: string }>> = {
  resume: { state: 'paused', by: 'pause', word: 'paused' },
  restart: { state: 'killed', by: 'kill', word: 'killed' },
  heal: { state: 'partitioned', by: 'partition', word: 'partitioned' },
};

/**
 * Faults fire in list order, so the list must be in time order. Each fault hits a "server"
 * known only symbolically: `<id>` is always the same server, `last` is whatever the previous
 * fault hit, and leader/follower/observer are some server that is up when the fault fires
 * (it may be one that an id names). States are tracked per symbol; where a role target may
 * alias an id, the check gives the benefit of the doubt.
 */
function checkSequence(ctx: FieldContext, faults: readonly FaultSpec[]): void {
  const symbols: string[] = [];
  const states = new Map<string, ServerState>();
  const roleStates: ServerState[] = [];
  faults.forEach((fault, i) => {
    const prev = faults[i - 1];
    if (prev !== undefined && fault.atMs < prev.atMs) {
      fail(ctx, ['faults', i, 'at'], `(${formatDurationMs(fault.atMs)}) is before faults[${i - 1}].at (${formatDurationMs(prev.atMs)}): list faults in the order they fire`);
    }
    const need = NEEDS[fault.action];
    let symbol: string;
    if (fault.target === 'last') {
      const previous = symbols[i - 1];
      if (previous === undefined) fail(ctx, ['faults', i, 'target'], 'is last, but no earlier fault hit a server: last means the server the previous fault hit');
      symbol = previous;
    } else if (typeof fault.target === 'string') {
      if (need !== undefined) {
        fail(ctx, ['faults', i, 'target'], `must be last or a server id to ${fault.action}: ${fault.target} picks a server that is up when the fault fires, not the one an earlier fault ${need.word}`);
      }
      symbol = `role:${i}`;
    } else {
      symbol = `id:${fault.target.id}`;
    }
    symbols.push(symbol);
    const state = states.get(symbol) ?? { killed: false, paused: false, partitioned: false };
    if (symbol.startsWith('role:')) roleStates.push(state);
    states.set(symbol, state);
    const subject = `faults[${i}] (${fault.action} ${targetText(fault.target)})`;
    if (need !== undefined) {
      // An id may be the server a role target hit earlier: accept if any such server is in that state.
      const maybe = symbol.startsWith('id:') && roleStates.some((s) => s[need.state]);
      if (!state[need.state] && !maybe) {
        fail(ctx, ['faults', i, 'action'], `needs a server that an earlier fault ${need.word}: ${subject} has no earlier ${need.by} of that server (use target: last right after the ${need.by}, or the same server id)`);
      }
    }
    applyAction(ctx, i, subject, fault.action, state);
  });
}

function applyAction(ctx: FieldContext, i: number, subject: string, action: FaultAction, state: ServerState): void {
  const path = ['faults', i, 'action'];
  switch (action) {
    case 'kill':
      if (state.killed) fail(ctx, path, `cannot run: ${subject} hits a server that is already killed (restart it first)`);
      // A killed process loses SIGSTOP and its in-memory partition; restart brings up a fresh one.
      state.killed = true;
      state.paused = false;
      state.partitioned = false;
      return;
    case 'pause':
      if (state.killed) fail(ctx, path, `cannot run: ${subject} hits a killed server (restart it first)`);
      if (state.paused) fail(ctx, path, `cannot run: ${subject} hits a server that is already paused (resume it first)`);
      state.paused = true;
      return;
    case 'resume':
      state.paused = false;
      return;
    case 'restart':
      state.killed = false;
      return;
    case 'partition':
      if (state.killed) fail(ctx, path, `cannot run: ${subject} hits a killed server (restart it first)`);
      if (state.partitioned) fail(ctx, path, `cannot run: ${subject} hits a server that is already partitioned (heal it first)`);
      state.partitioned = true;
      return;
    case 'heal':
      state.partitioned = false;
      return;
  }
}
