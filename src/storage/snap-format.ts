/**
 * The snapshot file format, as ZooKeeper writes it (FileSnap + SnapStream, "checked" mode):
 *
 *   FileHeader { int magic 'ZKSN'; int version 2; long dbid -1 }
 *   body (sessions + data tree, produced by the caller)
 *   long checksum (Adler-32 of every byte before it) | string "/" (int 1, '/')
 */
import { FileHeader, encode } from '../jute/index.js';

/** 'ZKSN' as a big-endian int. */
export const SNAP_MAGIC = 0x5a4b534e;
export const SNAP_VERSION = 2;
export const SNAP_DBID = -1n;
export const SNAP_HEADER_SIZE = 16;
/** The seal after the checksum: the jute string "/". */
export const SNAP_SEAL = Buffer.from([0, 0, 0, 1, 0x2f]);
export const SNAP_TRAILER_SIZE = 8 + SNAP_SEAL.length;

export function encodeSnapHeader(): Buffer {
  return encode(FileHeader, { magic: SNAP_MAGIC, version: SNAP_VERSION, dbid: SNAP_DBID });
}

export function encodeSnapTrailer(checksum: number): Buffer {
  const out = Buffer.alloc(SNAP_TRAILER_SIZE);
  out.writeBigInt64BE(BigInt(checksum), 0);
  SNAP_SEAL.copy(out, 8);
  return out;
}

/**
 * Why a whole snapshot file is not valid, or null when it is. `prefixChecksum` is the
 * Adler-32 of every byte before the trailer (the caller computes it while reading).
 */
export function snapshotProblem(file: Buffer, prefixChecksum: number): string | null {
  if (file.length < SNAP_HEADER_SIZE + SNAP_TRAILER_SIZE) {
    return `only ${file.length} bytes; header and trailer alone take ${SNAP_HEADER_SIZE + SNAP_TRAILER_SIZE}`;
  }
  const magic = file.readInt32BE(0);
  if (magic !== SNAP_MAGIC) return `magic 0x${(magic >>> 0).toString(16)} is not ZKSN`;
  const version = file.readInt32BE(4);
  if (version !== SNAP_VERSION) return `version ${version} is not ${SNAP_VERSION}`;
  if (!file.subarray(file.length - SNAP_SEAL.length).equals(SNAP_SEAL)) {
    return 'no trailer: the snapshot is partial (the writer stopped before finishing it)';
  }
  const end = file.length - SNAP_TRAILER_SIZE;
  const stored = file.readBigInt64BE(end);
  const actual = prefixChecksum;
  if (BigInt(actual) !== stored) {
    return `checksum mismatch: stored 0x${BigInt.asUintN(64, stored).toString(16)}, computed 0x${actual.toString(16)}`;
  }
  return null;
}
