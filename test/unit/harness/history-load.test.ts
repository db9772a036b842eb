/**
 * The history workload's ops (load/native/register.ts) and what a worker records of them
 * (history-log.ts): cas at the version a process last saw, values never written twice,
 * processes retired after an indeterminate op, errors mapped to fail or info, and a part file
 * that the checker reads back; the ops as sent to a server (znodes in memory here; the e2e
 * test sends them to real ensembles).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZkClientBusyError, ZkError, type ZkClient } from '../../../src/client/index.js';
import { parseHistory } from '../../../src/harness/history/index.js';
import { HistoryLog, monotonicNs } from '../../../src/harness/load/native/history-log.js';
import { INCREMENT_ATTEMPTS_MAX, sendHistoryOp, type CounterTally } from '../../../src/harness/load/native/history-ops.js';
import { outcomeOf, registerValue, RegisterWorkload, type HistoryOp, type RegisterProcess } from '../../../src/harness/load/native/register.js';

const CODES = { CONNECTIONLOSS: -4, OPERATIONTIMEOUT: -7, SYSTEMERROR: -1, NONODE: -101, BADVERSION: -103, NODEEXISTS: -110, SESSIONEXPIRED: -112, SESSIONMOVED: -118 } as const;

function workload(over: Partial<ConstructorParameters<typeof RegisterWorkload>[0]> = {}): RegisterWorkload {
  return new RegisterWorkload({ keys: 1, readShare: 0.5, firstProcess: 0, processesTotal: 4, processes: 4, seed: 42, ...over });
}

/** Draws ops for p until one matches. */
function drawUntil<F extends HistoryOp['f']>(w: RegisterWorkload, p: RegisterProcess, f: F): Extract<HistoryOp, { f: F }> {
  for (let i = 0; i < 10_000; i++) {
    const op = w.next(p);
    if (op.f === f) return op as Extract<HistoryOp, { f: F }>;
  }
  throw new Error(`no ${f} in 10,000 draws`);
}

