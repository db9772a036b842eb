/** Txns of every shape the log must carry, and temp directories that clean up after themselves. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OpCode, Perms, type LoggedTxn } from '../../../src/jute/index.js';

const WORLD_ANYONE = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];

/** A txn at `zxid`; the shape varies with the zxid so a run of them covers every body kind. */
export function makeTxn(zxid: bigint, dataSize = 16): LoggedTxn {
  const hdr = { clientId: 0x1234n, cxid: Number(zxid % 100000n), zxid, time: 1_700_000_000_000n + zxid, type: 0 };
  const data = Buffer.alloc(dataSize, Number(zxid % 251n));
  const path = `/node-${zxid.toString(16)}`;
  switch (Number(zxid % 6n)) {
    case 0:
      return { hdr: { ...hdr, type: OpCode.create }, body: { type: OpCode.create, record: { path, data, acl: WORLD_ANYONE, ephemeral: false, parentCVersion: 3 } } };
    case 1:
      return { hdr: { ...hdr, type: OpCode.setData }, body: { type: OpCode.setData, record: { path, data, version: 7 } }, digest: { version: 2, treeDigest: 0xdeadbeefn + zxid } };
    case 2:
      return { hdr: { ...hdr, type: OpCode.delete }, body: { type: OpCode.delete, record: { path } } };
    case 3:
      return { hdr: { ...hdr, type: OpCode.createSession }, body: { type: OpCode.createSession, record: { timeOut: 30000 } } };
    case 4:
      return {
        hdr: { ...hdr, type: OpCode.multi },
        body: {
          type: OpCode.multi,
          txns: [
            { type: OpCode.create, record: { path: `${path}/a`, data: null, acl: WORLD_ANYONE, ephemeral: true, parentCVersion: 1 } },
            { type: OpCode.setData, record: { path, data, version: 1 } },
          ],
        },
      };
    default:
      return { hdr: { ...hdr, type: OpCode.closeSession }, body: { type: OpCode.closeSession, record: { paths2Delete: [path] } } };
  }
}

/** Data size of the txn at `zxid` in the crash test: varied, so records straddle pre-allocation steps. */
export function crashTxnSize(zxid: bigint): number {
  return Number((zxid * 37n) % 3000n);
}

export function zxids(txns: Iterable<LoggedTxn>): bigint[] {
  return [...txns].map((t) => t.hdr.zxid);
}

export async function collect(it: AsyncIterable<LoggedTxn>): Promise<LoggedTxn[]> {
  const out: LoggedTxn[] = [];
  for await (const t of it) out.push(t);
  return out;
}

export function range(from: bigint, to: bigint): bigint[] {
  const out: bigint[] = [];
  for (let z = from; z <= to; z++) out.push(z);
  return out;
}

/** A fresh directory under the OS temp dir; call `cleanup()` in afterEach. */
export function tempDir(prefix = 'zablab-storage-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
