/**
 * The `faults:` list: each fault's fields, and checks that the sequence makes sense before
 * anything runs (a resume needs a paused server, a restart a killed one, `last` a previous
 * fault, two partitions by mode need a heal between them). Checks that depend on the run
 * (member ids, the window's length, the driver) are in matrix.ts, after a matrix cell is applied.
 */
import {
  FAULT_ACTIONS,
  PARTITION_MODES,
  REPEATABLE_ACTIONS,
  type FaultAction,
  type FaultRepeat,
  type FaultSpec,
  type FaultTarget,
  type PartitionMode,
} from './types.js';
import { fail, readDuration, readMapping, readOneOf, shown, type FieldContext } from './fields.js';
import { formatDurationMs } from './duration.js';
import { MAX_DURATION_MS, MAX_FAULTS, MAX_FIRINGS, MAX_MEMBERS, MIN_EVERY_MS } from './schema.js';

const FAULT_KEYS = ['at', 'action', 'target', 'mode', 'every', 'for'] as const;
const ROLE_TARGETS = ['leader', 'follower', 'observer', 'random-voter', 'last'] as const;
/** `heal` takes `mode: all` (the same as no target): every cut goes. */
const HEAL_MODES = ['all'] as const;
const EXAMPLE = 'e.g. {at: 10s, action: kill, target: leader} or {at: 10s, action: partition, mode: random-halves}';

/** How a fault's target reads in messages and run descriptions: `leader`, `last`, `3`, `random-halves`, `all`, `spare`. */
export function targetText(f: Pick<FaultSpec, 'target' | 'mode' | 'action'>): string {
  if (f.action === 'add-observer') return 'spare';
  if (f.target === null) return f.mode ?? 'all';
  return typeof f.target === 'string' ? f.target : String(f.target.id);
}

export function parseFaults(ctx: FieldContext, value: unknown): FaultSpec[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) fail(ctx, ['faults'], `must be a list of faults ({at, action, target} or {at, action: partition, mode}), got ${shown(value)}`);
  if (value.length > MAX_FAULTS) fail(ctx, ['faults'], `must have at most ${MAX_FAULTS} faults, got ${value.length}`);
  const faults = value.map((raw, i) => parseFault(ctx, i, raw));
  checkSequence(ctx, faults);
  return faults;
}

function parseFault(ctx: FieldContext, i: number, raw: unknown): FaultSpec {
  const f = readMapping(ctx, ['faults', i], raw, FAULT_KEYS, 'fault');
  for (const key of ['at', 'action'] as const) {
    if (f[key] === undefined) fail(ctx, ['faults', i, key], `is required (${EXAMPLE})`);
  }
  const action = readOneOf(ctx, ['faults', i, 'action'], f.action, FAULT_ACTIONS);
  const fault: FaultSpec = {
    atMs: readDuration(ctx, ['faults', i, 'at'], f.at, 0, MAX_DURATION_MS),
    action,
    target: null,
  };
  const hasTarget = f.target !== undefined && f.target !== null;
  const hasMode = f.mode !== undefined && f.mode !== null;
  switch (action) {
    case 'partition':
      if (hasTarget && hasMode) fail(ctx, ['faults', i, 'mode'], 'cannot go with a target: a partition cuts off one server (target) or cuts the network by a mode, not both');
      if (!hasTarget && !hasMode) {
        fail(ctx, ['faults', i, 'target'], `or mode is required: a partition cuts off one server (target: leader, 3, ...) or cuts the network by a mode (${PARTITION_MODES.join(', ')})`);
      }
      if (hasMode) fault.mode = readOneOf<PartitionMode>(ctx, ['faults', i, 'mode'], f.mode, PARTITION_MODES);
      break;
    case 'heal':
      if (hasTarget && hasMode) fail(ctx, ['faults', i, 'mode'], 'cannot go with a target: heal one server (target) or every cut (no target, or mode: all)');
      if (hasMode) readOneOf(ctx, ['faults', i, 'mode'], f.mode, HEAL_MODES);
      break;
    case 'add-observer':
      // Which server it starts is the ensemble's: the next spare observer, in id order.
      if (hasTarget) fail(ctx, ['faults', i, 'target'], 'cannot be set for add-observer: it starts the next spare observer (ensemble.spareObservers), in id order');
      if (hasMode) fail(ctx, ['faults', i, 'mode'], `is for partition (${PARTITION_MODES.join(', ')}) and heal (all), not for add-observer`);
      break;
    case 'kill':
    case 'pause':
    case 'resume':
    case 'restart':
      if (hasMode) fail(ctx, ['faults', i, 'mode'], `is for partition (${PARTITION_MODES.join(', ')}) and heal (all), not for ${action}`);
      if (!hasTarget) fail(ctx, ['faults', i, 'target'], `is required for ${action} (e.g. {at: 10s, action: ${action}, target: ${action === 'kill' || action === 'pause' ? 'leader' : 'last'}})`);
      break;
  }
  if (hasTarget) fault.target = parseTarget(ctx, i, f.target);
  const repeat = parseRepeat(ctx, i, f.every, f.for, fault);
  if (repeat !== undefined) fault.repeat = repeat;
  return fault;
}

