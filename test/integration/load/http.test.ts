/**
 * The http load driver (autocannon against the REST face) on a real 3-voter zablab ensemble
 * (separate `zablab server` processes; run `npm run build` first): what a user reads in the
 * result of a closed-loop run, of an open-loop run through a stalled server, of a connection
 * whose member is paused or killed (it moves to a live one), of a key space that is gone, and
 * of a mix the REST face cannot serve.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { LocalEnsemble, type EnsembleServer } from '../../../src/harness/ensemble/index.js';
import { HarnessError } from '../../../src/harness/errors.js';
import { httpLoadDriver, outcomeOf, validateHttpWorkload, weightedOps } from '../../../src/harness/load/http/index.js';
import { ClientGroup, HttpConnection, STALL_MS } from '../../../src/harness/load/http/connection.js';
import { keyPath, opMix } from '../../../src/harness/load/ops.js';
import type { LoadResult, LoadRun, LoadTarget, TimelinePoint } from '../../../src/harness/load/types.js';
import type { WorkloadSection } from '../../../src/harness/scenario/types.js';
import { defaultWorkload } from '../../../src/harness/scenario/schema.js';
import { zablabBuilt } from '../../helpers/zablab.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function workload(w: Partial<WorkloadSection>): WorkloadSection {
  return { ...defaultWorkload(), readPct: 100, valueSize: 16, keys: 20, clients: 1, connections: 2, pipelining: 1, durationMs: 3_000, warmupMs: 500, ...w };
}

function urlOf(s: EnsembleServer): string {
  return `http://${s.host}:${s.httpPort}`;
}

/** Warm-up, window, stop; `during` runs inside the window. */
async function measure(run: LoadRun, warmupMs: number, windowMs: number, during?: () => Promise<void>): Promise<LoadResult> {
  try {
    await sleep(warmupMs);
    const start = await run.mark();
    await during?.();
    await sleep(Math.max(0, start + windowMs - Date.now()));
    return await run.stop();
  } catch (err) {
    run.kill();
    throw err;
  }
}

