/**
 * The register workload a load records a history of (scenario `history: true`), as Jepsen's
 * ZooKeeper test runs it: each key is a register whose value is the znode's data, created
 * empty (the register's initial null). Processes, each with at most one op in flight, draw:
 *
 * - read: sync, then getData (sync so that a follower has caught up with the leader first);
 * - write: setData of a value never written before (`<process>.<n>`), at any version;
 * - cas: setData at the version at which this process last saw the key, [expected, new] with
 *   expected the value it saw then (null at version 0 if it has not seen the key yet).
 *
 * Because every value written is new, a znode's version and its value correspond one to one
 * (version 0 is null, each setData that lands adds one), so a setData at version n is exactly
 * a compare-and-set against the value seen at version n.
 *
 * Besides the registers, a small share of ops checks Jepsen's "set" (create a unique child of
 * one parent) and "counter" (+1 on one znode through a getData / setData-at-version loop).
 *
 * Pure: no I/O; the worker sends the ops (history-ops.ts) and reports outcomes back here.
 */
import { ZkClientBusyError, ZkError } from '../../../client/index.js';
import type { Outcome } from '../../history/index.js';
import { KeyPicker, mulberry32 } from '../ops.js';

/** Share of ops that add an element to the set, and that increment the counter. */
export const SET_ADD_SHARE = 0.03;
export const COUNTER_SHARE = 0.03;
/** Of the register's writes, the share that are cas (the rest are plain writes). */
export const CAS_SHARE = 0.5;

/** What a register value is on the wire: utf8 data; empty (or no) data is null. */
export type RegisterValue = string | null;

export type HistoryOp =
  | { f: 'read'; key: number }
  | { f: 'write'; key: number; value: string }
  | { f: 'cas'; key: number; expected: RegisterValue; value: string; version: number }
  | { f: 'add'; element: string }
  | { f: 'increment' };

/** How an op ended: its outcome, and what it saw (a read's value; the version a write left). */
export interface OpResult {
  outcome: Outcome;
  /** The error's code (ZooKeeper's name, or the client's), null when ok. */
  code: string | null;
  /** read ok: the value read. */
  value?: RegisterValue;
  /** read, write, cas ok: the znode's version after the op (read: the version read). */
  version?: number;
}

/**
 * Codes of requests the server refused without applying them: a definite `fail`. Any other
 * error (CONNECTIONLOSS, OPERATIONTIMEOUT, SESSIONEXPIRED, SYSTEMERROR, ...) leaves it open
 * whether the request took effect: `info`. When in doubt, info: a wrong fail could make a
 * correct server look wrong, a wrong info only widens what the checker allows.
 */
const DEFINITE_FAILURES: ReadonlySet<string> = new Set([
  'BADVERSION',
  'NONODE',
  'NODEEXISTS',
  'NOTEMPTY',
  'NOAUTH',
  'AUTHFAILED',
  'INVALIDACL',
  'BADARGUMENTS',
  'NOCHILDRENFOREPHEMERALS',
  'UNIMPLEMENTED',
  'QUOTAEXCEEDED',
  'THROTTLEDOP',
  'NOTREADONLY',
  'EPHEMERALONLOCALSESSION',
  'RECONFIGDISABLED',
  'RECONFIGINPROGRESS',
  'SESSIONCLOSEDREQUIRESASLAUTH',
]);

/** ok for no error; fail for an error that proves the request did not apply; info otherwise. */
export function outcomeOf(err: unknown): Outcome {
  if (err === null || err === undefined) return 'ok';
  // Refused before it was sent: the client's queue was full.
  if (err instanceof ZkClientBusyError) return 'fail';
  if (err instanceof ZkError && DEFINITE_FAILURES.has(err.codeName)) return 'fail';
  return 'info';
}

/** The register value of a znode's data. */
export function registerValue(data: Buffer | null): RegisterValue {
  return data === null || data.length === 0 ? null : data.toString('utf8');
}

/** One process: an id, a counter for its unique values, and what it last saw of each key. */
export class RegisterProcess {
  private n = 0;
  private readonly seen = new Map<number, { value: RegisterValue; version: number }>();

  constructor(readonly id: number) {}

  /** A value no process of the run ever writes again (process ids are unique in the run). */
  uniqueValue(): string {
    return `${this.id}.${this.n++}`;
  }

  /** The value and version of key this process saw last (null at version 0 before it saw any). */
  lastSeen(key: number): { value: RegisterValue; version: number } {
    return this.seen.get(key) ?? { value: null, version: 0 };
  }

  /** Learns from a completed op what the key held at some version. */
  completed(op: HistoryOp, r: OpResult): void {
    if (r.outcome !== 'ok' || r.version === undefined) return;
    switch (op.f) {
      case 'read':
        this.seen.set(op.key, { value: r.value ?? null, version: r.version });
        return;
      case 'write':
      case 'cas':
        this.seen.set(op.key, { value: op.value, version: r.version });
        return;
      case 'add':
      case 'increment':
        return;
    }
  }
}

export interface RegisterWorkloadSpec {
  keys: number;
  /** Share of the register's ops that are reads, in [0, 1]. */
  readShare: number;
  /** This worker's first process id, and how many processes the whole run has at a time. */
  firstProcess: number;
  processesTotal: number;
  /** Processes of this worker (each has at most one op in flight). */
  processes: number;
  seed: number;
}

/**
 * A worker's processes and the ops they draw. A process whose op ended in info is retired,
 * as in Jepsen: its op may still take effect at any later time, so the process that comes in
 * its place has a new id (old id + processesTotal), and ids stay unique in the run.
 */
export class RegisterWorkload {
  private readonly random: () => number;
  private readonly keyPicker: KeyPicker;
  private readonly free: RegisterProcess[] = [];

  constructor(private readonly spec: RegisterWorkloadSpec) {
    if (!(spec.readShare >= 0 && spec.readShare <= 1)) throw new RangeError(`RegisterWorkload: readShare must be in [0, 1], got ${spec.readShare}`);
    if (!Number.isInteger(spec.processes) || spec.processes < 1) throw new RangeError(`RegisterWorkload: processes must be a positive integer, got ${spec.processes}`);
    this.random = mulberry32(spec.seed);
    this.keyPicker = new KeyPicker(spec.keys, spec.seed ^ 0x5bd1e995);
    // Popped from the end: the lowest ids first.
    for (let i = spec.processes - 1; i >= 0; i--) this.free.push(new RegisterProcess(spec.firstProcess + i));
  }

  /** A process with no op in flight, or null when every one has one. */
  acquire(): RegisterProcess | null {
    return this.free.pop() ?? null;
  }

  /** The process's op ended; an info retires it for a new process. */
  release(p: RegisterProcess, outcome: Outcome): void {
    this.free.push(outcome === 'info' ? new RegisterProcess(p.id + this.spec.processesTotal) : p);
  }

  /** The next op of process p. */
  next(p: RegisterProcess): HistoryOp {
    const r = this.random();
    if (r < SET_ADD_SHARE) return { f: 'add', element: `e${p.uniqueValue()}` };
    if (r < SET_ADD_SHARE + COUNTER_SHARE) return { f: 'increment' };
    const key = this.keyPicker.next();
    if (this.random() < this.spec.readShare) return { f: 'read', key };
    if (this.random() >= CAS_SHARE) return { f: 'write', key, value: p.uniqueValue() };
    const seen = p.lastSeen(key);
    return { f: 'cas', key, expected: seen.value, value: p.uniqueValue(), version: seen.version };
  }
}
