/**
 * Partitions on Apache ZooKeeper through the harness's peer relay (the `zookeeper` driver
 * with UpOptions.partitions): 3 voters whose zoo.cfg name the relay's ports for each other
 * form an ensemble through it; with the leader isolated it stops serving and the other two
 * elect a leader and take writes; a heal brings it back as a follower; random halves leave
 * the majority serving and the minority not; and a whole run (runOne) that isolates the
 * leader, heals, and pauses and resumes a random voter. In CI it must run; on a machine
 * without java or ZooKeeper's jars it is skipped with the reason.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { zookeeperDriver, zookeeperMissing, type EnsembleHandle } from '../../../src/harness/drivers/index.js';
import { LocalEnsembleHandle } from '../../../src/harness/drivers/local.js';
import { HarnessError } from '../../../src/harness/errors.js';
import { isolateLeader, randomHalves } from '../../../src/harness/nemesis/index.js';
import { runOne, SilentProgress } from '../../../src/harness/index.js';
import { nativeLoadDriver } from '../../../src/harness/load/native/index.js';
import { expandRuns, parseScenario } from '../../../src/harness/scenario/index.js';
import { seededRandom } from '../../helpers/random.js';
import { at, poll as pollFor, servingExactly as servingOnly, writeVia } from '../../helpers/partitions.js';
import { withClient } from '../../helpers/with-client.js';

const missing = zookeeperMissing();
const skip = missing !== null && process.env['CI'] !== 'true' ? missing : null;
if (skip !== null) console.warn(`zookeeper relay tests skipped: ${skip}`);
const VOTERS = [1, 2, 3];
/** A follower cut off from its leader gives up after syncLimit × tickTime = 1 s. */
const FAST = { tickTime: '500', initLimit: '10', syncLimit: '2' };



const poll = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => pollFor(what, check, timeoutMs, 200);
const servingExactly = (h: EnsembleHandle, serving: readonly number[]): Promise<number> => servingOnly(h, serving, 30_000, 200);

/** Socket inodes each process holds (Linux /proc). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** Established TCP connections whose two ends both belong to these processes, as `pid:port → pid:port`. */
function directConnections(pids: readonly number[]): string[] {
  const owner = new Map<string, number>();
  for (const pid of pids) for (const inode of socketInodes(pid)) owner.set(inode, pid);
  const byLocalPort = new Map<number, { pid: number; remote: number }>();
  const mine: { pid: number; local: number; remote: number }[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '01') continue;
      const local = parseInt(f[1]!.split(':')[1]!, 16);
      const remote = parseInt(f[2]!.split(':')[1]!, 16);
      const pid = owner.get(f[9]!);
      if (pid === undefined) continue;
      byLocalPort.set(local, { pid, remote });
      mine.push({ pid, local, remote });
    }
  }
  return mine.filter((c) => byLocalPort.get(c.remote)?.remote === c.local).map((c) => `${c.pid}:${c.local} → ${byLocalPort.get(c.remote)!.pid}:${c.remote}`);
}

