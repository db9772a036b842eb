/**
 * One conformance suite for every ensemble driver (hono's runTest style): what the harness
 * relies on, checked on real servers. 3 voters + 1 observer; writes through our client;
 * status, leader, mntr metrics and the HTTP face; with faults: kill the leader, restart it,
 * pause and resume a follower; with partition: cut a follower off and heal it, also across
 * a pause of another member; down() twice leaves no process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { adminAuthHeaders } from '../../../src/harness/ensemble/index.js';
import { HarnessError } from '../../../src/harness/errors.js';
import type { EnsembleDriver, EnsembleHandle, MemberStatus, UpOptions } from '../../../src/harness/drivers/index.js';
import { FAULT_ACTIONS, type FaultAction } from '../../../src/harness/scenario/types.js';
import { withClient } from '../../helpers/with-client.js';
import { poll } from '../ensemble/support.js';

export interface ConformanceOptions {
  /** kill / pause / resume / restart are supported. */
  faults: boolean;
  /** partition / heal are supported (zablab's fault hook, the relay in front of ZooKeeper, Docker networks). */
  partition: boolean;
  /** add-observer is supported (drivers that start spare observers late: local, zookeeper). */
  addObserver?: boolean;
  /** Skip the whole suite, with this reason shown. */
  skip?: string | null;
  /** Extra UpOptions (e.g. `external`), made before up() and undone after down(). */
  prepare?: (dir: string) => Promise<{ up: Partial<UpOptions>; cleanup: () => Promise<void> }>;
  /** Ask for spans and check that every server writes its spans file. */
  spans?: boolean;
  /** The program the handle must report. */
  program: EnsembleHandle['program'];
}

const VOTERS = 3;
const OBSERVERS = 1;
const NEW_LEADER_MS = 10_000;
const CONVERGE_MS = 20_000;

