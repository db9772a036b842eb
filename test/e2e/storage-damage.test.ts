/**
 * Storage damage and storage errors on real files and real processes (issue: an acknowledged
 * write is never lost at the edges). Standalone: damage to an acknowledged record or to the
 * only usable snapshot is refused with one line that names it, the files stay as they were,
 * and `zablab repair-log` is the one explicit way past it; a txn log that fails makes the
 * server exit within seconds. The ensemble cases live in storage-damage-ensemble.test.ts.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/client/index.js';
import { allLogRecords, canMount, damageOnlySnapshot, damageRecord, fillUntilFree, logRecords, mountTmpfs, zxidFiles } from '../helpers/disk-damage.js';
import { makeTempDir } from '../helpers/server-process.js';
import { ZABLAB_CLI, startZablab, type ServerHandle } from '../helpers/zablab.js';
import { readZnodes, waitGone, writeZnodes } from '../helpers/znodes.js';
import { zablab } from '../integration/ensemble/support.js';

const EXIT_WITHIN_MS = 5_000;

/** Run `zablab server` until it exits (it must, for a damaged disk); its exit code and stderr. */
function runUntilExit(cfgFile: string, timeoutMs = 20_000): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [ZABLAB_CLI, 'server', '--config', cfgFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not exit within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const stopped: ServerHandle[] = [];
afterEach(async () => {
  for (const s of stopped.splice(0)) await s.stop().catch(() => undefined);
});

describe('standalone: damage to acknowledged history is refused, never cut', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  /** A stopped standalone server's dataDir holding `n` acknowledged znodes, and its zoo.cfg. */
  async function serverWith(n: number, config: Record<string, string> = {}): Promise<{ dataDir: string; cfgFile: string; acked: Map<string, string> }> {
    const dataDir = makeTempDir('zablab-damage-');
    dirs.push(dataDir);
    const server = await startZablab({ dataDir, config });
    const acked = await writeZnodes(server.connectString, n);
    await server.stop();
    return { dataDir, cfgFile: path.join(dataDir, 'zoo.cfg'), acked };
  }

  it('a flipped byte in a committed record: exit 3 and one line naming the file, offset and zxids; the log is untouched; repair-log lists the loss, --yes cuts it', async () => {
    const { dataDir, cfgFile, acked } = await serverWith(150);
    const vdir = path.join(dataDir, 'version-2');
    const records = allLogRecords(vdir).filter((r) => r.zxid > 1n);
    const victim = damageRecord(records[50]!);
    const before = fs.readFileSync(victim.file);
    const run = await runUntilExit(cfgFile);
    expect(run.code).toBe(3);
    const errors = run.stderr.split('\n').filter((l) => / ERROR /.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(victim.file);
    expect(errors[0]).toContain(`offset ${victim.offset}`);
    expect(errors[0]).toContain('zablab repair-log --config');
    expect(errors[0]).toMatch(/whole only through zxid 0x[0-9a-f]+/);
    expect(fs.readFileSync(victim.file).equals(before)).toBe(true);

    const dry = await zablab(['repair-log', '--config', cfgFile]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('DAMAGED');
    expect(dry.stdout).toMatch(/drops \d+ readable txns/);
    expect(dry.stdout).toContain('dry run: nothing changed');
    expect(fs.readFileSync(victim.file).equals(before)).toBe(true);

    const done = await zablab(['repair-log', '--config', cfgFile, '--yes']);
    expect(done.code).toBe(0);
    expect(fs.readdirSync(vdir).some((n) => n.startsWith('damaged.log.'))).toBe(true);
    const server = await startZablab({ dataDir, config: readCfg(cfgFile) });
    stopped.push(server);
    const served = await readZnodes(server.connectString);
    // Exactly the prefix before the damaged record: every znode created before it, none after.
    expect(served.size).toBeGreaterThan(0);
    expect(served.size).toBeLessThan(acked.size);
    for (const [p, v] of served) expect(acked.get(p)).toBe(v);
  });

  it('a flipped byte in the very last acknowledged record is refused too (the batch end marker after it tells it from a torn write)', async () => {
    const { dataDir, cfgFile } = await serverWith(20);
    const last = allLogRecords(path.join(dataDir, 'version-2')).at(-1)!;
    damageRecord(last);
    const run = await runUntilExit(cfgFile);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(last.file);
  });

  it('the only snapshot damaged, the older logs purged: refused (ZooKeeper: "Not able to find valid snapshots")', async () => {
    const { dataDir, cfgFile } = await serverWith(300, { snapCount: '40' });
    const snapshot = damageOnlySnapshot(path.join(dataDir, 'version-2'));
    const run = await runUntilExit(cfgFile);
    expect(run.code).toBe(3);
    const errors = run.stderr.split('\n').filter((l) => / ERROR /.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(snapshot);
    expect(errors[0]).toContain('is damaged');
    expect(fs.existsSync(snapshot)).toBe(true);
  });

  it('a torn tail is not damage: a server killed mid-write starts and serves every acknowledged znode', async () => {
    const { dataDir, cfgFile, acked } = await serverWith(30);
    const vdir = path.join(dataDir, 'version-2');
    const newest = zxidFiles(vdir, 'log').at(-1)!.file;
    const last = logRecords(newest).at(-1)!;
    // Half a record after the last one, as a batch cut short by a power loss leaves it.
    const fd = fs.openSync(newest, 'r+');
    fs.writeSync(fd, fs.readFileSync(newest).subarray(last.offset, last.offset + Math.floor((last.end - last.offset) / 2)), 0, undefined, last.end);
    fs.closeSync(fd);
    const server = await startZablab({ dataDir, config: readCfg(cfgFile) });
    stopped.push(server);
    expect(await readZnodes(server.connectString)).toEqual(acked);
  });
});

describe.skipIf(!canMount() && process.env['CI'] === undefined)('standalone: a txn log that fails makes the server exit', () => {
  it('ENOSPC (its txn log on a full tmpfs): one line, exit 1 within 5 s, clients dropped; with room again every acknowledged write is there', async () => {
    expect(canMount(), 'CI runs as root: the tmpfs must be mountable').toBe(true);
    const dataDir = makeTempDir('zablab-enospc-');
    const logs = mountTmpfs(path.join(dataDir, 'txnlog'), 2 * 1024 * 1024);
    try {
      const server = await startZablab({ dataDir, config: { dataLogDir: logs.dir, preAllocSize: '16', snapCount: '100000' } });
      stopped.push(server);
      const acked = await writeZnodes(server.connectString, 20);
      fillUntilFree(logs.dir, 48 * 1024);
      const client = await ZkClient.connect({ connectString: server.connectString, connectTimeoutMs: 10_000 });
      let failedAt = 0;
      for (let i = 0; i < 10_000 && failedAt === 0; i++) {
        const p = `/d/big${i}`;
        try {
          await client.create(p, Buffer.alloc(4096, 7));
          acked.set(p, Buffer.alloc(4096, 7).toString());
        } catch {
          failedAt = Date.now();
        }
      }
      await client.close().catch(() => undefined);
      expect(failedAt).toBeGreaterThan(0);
      await waitGone(server.pid, failedAt + EXIT_WITHIN_MS - Date.now());
      const log = fs.readFileSync(path.join(dataDir, 'server.log'), 'utf8');
      const fatal = log.split('\n').filter((l) => /fatal, stopping/.test(l));
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toContain('ENOSPC');
      expect(fatal[0]).toContain('exitCode=1');
      // Room again: the same files on a bigger disk.
      fs.rmSync(path.join(logs.dir, 'filler'));
      const again = await startZablab({ dataDir, config: { ...readCfg(path.join(dataDir, 'zoo.cfg')) } });
      stopped.push(again);
      const served = await readZnodes(again.connectString);
      for (const [p, v] of acked) expect(served.get(p), p).toBe(v);
    } finally {
      for (const s of stopped.splice(0)) await s.stop().catch(() => undefined);
      logs.umount();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('EMFILE (the process runs out of file descriptors): it exits non-zero within 5 s with one line', async () => {
    const server = await startZablab({ config: { snapCount: '40' } });
    stopped.push(server);
    const client = await ZkClient.connect({ connectString: server.connectString, connectTimeoutMs: 10_000 });
    await client.create('/d', null);
    const open = fs.readdirSync(`/proc/${server.pid}/fd`).length;
    await execPrlimit(server.pid, open);
    let failedAt = 0;
    for (let i = 0; i < 10_000 && failedAt === 0; i++) {
      try {
        await client.create(`/d/n${i}`, Buffer.from('x'));
      } catch {
        failedAt = Date.now();
      }
    }
    await client.close().catch(() => undefined);
    expect(failedAt).toBeGreaterThan(0);
    await waitGone(server.pid, failedAt + EXIT_WITHIN_MS - Date.now());
    const log = fs.readFileSync(path.join(server.dataDir, 'server.log'), 'utf8');
    const fatal = log.split('\n').filter((l) => /fatal, stopping/.test(l));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain('EMFILE');
    expect(fatal[0]).toMatch(/exitCode=(1|10)/);
  });
});

function readCfg(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

async function execPrlimit(pid: number, nofile: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('prlimit', ['--pid', String(pid), `--nofile=${nofile}:${nofile}`], { stdio: 'ignore' });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`prlimit exited ${code}`))));
    child.once('error', reject);
  });
}
