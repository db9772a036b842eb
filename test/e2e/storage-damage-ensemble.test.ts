/**
 * Storage damage and storage errors in a 3-voter ensemble of real processes: a follower or
 * the leader whose txn log or only snapshot was damaged while it was down rejoins and serves
 * every acknowledged znode (it recovers the lost part from the leader, voting again only
 * then); one whose txn log fails exits with one line within seconds while the others go on;
 * damage on a majority stops the ensemble with a clear message, and `zablab repair-log` on
 * one damaged server lets it go on without losing what the whole server holds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/client/index.js';
import { LocalEnsemble } from '../../src/harness/ensemble/index.js';
import { allLogRecords, canMount, damageOnlySnapshot, damageRecord, fillUntilFree, mountTmpfs, mountedTmpfs as mountTmpfsAt, logRecords, zxidFiles } from '../helpers/disk-damage.js';
import { readZnodes, waitGone, writeZnodes } from '../helpers/znodes.js';
import { poll, teardown, tempDir, zablab, zablabBuilt } from '../integration/ensemble/support.js';

const EXIT_WITHIN_MS = 5_000;
const CONFIG = { snapCount: '20' };

function versionDir(ens: LocalEnsemble, id: number): string {
  return path.join(ens.server(id).dataDir, 'version-2');
}

function only(ens: LocalEnsemble, id: number): string {
  const s = ens.server(id);
  return `${s.host}:${s.clientPort}`;
}

async function leaderId(ens: LocalEnsemble): Promise<number> {
  return poll('a leader', async () => (await ens.leader())?.id, 30_000);
}

async function followers(ens: LocalEnsemble): Promise<number[]> {
  const l = await leaderId(ens);
  return ens.servers.filter((s) => s.role === 'voter' && s.id !== l).map((s) => s.id);
}

/**
 * Flip a byte in an acknowledged record of server id's txn log (it is stopped): the first one
 * after its newest snapshot, so that the snapshot does not hold it (damage below the snapshot
 * is harmless by design).
 */
function damageLog(ens: LocalEnsemble, id: number): string {
  const snapshot = zxidFiles(versionDir(ens, id), 'snapshot').at(-1)?.zxid ?? 0n;
  const after = allLogRecords(versionDir(ens, id)).filter((r) => r.zxid > snapshot);
  expect(after.length, `server ${id} has records after its snapshot`).toBeGreaterThan(0);
  return damageRecord(after[0]!).file;
}

/** Every server serves exactly the acknowledged znodes. */
async function expectEverywhere(ens: LocalEnsemble, acked: Map<string, string>): Promise<void> {
  for (const s of ens.servers) {
    const served = await readZnodes(only(ens, s.id));
    for (const [p, v] of acked) expect(served.get(p), `server ${s.id}: ${p}`).toBe(v);
  }
}

function logOf(ens: LocalEnsemble, id: number): string {
  return fs.readFileSync(ens.server(id).logFile, 'utf8');
}

/** Put server id's txn log on a small tmpfs (it is stopped); restore() brings it back home. */
function logOnTmpfs(ens: LocalEnsemble, id: number): { dir: string; restore(): void } {
  const s = ens.server(id);
  const cfg = fs.readFileSync(s.configFile, 'utf8');
  const mnt = mountTmpfs(path.join(s.serverDir, 'txnlog'), 8 * 1024 * 1024);
  const home = versionDir(ens, id);
  const away = path.join(mnt.dir, 'version-2');
  try {
    fs.mkdirSync(away);
    for (const f of fs.readdirSync(home).filter((n) => n.startsWith('log.'))) {
      // Without the pre-allocated zeros (and past the last record's end marker), so it fits.
      const bytes = fs.readFileSync(path.join(home, f));
      const end = (logRecords(path.join(home, f)).at(-1)?.end ?? 16) + 12;
      fs.writeFileSync(path.join(away, f), bytes.subarray(0, Math.min(end, bytes.length)));
      fs.rmSync(path.join(home, f));
    }
  } catch (err) {
    mnt.umount();
    throw err;
  }
  fs.writeFileSync(s.configFile, `${cfg}dataLogDir=${mnt.dir}\npreAllocSize=16\n`);
  return {
    dir: mnt.dir,
    restore: () => {
      fs.rmSync(path.join(mnt.dir, 'filler'), { force: true });
      for (const f of fs.readdirSync(away)) fs.copyFileSync(path.join(away, f), path.join(home, f));
      fs.writeFileSync(s.configFile, cfg);
      mnt.umount();
    },
  };
}

/** Unmount any tmpfs a failed test left under the ensemble's directory. */
function unmountUnder(dir: string): void {
  for (const s of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const mnt = path.join(dir, s, 'txnlog');
    if (fs.existsSync(mnt)) mountTmpfsAt(mnt).umount();
  }
}

