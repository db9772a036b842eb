/** autopurge: keep the newest snapRetainCount snapshots and the logs needed to replay from the oldest kept. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSnapStore, FileTxnLog, PurgeTask, purgeTxnLogs, versionDir } from '../../../src/storage/index.js';
import { makeTxn, tempDir } from './fixtures.js';

let root: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir: root, cleanup } = tempDir());
});
afterEach(() => cleanup());

/** Log files starting at each of `starts` (each holding a few txns), under `<dataLogDir>/version-2`. */
async function makeLogs(dataLogDir: string, starts: bigint[]): Promise<void> {
  const log = await FileTxnLog.open({ dir: versionDir(dataLogDir), preAllocSize: 4096, log: () => undefined });
  for (const start of starts) {
    log.rollLog();
    for (let z = start; z < start + 3n; z++) log.append(makeTxn(z));
    await log.commit();
  }
  await log.close();
}

async function makeSnapshots(dataDir: string, zxids: bigint[]): Promise<void> {
  const store = await FileSnapStore.open({ dir: versionDir(dataDir), log: () => undefined });
  for (const z of zxids) await store.save(z, [Buffer.from(`snapshot at ${z}`)]);
  await store.close();
}

async function names(dataDir: string): Promise<string[]> {
  return (await fs.readdir(versionDir(dataDir))).sort();
}

const hexNames = (prefix: string, zs: bigint[]): string[] => zs.map((z) => `${prefix}.${z.toString(16)}`);

describe('purgeTxnLogs', () => {
  it('keeps the newest N snapshots and the log that reaches back to the oldest of them', async () => {
    await makeLogs(root, [0x1n, 0x10n, 0x20n, 0x30n, 0x40n]);
    await makeSnapshots(root, [0x5n, 0x15n, 0x25n, 0x35n, 0x45n]);
    const { removed } = await purgeTxnLogs({ dataDir: root, snapRetainCount: 3 });
    expect(removed.map((f) => path.basename(f)).sort()).toEqual(['log.1', 'log.10', 'snapshot.15', 'snapshot.5']);
    expect(await names(root)).toEqual(
      [...hexNames('log', [0x20n, 0x30n, 0x40n]), ...hexNames('snapshot', [0x25n, 0x35n, 0x45n])].sort(),
    );
  });

  it('works with the txn log in its own dataLogDir', async () => {
    const dataLogDir = path.join(root, 'txnlog');
    const dataDir = path.join(root, 'data');
    await makeLogs(dataLogDir, [0x1n, 0x10n, 0x20n]);
    await makeSnapshots(dataDir, [0x12n, 0x14n, 0x16n, 0x18n]);
    const { removed } = await purgeTxnLogs({ dataDir, dataLogDir, snapRetainCount: 3 });
    expect(removed.map((f) => path.relative(root, f)).sort()).toEqual(
      [path.join('data', 'version-2', 'snapshot.12'), path.join('txnlog', 'version-2', 'log.1')].sort(),
    );
    expect(await names(dataLogDir)).toEqual(['log.10', 'log.20']);
  });

  it('a log starting exactly at the oldest kept snapshot is the one kept', async () => {
    await makeLogs(root, [0x1n, 0xan, 0x15n]);
    await makeSnapshots(root, [0xan, 0x14n, 0x1en]);
    await purgeTxnLogs({ dataDir: root, snapRetainCount: 3 });
    expect(await names(root)).toEqual([...hexNames('log', [0xan, 0x15n]), ...hexNames('snapshot', [0x14n, 0x1en, 0xan])].sort());
  });

  it('a partial snapshot does not count among the kept ones (and is not removed either)', async () => {
    await makeLogs(root, [0x1n, 0x10n, 0x20n, 0x30n, 0x40n]);
    await makeSnapshots(root, [0x5n, 0x15n, 0x25n, 0x35n, 0x45n]);
    const newest = path.join(versionDir(root), 'snapshot.45');
    await fs.truncate(newest, (await fs.stat(newest)).size - 5);
    await purgeTxnLogs({ dataDir: root, snapRetainCount: 3 });
    expect(await names(root)).toEqual(
      [...hexNames('log', [0x10n, 0x20n, 0x30n, 0x40n]), ...hexNames('snapshot', [0x15n, 0x25n, 0x35n, 0x45n])].sort(),
    );
  });

  it('with fewer snapshots than N, still removes what is older than the oldest snapshot', async () => {
    await makeLogs(root, [0x1n, 0x10n, 0x20n]);
    await makeSnapshots(root, [0x15n, 0x25n]);
    await purgeTxnLogs({ dataDir: root, snapRetainCount: 3 });
    expect(await names(root)).toEqual([...hexNames('log', [0x10n, 0x20n]), ...hexNames('snapshot', [0x15n, 0x25n])].sort());
  });

  it('with no snapshot, removes nothing', async () => {
    await makeLogs(root, [0x1n, 0x10n]);
    expect(await purgeTxnLogs({ dataDir: root, snapRetainCount: 3 })).toEqual({ removed: [] });
    expect(await purgeTxnLogs({ dataDir: path.join(root, 'missing'), snapRetainCount: 3 })).toEqual({ removed: [] });
  });

  it('refuses to keep fewer than 3 snapshots, as PurgeTxnLog does', async () => {
    await expect(purgeTxnLogs({ dataDir: root, snapRetainCount: 2 })).rejects.toMatchObject({
      code: 'ZABLAB_STORAGE_BAD_ARGUMENT',
    });
  });
});

describe('PurgeTask', () => {
  beforeEach(async () => {
    await makeLogs(root, [0x1n, 0x10n, 0x20n, 0x30n, 0x40n]);
    await makeSnapshots(root, [0x5n, 0x15n, 0x25n, 0x35n, 0x45n]);
  });

  it('purges when started, and then every purgeInterval hours', async () => {
    const messages: string[] = [];
    const task = new PurgeTask({ dataDir: root, snapRetainCount: 3, purgeIntervalHours: 1, log: (m) => messages.push(m) });
    task.start();
    // Joins the run that start() began.
    await task.runOnce();
    task.stop();
    expect(await names(root)).not.toContain('snapshot.5');
    expect(await names(root)).not.toContain('log.1');
    expect(messages.some((m) => m.includes('snapshot.5'))).toBe(true);
  });

  it('purgeInterval 0 (the default) schedules nothing', async () => {
    const messages: string[] = [];
    const before = await names(root);
    const task = new PurgeTask({ dataDir: root, snapRetainCount: 3, purgeIntervalHours: 0, log: (m) => messages.push(m) });
    task.start();
    await new Promise((r) => setImmediate(r));
    task.stop();
    expect(await names(root)).toEqual(before);
    expect(messages[0]).toContain('not scheduled');
  });

  it('raises a snapRetainCount below 3 to 3, as ZooKeeper does', async () => {
    const messages: string[] = [];
    const task = new PurgeTask({ dataDir: root, snapRetainCount: 1, purgeIntervalHours: 0, log: (m) => messages.push(m) });
    await task.runOnce();
    expect(messages[0]).toContain('snapRetainCount 1');
    expect((await names(root)).filter((n) => n.startsWith('snapshot'))).toHaveLength(3);
  });

  it('rejects a negative interval', () => {
    expect(() => new PurgeTask({ dataDir: root, snapRetainCount: 3, purgeIntervalHours: -1 })).toThrow(/purgeInterval/);
  });
});