function parseTarget(ctx: FieldContext, i: number, value: unknown): FaultTarget {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_MEMBERS) return { id: value };
  if (typeof value === 'string' && (ROLE_TARGETS as readonly string[]).includes(value)) return value as FaultTarget;
  return fail(ctx, ['faults', i, 'target'], `must be one of ${ROLE_TARGETS.join(', ')} or a server id (1 to ${MAX_MEMBERS}), got ${shown(value)}`);
}

/** `every` and `for` come together, on a fault that breaks something and can pick its server again at each firing. */
function parseRepeat(ctx: FieldContext, i: number, every: unknown, forValue: unknown, fault: FaultSpec): FaultRepeat | undefined {
  if (every === undefined && forValue === undefined) return undefined;
  if (every === undefined) fail(ctx, ['faults', i, 'every'], 'is required with for: a repeating fault fires every <every> for <for> (e.g. every: 5s, for: 30s)');
  if (forValue === undefined) fail(ctx, ['faults', i, 'for'], 'is required with every: a repeating fault fires every <every> for <for> (e.g. every: 5s, for: 30s)');
  if (!(REPEATABLE_ACTIONS as readonly string[]).includes(fault.action)) {
    fail(ctx, ['faults', i, 'every'], `is for ${REPEATABLE_ACTIONS.join(', ')}: a repeating fault undoes its own firings (resume, restart, heal), so ${fault.action} cannot repeat`);
  }
  if (fault.target === 'last') {
    fail(ctx, ['faults', i, 'target'], 'cannot be last on a repeating fault: each firing picks its server again (use leader, follower, observer, random-voter or an id)');
  }
  const everyMs = readDuration(ctx, ['faults', i, 'every'], every, MIN_EVERY_MS, MAX_DURATION_MS);
  const forMs = readDuration(ctx, ['faults', i, 'for'], forValue, MIN_EVERY_MS, MAX_DURATION_MS);
  if (Math.ceil(forMs / everyMs) > MAX_FIRINGS) {
    fail(ctx, ['faults', i, 'every'], `(${formatDurationMs(everyMs)}) fires ${Math.ceil(forMs / everyMs)} times in for (${formatDurationMs(forMs)}); at most ${MAX_FIRINGS}`);
  }
  return { everyMs, forMs };
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

/** What the list has done to the network and which repeating faults run when, while it is checked. */
interface SequenceState {
  symbols: (string | null)[];
  states: Map<string, ServerState>;
  roleStates: ServerState[];
  /** The index of a partition by mode in effect (not healed yet), or null. */
  networkCut: number | null;
  /** Repeating faults seen so far: [index, action, start ms, end ms]. */
  schedules: { index: number; action: FaultAction; fromMs: number; toMs: number }[];
}

/**
 * Faults fire in list order, so the list must be in time order. Each fault hits a "server"
 * known only symbolically: `<id>` is always the same server, `last` is whatever the previous
 * fault hit, and leader/follower/observer/random-voter are some server that is up when the
 * fault fires (it may be one that an id names). States are tracked per symbol; where a role
 * target may alias an id, the check gives the benefit of the doubt. A repeating fault leaves
 * nothing behind (it undoes its last firing), and two of one action may not overlap in time.
 */
function checkSequence(ctx: FieldContext, faults: readonly FaultSpec[]): void {
  const seq: SequenceState = { symbols: [], states: new Map(), roleStates: [], networkCut: null, schedules: [] };
  faults.forEach((fault, i) => {
    const prev = faults[i - 1];
    if (prev !== undefined && fault.atMs < prev.atMs) {
      fail(ctx, ['faults', i, 'at'], `(${formatDurationMs(fault.atMs)}) is before faults[${i - 1}].at (${formatDurationMs(prev.atMs)}): list faults in the order they fire`);
    }
    checkOverlap(ctx, seq, fault, i);
    if (fault.repeat !== undefined) {
      seq.schedules.push({ index: i, action: fault.action, fromMs: fault.atMs, toMs: fault.atMs + fault.repeat.forMs });
      seq.symbols.push(null);
      return;
    }
    if (fault.action === 'add-observer') {
      // A server of its own that `last` may name (to kill or restart the observer it added).
      const symbol = `added:${i}`;
      seq.symbols.push(symbol);
      seq.states.set(symbol, { killed: false, paused: false, partitioned: false });
      return;
    }
    if (fault.target === null) {
      checkNetworkFault(ctx, seq, fault, i);
      seq.symbols.push(null);
      return;
    }
    checkServerFault(ctx, seq, fault, i);
  });
}

/** A repeating fault may not overlap another of its action, nor a partition by mode a repeating partition. */
function checkOverlap(ctx: FieldContext, seq: SequenceState, fault: FaultSpec, i: number): void {
  const fromMs = fault.atMs;
  const toMs = fault.atMs + (fault.repeat?.forMs ?? 0);
  for (const s of seq.schedules) {
    if (fromMs > s.toMs || toMs < s.fromMs) continue;
    const span = `${formatDurationMs(s.fromMs)} to ${formatDurationMs(s.toMs)}`;
    if (fault.repeat !== undefined && fault.action === s.action) {
      fail(ctx, ['faults', i, 'at'], `(${formatDurationMs(fault.atMs)}) falls in the repeating ${s.action} faults[${s.index}] (${span}): two repeating ${s.action} faults may not overlap`);
    }
    if (fault.action === 'partition' && s.action === 'partition' && (fault.mode !== undefined || fault.repeat !== undefined)) {
      fail(ctx, ['faults', i, 'at'], `(${formatDurationMs(fault.atMs)}) falls in the repeating partition faults[${s.index}] (${span}), which sets the network's sides at each firing: partition after it ends`);
    }
  }
  if (fault.action === 'partition' && fault.repeat !== undefined && seq.networkCut !== null) {
    fail(ctx, ['faults', i, 'action'], `cannot run: the partition of faults[${seq.networkCut}] is still in effect (heal it first: {action: heal})`);
  }
}

/** A partition by mode, or a heal of every cut. */
function checkNetworkFault(ctx: FieldContext, seq: SequenceState, fault: FaultSpec, i: number): void {
  if (fault.action === 'partition') {
    if (seq.networkCut !== null) {
      fail(ctx, ['faults', i, 'action'], `cannot run: the partition of faults[${seq.networkCut}] is still in effect (heal it first: {action: heal}, or repeat one partition with every/for)`);
    }
    seq.networkCut = i;
    return;
  }
  const anyPartitioned = [...seq.states.values()].some((s) => s.partitioned);
  const inSchedule = seq.schedules.some((s) => s.action === 'partition' && fault.atMs >= s.fromMs && fault.atMs <= s.toMs);
  if (seq.networkCut === null && !anyPartitioned && !inSchedule) {
    fail(ctx, ['faults', i, 'action'], 'needs an earlier partition: a heal without a target removes every cut, and none is in effect here');
  }
  seq.networkCut = null;
  for (const s of seq.states.values()) s.partitioned = false;
}

function checkServerFault(ctx: FieldContext, seq: SequenceState, fault: FaultSpec, i: number): void {
  const target = fault.target!;
  const need = NEEDS[fault.action];
  let symbol: string;
  if (target === 'last') {
    const previous = seq.symbols[i - 1];
    if (i === 0) fail(ctx, ['faults', i, 'target'], 'is last, but no earlier fault hit a server: last means the server the previous fault hit');
    if (previous === null || previous === undefined) {
      fail(ctx, ['faults', i, 'target'], `is last, but faults[${i - 1}] hit no one server (a partition by mode, a heal of every cut, or a repeating fault that undoes itself): name the server`);
    }
    symbol = previous;
  } else if (typeof target === 'string') {
    if (need !== undefined) {
      fail(ctx, ['faults', i, 'target'], `must be last or a server id to ${fault.action}: ${target} picks a server that is up when the fault fires, not the one an earlier fault ${need.word}`);
    }
    symbol = `role:${i}`;
  } else {
    symbol = `id:${target.id}`;
  }
  seq.symbols.push(symbol);
  const state = seq.states.get(symbol) ?? { killed: false, paused: false, partitioned: false };
  if (symbol.startsWith('role:')) seq.roleStates.push(state);
  seq.states.set(symbol, state);
  const subject = `faults[${i}] (${fault.action} ${targetText(fault)})`;
  if (need !== undefined) {
    // An id may be the server a role target hit earlier: accept if any such server is in that state.
    const maybe = symbol.startsWith('id:') && seq.roleStates.some((s) => s[need.state]);
    if (!state[need.state] && !maybe) {
      fail(ctx, ['faults', i, 'action'], `needs a server that an earlier fault ${need.word}: ${subject} has no earlier ${need.by} of that server (use target: last right after the ${need.by}, or the same server id)`);
    }
  }
  applyAction(ctx, i, subject, fault.action, state);
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
    case 'add-observer':
      return;
  }
}
