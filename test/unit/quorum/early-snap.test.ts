/**
 * A SNAP written and decoded while it arrives (ZabHost.snapArriving) leaves nothing behind when
 * the peer does not take it, when it never completes, or when the server closes meanwhile: no
 * snapshot file, no temp file, and the snapshot store is not held up for the server's own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/server/log.js';
import { ArrivingSnapshot } from '../../../src/server/quorum/arriving-snapshot.js';
import { ZabHost } from '../../../src/server/quorum/zab-host.js';
import { MemoryFs } from '../../../src/storage/index.js';
import { QuorumVerifier } from '../../../src/zab/index.js';

const DIR = '/data/version-2';
let hosts: ZabHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  hosts = [];
});

async function looking(): Promise<{ host: ZabHost; fs: MemoryFs; fatal: unknown[] }> {
  const fs = new MemoryFs();
  const fatal: unknown[] = [];
  const host = await ZabHost.open({
    peer: {
      id: 1,
      quorum: new QuorumVerifier([1, 2, 3], []),
      ticks: { finalizeWait: 1, notificationMin: 1, notificationMax: 10, ping: 1, syncLimit: 5, initLimit: 10 },
      committedLogMax: 100,
    },
    layout: { fs, dataDir: '/data', snapDir: DIR, logDir: DIR, preAllocSize: 0, maxTxnSize: 64 * 1024 },
    snapCount: 1_000_000,
    log: createLogger({ serverId: 1, level: 'error', write: () => undefined }),
    random: () => 0.5,
    schedule: (fn) => setImmediate(fn),
    send: () => undefined,
    apply: () => undefined,
    onEvent: () => undefined,
    onFatal: (err) => void fatal.push(err),
  });
  hosts.push(host);
  return { host, fs, fatal };
}

/** A real snapshot body (the host's own empty tree), in two pieces. */
async function snapshotPieces(host: ZabHost): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  await host.db.snapshotChunks(1 << 20, async (c) => void chunks.push(Buffer.from(c)), async () => undefined);
  const whole = Buffer.concat(chunks);
  const half = Math.floor(whole.length / 2);
  return [whole.subarray(0, half), whole.subarray(half)];
}

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** The store is free: a snapshot of the server's own is written (it would wait behind a held save). */
async function storeIsFree(host: ZabHost): Promise<void> {
  const taken = await Promise.race([host.db.takeSnapshot(), new Promise<'held'>((resolve) => setTimeout(() => resolve('held'), 2000))]);
  expect(taken).not.toBe('held');
}

describe('a SNAP begun as it arrives', () => {
  it('that the peer does not take (it is LOOKING) is dropped: no file of it, and the store is free', async () => {
    const { host, fs, fatal } = await looking();
    const pieces = await snapshotPieces(host);
    const arriving = new ArrivingSnapshot(0x500000007n);
    host.snapArriving(arriving);
    for (const p of pieces) arriving.add(p);
    arriving.complete();
    await turns(20);
    host.step(2, { kind: 'snap', zxid: 0x500000007n, snapshot: arriving.pieces });
    expect(arriving.abandoned).toBe(true);
    await turns(20);
    expect((await fs.readdir(DIR)).filter((f) => f.startsWith('snapshot.'))).toEqual([]);
    await storeIsFree(host);
    expect((await fs.readdir(DIR)).filter((f) => f.startsWith('snapshot.'))).toEqual(['snapshot.0']);
    expect(fatal).toEqual([]);
  });

  it('that never completes (its connection went) is dropped the same way', async () => {
    const { host, fs, fatal } = await looking();
    const pieces = await snapshotPieces(host);
    const arriving = new ArrivingSnapshot(0x500000007n);
    host.snapArriving(arriving);
    arriving.add(pieces[0]!);
    await turns(20);
    arriving.abandon();
    await turns(20);
    expect((await fs.readdir(DIR)).filter((f) => f.includes('500000007'))).toEqual([]);
    await storeIsFree(host);
    expect(fatal).toEqual([]);
  });

  it('still arriving when the server closes does not hold the close', async () => {
    const { host } = await looking();
    const pieces = await snapshotPieces(host);
    const arriving = new ArrivingSnapshot(0x500000007n);
    host.snapArriving(arriving);
    arriving.add(pieces[0]!);
    await turns(5);
    hosts = [];
    const closed = await Promise.race([host.close().then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('held'), 2000))]);
    expect(closed).toBe('closed');
    expect(arriving.abandoned).toBe(true);
  });
});
