/**
 * The `native` load driver against real ensembles: forked worker processes, our pipelined
 * client, sessions spread over every member. Closed loop with every op, open loop at a rate
 * (and a paused leader showing up as latency, not as fewer requests), a leader kill that
 * the load rides through, and Apache ZooKeeper as the server. Needs `npm run build` (the
 * servers run from dist/; one run uses the driver from dist/ too, with compiled workers).
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEnsemble, fourLetterWord } from '../../../src/harness/ensemble/index.js';
import type * as NativeModule from '../../../src/harness/load/native/index.js';
import { nativeLoadDriver } from '../../../src/harness/load/native/index.js';
import type { LoadDriver, LoadResult, TimelinePoint } from '../../../src/harness/load/types.js';
import { OP_KINDS, type WorkloadSection } from '../../../src/harness/scenario/types.js';
import { defaultWorkload } from '../../../src/harness/scenario/schema.js';
import { startZooKeeper, zookeeperAvailable, type ServerHandle } from '../../helpers/zookeeper.js';
import { teardown, tempDir, zablabBuilt } from '../ensemble/support.js';

const DIST_NATIVE = fileURLToPath(new URL('../../../dist/harness/load/native/index.js', import.meta.url));

function workload(over: Partial<WorkloadSection>): WorkloadSection {
  return { ...defaultWorkload(), valueSize: 32, keys: 50, clients: 2, connections: 3, pipelining: 4, durationMs: 3_000, warmupMs: 300, ...over };
}

interface Window {
  /** Called once the window has started, with its start; runs alongside the load. */
  during?: (startEpochMs: number, run: { noteFault(at: number): void }) => Promise<void>;
}

/** start → warm-up → mark → durationMs (during runs meanwhile) → stop. */
async function runLoad(driver: LoadDriver, connectString: string, w: WorkloadSection, root: string, win: Window = {}): Promise<{ result: LoadResult; seconds: TimelinePoint[]; live: number[] }> {
  const seconds: TimelinePoint[] = [];
  const live: number[] = [];
  const run = await driver.start({ connectString, httpUrls: [] }, w, { root, onSecond: (p) => seconds.push(p), onLiveOps: (o) => live.push(o) });
  try {
    await sleep(w.warmupMs);
    const start = await run.mark();
    const during = win.during?.(start, run);
    await sleep(w.durationMs);
    await during;
    return { result: await run.stop(), seconds, live };
  } catch (err) {
    run.kill();
    throw err;
  }
}

/** The load workers this test process forked (children running worker.ts). */
function loadWorkerPids(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = fields[0];
      const ppid = Number(fields[1]);
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === process.pid && state !== 'Z' && /load[/\\]native[/\\]worker\.[jt]s/.test(cmdline)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids.sort((a, b) => a - b);
}

function aliveConnections(mntr: string): number {
  const m = /^zk_num_alive_connections\s+(\d+)$/m.exec(mntr);
  return m === null ? -1 : Number(m[1]);
}

