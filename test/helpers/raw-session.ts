/**
 * The client protocol by hand, for tests that must send what a well-behaved client never
 * would: chosen (even repeated) xids, frames in tiny segments, half a ConnectRequest.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConnectRequest,
  ConnectResponse,
  CreateRequest,
  GetDataRequest,
  GetSASLRequest,
  JuteReader,
  JuteWriter,
  OpCode,
  ReplyHeader,
  RequestHeader,
  SyncRequest,
  type ACL,
} from '../../src/jute/index.js';

/** Polls `done` every 10 ms until it holds; throws naming `what` after timeoutMs. */
export async function waitUntil(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function frame(write: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter(64);
  const at = w.reserveLength();
  write(w);
  w.patchLength(at);
  return w.toBuffer();
}

/** A ConnectRequest frame for a new session (or to resume `sessionId`). */
export function connectRequestFrame(sessionId = 0n, passwd: Buffer = Buffer.alloc(16)): Buffer {
  return frame((w) => {
    ConnectRequest.write(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30_000, sessionId, passwd });
    w.writeBool(false);
  });
}

export function createFrame(xid: number, path: string, data: Buffer = Buffer.alloc(0)): Buffer {
  return frame((w) => {
    RequestHeader.write(w, { xid, type: OpCode.create });
    CreateRequest.write(w, { path, data, acl: OPEN_ACL, flags: 0 });
  });
}

/** A SASL packet (opcode sasl, GetSASLRequest) carrying `token`. */
export function saslFrame(xid: number, token: Buffer): Buffer {
  return frame((w) => {
    RequestHeader.write(w, { xid, type: OpCode.sasl });
    GetSASLRequest.write(w, { token });
  });
}

export function getDataFrame(xid: number, path: string): Buffer {
  return frame((w) => {
    RequestHeader.write(w, { xid, type: OpCode.getData });
    GetDataRequest.write(w, { path, watch: false });
  });
}

export function closeSessionFrame(xid: number): Buffer {
  return frame((w) => RequestHeader.write(w, { xid, type: OpCode.closeSession }));
}

/**
 * 1,500 creates of `<prefix>-<i>` with xids 1..1500, except that the 751st repeats xid 750
 * (the attacker's probe); with `sameXid`, every one has that xid.
 */
export function pipelineWithRepeatedXid(prefix: string, sameXid?: number): { frames: Buffer[]; xids: number[]; paths: string[] } {
  const xids = Array.from({ length: 1_500 }, (_, i) => sameXid ?? (i === 750 ? 750 : i + 1));
  const paths = xids.map((_, i) => `${prefix}-${i}`);
  return { frames: xids.map((x, i) => createFrame(x, paths[i]!)), xids, paths };
}

export function syncFrame(xid: number, path: string): Buffer {
  return frame((w) => {
    RequestHeader.write(w, { xid, type: OpCode.sync });
    SyncRequest.write(w, { path });
  });
}

export interface RawReply {
  xid: number;
  err: number;
  /** The response record after the ReplyHeader. */
  body: Buffer;
}

export interface RawConnection {
  readonly socket: net.Socket;
  /** Replies after the ConnectResponse, in the order they arrived. */
  readonly replies: RawReply[];
  readonly closed: boolean;
  /** Set once the ConnectResponse arrived: 0n when the server refused the session. */
  readonly sessionId: bigint | null;
  readonly passwd: Buffer | null;
  waitForReplies(n: number, timeoutMs: number): Promise<void>;
  waitForClose(timeoutMs: number): Promise<void>;
}

/** Opens a TCP connection (from `localAddress` if given) and parses whatever frames come back. */
export async function rawConnect(host: string, port: number, localAddress?: string): Promise<RawConnection> {
  const socket = net.connect({ host, port, ...(localAddress === undefined ? {} : { localAddress }) });
  socket.setNoDelay(true);
  const replies: RawReply[] = [];
  let closed = false;
  let sessionId: bigint | null = null;
  let passwd: Buffer | null = null;
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const len = pending.readInt32BE(0);
      const r = new JuteReader(pending, 4, 4 + len);
      if (sessionId === null) {
        const rsp = ConnectResponse.read(r);
        sessionId = rsp.sessionId;
        passwd = rsp.passwd;
      } else {
        const h = ReplyHeader.read(r);
        replies.push({ xid: h.xid, err: h.err, body: Buffer.from(pending.subarray(r.offset, 4 + len)) });
      }
      pending = pending.subarray(4 + len);
    }
  });
  socket.on('error', () => undefined); // resets are expected; 'close' follows
  socket.on('close', () => {
    closed = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    replies,
    get closed() {
      return closed;
    },
    get sessionId() {
      return sessionId;
    },
    get passwd() {
      return passwd;
    },
    waitForReplies: (n, timeoutMs) => waitUntil(() => replies.length >= n || closed, `${n} replies`, timeoutMs),
    waitForClose: (timeoutMs) => waitUntil(() => closed, 'the server to close the connection', timeoutMs),
  };
}

/** A connection with a session: ConnectRequest sent and answered. */
export async function rawSession(host: string, port: number, localAddress?: string): Promise<RawConnection> {
  const c = await rawConnect(host, port, localAddress);
  c.socket.write(connectRequestFrame());
  await waitUntil(() => c.sessionId !== null || c.closed, 'a ConnectResponse', 5_000);
  if (c.sessionId === null || c.sessionId === 0n) throw new Error('the server did not grant a session');
  return c;
}