describe('register ops', () => {
  it('a cas expects what the process last saw of the key, at that version; null at version 0 before it saw any', () => {
    const w = workload();
    const p = w.acquire()!;
    const first = drawUntil(w, p, 'cas');
    expect(first).toMatchObject({ key: 0, expected: null, version: 0 });

    const read = drawUntil(w, p, 'read');
    p.completed(read, { outcome: 'ok', code: null, value: '3.1', version: 5 });
    const afterRead = drawUntil(w, p, 'cas');
    expect(afterRead).toMatchObject({ expected: '3.1', version: 5 });

    // A failed cas teaches nothing; an ok one leaves its own value at the version the server returned.
    p.completed(afterRead, { outcome: 'fail', code: 'BADVERSION' });
    expect(drawUntil(w, p, 'cas')).toMatchObject({ expected: '3.1', version: 5 });
    const write = drawUntil(w, p, 'write');
    p.completed(write, { outcome: 'ok', code: null, version: 9 });
    expect(drawUntil(w, p, 'cas')).toMatchObject({ expected: write.value, version: 9 });

    // An indeterminate write may or may not have landed: the process does not count on it.
    const lost = drawUntil(w, p, 'write');
    p.completed(lost, { outcome: 'info', code: 'CONNECTIONLOSS' });
    expect(drawUntil(w, p, 'cas')).toMatchObject({ expected: write.value, version: 9 });
  });

  it('every value written (write, cas, set element) is unique across workers, processes and retired processes', () => {
    const workers = [0, 1].map((i) => workload({ keys: 3, firstProcess: i * 4, processesTotal: 8, seed: 7 + i }));
    const values = new Set<string>();
    let drawn = 0;
    for (let round = 0; round < 500; round++) {
      for (const w of workers) {
        const p = w.acquire()!;
        const op = w.next(p);
        const v = op.f === 'write' || op.f === 'cas' ? op.value : op.f === 'add' ? op.element : null;
        if (v !== null) {
          expect(values.has(v), `${v} written twice`).toBe(false);
          values.add(v);
          drawn++;
        }
        // Every fifth op is indeterminate: its process is retired for a new one.
        w.release(p, round % 5 === 0 ? 'info' : 'ok');
      }
    }
    expect(drawn).toBeGreaterThan(300);
  });

  it('a process whose op ended in info is retired: the next has a new id, unique in the run', () => {
    const w = workload({ processes: 2, firstProcess: 10, processesTotal: 6 });
    const a = w.acquire()!;
    const b = w.acquire()!;
    expect([a.id, b.id]).toEqual([10, 11]);
    expect(w.acquire()).toBeNull();
    w.release(a, 'fail');
    expect(w.acquire()!.id).toBe(10);
    w.release(b, 'info');
    expect(w.acquire()!.id).toBe(17);
  });

  it('readShare splits the register ops; a small share adds to the set and increments the counter', () => {
    const count = (readShare: number): Record<string, number> => {
      const w = workload({ readShare, keys: 10 });
      const p = w.acquire()!;
      const n: Record<string, number> = {};
      for (let i = 0; i < 20_000; i++) {
        const f = w.next(p).f;
        n[f] = (n[f] ?? 0) + 1;
      }
      return n;
    };
    const none = count(0);
    expect(none.read).toBeUndefined();
    expect(none.write! / none.cas!).toBeGreaterThan(0.9);
    expect(none.write! / none.cas!).toBeLessThan(1.1);
    const all = count(1);
    expect(all.write).toBeUndefined();
    expect(all.cas).toBeUndefined();
    for (const n of [none, all]) {
      expect(n.add! / 20_000).toBeGreaterThan(0.02);
      expect(n.add! / 20_000).toBeLessThan(0.04);
      expect(n.increment! / 20_000).toBeGreaterThan(0.02);
      expect(n.increment! / 20_000).toBeLessThan(0.04);
    }
  });

  it('outcomes: a refusal the server answered is fail, a loss or timeout is info', () => {
    expect(outcomeOf(null)).toBe('ok');
    for (const code of ['BADVERSION', 'NONODE', 'NODEEXISTS'] as const) expect(outcomeOf(new ZkError(CODES[code])), code).toBe('fail');
    for (const code of ['CONNECTIONLOSS', 'OPERATIONTIMEOUT', 'SESSIONEXPIRED', 'SESSIONMOVED', 'SYSTEMERROR'] as const) expect(outcomeOf(new ZkError(CODES[code])), code).toBe('info');
    // Never sent: the client's queue was full.
    expect(outcomeOf(new ZkClientBusyError(10))).toBe('fail');
    // Anything unexplained might have reached the server.
    expect(outcomeOf(new Error('socket hang up'))).toBe('info');
  });

  it('empty or no data is the register\'s null; anything else its utf8 text', () => {
    expect(registerValue(null)).toBeNull();
    expect(registerValue(Buffer.alloc(0))).toBeNull();
    expect(registerValue(Buffer.from('3.14'))).toBe('3.14');
  });
});