describe.skipIf(!zablabBuilt())('native load driver on a 3-voter zablab ensemble', () => {
  let dir: string | undefined;
  let ensemble: LocalEnsemble;

  beforeAll(async () => {
    dir = tempDir('zablab-native-load-');
    ensemble = await LocalEnsemble.up({ voters: 3, observers: 0, dir, timeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await teardown(dir);
  }, 60_000);

  it('closed loop with every op: all succeed, one timeline point per second, sessions on every server', async () => {
    const w = workload({
      readPct: 40,
      reads: { getData: 1, exists: 1, getChildren: 1 },
      writes: { setData: 1, create: 1, delete: 1, multi: 1, sync: 1 },
      pipelining: 2,
    });
    let connections: number[] = [];
    const { result, seconds, live } = await runLoad(nativeLoadDriver, ensemble.connectString(), w, '/native-closed', {
      during: async () => {
        connections = await Promise.all(ensemble.servers.map(async (s) => aliveConnections(await fourLetterWord(s.host, s.clientPort, 'mntr'))));
      },
    });
    expect(result.driver).toBe('native');
    expect(result.errors).toEqual({});
    for (const op of OP_KINDS) {
      expect(result.byOp[op]?.ops ?? 0, `${op} completed`).toBeGreaterThan(0);
      expect(result.byOp[op]?.errors, `${op} errors`).toBe(0);
    }
    expect(result.ops).toBe(Object.values(result.byOp).reduce((n, s) => n + s.ops, 0));
    expect(result.opsPerSec).toBeCloseTo((result.ops * 1_000) / result.durationMs, 6);
    expect(result.durationMs).toBeGreaterThanOrEqual(w.durationMs);
    expect(result.timeline.map((p) => p.t)).toEqual(Array.from({ length: Math.ceil(result.durationMs / 1_000) }, (_, i) => i));
    expect(result.timeline.reduce((n, p) => n + p.ops, 0)).toBe(result.ops);
    expect(result.missedSlots).toBe(0);
    // 6 sessions, hosts rotated per session: two on each server.
    expect(connections, 'zk_num_alive_connections per server').toHaveLength(3);
    for (const c of connections) expect(c).toBeGreaterThanOrEqual(2);
    // Progress while it ran: the full seconds of the window as they ended, and live ops/s.
    expect(seconds.length).toBeGreaterThanOrEqual(2);
    seconds.forEach((p, i) => {
      expect(p.t).toBe(i);
      expect(p.ops).toBe(result.timeline[i]!.ops);
    });
    expect(live.some((o) => o > 0)).toBe(true);
  }, 60_000);

  it.skipIf(!fs.existsSync(DIST_NATIVE))('open loop from dist/ (compiled workers): ops ≈ rate × duration', async () => {
    const { nativeLoadDriver: fromDist } = (await import(pathToFileURL(DIST_NATIVE).href)) as typeof NativeModule;
    const rate = 500;
    const { result } = await runLoad(fromDist, ensemble.connectString(), workload({ rate, readPct: 80 }), '/native-open');
    expect(result.errors).toEqual({});
    expect(result.missedSlots).toBe(0);
    const expected = (rate * result.durationMs) / 1_000;
    expect(result.ops).toBeGreaterThan(expected * 0.85);
    expect(result.ops).toBeLessThan(expected * 1.15);
  }, 60_000);

  it('open loop, leader paused for 1 s mid-window: latency is measured from the intended start', async () => {
    const rate = 300;
    const { result } = await runLoad(nativeLoadDriver, ensemble.connectString(), workload({ rate, readPct: 0, durationMs: 4_000 }), '/native-pause', {
      during: async () => {
        await sleep(1_500);
        const leader = await ensemble.leader();
        expect(leader).not.toBeNull();
        await ensemble.kill(leader!.id, 'SIGSTOP');
        try {
          await sleep(1_000);
        } finally {
          await ensemble.kill(leader!.id, 'SIGCONT');
        }
      },
    });
    // Writes issued while the leader was stopped waited for it: their latency counts from their slot.
    expect(result.latencyMs.p99).toBeGreaterThanOrEqual(800);
    expect(result.latencyMs.p50).toBeLessThan(800);
    // The schedule kept going: nearly every slot was sent and answered.
    const expected = (rate * result.durationMs) / 1_000;
    expect(result.ops + Object.values(result.errors).reduce((a, b) => a + b, 0)).toBeGreaterThan(expected * 0.85);
  }, 60_000);

  it('leader killed mid-window: the load continues after recovery and the first acknowledged write after the fault is reported', async () => {
    let faultAt = 0;
    const { result } = await runLoad(nativeLoadDriver, ensemble.connectString(), workload({ durationMs: 7_000, pipelining: 2 }), '/native-kill', {
      during: async (_start, run) => {
        await sleep(1_500);
        const leader = await ensemble.leader();
        expect(leader).not.toBeNull();
        faultAt = Date.now();
        run.noteFault(faultAt);
        await ensemble.kill(leader!.id, 'SIGKILL');
      },
    });
    expect(result.faults).toHaveLength(1);
    const f = result.faults[0]!;
    expect(f.atEpochMs).toBe(faultAt);
    expect(f.firstWriteIssuedEpochMs).not.toBeNull();
    expect(f.firstWriteIssuedEpochMs!).toBeGreaterThanOrEqual(faultAt);
    expect(f.firstWriteAckEpochMs!).toBeGreaterThan(faultAt);
    // After recovery, reads and writes complete again in the window's last second.
    const last = result.timeline[Math.floor(result.durationMs / 1_000) - 1]!;
    expect(last.byOp.getData?.ops ?? 0).toBeGreaterThan(0);
    expect(last.byOp.setData?.ops ?? 0).toBeGreaterThan(0);
    for (const code of Object.keys(result.errors)) expect(['CONNECTIONLOSS', 'SESSIONEXPIRED', 'TIMEOUT']).toContain(code);
  }, 60_000);

  it('a worker killed mid-run makes stop reject, naming its pid', async () => {
    const run = await nativeLoadDriver.start({ connectString: ensemble.connectString(), httpUrls: [] }, workload({ clients: 2, connections: 1 }), { root: '/native-dead' });
    try {
      await run.mark();
      const pids = loadWorkerPids();
      expect(pids).toHaveLength(2);
      process.kill(pids[1]!, 'SIGKILL');
      await expect(run.stop()).rejects.toMatchObject({
        code: 'ZABLAB_BENCH_LOAD',
        message: expect.stringMatching(new RegExp(`native load worker \\d \\(pid ${pids[1]}\\).*SIGKILL`)) as string,
      });
      await sleep(200);
      expect(loadWorkerPids()).toEqual([]);
    } finally {
      run.kill();
    }
  }, 60_000);
});

describe.skipIf(!zookeeperAvailable())('native load driver on Apache ZooKeeper', () => {
  let zk: ServerHandle | undefined;

  beforeAll(async () => {
    zk = await startZooKeeper();
  }, 60_000);

  afterAll(async () => {
    await zk?.stop();
  }, 30_000);

  it('closed loop of getData and setData', async () => {
    const { result } = await runLoad(nativeLoadDriver, zk!.connectString, workload({ durationMs: 2_000 }), '/native-zk');
    expect(result.errors).toEqual({});
    expect(result.byOp.getData?.ops ?? 0).toBeGreaterThan(0);
    expect(result.byOp.setData?.ops ?? 0).toBeGreaterThan(0);
    expect(result.timeline.length).toBe(Math.ceil(result.durationMs / 1_000));
  }, 60_000);
});

describe('native load driver: limits', () => {
  it('refuses a workload over its limits before it forks anything', async () => {
    const target = { connectString: '127.0.0.1:1', httpUrls: [] };
    await expect(nativeLoadDriver.start(target, workload({ clients: 65 }), { root: '/x' })).rejects.toMatchObject({ code: 'ZABLAB_BENCH_LOAD', message: expect.stringMatching(/clients must be an integer in \[1, 64\]/) as string });
    await expect(nativeLoadDriver.start(target, workload({ pipelining: 2_000 }), { root: '/x' })).rejects.toMatchObject({ code: 'ZABLAB_BENCH_LOAD' });
    await expect(nativeLoadDriver.start(target, workload({ connections: 1_025 }), { root: '/x' })).rejects.toMatchObject({ code: 'ZABLAB_BENCH_LOAD' });
    await expect(nativeLoadDriver.start(target, workload({ rate: -1 }), { root: '/x' })).rejects.toMatchObject({ code: 'ZABLAB_BENCH_LOAD' });
    await expect(nativeLoadDriver.start(target, workload({}), { root: 'x/' })).rejects.toMatchObject({ code: 'ZABLAB_BENCH_LOAD' });
  });
});
