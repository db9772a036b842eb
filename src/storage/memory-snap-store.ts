/** Snapshots in memory, with the file store's contract: for tests and the simulator. */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { StorageError } from './errors.js';
import type { SnapStore } from './snap-store.js';

export class MemorySnapStore implements SnapStore {
  private readonly snapshots = new Map<bigint, Buffer>();
  private saving: Promise<void> = Promise.resolve();
  private closed = false;

  save(zxid: bigint, body: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (zxid < 0n || zxid >= 1n << 64n) {
      return Promise.reject(new StorageError('ZABLAB_STORAGE_BAD_ARGUMENT', `snapshot zxid ${zxid} is not a 64-bit zxid`));
    }
    const run = this.saving.then(() => this.write(zxid, body));
    this.saving = run.catch(() => undefined);
    return run;
  }

  async loadNewest(): Promise<{ zxid: bigint; body: Buffer } | null> {
    if (this.closed) throw closedError();
    const newest = (await this.list())[0];
    if (newest === undefined) return null;
    return { zxid: newest, body: Buffer.from(this.snapshots.get(newest)!) };
  }

  async list(): Promise<bigint[]> {
    if (this.closed) throw closedError();
    return [...this.snapshots.keys()].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.saving;
  }

  private async write(zxid: bigint, body: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
    const pieces: Buffer[] = [];
    const take = async (piece: Buffer): Promise<void> => {
      if (!Buffer.isBuffer(piece)) {
        throw new StorageError('ZABLAB_STORAGE_BAD_ARGUMENT', 'snapshot body pieces must be Buffers');
      }
      pieces.push(Buffer.from(piece));
      await nextTurn();
    };
    if (Symbol.asyncIterator in body) {
      for await (const piece of body) await take(piece);
    } else {
      for (const piece of body) await take(piece);
    }
    // Only a complete snapshot becomes visible, as with the file store's rename.
    this.snapshots.set(zxid, Buffer.concat(pieces));
  }
}

function closedError(): StorageError {
  return new StorageError('ZABLAB_STORAGE_CLOSED', 'the snapshot store is closed');
}