/** Write 4 KiB znodes through server id only until one fails; when it failed. */
async function writeUntilFailure(ens: LocalEnsemble, id: number, acked: Map<string, string>, tag: string): Promise<number> {
  const client = await ZkClient.connect({ connectString: only(ens, id), connectTimeoutMs: 10_000 });
  try {
    for (let i = 0; i < 10_000; i++) {
      const p = `/d/${tag}${i}`;
      const v = `${tag}-${i}-${'x'.repeat(4096)}`;
      try {
        await client.create(p, Buffer.from(v));
        acked.set(p, v);
      } catch {
        return Date.now();
      }
    }
  } finally {
    await client.close().catch(() => undefined);
  }
  throw new Error(`server ${id} never failed a write`);
}

/** Server id exited on its own within EXIT_WITHIN_MS of `since`, saying why in one line. */
async function expectFatalExit(ens: LocalEnsemble, id: number, pid: number, since: number, why: RegExp): Promise<void> {
  await waitGone(pid, since + EXIT_WITHIN_MS - Date.now());
  const fatal = logOf(ens, id)
    .split('\n')
    .filter((l) => /fatal, stopping/.test(l));
  expect(fatal).toHaveLength(1);
  expect(fatal[0]).toMatch(why);
  expect(fatal[0]).toMatch(/exitCode=[1-9]/);
}

describe.skipIf(!zablabBuilt())('one damaged or failing replica of 3 voters (and an observer) costs no acknowledged write and no availability', () => {
  let dir: string | undefined;
  let ens: LocalEnsemble;
  const acked = new Map<string, string>();

  beforeAll(async () => {
    dir = tempDir('zablab-damage-ens-');
    ens = await LocalEnsemble.up({ voters: 3, observers: 1, dir, config: CONFIG, timeoutMs: 60_000 });
    for (const [p, v] of await writeZnodes(ens.connectString(), 60)) acked.set(p, v);
  }, 90_000);

  afterAll(async () => {
    await ens?.down().catch(() => undefined);
    if (dir !== undefined) unmountUnder(dir);
    await teardown(dir);
  }, 60_000);

  it('a follower whose committed record flipped a byte while it was down keeps its valid prefix, recovers the rest from the leader and serves everything', async () => {
    const [f] = await followers(ens);
    await ens.kill(f!, 'SIGTERM');
    const damaged = damageLog(ens, f!);
    await ens.start(f!, 60_000);
    const log = logOf(ens, f!);
    expect(log).toContain('storage damage: keeping the valid history');
    expect(log).toContain(damaged);
    expect(log).toContain('recovered from storage damage');
    expect(fs.existsSync(path.join(versionDir(ens, f!), 'recovering'))).toBe(false);
    expect(fs.readdirSync(versionDir(ens, f!)).some((n) => n.startsWith('damaged.log.'))).toBe(true);
    await expectEverywhere(ens, acked);
  }, 90_000);

  it('the leader, damaged the same way: the others elect a leader and take writes; it comes back whole', async () => {
    const l = await leaderId(ens);
    await ens.kill(l, 'SIGTERM');
    await ens.waitServing(undefined, 30_000);
    for (const [p, v] of await writeZnodes(ens.connectString(), 30, 1000)) acked.set(p, v);
    damageLog(ens, l);
    await ens.start(l, 60_000);
    expect(logOf(ens, l)).toContain('recovered from storage damage');
    await expectEverywhere(ens, acked);
  }, 90_000);

  it('an observer damaged the same way recovers too', async () => {
    for (const [p, v] of await writeZnodes(ens.connectString(), 30, 1500)) acked.set(p, v);
    const observer = ens.servers.find((s) => s.role === 'observer')!.id;
    await ens.kill(observer, 'SIGTERM');
    damageLog(ens, observer);
    await ens.start(observer, 60_000);
    expect(logOf(ens, observer)).toContain('recovered from storage damage');
    await expectEverywhere(ens, acked);
  }, 90_000);

  it('a follower whose only snapshot is damaged and whose older logs were purged recovers the state from the leader', async () => {
    for (const [p, v] of await writeZnodes(ens.connectString(), 80, 2000)) acked.set(p, v);
    const [, f] = await followers(ens);
    await ens.kill(f!, 'SIGTERM');
    const snapshot = damageOnlySnapshot(versionDir(ens, f!));
    await ens.start(f!, 60_000);
    const log = logOf(ens, f!);
    expect(log).toContain('storage damage: keeping the valid history');
    expect(log).toContain(snapshot);
    await expectEverywhere(ens, acked);
  }, 90_000);

  it.skipIf(!canMount() && process.env['CI'] === undefined)(
    'a follower, then the leader, whose txn log fills its disk exits with one line within 5 s; the others go on; with room again it rejoins',
    async () => {
      expect(canMount(), 'CI runs as root: the tmpfs must be mountable').toBe(true);
      for (const pick of ['follower', 'leader'] as const) {
        const id = pick === 'leader' ? await leaderId(ens) : (await followers(ens))[0]!;
        await ens.kill(id, 'SIGTERM');
        const away = logOnTmpfs(ens, id);
        try {
          await ens.start(id, 60_000);
          const pid = ens.server(id).pid!;
          fillUntilFree(away.dir, 48 * 1024);
          const failedAt = await writeUntilFailure(ens, id, acked, `${pick}-enospc-`);
          await expectFatalExit(ens, id, pid, failedAt, /ENOSPC/);
          // The ensemble goes on without it.
          await poll('the others serving', async () => ((await ens.leader()) !== null ? true : undefined), 30_000);
          for (const [p, v] of await writeZnodes(ens.connectString(), 10, pick === 'leader' ? 3000 : 3100)) acked.set(p, v);
        } finally {
          ens.server(id).pid = null;
          away.restore();
        }
        await ens.start(id, 60_000);
        await expectEverywhere(ens, acked);
      }
    },
    180_000,
  );
});

