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

/**
 * Write a few more znodes until server id's log holds records past its newest snapshot and no
 * snapshot is being written: with snapCount 20 a snapshot (or the one that follows it) can
 * land on the last write, and damage below a snapshot is harmless by design.
 */
async function writeUntilLogPastSnapshot(ens: LocalEnsemble, id: number, acked: Map<string, string>, from: number): Promise<void> {
  const dir = versionDir(ens, id);
  for (let round = 0; round < 20; round++) {
    await new Promise((r) => setTimeout(r, 200)); // what the writes set off (informs, a snapshot) lands first
    const snapshot = zxidFiles(dir, 'snapshot').at(-1)?.zxid ?? 0n;
    const writing = fs.readdirSync(dir).some((n) => n.startsWith('snapshot.') && n.endsWith('.tmp'));
    if (!writing && allLogRecords(dir).some((r) => r.zxid > snapshot)) return;
    for (const [p, v] of await writeZnodes(ens.connectString(), 3, from + round * 3)) acked.set(p, v);
  }
  throw new Error(`server ${id}'s log never went past its newest snapshot`);
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

/**
 * A 3-voter ensemble for the tests of one describe block, holding `writes` acknowledged znodes
 * (in `acked`, which the tests add to); torn down, tmpfs mounts included, after the block.
 */
function useEnsemble(observers: number, writes: number): { readonly ens: LocalEnsemble; acked: Map<string, string> } {
  let dir: string | undefined;
  const ctx = { ens: undefined as unknown as LocalEnsemble, acked: new Map<string, string>() };
  beforeAll(async () => {
    dir = tempDir('zablab-damage-ens-');
    ctx.ens = await LocalEnsemble.up({ voters: 3, observers, dir, config: CONFIG, timeoutMs: 60_000 });
    for (const [p, v] of await writeZnodes(ctx.ens.connectString(), writes)) ctx.acked.set(p, v);
  }, 90_000);
  afterAll(async () => {
    await ctx.ens?.down().catch(() => undefined);
    if (dir !== undefined) unmountUnder(dir);
    await teardown(dir);
  }, 60_000);
  return ctx;
}

describe.skipIf(!zablabBuilt())('one damaged or failing replica of 3 voters (and an observer) costs no acknowledged write and no availability', () => {
  const ctx = useEnsemble(1, 60);

  it('a follower whose committed record flipped a byte while it was down keeps its valid prefix, recovers the rest from the leader and serves everything', async () => {
    const [f] = await followers(ctx.ens);
    await writeUntilLogPastSnapshot(ctx.ens, f!, ctx.acked, 4000);
    await ctx.ens.kill(f!, 'SIGTERM');
    const damaged = damageLog(ctx.ens, f!);
    await ctx.ens.start(f!, 60_000);
    const log = logOf(ctx.ens, f!);
    expect(log).toContain('storage damage: keeping the valid history');
    expect(log).toContain(damaged);
    expect(log).toContain('recovered from storage damage');
    expect(fs.existsSync(path.join(versionDir(ctx.ens, f!), 'recovering'))).toBe(false);
    expect(fs.readdirSync(versionDir(ctx.ens, f!)).some((n) => n.startsWith('damaged.log.'))).toBe(true);
    await expectEverywhere(ctx.ens, ctx.acked);
  }, 90_000);

  it('the leader, damaged the same way: the others elect a leader and take writes; it comes back whole', async () => {
    const l = await leaderId(ctx.ens);
    await writeUntilLogPastSnapshot(ctx.ens, l, ctx.acked, 4200);
    await ctx.ens.kill(l, 'SIGTERM');
    await ctx.ens.waitServing(undefined, 30_000);
    for (const [p, v] of await writeZnodes(ctx.ens.connectString(), 30, 1000)) ctx.acked.set(p, v);
    damageLog(ctx.ens, l);
    await ctx.ens.start(l, 60_000);
    expect(logOf(ctx.ens, l)).toContain('recovered from storage damage');
    await expectEverywhere(ctx.ens, ctx.acked);
  }, 90_000);

  it('an observer damaged the same way recovers too', async () => {
    for (const [p, v] of await writeZnodes(ctx.ens.connectString(), 30, 1500)) ctx.acked.set(p, v);
    const observer = ctx.ens.servers.find((s) => s.role === 'observer')!.id;
    await writeUntilLogPastSnapshot(ctx.ens, observer, ctx.acked, 4400);
    await ctx.ens.kill(observer, 'SIGTERM');
    damageLog(ctx.ens, observer);
    await ctx.ens.start(observer, 60_000);
    expect(logOf(ctx.ens, observer)).toContain('recovered from storage damage');
    await expectEverywhere(ctx.ens, ctx.acked);
  }, 90_000);

  it('a follower, then the leader, whose only snapshot is damaged and whose older logs were purged recovers the state from the leader', async () => {
    for (const pick of ['follower', 'leader'] as const) {
      for (const [p, v] of await writeZnodes(ctx.ens.connectString(), 80, pick === 'leader' ? 2500 : 2000)) ctx.acked.set(p, v);
      const id = pick === 'leader' ? await leaderId(ctx.ens) : (await followers(ctx.ens))[1]!;
      await ctx.ens.kill(id, 'SIGTERM');
      const snapshot = damageOnlySnapshot(versionDir(ctx.ens, id));
      await ctx.ens.start(id, 60_000);
      const log = logOf(ctx.ens, id);
      expect(log).toContain('storage damage: keeping the valid history');
      expect(log).toContain(snapshot);
      expect(log).toContain('recovered from storage damage');
      await expectEverywhere(ctx.ens, ctx.acked);
    }
  }, 120_000);

  it.skipIf(!canMount() && process.env['CI'] === undefined)(
    'a follower, then the leader, whose txn log fills its disk exits with one line within 5 s; the others go on; with room again it rejoins',
    async () => {
      expect(canMount(), 'CI runs as root: the tmpfs must be mountable').toBe(true);
      for (const pick of ['follower', 'leader'] as const) {
        const id = pick === 'leader' ? await leaderId(ctx.ens) : (await followers(ctx.ens))[0]!;
        await ctx.ens.kill(id, 'SIGTERM');
        const away = logOnTmpfs(ctx.ens, id);
        try {
          await ctx.ens.start(id, 60_000);
          const pid = ctx.ens.server(id).pid!;
          fillUntilFree(away.dir, 48 * 1024);
          const failedAt = await writeUntilFailure(ctx.ens, id, ctx.acked, `${pick}-enospc-`);
          await expectFatalExit(ctx.ens, id, pid, failedAt, /ENOSPC/);
          // The ensemble goes on without it.
          await poll('the others serving', async () => ((await ctx.ens.leader()) !== null ? true : undefined), 30_000);
          for (const [p, v] of await writeZnodes(ctx.ens.connectString(), 10, pick === 'leader' ? 3000 : 3100)) ctx.acked.set(p, v);
        } finally {
          ctx.ens.server(id).pid = null;
          away.restore();
        }
        await ctx.ens.start(id, 60_000);
        await expectEverywhere(ctx.ens, ctx.acked);
      }
    },
    180_000,
  );
});

describe.skipIf(!zablabBuilt())('damage on a majority of 3 voters', () => {
  const ctx = useEnsemble(0, 120);

  /** Stop all, damage two of them with `damage`, start all: nobody may lead; then repair one. */
  async function majority(damage: (id: number) => void, repaired: number): Promise<void> {
    for (const s of ctx.ens.servers) await ctx.ens.kill(s.id, 'SIGTERM');
    const [a, b, whole] = [1, 2, 3];
    damage(a);
    damage(b);
    for (const id of [a, b, whole]) await ctx.ens.launchServer(id);
    const stalled = await poll(
      'the stall message',
      async () => ctx.ens.servers.map((s) => logOf(ctx.ens, s.id)).find((l) => l.includes('no leader can be elected: servers 1,2 lost acknowledged txns to storage damage')),
      30_000,
    );
    expect(stalled).toContain('zablab repair-log');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await ctx.ens.leader()).toBeNull();
    // The operator accepts the loss on one damaged server: it votes again with what it has.
    await ctx.ens.kill(repaired, 'SIGTERM');
    const repair = await zablab(['repair-log', '--config', ctx.ens.server(repaired).configFile, '--yes']);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toContain('clears the recovering mark');
    await ctx.ens.launchServer(repaired);
    await ctx.ens.waitServing(undefined, 60_000);
    // The whole server had every acknowledged write, and it leads: nothing is lost.
    await expectEverywhere(ctx.ens, ctx.acked);
  }

  it('two damaged txn logs: no leader, one ERROR line that says why; repair-log on one of them, and nothing acknowledged is lost', async () => {
    await majority((id) => void damageLog(ctx.ens, id), 1);
  }, 180_000);

  it('two damaged only-snapshots: the same', async () => {
    for (const [p, v] of await writeZnodes(ctx.ens.connectString(), 80, 5000)) ctx.acked.set(p, v);
    await majority((id) => void damageOnlySnapshot(versionDir(ctx.ens, id)), 2);
  }, 180_000);

  it.skipIf(!canMount() && process.env['CI'] === undefined)(
    'two txn logs that fill their disks: both exit within 5 s; with room again the ensemble comes back with every acknowledged write',
    async () => {
      const victims = [1, 2];
      const moved = [];
      for (const id of victims) {
        await ctx.ens.kill(id, 'SIGTERM');
        moved.push({ id, away: logOnTmpfs(ctx.ens, id) });
      }
      try {
        for (const { id } of moved) await ctx.ens.launchServer(id);
        await ctx.ens.waitServing(undefined, 60_000);
        const pids = moved.map(({ id }) => ({ id, pid: ctx.ens.server(id).pid! }));
        for (const { away } of moved) fillUntilFree(away.dir, 48 * 1024);
        // Both log every proposal, so both fill up; the write that fails is the one no quorum could log.
        const failedAt = await writeUntilFailure(ctx.ens, 3, ctx.acked, 'majority-enospc-');
        for (const { id, pid } of pids) await expectFatalExit(ctx.ens, id, pid, failedAt, /ENOSPC/);
      } finally {
        for (const { id, away } of moved) {
          await ctx.ens.kill(id, 'SIGKILL').catch(() => undefined);
          ctx.ens.server(id).pid = null;
          away.restore();
        }
      }
      for (const { id } of moved) await ctx.ens.launchServer(id);
      await ctx.ens.waitServing(undefined, 60_000);
      await expectEverywhere(ctx.ens, ctx.acked);
    },
    180_000,
  );
});