describe.skipIf(skip !== null)('zookeeper driver: partitions through the peer relay', () => {
  let dir: string;
  let h: EnsembleHandle;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-zk-relay-'));
    h = await zookeeperDriver({ fastStart: true }).up({ voters: 3, observers: 0, config: FAST, dir: path.join(dir, 'ensemble'), partitions: true, timeoutMs: 90_000 });
  }, 120_000);

  afterAll(async () => {
    await h?.down();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("forms through the relay: each server's zoo.cfg names its own ports and the relay's for the others, and no two servers talk directly", async () => {
    const ensembleDir = (h as LocalEnsembleHandle).dir;
    const lines = (id: number): string[] => fs.readFileSync(path.join(ensembleDir, `s${id}`, 'zoo.cfg'), 'utf8').split('\n').filter((l) => l.startsWith('server.'));
    const own = (id: number): string => lines(id).find((l) => l.startsWith(`server.${id}=`))!;
    for (const id of VOTERS) {
      for (const other of VOTERS.filter((x) => x !== id)) {
        const line = lines(id).find((l) => l.startsWith(`server.${other}=`))!;
        // Not the other's own ports: this server reaches it only through the relay.
        expect(line.split(';')[0], `s${id}/zoo.cfg`).not.toBe(own(other).split(';')[0]);
      }
    }
    await h.waitServing(30_000);
    // Election connections are dialed back to the address the dialer announces: the relay
    // rewrites it, or this would find a server connected straight to another.
    if (process.platform === 'linux') expect(directConnections(h.pids())).toEqual([]);
  });

  it('isolate-leader: the old leader stops serving, the other two elect one and take writes; heal: it follows again', async () => {
    await h.waitServing(30_000);
    const old = (await h.leader())!;
    const rest = VOTERS.filter((id) => id !== old);
    await h.partitionSides(isolateLeader({ voters: VOTERS, observers: [] }, old).sides);
    const next = await servingExactly(h, rest);
    expect(next).not.toBe(old);
    await writeVia(h, rest, '/zk-isolated');
    await expect(writeVia(h, [old], '/zk-isolated-old', 3_000)).rejects.toThrow();
    await h.healAll();
    await h.waitServing(45_000);
    expect((await h.status()).find((s) => s.id === old)?.mode).toBe('follower');
    const data = await withClient(at(h, [old]), async (c) => {
      await c.sync('/zk-isolated');
      return (await c.getData('/zk-isolated')).data?.toString();
    });
    expect(data).toBe('/zk-isolated');
  }, 120_000);

  it('random-halves: the majority serves, the minority does not; heal: all three serve', async () => {
    const { sides } = randomHalves({ voters: VOTERS, observers: [] }, seededRandom(3));
    const [majority, minority] = sides as [number[], number[]];
    await h.partitionSides(sides);
    await servingExactly(h, majority);
    await writeVia(h, majority, '/zk-halves');
    await expect(writeVia(h, minority, '/zk-halves-minority', 3_000)).rejects.toThrow();
    await h.healSides();
    await h.waitServing(45_000);
    await writeVia(h, minority, '/zk-after-halves');
  }, 120_000);
});

describe.skipIf(skip !== null)('zookeeper driver: a run that partitions (the runner asks for the relay)', () => {
  it('isolates the leader (a new one is elected), heals, pauses a random voter and resumes it: every step recorded', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-zk-run-'));
    try {
      const yaml = [
        'name: zk-nemeses',
        'ensemble: {driver: zookeeper, voters: 3, config: {tickTime: 500, initLimit: 10, syncLimit: 2}}',
        'workload: {readPct: 50, clients: 1, connections: 2, keys: 20, rate: 100, duration: 9s, warmup: 2s}',
        'faults:',
        '  - {at: 1s, action: partition, mode: isolate-leader}',
        '  - {at: 4s, action: heal}',
        '  - {at: 6s, action: pause, target: random-voter}',
        '  - {at: 7s, action: resume, target: last}',
        '',
      ].join('\n');
      const [plan] = expandRuns(parseScenario(yaml, 'zk-nemeses.yaml'));
      const driver = zookeeperDriver({ fastStart: true });
      const result = await runOne(plan!, { dir, ensembleDriver: driver, loadDriver: nativeLoadDriver, progress: new SilentProgress() });
      expect(result.error).toBeUndefined();
      expect(result.recovery.map((r) => r.fault)).toEqual(['partition', 'heal', 'pause', 'resume']);
      const [isolate, , pause, resume] = result.recovery;
      expect(isolate).toMatchObject({ mode: 'isolate-leader', target: 'isolate-leader' });
      expect(isolate!.serverId).toBe(isolate!.leaderBefore);
      expect(isolate!.sides).toEqual([[isolate!.serverId], VOTERS.filter((id) => id !== isolate!.serverId)]);
      // The two others elected one of them while the old leader was cut off.
      expect(isolate!.leaderElectedMs).not.toBeNull();
      expect(isolate!.leaderAfter).not.toBe(isolate!.serverId);
      expect(VOTERS).toContain(pause!.serverId);
      expect(resume!.serverId).toBe(pause!.serverId);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe.skipIf(skip !== null)('zookeeper driver without the relay', () => {
  it('refuses a partition, saying why, and refuses one with peer TLS up front', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-zk-norelay-'));
    try {
      await expect(zookeeperDriver({ fastStart: true }).up({ voters: 3, observers: 0, config: {}, dir, partitions: true, peerSecurity: 'tls' })).rejects.toThrow(
        "cannot partition an ensemble with peerSecurity tls: the peer relay must rewrite ZooKeeper's election handshake",
      );
      const h = await zookeeperDriver({ fastStart: true }).up({ voters: 1, observers: 0, config: {}, dir: path.join(dir, 'plain') });
      try {
        const err = await h.partitionSides([[1]]).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(HarnessError);
        expect((err as HarnessError).code).toBe('ZABLAB_BENCH_FAULT_UNSUPPORTED');
        expect((err as HarnessError).message).toContain('started without the peer relay');
      } finally {
        await h.down();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