describe('a worker\'s part of the history', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-history-log-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is JSON lines in time order that the checker parses; ops in flight at close stay indeterminate', async () => {
    const file = path.join(dir, 'history-w0.jsonl');
    const log = new HistoryLog(file, monotonicNs());
    const write: HistoryOp = { f: 'write', key: 0, value: '0.0' };
    const read: HistoryOp = { f: 'read', key: 0 };
    const cas: HistoryOp = { f: 'cas', key: 0, expected: '0.0', value: '0.1', version: 1 };
    log.invoke(0, write);
    log.invoke(1, read);
    log.complete(0, write, { outcome: 'ok', code: null, version: 1 });
    log.complete(1, read, { outcome: 'ok', code: null, value: '0.0', version: 1 });
    log.invoke(0, cas);
    log.complete(0, cas, { outcome: 'fail', code: 'BADVERSION' });
    log.invoke(2, { f: 'write', key: 0, value: '2.0' });
    const done: HistoryOp = { f: 'add', element: 'e1.0' };
    log.invoke(1, done);
    log.complete(1, done, { outcome: 'ok', code: null });
    log.invoke(3, { f: 'add', element: 'e3.0' });
    log.invoke(4, { f: 'increment' });
    log.counter.ok += 2;
    const part = await log.close();
    // Completions after close are dropped.
    log.complete(3, { f: 'add', element: 'e3.0' }, { outcome: 'ok', code: null });

    expect(part).toMatchObject({ file, events: 7, error: null, counter: { ok: 2, info: 1, fail: 0 } });
    expect(part.setAdds).toEqual([
      { element: 'e1.0', outcome: 'ok' },
      { element: 'e3.0', outcome: 'info' },
    ]);
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { time: number });
    expect(lines).toHaveLength(7);
    const times = lines.map((l) => l.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const history = parseHistory(text);
    expect(history.ops.map((o) => [o.process, o.f, o.outcome, o.value])).toEqual([
      [0, 'write', 'ok', '0.0'],
      [1, 'read', 'ok', '0.0'],
      [0, 'cas', 'fail', ['0.0', '0.1']],
      [2, 'write', 'info', '2.0'],
    ]);
  });

  it('refuses to overwrite a part that exists', async () => {
    const file = path.join(dir, 'history-w0.jsonl');
    fs.writeFileSync(file, 'earlier run\n');
    const log = new HistoryLog(file, monotonicNs());
    log.invoke(0, { f: 'read', key: 1 });
    const part = await log.close();
    expect(part.error).toMatch(/cannot write .*history-w0\.jsonl: .*EEXIST/);
    expect(fs.readFileSync(file, 'utf8')).toBe('earlier run\n');
  });
});

/** Znodes in memory with ZooKeeper's version rule, and errors to inject: enough to drive sendHistoryOp. */
class FakeZnodes {
  readonly nodes = new Map<string, { data: Buffer | null; version: number }>();
  readonly calls: string[] = [];
  /** The next calls of this op throw these codes, in turn. */
  readonly failNext = new Map<string, number[]>();

  private fail(op: string): void {
    const codes = this.failNext.get(op);
    const code = codes?.shift();
    if (code !== undefined) throw new ZkError(code);
  }

  sync(path: string): Promise<void> {
    this.calls.push(`sync ${path}`);
    return Promise.resolve();
  }

  getData(path: string): Promise<{ data: Buffer | null; stat: { version: number } }> {
    this.calls.push(`getData ${path}`);
    return Promise.resolve().then(() => {
      this.fail('getData');
      const n = this.nodes.get(path);
      if (n === undefined) throw new ZkError(CODES.NONODE);
      return { data: n.data, stat: { version: n.version } };
    });
  }

  setData(path: string, data: Buffer, version: number): Promise<{ version: number }> {
    this.calls.push(`setData ${path} ${data.toString()} @${version}`);
    return Promise.resolve().then(() => {
      this.fail('setData');
      const n = this.nodes.get(path);
      if (n === undefined) throw new ZkError(CODES.NONODE);
      if (version !== -1 && version !== n.version) throw new ZkError(CODES.BADVERSION);
      n.data = data;
      n.version++;
      return { version: n.version };
    });
  }

  create(path: string, data: Buffer | null): Promise<{ path: string }> {
    this.calls.push(`create ${path}`);
    return Promise.resolve().then(() => {
      this.fail('create');
      if (this.nodes.has(path)) throw new ZkError(CODES.NODEEXISTS);
      this.nodes.set(path, { data, version: 0 });
      return { path };
    });
  }
}

