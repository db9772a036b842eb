/**
 * Durability across SIGKILL: a real server process is killed in the middle of a pipelined
 * write load, three times over on the same dataDir (with snapshots rolling meanwhile).
 * After each restart every acknowledged write is there with its data, and nothing appears
 * that was never sent.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { connectZk, type ZkSession } from '../compat/nzk.js';
import { makeTempDir } from '../helpers/server-process.js';
import { startZablab, type ServerHandle } from '../helpers/zablab.js';

const CLIENTS = 4;
const IN_FLIGHT_PER_CLIENT = 32;

function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      try {
        process.kill(pid, 0);
      } catch {
        resolve();
        return;
      }
      if (Date.now() > deadline) reject(new Error(`pid ${pid} still alive`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

interface Ledger {
  sent: Set<string>;
  acked: Map<string, string>;
}

/** Each client keeps IN_FLIGHT_PER_CLIENT creates in flight until the server dies. */
async function writeUntilDead(clients: ZkSession[], round: number, ledger: Ledger): Promise<void> {
  let stop = false;
  const workers = clients.flatMap((c, ci) =>
    Array.from({ length: IN_FLIGHT_PER_CLIENT }, async (_, wi) => {
      for (let n = 0; !stop; n++) {
        const path = `/r/r${round}-c${ci}-w${wi}-${n}`;
        const data = `value-${round}-${ci}-${wi}-${n}`;
        ledger.sent.add(path);
        try {
          await c.create(path, Buffer.from(data));
          ledger.acked.set(path, data);
        } catch {
          stop = true;
        }
      }
    }),
  );
  await Promise.all(workers);
}

describe('recovery after SIGKILL during a write load', () => {
  const dataDir = makeTempDir('zablab-recovery-');
  let server: ServerHandle | null = null;
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write and invents none, across three kills', async () => {
    const ledger: Ledger = { sent: new Set(), acked: new Map() };
    const config = { snapCount: '300', preAllocSize: '1024' };
    server = await startZablab({ dataDir, config });
    const setup = await connectZk(server.connectString);
    await setup.create('/r');
    await setup.close();

    for (let round = 0; round < 3; round++) {
      const clients = await Promise.all(
        Array.from({ length: CLIENTS }, () => connectZk(server!.connectString, { sessionTimeoutMs: 30_000 })),
      );
      const load = writeUntilDead(clients, round, ledger);
      const ackedBefore = ledger.acked.size;
      // Kill once this round has had real progress, at a moment the load does not choose.
      while (ledger.acked.size < ackedBefore + 400) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 37 * (round + 1)));
      const pid = server.pid;
      server.kill('SIGKILL');
      await waitGone(pid, 10_000);
      await load;
      for (const c of clients) void c.close().catch(() => undefined);

      server = await startZablab({ dataDir, config });
      const check = await connectZk(server.connectString);
      const { children } = await check.getChildren('/r');
      const present = new Set(children.map((c) => `/r/${c}`));
      const lost = [...ledger.acked.keys()].filter((p) => !present.has(p));
      expect(lost, `acknowledged writes lost in round ${round}`).toEqual([]);
      const invented = [...present].filter((p) => !ledger.sent.has(p));
      expect(invented, `znodes nobody wrote in round ${round}`).toEqual([]);
      // Data of a sample of acknowledged writes (all of this round's).
      for (const [p, data] of ledger.acked) {
        if (!p.startsWith(`/r/r${round}-`)) continue;
        const got = await check.getData(p);
        expect(got.data?.toString()).toBe(data);
      }
      await check.close();
    }
    // Snapshots really rolled during the load (snapCount=300), so recovery used snapshot + log.
    const snaps = fs.readdirSync(`${dataDir}/version-2`).filter((f) => f.startsWith('snapshot.'));
    expect(snaps.length).toBeGreaterThan(1);
  }, 120_000);

  it('serves a restart before the fresh snapshot of its replayed log is written, which then follows', async () => {
    const dir = makeTempDir('zablab-recovery-snap-');
    try {
      // No snapshot during the writes: the restart must replay all of them from the log.
      const config = { snapCount: '100000' };
      let s = await startZablab({ dataDir: dir, config });
      const c = await connectZk(s.connectString);
      for (let i = 0; i < 200; i++) await c.create(`/n${i}`, Buffer.from('x'));
      await c.close();
      const pid = s.pid;
      s.kill('SIGKILL');
      await waitGone(pid, 10_000);
      s = await startZablab({ dataDir: dir, config });
      const check = await connectZk(s.connectString);
      expect((await check.getChildren('/')).children.filter((n) => n.startsWith('n'))).toHaveLength(200);
      await check.close();
      const log = (): string => fs.readFileSync(`${dir}/server.log`, 'utf8').split('--- ').at(-1)!;
      const deadline = Date.now() + 10_000;
      while (!log().includes('snapshot taken') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const restart = log();
      expect(restart).toMatch(/replayed txn log txns=20\d/);
      const zxid = /serving mode=standalone .*zxid=(0x[0-9a-f]+)/.exec(restart)?.[1];
      expect(zxid).toBeDefined();
      expect(restart.indexOf('snapshot taken')).toBeGreaterThan(restart.indexOf('serving mode=standalone'));
      expect(fs.existsSync(`${dir}/version-2/snapshot.${zxid!.slice(2)}`)).toBe(true);
      await s.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
