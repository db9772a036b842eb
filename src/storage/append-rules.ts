/** The checks every TxnLog makes on append(), with the same codes and messages. */
import { StorageError } from './errors.js';

/** Appended but not yet committed: beyond this, the caller forgot to commit(). */
export const MAX_PENDING_BYTES = 256 * 1024 * 1024;

const hex = (zxid: bigint): string => `0x${zxid.toString(16)}`;

export function checkZxidOrder(zxid: bigint, lastZxid: bigint): void {
  if (zxid <= lastZxid) {
    throw new StorageError(
      'ZABLAB_STORAGE_ZXID_ORDER',
      `append of zxid ${hex(zxid)} after ${hex(lastZxid)}: zxids in the txn log must increase`,
    );
  }
}

export function checkEntrySize(zxid: bigint, entryBytes: number, maxTxnSize: number, pendingBytes: number): void {
  if (entryBytes > maxTxnSize) {
    throw new StorageError(
      'ZABLAB_STORAGE_TXN_TOO_LARGE',
      `txn ${hex(zxid)} is ${entryBytes} bytes, over the ${maxTxnSize}-byte limit; raise jute.maxbuffer to log it`,
    );
  }
  if (pendingBytes + entryBytes > MAX_PENDING_BYTES) {
    throw new StorageError(
      'ZABLAB_STORAGE_BACKLOG',
      `more than ${MAX_PENDING_BYTES} bytes appended without commit(); commit before appending more`,
    );
  }
}