describe('sending the history ops', () => {
  const root = '/h';
  const key0 = '/h/k000000';
  let zk: FakeZnodes;
  let client: ZkClient;
  let tally: CounterTally;
  beforeEach(() => {
    zk = new FakeZnodes();
    zk.nodes.set(key0, { data: null, version: 0 });
    zk.nodes.set('/h/counter', { data: Buffer.from('0'), version: 0 });
    client = zk as unknown as ZkClient;
    tally = { ok: 0, info: 0, fail: 0 };
  });

  it('read: sync then getData of the key; empty data is null; a missing key reads null', async () => {
    expect(await sendHistoryOp(client, { f: 'read', key: 0 }, root, tally)).toEqual({ outcome: 'ok', code: null, value: null, version: 0 });
    expect(zk.calls).toEqual(['sync /h/k000000', 'getData /h/k000000']);
    expect(await sendHistoryOp(client, { f: 'read', key: 7 }, root, tally)).toEqual({ outcome: 'ok', code: null, value: null });
  });

  it('write at any version, cas at the version given: BADVERSION is fail, a lost connection info', async () => {
    expect(await sendHistoryOp(client, { f: 'write', key: 0, value: '1.0' }, root, tally)).toEqual({ outcome: 'ok', code: null, version: 1 });
    expect(await sendHistoryOp(client, { f: 'cas', key: 0, expected: null, value: '1.1', version: 0 }, root, tally)).toEqual({ outcome: 'fail', code: 'BADVERSION' });
    expect(await sendHistoryOp(client, { f: 'cas', key: 0, expected: '1.0', value: '1.2', version: 1 }, root, tally)).toEqual({ outcome: 'ok', code: null, version: 2 });
    expect(zk.calls.filter((c) => c.startsWith('setData'))).toEqual(['setData /h/k000000 1.0 @-1', 'setData /h/k000000 1.1 @0', 'setData /h/k000000 1.2 @1']);
    zk.failNext.set('setData', [CODES.CONNECTIONLOSS]);
    expect(await sendHistoryOp(client, { f: 'write', key: 0, value: '1.3' }, root, tally)).toEqual({ outcome: 'info', code: 'CONNECTIONLOSS' });
  });

  it('add: a child of the set parent; increment: getData, setData at that version, again after BADVERSION', async () => {
    expect(await sendHistoryOp(client, { f: 'add', element: 'e1.0' }, root, tally)).toEqual({ outcome: 'ok', code: null });
    expect(zk.nodes.has('/h/set/e1.0')).toBe(true);
    zk.failNext.set('setData', [CODES.BADVERSION, CODES.BADVERSION]);
    expect(await sendHistoryOp(client, { f: 'increment' }, root, tally)).toEqual({ outcome: 'ok', code: null });
    expect(zk.nodes.get('/h/counter')!.data!.toString()).toBe('1');
    expect(tally).toEqual({ ok: 1, info: 0, fail: 2 });
    // A lost connection on the setData: it may have applied.
    zk.failNext.set('setData', [CODES.CONNECTIONLOSS]);
    expect(await sendHistoryOp(client, { f: 'increment' }, root, tally)).toEqual({ outcome: 'info', code: 'CONNECTIONLOSS' });
    expect(tally).toEqual({ ok: 1, info: 1, fail: 2 });
    // A lost connection on the getData: nothing was written.
    zk.failNext.set('getData', [CODES.CONNECTIONLOSS]);
    expect(await sendHistoryOp(client, { f: 'increment' }, root, tally)).toEqual({ outcome: 'fail', code: 'CONNECTIONLOSS' });
    expect(tally).toEqual({ ok: 1, info: 1, fail: 2 });
  });

  it('an increment that keeps losing the race gives up after INCREMENT_ATTEMPTS_MAX tries', async () => {
    zk.failNext.set('setData', Array.from({ length: INCREMENT_ATTEMPTS_MAX }, () => CODES.BADVERSION));
    expect(await sendHistoryOp(client, { f: 'increment' }, root, tally)).toEqual({ outcome: 'fail', code: 'BADVERSION' });
    expect(tally).toEqual({ ok: 0, info: 0, fail: INCREMENT_ATTEMPTS_MAX });
    expect(zk.nodes.get('/h/counter')!.data!.toString()).toBe('0');
  });
});