export function runDriverConformance(name: string, makeDriver: () => EnsembleDriver, opts: ConformanceOptions): void {
  if (opts.skip != null) {
    describe(`ensemble driver ${name}`, () => {
      it.skip(`skipped: ${opts.skip}`, () => undefined);
    });
    return;
  }

  describe(`ensemble driver ${name} (conformance)`, () => {
    let dir: string;
    let driver: EnsembleDriver;
    let handle: EnsembleHandle | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    const everyPid = new Set<number>();
    const remember = (): void => handle?.pids().forEach((p) => everyPid.add(p));
    let writes = 0;

    /** Creates one more znode through a client on `member` (default: the whole connect string). */
    const write = async (connectString?: string): Promise<string> => {
      const path = `/conformance-${++writes}`;
      await withClient(connectString ?? h().connectString(), (c) => c.create(path, Buffer.from(`value ${writes}`)));
      return path;
    };
    const h = (): EnsembleHandle => {
      if (handle === undefined) throw new Error('the ensemble did not come up');
      return handle;
    };
    const at = (id: number): string => {
      const m = h().members.find((x) => x.id === id)!;
      return `${m.host}:${m.clientPort}`;
    };

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `zablab-driver-${name}-`));
      driver = makeDriver();
      const prepared = opts.prepare === undefined ? { up: {}, cleanup: async () => undefined } : await opts.prepare(path.join(dir, 'prepared'));
      cleanup = prepared.cleanup;
      handle = await driver.up({
        voters: VOTERS,
        observers: OBSERVERS,
        config: {},
        dir: path.join(dir, 'ensemble'),
        timeoutMs: 60_000,
        ...(opts.spans === true ? { spansDir: path.join(dir, 'spans') } : {}),
        ...prepared.up,
      });
      remember();
    }, 90_000);

    afterAll(async () => {
      await handle?.down().catch(() => undefined);
      await cleanup?.().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
      for (const pid of everyPid) expect(pidRuns(pid), `pid ${pid} survived`).toBe(false);
    }, 60_000);

    it('up: members with ids 1..4, three voters and an observer, the program, a connect string', () => {
      expect(driver.name).toBe(h().driver);
      expect(h().members.map((m) => [m.id, m.role])).toEqual([
        [1, 'voter'],
        [2, 'voter'],
        [3, 'voter'],
        [4, 'observer'],
      ]);
      expect(h().program).toBe(opts.program);
      expect(h().connectString().split(',')).toEqual(h().members.map((m) => `${m.host}:${m.clientPort}`));
      if (opts.faults) expect(h().pids()).toHaveLength(VOTERS + OBSERVERS);
      else expect(h().pids()).toEqual([]);
    });

    it('the fault set is what the driver can do, and the rest throw FAULT_UNSUPPORTED', async () => {
      const want = FAULT_ACTIONS.filter((a) => (a === 'partition' || a === 'heal' ? opts.partition : a === 'add-observer' ? opts.addObserver === true : opts.faults));
      expect([...driver.faults].sort()).toEqual([...want].sort());
      for (const action of FAULT_ACTIONS.filter((a) => !driver.faults.has(a))) {
        const err = await applyFault(h(), action, 2).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, action).toBeInstanceOf(HarnessError);
        expect((err as HarnessError).code, action).toBe('ZABLAB_BENCH_FAULT_UNSUPPORTED');
        expect((err as HarnessError).message, action).toMatch(/use driver|need a driver/);
      }
    });

    it('status: exactly one leader, two followers and the observer; leader() names it', async () => {
      const st = await h().status();
      expect(st.map((s) => s.id)).toEqual([1, 2, 3, 4]);
      expect(st.filter((s) => s.mode === 'leader')).toHaveLength(1);
      expect(st.filter((s) => s.mode === 'follower')).toHaveLength(2);
      expect(st.find((s) => s.id === 4)?.mode).toBe('observer');
      expect(st.every((s) => s.zxid !== null && !s.paused && !s.stopped)).toBe(true);
      const leader = st.find((s) => s.mode === 'leader')!.id;
      expect(await h().leader()).toBe(leader);
      // Asked among some members only: the others are not probed, nor counted.
      const followers = st.filter((s) => s.mode === 'follower').map((s) => s.id);
      expect((await h().status(followers)).map((s) => s.id)).toEqual(followers);
      expect(await h().leader(followers)).toBeNull();
      expect(await h().leader([leader, ...followers])).toBe(leader);
    });

    it('a write through one member is readable on every member after sync', async () => {
      const znode = await write(at(2));
      for (const m of h().members) {
        const data = await withClient(`${m.host}:${m.clientPort}`, async (c) => {
          await c.sync(znode);
          return (await c.getData(znode)).data?.toString();
        });
        expect(data, `read on server ${m.id}`).toBe(`value ${writes}`);
      }
      await convergedZxids(h());
    });

    it('metrics(id) is mntr: zk_znode_count and zk_server_state for every member', async () => {
      const st = await h().status();
      for (const m of h().members) {
        const metrics = await h().metrics(m.id);
        expect(typeof metrics['zk_znode_count'], `server ${m.id}`).toBe('number');
        expect(metrics['zk_znode_count']).toBeGreaterThanOrEqual(writes);
        expect(metrics['zk_server_state'], `server ${m.id}`).toBe(st.find((s) => s.id === m.id)?.mode);
      }
    });

    it('httpUrls() answer: zablab /healthz, ZooKeeper AdminServer /commands/ruok', async () => {
      const urls = h().httpUrls();
      expect(urls).toHaveLength(VOTERS + OBSERVERS);
      const probe = h().program === 'zookeeper' ? '/commands/ruok' : '/healthz';
      const answers = await Promise.all(
        urls.map(async (url) => {
          const res = await fetch(`${url}${probe}`, { signal: AbortSignal.timeout(20_000) });
          await res.arrayBuffer();
          return { url, status: res.status };
        }),
      );
      for (const { url, status } of answers) {
        expect(url).toMatch(/^http:\/\/[^/]+:\d+$/);
        expect(status, `${url}${probe}`).toBe(200);
      }
    });

    it('adminToken opens the REST face of zablab members (it is refused without), and is null for ZooKeeper', async () => {
      if (h().program === 'zookeeper') {
        expect(h().adminToken).toBeNull();
        return;
      }
      const token = h().adminToken;
      expect(token).not.toBeNull();
      for (const url of h().httpUrls()) {
        const without = await fetch(`${url}/v1/children/`, { signal: AbortSignal.timeout(20_000) });
        await without.arrayBuffer();
        expect(without.status, url).toBe(401);
        const withToken = await fetch(`${url}/v1/children/`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(20_000) });
        await withToken.arrayBuffer();
        expect(withToken.status, url).toBe(200);
      }
    });

    if (opts.spans === true) {
      it('spans: every server writes DIR/server-<id>.jsonl', async () => {
        const spansDir = h().spansDir;
        expect(spansDir).not.toBeNull();
        await write();
        await poll('a spans file from every server', async () => {
          const files = fs.existsSync(spansDir!) ? fs.readdirSync(spansDir!) : [];
          return h().members.every((m) => files.includes(`server-${m.id}.jsonl`) && fs.statSync(path.join(spansDir!, `server-${m.id}.jsonl`)).size > 0)
            ? true
            : undefined;
        }, 15_000);
      });
    }

    if (opts.faults) {
      let killed = 0;
      it('kill the leader: it shows stopped and down, and another voter leads within 10 s', async () => {
        const leader = await h().leader();
        expect(leader).not.toBeNull();
        killed = leader!;
        const t0 = Date.now();
        await h().kill(killed);
        const st = await h().status();
        expect(st.find((s) => s.id === killed)).toMatchObject({ mode: 'down', stopped: true, zxid: null });
        const next = await poll('a new leader', async () => {
          const l = await h().leader();
          return l !== null && l !== killed ? l : undefined;
        }, NEW_LEADER_MS);
        expect(Date.now() - t0).toBeLessThan(NEW_LEADER_MS);
        expect(h().members.find((m) => m.id === next)?.role).toBe('voter');
        await h().waitServing(30_000);
        await write();
      });

      it('restart: the killed server serves again and catches up (zxids equal)', async () => {
        await write();
        await h().restart(killed);
        remember();
        const st = await h().status();
        expect(st.find((s) => s.id === killed)).toMatchObject({ stopped: false, paused: false });
        expect(['follower', 'leader']).toContain(st.find((s) => s.id === killed)?.mode);
        await write();
        const zxids = await convergedZxids(h());
        expect(zxids).toBeGreaterThan(0n);
      });

      it('pause a follower: down and paused while the rest serve writes; resume: it serves and catches up', async () => {
        const follower = (await h().status()).find((s) => s.mode === 'follower')!.id;
        const leader = (await h().leader())!;
        await h().pause(follower);
        expect((await h().status()).find((s) => s.id === follower)).toMatchObject({ mode: 'down', paused: true, stopped: false });
        // Through the leader: a client that tried the paused server first would wait out its connect timeout.
        await write(at(leader));
        await h().resume(follower);
        await h().waitServing(30_000);
        expect((await h().status()).find((s) => s.id === follower)).toMatchObject({ mode: 'follower', paused: false });
        await write();
        await convergedZxids(h());
      });
    }

    if (opts.partition) {
      it('partition a follower: it leaves the quorum while the rest serve writes; heal: it rejoins', async () => {
        const st = await h().status();
        const follower = st.find((s) => s.mode === 'follower')!.id;
        const other = st.find((s) => s.id !== follower && (s.mode === 'leader' || s.mode === 'follower'))!.id;
        await h().partition(follower);
        await poll(`server ${follower} looking`, async () => ((await h().status()).find((s) => s.id === follower)?.mode === 'looking' ? true : undefined), 15_000);
        await write(at(other));
        await h().waitServing(30_000);
        await h().heal(follower);
        await poll(`server ${follower} following again`, async () => ((await h().status()).find((s) => s.id === follower)?.mode === 'follower' ? true : undefined), 30_000);
        await write(at(follower));
        await convergedZxids(h());
      });

      it('a member paused during partition and heal is brought in line when it resumes', async () => {
        const st = await h().status();
        const follower = st.find((s) => s.mode === 'follower')!.id;
        const observer = 4;
        await h().pause(observer);
        await h().partition(follower);
        await h().resume(observer);
        // zablab: the observer missed the partition while stopped, so resume cut the partitioned
        // follower too (a relay in front of ZooKeeper holds the cut whatever the processes do).
        if (h().program === 'zablab') expect((await faultState(h(), observer)).cut).toEqual([follower]);
        await h().pause(observer);
        await h().heal(follower);
        await h().resume(observer);
        if (h().program === 'zablab') expect((await faultState(h(), observer)).cut).toEqual([]);
        await h().waitServing(30_000);
        await write(at(observer));
        await convergedZxids(h());
      });

      it('restart of a partitioned member: it runs but stays cut off until healed', async () => {
        const follower = (await h().status()).find((s) => s.mode === 'follower')!.id;
        await h().partition(follower);
        await h().kill(follower);
        await h().restart(follower);
        remember();
        if (h().program === 'zablab') expect((await faultState(h(), follower)).cut).toHaveLength(VOTERS + OBSERVERS - 1);
        await sleep(1_000);
        expect((await h().status()).find((s) => s.id === follower)).toMatchObject({ mode: 'looking', stopped: false });
        await h().heal(follower);
        await h().waitServing(30_000);
        await write(at(follower));
        await convergedZxids(h());
      });
    }

    it('waitServing resolves on a healthy ensemble', async () => {
      await h().waitServing(30_000);
      const st = await h().status();
      expect(st.every((s) => s.mode !== 'down' && s.mode !== 'looking')).toBe(true);
    });

    it('down() twice is fine and leaves no process', async () => {
      remember();
      await h().down();
      await h().down();
      for (const pid of everyPid) expect(pidRuns(pid), `pid ${pid}`).toBe(false);
      if (opts.faults) {
        expect(h().pids()).toEqual([]);
        expect((await h().status()).every((s) => s.mode === 'down')).toBe(true);
      }
    }, 60_000);
  });
}

