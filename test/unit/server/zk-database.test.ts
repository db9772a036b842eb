/**
 * ZKDatabase's snapshots over the real storage code (MemoryFs): one asked for while another
 * is written is taken after it (through the host's `again`), not skipped.
 */
import { describe, expect, it } from 'vitest';
import { FileSnapStore, FileTxnLog, MemoryFs } from '../../../src/storage/index.js';
import { ZKDatabase } from '../../../src/server/zk-database.js';
import { createLogger } from '../../../src/server/log.js';

const DIR = '/data/version-2';

async function database(): Promise<{ db: ZKDatabase; snaps: FileSnapStore }> {
  const fs = new MemoryFs();
  const snaps = await FileSnapStore.open({ fs, dir: DIR, log: () => undefined });
  const txnLog = await FileTxnLog.open({ fs, dir: DIR, preAllocSize: 4096, log: () => undefined });
  return { db: new ZKDatabase(txnLog, snaps, createLogger({ level: 'error' })), snaps };
}

describe('ZKDatabase snapshots', () => {
  it('a snapshot asked for while one is written follows it, once however often it was asked', async () => {
    const { db, snaps } = await database();
    let again = 0;
    db.again = () => {
      again++;
      void db.takeSnapshot();
    };
    const first = db.takeSnapshot();
    expect(await db.takeSnapshot()).toBeNull();
    expect(await db.takeSnapshot()).toBeNull();
    expect((await first)?.zxid).toBe(0n);
    await new Promise((r) => setTimeout(r, 50));
    expect(again).toBe(1);
    expect(await snaps.list()).toEqual([0n]);
    await db.close();
  });

  it('nothing follows once the database is closing', async () => {
    const { db } = await database();
    let again = 0;
    db.again = () => again++;
    const first = db.takeSnapshot();
    void db.takeSnapshot();
    await db.close();
    await first;
    expect(again).toBe(0);
  });
});
