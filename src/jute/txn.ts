/**
 * Transactions: what a write becomes once the pipeline has decided it. The same bytes go
 * into the txn log and (in an ensemble) into PROPOSAL packets: TxnHeader, then the body
 * record for `hdr.type`, then an optional TxnDigest — ZooKeeper's layout.
 */
import { JuteReader, JuteWriter, JuteDecodeError } from './archive.js';
import { OpCode } from './opcodes.js';
import {
  CheckVersionTxn,
  CloseSessionTxn,
  CreateContainerTxn,
  CreateSessionTxn,
  CreateTTLTxn,
  CreateTxn,
  DeleteTxn,
  ErrorTxn,
  SetACLTxn,
  SetDataTxn,
  TxnDigest,
  TxnHeader,
} from './records.js';
import type { Codec } from './schema.js';

export type TxnBody =
  | { type: typeof OpCode.create; record: CreateTxn }
  // create2 is logged with its own type (ZooKeeper does so): same record, the reply carries a Stat.
  | { type: typeof OpCode.create2; record: CreateTxn }
  | { type: typeof OpCode.createContainer; record: CreateContainerTxn }
  | { type: typeof OpCode.createTTL; record: CreateTTLTxn }
  | { type: typeof OpCode.delete; record: DeleteTxn }
  | { type: typeof OpCode.deleteContainer; record: DeleteTxn }
  | { type: typeof OpCode.setData; record: SetDataTxn }
  | { type: typeof OpCode.setACL; record: SetACLTxn }
  | { type: typeof OpCode.check; record: CheckVersionTxn }
  | { type: typeof OpCode.multi; txns: TxnBody[] }
  | { type: typeof OpCode.createSession; record: CreateSessionTxn }
  | { type: typeof OpCode.closeSession; record: CloseSessionTxn }
  | { type: typeof OpCode.error; record: ErrorTxn };

/** A txn as logged: header (carries zxid, session, time, type), body, optional digest. */
export interface LoggedTxn {
  hdr: TxnHeader;
  body: TxnBody;
  digest?: TxnDigest;
}

const bodyCodecs = new Map<number, Codec<any>>([
  [OpCode.create, CreateTxn],
  [OpCode.create2, CreateTxn],
  [OpCode.createContainer, CreateContainerTxn],
  [OpCode.createTTL, CreateTTLTxn],
  [OpCode.delete, DeleteTxn],
  [OpCode.deleteContainer, DeleteTxn],
  [OpCode.setData, SetDataTxn],
  [OpCode.setACL, SetACLTxn],
  [OpCode.check, CheckVersionTxn],
  [OpCode.createSession, CreateSessionTxn],
  [OpCode.closeSession, CloseSessionTxn],
  [OpCode.error, ErrorTxn],
]);

export function writeTxnBody(w: JuteWriter, body: TxnBody): void {
  if (body.type === OpCode.multi) {
    // MultiTxn { vector<Txn{int type; buffer data}> }
    w.writeInt(body.txns.length);
    for (const sub of body.txns) {
      w.writeInt(sub.type);
      const inner = new JuteWriter(64);
      writeTxnBody(inner, sub);
      w.writeBuffer(inner.view());
    }
    return;
  }
  const codec = bodyCodecs.get(body.type);
  if (!codec) throw new JuteDecodeError(`no txn body for type ${body.type}`);
  codec.write(w, body.record);
}

export function readTxnBody(r: JuteReader, type: number): TxnBody {
  if (type === OpCode.multi) {
    const n = r.readCount();
    const txns: TxnBody[] = [];
    for (let i = 0; i < n; i++) {
      const subType = r.readInt();
      // A view, not a copy: only its fields outlive this loop, and they are copied as read.
      const data = r.readBufferView() ?? Buffer.alloc(0);
      txns.push(readTxnBody(new JuteReader(data), subType));
    }
    return { type: OpCode.multi, txns };
  }
  const codec = bodyCodecs.get(type);
  if (!codec) throw new JuteDecodeError(`unknown txn type ${type}`);
  return { type, record: codec.read(r) } as TxnBody;
}

export function writeLoggedTxn(w: JuteWriter, t: LoggedTxn): void {
  TxnHeader.write(w, t.hdr);
  writeTxnBody(w, t.body);
  if (t.digest) TxnDigest.write(w, t.digest);
}

export function encodeLoggedTxn(t: LoggedTxn): Buffer {
  const w = new JuteWriter(128);
  writeLoggedTxn(w, t);
  return w.toBuffer();
}

/** Decode a whole txn entry (header, body and, when bytes remain, the digest). */
export function decodeLoggedTxn(buf: Buffer): LoggedTxn {
  const r = new JuteReader(buf);
  const hdr = TxnHeader.read(r);
  const body = readTxnBody(r, hdr.type);
  const t: LoggedTxn = { hdr, body };
  if (r.remaining >= 12) t.digest = TxnDigest.read(r);
  return t;
}
