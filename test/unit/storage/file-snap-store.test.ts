/** FileSnapStore on real files: ZooKeeper's snapshot format and skipping what is not whole. */
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSnapStore, adler32, nodeFs, type StorageFile, type StorageFs } from '../../../src/storage/index.js';
import { tempDir } from './fixtures.js';

let dir: string;
let cleanup: () => void;
let messages: string[];

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  messages = [];
});
afterEach(() => cleanup());

const open = (): Promise<FileSnapStore> => FileSnapStore.open({ dir, log: (m) => messages.push(m) });

async function saveAll(entries: [bigint, string][]): Promise<void> {
  const store = await open();
  for (const [zxid, body] of entries) await store.save(zxid, [Buffer.from(body)]);
  await store.close();
}

describe('a save held by its publish gate (a learner writing a SNAP before the SNAP is accepted)', () => {
  it('is written and synced while the gate is shut, and becomes the snapshot only once it opens', async () => {
    const store = await open();
    let open_: (yes: boolean) => void = () => undefined;
    const saved = store.save(0x30n, [Buffer.from('a tree')], { publish: new Promise((resolve) => (open_ = resolve)) });
    let done = false;
    void saved.then(() => (done = true));
    // Written out, in its temp file only, and nothing after it may run first.
    for (let i = 0; i < 50 && (await fs.readdir(dir)).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await fs.readdir(dir)).toEqual(['snapshot.30.tmp']);
    const later = store.save(0x31n, [Buffer.from('after it')]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(done).toBe(false);
    expect(await store.list()).toEqual([]);
    open_(true);
    await saved;
    await later;
    expect(await store.list()).toEqual([0x31n, 0x30n]);
    expect((await store.load(0x30n)).problem).toBeNull();
    await store.close();
  });

  it('withdrawn, leaves no file behind, and the store goes on', async () => {
    const store = await open();
    await store.save(0x40n, [Buffer.from('not this one')], { publish: Promise.resolve(false) });
    expect(await fs.readdir(dir)).toEqual([]);
    await store.save(0x41n, [Buffer.from('this one')]);
    expect(await fs.readdir(dir)).toEqual(['snapshot.41']);
    await store.close();
  });
});

describe('FileSnapStore format (ZooKeeper-compatible)', () => {
  it('writes snapshot.<zxid hex>: ZKSN header, body, Adler-32 of all before it, then "/"', async () => {
    const store = await open();
    await store.save(0x10000001an, [Buffer.from('sessions|'), Buffer.from('tree')]);
    await store.close();
    expect(await fs.readdir(dir)).toEqual(['snapshot.10000001a']);
    const bytes = readFileSync(path.join(dir, 'snapshot.10000001a'));
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('ZKSN');
    expect(bytes.readInt32BE(4)).toBe(2);
    expect(bytes.readBigInt64BE(8)).toBe(-1n);
    expect(bytes.subarray(16, 29).toString()).toBe('sessions|tree');
    expect(bytes.readBigInt64BE(29)).toBe(BigInt(adler32(bytes.subarray(0, 29))));
    expect([...bytes.subarray(37)]).toEqual([0, 0, 0, 1, 0x2f]);
    expect(bytes.length).toBe(42);
  });
});

describe('FileSnapStore.loadNewest skips snapshots that are not whole', () => {
  const newest = (): string => path.join(dir, 'snapshot.9');

  beforeEach(async () => {
    await saveAll([
      [5n, 'older, complete'],
      [9n, 'newest, about to be damaged'],
    ]);
  });

  async function expectFallback(reason: string): Promise<void> {
    const store = await open();
    expect(await store.loadNewest()).toEqual({ zxid: 5n, body: Buffer.from('older, complete') });
    await store.close();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(newest());
    expect(messages[0]).toContain(reason);
  }

  it('a partial snapshot (no trailer) falls back to the previous one', async () => {
    const size = (await fs.stat(newest())).size;
    await fs.truncate(newest(), size - 9);
    await expectFallback('no trailer');
  });

  it('a snapshot with a flipped body byte fails its checksum', async () => {
    const bytes = readFileSync(newest());
    bytes[20] = bytes[20]! ^ 0x01;
    await fs.writeFile(newest(), bytes);
    await expectFallback('checksum mismatch');
  });

  it('a file too short to be a snapshot, or with another magic, is skipped', async () => {
    await fs.writeFile(newest(), Buffer.from([1, 2, 3]));
    await expectFallback('only 3 bytes');
    messages = [];
    const bytes = Buffer.alloc(64);
    bytes.write('ZKLG');
    Buffer.from([0, 0, 0, 1, 0x2f]).copy(bytes, 59);
    await fs.writeFile(newest(), bytes);
    await expectFallback('is not ZKSN');
  });

  it('returns null when no snapshot is valid', async () => {
    await fs.truncate(newest(), 10);
    await fs.truncate(path.join(dir, 'snapshot.5'), 10);
    const store = await open();
    expect(await store.loadNewest()).toBeNull();
    expect(await store.list()).toEqual([9n, 5n]);
    await store.close();
    expect(messages).toHaveLength(2);
  });
});

describe('FileSnapStore files', () => {
  it('removes a temp file that a crash left mid-save, and lists only snapshot.<hex> names', async () => {
    await saveAll([[3n, 'three']]);
    await fs.writeFile(path.join(dir, 'snapshot.20.tmp'), 'half a snapshot');
    await fs.writeFile(path.join(dir, 'notes.txt'), 'not mine');
    await fs.writeFile(path.join(dir, 'snapshot.zz'), 'not a zxid');
    const store = await open();
    expect(await store.list()).toEqual([3n]);
    expect((await fs.readdir(dir)).sort()).toEqual(['notes.txt', 'snapshot.3', 'snapshot.zz']);
    expect(messages[0]).toContain('snapshot.20.tmp');
    await store.close();
  });

  it('a failed save removes its temp file', async () => {
    const store = await open();
    function* failing(): Generator<Buffer> {
      yield Buffer.alloc(2 * 1024 * 1024, 1);
      throw new Error('boom');
    }
    await expect(store.save(8n, failing())).rejects.toThrow('boom');
    expect(await fs.readdir(dir)).toEqual([]);
    await store.close();
  });

  it('writes a piece larger than its buffer in chunks, synced every 16 MiB as the file grows, and reads it back whole', async () => {
    let datasyncs = 0;
    const counting: StorageFs = {
      ...nodeFs,
      open: async (file, flags) => {
        const handle = await nodeFs.open(file, flags);
        return Object.assign(Object.create(handle) as StorageFile, {
          datasync: async () => {
            datasyncs++;
            await handle.datasync();
          },
        });
      },
    };
    const body = Buffer.alloc(40 * 1024 * 1024 + 7);
    for (let i = 0; i < body.length; i += 4096) body[i] = i % 251;
    const store = await FileSnapStore.open({ fs: counting, dir, log: () => undefined });
    await store.save(3n, [Buffer.from('sessions|'), body]);
    // Two on the way (16 and 32 MiB), one at the end.
    expect(datasyncs).toBe(3);
    const loaded = await store.loadNewest();
    expect(loaded?.zxid).toBe(3n);
    expect(loaded?.body.equals(Buffer.concat([Buffer.from('sessions|'), body]))).toBe(true);
    await store.close();
  });

  it('creates a missing snapshot directory, parents included', async () => {
    const nested = path.join(dir, 'x', 'version-2');
    const store = await FileSnapStore.open({ dir: nested, log: () => undefined });
    await store.save(1n, [Buffer.from('one')]);
    await store.close();
    expect(await fs.readdir(nested)).toEqual(['snapshot.1']);
  });
});