describe.skipIf(!zablabBuilt())('http load driver against a 3-voter zablab ensemble (real processes)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-http-load-'));
  let ens: LocalEnsemble | null = null;
  let target: LoadTarget;
  let zk: ZkClient | null = null;

  beforeAll(async () => {
    ens = await LocalEnsemble.up({ voters: 3, observers: 0, dir });
    // The servers need the ensemble's token (DIR/admin-token); the driver sends it with every request.
    target = { connectString: ens.connectString(), httpUrls: ens.servers.map(urlOf), adminToken: ens.adminToken() };
    zk = await ZkClient.connect({ connectString: ens.connectString() });
  }, 90_000);
  afterAll(async () => {
    await zk?.close().catch(() => undefined);
    await ens?.down({ purge: true }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('without the ensemble\'s token the servers refuse the load, and the driver says so before it starts', async () => {
    expect(target.adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect(httpLoadDriver.start({ ...target, adminToken: null }, workload({}), { root: '/http-no-token' })).rejects.toThrow(
      /refused the load's credentials \(HTTP 401 .*ZABLAB_HTTP_UNAUTHORIZED/,
    );
  });

  it('closed loop: every op of the mix is counted without errors, its writes are in the tree, one point per second', async () => {
    const root = '/http-closed';
    const seconds: TimelinePoint[] = [];
    const w = workload({
      readPct: 50,
      reads: { getData: 1, exists: 1, getChildren: 1 },
      writes: { setData: 1, create: 2, delete: 1 },
      clients: 2,
      pipelining: 2,
    });
    const run = await httpLoadDriver.start(target, w, { root, onSecond: (p) => seconds.push(p) });
    const r = await measure(run, 500, 3_000);

    expect(r.driver).toBe('http');
    expect(r.errors).toEqual({});
    for (const op of ['getData', 'exists', 'getChildren', 'setData', 'create', 'delete'] as const) {
      expect(r.byOp[op]?.ops, op).toBeGreaterThan(0);
      expect(r.byOp[op]?.errors, op).toBe(0);
    }
    expect(Object.keys(r.byOp).sort()).toEqual(['create', 'delete', 'exists', 'getChildren', 'getData', 'setData']);
    // Half reads, half writes: the request list carries the mix exactly.
    const reads = r.byOp.getData!.ops + r.byOp.exists!.ops + r.byOp.getChildren!.ops;
    expect(reads / r.ops).toBeGreaterThan(0.4);
    expect(reads / r.ops).toBeLessThan(0.6);
    expect(r.latencyMs.count).toBe(r.ops);
    expect(r.latencyMs.p50).toBeGreaterThan(0);
    expect(r.missedSlots).toBe(0);

    // A point per second of the window, adding up to the total; the runner's live view saw the full seconds.
    expect(r.timeline.length).toBeGreaterThanOrEqual(3);
    expect(r.timeline.slice(0, 3).every((p) => p.ops > 0)).toBe(true);
    expect(r.timeline.reduce((n, p) => n + p.ops, 0)).toBe(r.ops);
    expect(seconds.map((p) => p.t).slice(0, 2)).toEqual([0, 1]);
    expect(seconds[0]!.ops).toBeGreaterThan(0);

    // What the load wrote is in the tree, seen by a ZooKeeper-protocol client.
    const value = Buffer.alloc(16, 0x61);
    expect((await zk!.getData(keyPath(root, 0))).data).toEqual(value);
    const made: string[] = [];
    for (const h of ['h0', 'h1']) made.push(...(await zk!.getChildren(`${root}/${h}`)).children);
    // Creates (2 per delete) outnumber deletes: sequential names under each client's directory remain.
    expect(made.length).toBeGreaterThan(0);
    for (const name of made) expect(name).toMatch(/^c\d{10}$/);
    const keys = (await zk!.getChildren(root)).children.filter((c) => c.startsWith('k'));
    expect(keys).toHaveLength(w.keys);
  }, 30_000);

  it('open loop: ops follow the rate, and a 1 s SIGSTOP of the server the requests hit shows in p99', async () => {
    const leader = (await ens!.leader())!;
    const rate = 100;
    const windowMs = 5_000;
    const w = workload({ rate, connections: 4 });
    const run = await httpLoadDriver.start({ ...target, httpUrls: [urlOf(leader)] }, w, { root: '/http-open' });
    const r = await measure(run, 1_000, windowMs, async () => {
      await sleep(1_500);
      await ens!.kill(leader.id, 'SIGSTOP');
      await sleep(1_000);
      await ens!.kill(leader.id, 'SIGCONT');
    });

    expect(r.errors).toEqual({});
    expect(r.missedSlots).toBe(0);
    expect(r.ops).toBeGreaterThanOrEqual((rate * windowMs * 0.85) / 1_000);
    expect(r.ops).toBeLessThanOrEqual((rate * windowMs * 1.15) / 1_000);
    // About 100 requests were due while the server was stopped; each counts from its slot,
    // so the first ones waited nearly the whole second (coordinated omission corrected).
    expect(r.latencyMs.p99).toBeGreaterThanOrEqual(800);
    expect(r.latencyMs.p50).toBeLessThan(500);
  }, 30_000);

  it('a key space whose znodes are gone: reads and writes of the keys fail with NONODE, counted by code', async () => {
    const root = '/http-missing';
    const w = workload({ readPct: 50, reads: { getData: 1, exists: 1 }, writes: { setData: 1 }, keys: 10 });
    const run = await httpLoadDriver.start(target, w, { root });
    for (let i = 0; i < w.keys; i++) await zk!.delete(keyPath(root, i));
    const r = await measure(run, 200, 1_500);

    expect(Object.keys(r.errors)).toEqual(['NONODE']);
    expect(r.errors['NONODE']).toBe(r.byOp.getData!.errors + r.byOp.setData!.errors);
    expect(r.byOp.getData!.errors).toBeGreaterThan(0);
    expect(r.byOp.setData!.errors).toBeGreaterThan(0);
    expect(r.byOp.getData!.ops + r.byOp.setData!.ops).toBe(0);
    // exists answers "no such znode": that is its result, not an error (as ZooKeeper's exists).
    expect(r.byOp.exists!.ops).toBeGreaterThan(0);
    expect(r.byOp.exists!.errors).toBe(0);
    expect(r.ops).toBe(r.byOp.exists!.ops);
  }, 30_000);

  /**
   * One connection, on a follower first: the driver lists that member first, the others after.
   * `fault` hits the follower 1 s into a 6 s window; with no move to a live member the
   * connection would send nothing for the rest of the window.
   */
  async function loadThroughFollowerFault(root: string, fault: (id: number) => Promise<void>): Promise<{ r: LoadResult; second: (t: number) => number }> {
    const leader = (await ens!.leader())!;
    const follower = ens!.servers.find((x) => x.id !== leader.id)!;
    const others = ens!.servers.filter((x) => x.id !== follower.id);
    const seconds: TimelinePoint[] = [];
    const w = workload({ readPct: 80, reads: { getData: 1 }, writes: { setData: 1 }, connections: 1, pipelining: 4 });
    const run = await httpLoadDriver.start({ ...target, httpUrls: [follower, ...others].map(urlOf) }, w, { root, onSecond: (p) => seconds.push(p) });
    const r = await measure(run, 1_000, 6_000, async () => {
      await sleep(1_000);
      await fault(follower.id);
    });
    const second = (t: number): number => {
      const p = seconds.find((x) => x.t === t);
      if (p === undefined) throw new Error(`no timeline point for second ${t}: ${JSON.stringify(seconds.map((x) => x.t))}`);
      return p.ops;
    };
    return { r, second };
  }

  it('a member paused mid-load (SIGSTOP): after STALL_MS without an answer its connection moves to a live member', async () => {
    let paused: number | null = null;
    try {
      const { r, second } = await loadThroughFollowerFault('/http-move-paused', async (id) => {
        await ens!.kill(id, 'SIGSTOP');
        paused = id;
      });
      // Second 0 before the pause; then STALL_MS (noticed within a second) without answers; second 4 on another member.
      expect(second(0)).toBeGreaterThan(50);
      expect(second(2)).toBe(0);
      expect(second(4)).toBeGreaterThan(second(0) * 0.3);
      // Only the requests in flight on the paused member were lost (pipelining 4).
      expect(Object.keys(r.errors)).toEqual(['CONNECTIONLOSS']);
      expect(r.errors['CONNECTIONLOSS']).toBeLessThanOrEqual(4);
      expect(STALL_MS).toBeLessThan(3_000);
    } finally {
      if (paused !== null) await ens!.kill(paused, 'SIGCONT');
    }
  }, 30_000);

  it('a member killed mid-load: its connection moves to a live member at once and throughput continues', async () => {
    let killed: number | null = null;
    try {
      const { r, second } = await loadThroughFollowerFault('/http-move-killed', async (id) => {
        await ens!.kill(id);
        killed = id;
      });
      expect(second(0)).toBeGreaterThan(50);
      for (const t of [2, 3, 4]) expect(second(t), `second ${t}`).toBeGreaterThan(second(0) * 0.3);
      // Only requests in flight are lost: 4 on the dead socket; seen up to 8 when run after the
      // other tests (not yet explained), never a stream of failures.
      expect(r.errors['CONNECTIONLOSS'] ?? 0).toBeLessThanOrEqual(8);
      expect(Object.keys(r.errors).filter((c) => c !== 'CONNECTIONLOSS')).toEqual([]);
    } finally {
      if (killed !== null) await ens!.start(killed);
    }
  }, 60_000);

  it('multi or sync in the mix: a clear error before anything is created', async () => {
    for (const writes of [{ setData: 1, multi: 1 }, { sync: 1 }]) {
      const root = '/http-refused';
      const err = await httpLoadDriver.start(target, workload({ readPct: 50, writes }), { root }).then(
        (run) => {
          run.kill();
          return null;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HarnessError);
      expect((err as HarnessError).code).toBe('ZABLAB_BENCH_LOAD');
      expect((err as HarnessError).message).toMatch(/cannot issue (multi|sync).*load\.driver native/);
      expect(await zk!.exists(root)).toBeNull();
    }
  });
});

describe('http load driver: the request list and what answers mean', () => {
  it('a connection\'s request list carries the mix exactly, in a seeded order', () => {
    const mix = opMix(workload({ readPct: 90, reads: { getData: 2, exists: 1 }, writes: { setData: 1, create: 1 } }));
    const ops = weightedOps(mix, 7);
    const count = (op: string): number => ops.filter((o) => o === op).length;
    expect(ops).toHaveLength(100);
    expect([count('getData'), count('exists'), count('setData'), count('create')]).toEqual([60, 30, 5, 5]);
    expect(weightedOps(mix, 7)).toEqual(ops);
    expect(weightedOps(mix, 8)).not.toEqual(ops);
    // A rare op still goes out.
    expect(weightedOps(opMix(workload({ readPct: 99.9 })), 1)).toContain('setData');
  });

  it('answers: ZooKeeper code names from error bodies, HTTP_<status> otherwise, exists 404 is an answer', () => {
    const nonode = '{"error":{"code":"NONODE","zkCode":-101,"message":"/x does not exist"}}';
    expect(outcomeOf('getData', 404, nonode)).toEqual({ error: 'NONODE' });
    expect(outcomeOf('exists', 404, nonode)).toEqual({ error: null });
    expect(outcomeOf('setData', 503, '{"error":{"code":"CONNECTIONLOSS","zkCode":-4,"message":"m"}}')).toEqual({ error: 'CONNECTIONLOSS' });
    expect(outcomeOf('getData', 502, '<html>bad gateway</html>')).toEqual({ error: 'HTTP_502' });
    expect(outcomeOf('create', 201, '{"path":"/r/h0/c0000000007","stat":{}}')).toEqual({ error: null, createdPath: '/r/h0/c0000000007' });
  });

  it('limits the REST face cannot meet are refused with what to change', () => {
    const target: LoadTarget = { connectString: '', httpUrls: ['http://127.0.0.1:1'] };
    const refused = (w: Partial<WorkloadSection>, t = target): string => {
      try {
        validateHttpWorkload(t, workload(w), '/r');
      } catch (err) {
        expect(err).toBeInstanceOf(HarnessError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refused({})).toBe('accepted');
    expect(refused({ clients: 64, connections: 64 })).toMatch(/clients × workload.connections must be at most 1024/);
    expect(refused({ rate: 0 })).toMatch(/workload.rate/);
    expect(refused({}, { connectString: '', httpUrls: [] })).toMatch(/needs the HTTP face/);
  });
});

describe('http load driver: a member that answers 503 (not serving)', () => {
  /** An HTTP face on 127.0.0.1 that answers every request with `status`; counts the requests and their Host headers. */
  async function face(status: number): Promise<{ url: string; hosts: string[]; close: () => Promise<void> }> {
    const hosts: string[] = [];
    const server = http.createServer((req, res) => {
      hosts.push(req.headers.host ?? '');
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"data":""}' : '{"error":{"code":"HTTP_NOT_SERVING"}}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      url,
      hosts,
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      },
    };
  }

  it('its connection moves to the next member and stays there, sending that member its own Host', async () => {
    const notServing = await face(503);
    const serving = await face(200);
    const outcomes: (string | null)[] = [];
    const c = new HttpConnection(
      { index: 0, urls: [notServing.url, serving.url], pipelining: 2, schedule: null, ops: ['getData'], root: '/x', keys: 10, value: Buffer.alloc(0), headers: {} },
      new ClientGroup('/x/h0'),
      { record: (_op, _intended, _end, error) => outcomes.push(error), missedSlots: () => undefined },
    );
    try {
      c.start();
      const deadline = Date.now() + 10_000;
      while (outcomes.filter((e) => e === null).length < 200 && Date.now() < deadline) await sleep(20);
      expect(outcomes.filter((e) => e === null).length).toBeGreaterThanOrEqual(200);
      expect(c.url).toBe(serving.url);
      // The answers the 503 member gave before the move, then nothing more went there.
      expect(notServing.hosts.length).toBeGreaterThanOrEqual(1);
      expect(notServing.hosts.length).toBeLessThanOrEqual(3);
      expect(outcomes.filter((e) => e !== null).length).toBeLessThanOrEqual(3);
      expect(new Set(serving.hosts)).toEqual(new Set([new URL(serving.url).host]));
    } finally {
      await c.close(2_000);
      await notServing.close();
      await serving.close();
    }
  }, 20_000);
});