function applyFault(h: EnsembleHandle, action: FaultAction, id: number): Promise<void> {
  switch (action) {
    case 'kill':
      return h.kill(id);
    case 'pause':
      return h.pause(id);
    case 'resume':
      return h.resume(id);
    case 'restart':
      return h.restart(id);
    case 'partition':
      return h.partition(id);
    case 'heal':
      return h.heal(id);
    case 'add-observer':
      return h.addObserver().then(() => undefined);
  }
}

/** Polls until every member that is not stopped reports the same zxid; returns it. */
async function convergedZxids(h: EnsembleHandle): Promise<bigint> {
  let last: MemberStatus[] = [];
  return poll(
    'equal zxids on every running member',
    async () => {
      last = (await h.status()).filter((s) => !s.stopped);
      const zxids = new Set(last.map((s) => s.zxid));
      return zxids.size === 1 && last[0]?.zxid != null ? last[0].zxid : undefined;
    },
    CONVERGE_MS,
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${last.map((s) => `${s.id}=${s.mode}/${s.zxid?.toString(16) ?? '-'}`).join(' ')}`);
  });
}

/** zablab's own view of its cut edges (GET /v1/faults). */
async function faultState(h: EnsembleHandle, id: number): Promise<{ cut: number[] }> {
  const m = h.members.find((x) => x.id === id)!;
  const res = await fetch(`http://${m.host}:${m.httpPort}/v1/faults`, { headers: adminAuthHeaders(h.adminToken), signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { cut: number[] };
  return { cut: [...body.cut].sort((a, b) => a - b) };
}

/** True while pid is a live (not zombie) process. */
export function pidRuns(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    if (process.platform === 'linux') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
