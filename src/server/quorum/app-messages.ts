/**
 * Server-level messages between a learner and its leader, carried as ZAB `app` payloads on
 * the quorum channel (FIFO with proposals and commits): forwarded client requests, replies
 * to `sync`, session revalidation, and the learner's session pings (ZooKeeper's REQUEST,
 * SYNC, REVALIDATE and PING-with-sessions packets).
 */
import { JuteReader, JuteWriter, JuteDecodeError } from '../../jute/index.js';
import type { AuthId } from '../../tree/index.js';

export type AppMessage =
  | { kind: 'request'; sessionId: bigint; cxid: number; type: number; body: Buffer; authInfo: AuthId[]; trace: string }
  | { kind: 'syncReply'; sessionId: bigint; cxid: number; path: string }
  | { kind: 'revalidate'; reqId: number; sessionId: bigint; timeoutMs: number }
  | { kind: 'revalidateReply'; reqId: number; valid: boolean }
  | { kind: 'sessions'; sessions: [bigint, number][] };

const CODES = { request: 1, syncReply: 2, revalidate: 3, revalidateReply: 4, sessions: 5 } as const;
/** A learner reports at most this many sessions per ping (more go in the next one). */
export const SESSIONS_PER_PING_MAX = 50_000;

export function encodeApp(m: AppMessage): Uint8Array {
  const w = new JuteWriter(64);
  w.writeByte(CODES[m.kind]);
  switch (m.kind) {
    case 'request':
      w.writeLong(m.sessionId);
      w.writeInt(m.cxid);
      w.writeInt(m.type);
      w.writeBuffer(m.body);
      w.writeInt(m.authInfo.length);
      for (const a of m.authInfo) {
        w.writeString(a.scheme);
        w.writeString(a.id);
      }
      w.writeString(m.trace);
      break;
    case 'syncReply':
      w.writeLong(m.sessionId);
      w.writeInt(m.cxid);
      w.writeString(m.path);
      break;
    case 'revalidate':
      w.writeInt(m.reqId);
      w.writeLong(m.sessionId);
      w.writeInt(m.timeoutMs);
      break;
    case 'revalidateReply':
      w.writeInt(m.reqId);
      w.writeBool(m.valid);
      break;
    case 'sessions':
      w.writeInt(m.sessions.length);
      for (const [id, t] of m.sessions) {
        w.writeLong(id);
        w.writeInt(t);
      }
      break;
  }
  return w.toBuffer();
}

export function decodeApp(bytes: Uint8Array): AppMessage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new JuteReader(buf);
  const code = r.readByte();
  switch (code) {
    case CODES.request: {
      const sessionId = r.readLong();
      const cxid = r.readInt();
      const type = r.readInt();
      const body = r.readBuffer() ?? Buffer.alloc(0);
      const n = r.readCount();
      const authInfo: AuthId[] = [];
      for (let i = 0; i < n; i++) authInfo.push({ scheme: r.readString() ?? '', id: r.readString() ?? '' });
      return { kind: 'request', sessionId, cxid, type, body, authInfo, trace: r.readString() ?? '' };
    }
    case CODES.syncReply:
      return { kind: 'syncReply', sessionId: r.readLong(), cxid: r.readInt(), path: r.readString() ?? '' };
    case CODES.revalidate:
      return { kind: 'revalidate', reqId: r.readInt(), sessionId: r.readLong(), timeoutMs: r.readInt() };
    case CODES.revalidateReply:
      return { kind: 'revalidateReply', reqId: r.readInt(), valid: r.readBool() };
    case CODES.sessions: {
      const n = r.readCount();
      if (n > SESSIONS_PER_PING_MAX) throw new JuteDecodeError(`too many sessions in one ping: ${n}`);
      const sessions: [bigint, number][] = [];
      for (let i = 0; i < n; i++) sessions.push([r.readLong(), r.readInt()]);
      return { kind: 'sessions', sessions };
    }
    default:
      throw new JuteDecodeError(`unknown learner message code ${code}`);
  }
}
