/**
 * The `local` ensemble driver as the harness uses it, run against every server program it
 * can start: zablab (the default) and Apache ZooKeeper 3.8 (the reference for what
 * "serving", "leader" and "caught up" mean), each with 3 voters and 1 observer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { EnsembleNotServingError, LocalEnsemble, type ServerProgram, type ServerStatus } from '../../../src/harness/ensemble/index.js';
import { pidRuns, poll, recordedPids, teardown, tempDir, zablabBuilt, zookeeperProgram } from './support.js';

const zookeeper = zookeeperProgram();
const programs: { name: string; program: ServerProgram | null; config: Record<string, string> }[] = [
  { name: 'zablab', program: zablabBuilt() ? { kind: 'zablab' } : null, config: {} },
  // Debian's ZooKeeper lacks the AdminServer's Jetty; the driver only needs the client port.
  { name: 'Apache ZooKeeper', program: zookeeper, config: { 'admin.enableServer': 'false' } },
];

function modes(statuses: ServerStatus[]): string[] {
  return statuses.map((s) => s.mode);
}

for (const { name, program, config } of programs) {
  describe.skipIf(program === null)(`LocalEnsemble running ${name}`, () => {
    let dir: string | undefined;
    let ensemble: LocalEnsemble;
    const everyPid = new Set<number>();
    const remember = (): void => ensemble.servers.forEach((s) => s.pid !== null && everyPid.add(s.pid));

    beforeAll(async () => {
      dir = tempDir('zablab-ens-driver-');
      ensemble = await LocalEnsemble.up({ voters: 3, observers: 1, dir, config, timeoutMs: 60_000 }, program!);
      remember();
    }, 90_000);

    afterAll(async () => {
      await teardown(dir);
      for (const pid of everyPid) expect(pidRuns(pid), `pid ${pid} survived teardown`).toBe(false);
    }, 60_000);

    it('up: one leader, two followers and one observer, every server in ensemble.json', async () => {
      const statuses = await ensemble.status();
      expect(statuses.map((s) => [s.id, s.role])).toEqual([
        [1, 'voter'],
        [2, 'voter'],
        [3, 'voter'],
        [4, 'observer'],
      ]);
      expect(modes(statuses).sort()).toEqual(['follower', 'follower', 'leader', 'observer']);
      expect(statuses.every((s) => s.alive && s.pid !== null)).toBe(true);
      expect(LocalEnsemble.load(dir!).servers.map((s) => s.pid)).toEqual(statuses.map((s) => s.pid));
    });

    let writtenZxid = 0n;
    it('writes reach every server: zxids become equal and status reports the epoch', async () => {
      const client = await ZkClient.connect({ connectString: ensemble.connectString(), connectTimeoutMs: 10_000 });
      try {
        for (let i = 0; i < 5; i++) await client.create(`/driver-${i}`, Buffer.from(`v${i}`));
      } finally {
        await client.close();
      }
      const statuses = await poll('equal zxids on every server', async () => {
        const st = await ensemble.status();
        const zxids = new Set(st.map((s) => s.zxid));
        return zxids.size === 1 && st[0]!.zxid !== null && st[0]!.zxid > 0n ? st : undefined;
      });
      const zxid = statuses[0]!.zxid!;
      writtenZxid = zxid;
      expect(statuses.every((s) => s.epoch === Number(zxid >> 32n))).toBe(true);
      expect(statuses[0]!.epoch).toBeGreaterThan(0);
    });

    let killed: number;
    it('killing the leader: it is down, and another voter leads', async () => {
      const leader = await ensemble.leader();
      expect(leader).not.toBeNull();
      killed = leader!.id;
      const pid = leader!.pid!;
      const report = await ensemble.kill(killed);
      expect(report).toMatchObject({ id: killed, pid, signal: 'SIGKILL', exited: true });
      expect(pidRuns(pid)).toBe(false);
      expect(LocalEnsemble.load(dir!).server(killed).pid).toBeNull();
      const next = await poll('a new leader', async () => (await ensemble.leader()) ?? undefined);
      expect(next.id).not.toBe(killed);
      expect(next.role).toBe('voter');
      const st = await ensemble.status();
      expect(st.find((s) => s.id === killed)).toMatchObject({ mode: 'down', alive: false, pid: null });
      await ensemble.waitServing(undefined, 30_000);
    }, 60_000);

    it('starting the killed server: it rejoins as a follower with the data', async () => {
      await ensemble.start(killed, 60_000);
      remember();
      const st = await ensemble.status();
      const restarted = st.find((s) => s.id === killed)!;
      expect(restarted.mode).toBe('follower');
      const client = await ZkClient.connect({ connectString: `${restarted.host}:${restarted.clientPort}`, connectTimeoutMs: 10_000 });
      try {
        await client.sync('/');
        expect((await client.getData('/driver-4')).data?.toString()).toBe('v4');
      } finally {
        await client.close();
      }
      expect(restarted.zxid! >= writtenZxid).toBe(true);
    }, 90_000);

    it('SIGSTOP pauses a server (not serving), SIGCONT resumes it', async () => {
      const observer = ensemble.servers.find((s) => s.role === 'observer')!;
      await ensemble.kill(observer.id, 'SIGSTOP');
      let st = await ensemble.status();
      expect(st.find((s) => s.id === observer.id)).toMatchObject({ mode: 'not serving', alive: true, paused: true });
      await ensemble.kill(observer.id, 'SIGCONT');
      await ensemble.waitServing([observer.id], 30_000);
      st = await ensemble.status();
      expect(st.find((s) => s.id === observer.id)).toMatchObject({ mode: 'observer', paused: false });
    }, 60_000);

    it('without a quorum, waitServing gives up after its timeout and names each server with its log', async () => {
      const st = await ensemble.status();
      const leader = st.find((s) => s.mode === 'leader')!;
      const follower = st.find((s) => s.mode === 'follower')!;
      // Both at once, so that the follower cannot become the next leader in between.
      await Promise.all([ensemble.kill(leader.id), ensemble.kill(follower.id)]);
      const left = st.filter((s) => s.id !== leader.id && s.id !== follower.id).map((s) => s.id);
      const err: unknown = await ensemble.waitServing(undefined, 2_000).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EnsembleNotServingError);
      const e = err as EnsembleNotServingError;
      expect(e.message).toContain('did not serve within 2000 ms');
      expect(e.details.map((d) => d.id)).toEqual(left);
      for (const d of e.details) {
        expect(d.logFile).toBe(ensemble.server(d.id).logFile);
        expect(d.logTail).not.toBe('');
        expect(e.message).toContain(`server ${d.id}: ${d.reason}`);
      }
    }, 60_000);

    it('down stops every process and keeps the data; down --purge removes it', async () => {
      const running = ensemble.servers.filter((s) => s.pid !== null);
      const pids = recordedPids(dir!);
      expect(pids).toHaveLength(2);
      const report = await ensemble.down();
      expect(report.stopped.map((s) => s.id)).toEqual(running.map((s) => s.id));
      for (const pid of pids) expect(pidRuns(pid)).toBe(false);
      expect(recordedPids(dir!)).toEqual([]);
      expect(fs.existsSync(path.join(dir!, 's1', 'data', 'myid'))).toBe(true);
      expect((await ensemble.status()).every((s) => s.mode === 'down')).toBe(true);
      await ensemble.down({ purge: true });
      expect(fs.existsSync(dir!)).toBe(false);
    }, 60_000);
  });
}