describe.skipIf(!zablabBuilt())('damage on a majority of 3 voters', () => {
  let dir: string | undefined;
  let ens: LocalEnsemble;
  const acked = new Map<string, string>();

  beforeAll(async () => {
    dir = tempDir('zablab-damage-maj-');
    ens = await LocalEnsemble.up({ voters: 3, observers: 0, dir, config: CONFIG, timeoutMs: 60_000 });
    for (const [p, v] of await writeZnodes(ens.connectString(), 120)) acked.set(p, v);
  }, 90_000);

  afterAll(async () => {
    await ens?.down().catch(() => undefined);
    if (dir !== undefined) unmountUnder(dir);
    await teardown(dir);
  }, 60_000);

  /** Stop all, damage two of them with `damage`, start all: nobody may lead; then repair one. */
  async function majority(damage: (id: number) => void, repaired: number): Promise<void> {
    for (const s of ens.servers) await ens.kill(s.id, 'SIGTERM');
    const [a, b, whole] = [1, 2, 3];
    damage(a);
    damage(b);
    for (const id of [a, b, whole]) await ens.launchServer(id);
    const stalled = await poll(
      'the stall message',
      async () => ens.servers.map((s) => logOf(ens, s.id)).find((l) => l.includes('no leader can be elected: servers 1,2 lost acknowledged txns to storage damage')),
      30_000,
    );
    expect(stalled).toContain('zablab repair-log');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await ens.leader()).toBeNull();
    // The operator accepts the loss on one damaged server: it votes again with what it has.
    await ens.kill(repaired, 'SIGTERM');
    const repair = await zablab(['repair-log', '--config', ens.server(repaired).configFile, '--yes']);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toContain('clears the recovering mark');
    await ens.launchServer(repaired);
    await ens.waitServing(undefined, 60_000);
    // The whole server had every acknowledged write, and it leads: nothing is lost.
    await expectEverywhere(ens, acked);
  }

  it('two damaged txn logs: no leader, one ERROR line that says why; repair-log on one of them, and nothing acknowledged is lost', async () => {
    await majority((id) => void damageLog(ens, id), 1);
  }, 180_000);

  it('two damaged only-snapshots: the same', async () => {
    for (const [p, v] of await writeZnodes(ens.connectString(), 80, 5000)) acked.set(p, v);
    await majority((id) => void damageOnlySnapshot(versionDir(ens, id)), 2);
  }, 180_000);

  it.skipIf(!canMount() && process.env['CI'] === undefined)(
    'two txn logs that fill their disks: both exit within 5 s; with room again the ensemble comes back with every acknowledged write',
    async () => {
      const victims = [1, 2];
      const moved = [];
      for (const id of victims) {
        await ens.kill(id, 'SIGTERM');
        moved.push({ id, away: logOnTmpfs(ens, id) });
      }
      try {
        for (const { id } of moved) await ens.launchServer(id);
        await ens.waitServing(undefined, 60_000);
        const pids = moved.map(({ id }) => ({ id, pid: ens.server(id).pid! }));
        for (const { away } of moved) fillUntilFree(away.dir, 48 * 1024);
        const failedAt = await writeUntilFailure(ens, 3, acked, 'majority-enospc-');
        for (const { id, pid } of pids) {
          await waitGone(pid, failedAt + EXIT_WITHIN_MS - Date.now()).catch(() => undefined);
        }
        // At least one must have exited on its own (the write that failed needed a quorum).
        const exited = pids.filter(({ id }) => /fatal, stopping/.test(logOf(ens, id)));
        expect(exited.length).toBeGreaterThan(0);
        for (const { id, pid } of exited) await expectFatalExit(ens, id, pid, failedAt, /ENOSPC/);
      } finally {
        for (const { id, away } of moved) {
          await ens.kill(id, 'SIGKILL').catch(() => undefined);
          ens.server(id).pid = null;
          away.restore();
        }
      }
      for (const { id } of moved) await ens.launchServer(id);
      await ens.waitServing(undefined, 60_000);
      await expectEverywhere(ens, acked);
    },
    180_000,
  );
});
