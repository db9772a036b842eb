/**
 * What a fuzz connection sends: a script of writes and pauses, built from a seeded Rng.
 * Each case starts from valid ZooKeeper frames (encoded with our jute codec) or from noise,
 * and breaks them in one way a buggy or hostile client could.
 */
import {
  ACL,
  AuthPacket,
  ConnectRequest,
  CreateRequest,
  DeleteRequest,
  encode,
  GetDataRequest,
  JuteWriter,
  MultiHeader,
  OpCode,
  RequestHeader,
  SetDataRequest,
  SetWatches,
  Xid,
} from '../../src/jute/index.js';
import type { Rng } from './rng.js';

export type Step = { write: Buffer } | { pauseMs: number } | { end: true };

export interface FuzzScript {
  caseName: string;
  steps: Step[];
  /** The server must close this connection by itself (bad frame length, unknown session). */
  expectClose: boolean;
  /** The server must answer something (a well-formed but fragmented client). */
  expectAnswer: boolean;
}

export interface FuzzLimits {
  /** The server's jute.maxbuffer. */
  maxBufferBytes: number;
}

const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;
const KNOWN_OPS = Object.values(OpCode).filter((op) => op !== OpCode.notification) as number[];

function frame(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

function withLength(length: number, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(length, 0);
  return Buffer.concat([len, body]);
}

function connectBody(rng: Rng, opts: { sessionId?: bigint; readOnlyByte?: boolean } = {}): Buffer {
  const w = new JuteWriter();
  ConnectRequest.write(w, {
    protocolVersion: 0,
    lastZxidSeen: 0n,
    timeOut: rng.int(4_000, 30_000),
    sessionId: opts.sessionId ?? 0n,
    passwd: opts.sessionId === undefined ? Buffer.alloc(16) : rng.bytes(16),
  });
  if (opts.readOnlyByte ?? true) w.writeBool(false);
  return w.toBuffer();
}

const connectFrame = (rng: Rng): Buffer => frame(connectBody(rng));

function request(xid: number, type: number, body: Buffer): Buffer {
  return frame(Buffer.concat([encode(RequestHeader, { xid, type }), body]));
}

function randomPath(rng: Rng): string {
  return rng.pick([
    '/',
    '/fuzz',
    '/zookeeper',
    '/zookeeper/quota',
    '',
    'no-slash',
    '//',
    '/a/../b',
    '/trailing/',
    `/${'x'.repeat(rng.int(1, 2_000))}`,
    `/nul\u0000byte`,
    `/${rng.bytes(8).toString('latin1')}`,
  ]);
}

/** A well-formed body for op `type` with hostile contents, or random bytes. */
function requestBody(rng: Rng, type: number): Buffer {
  const path = randomPath(rng);
  switch (type) {
    case OpCode.getData:
    case OpCode.exists:
    case OpCode.getChildren:
    case OpCode.getChildren2:
      return encode(GetDataRequest, { path, watch: rng.bool() });
    case OpCode.setData:
      return encode(SetDataRequest, { path, data: rng.bytes(rng.int(0, 64)), version: rng.i32() });
    case OpCode.delete:
      return encode(DeleteRequest, { path, version: rng.i32() });
    case OpCode.create:
    case OpCode.create2:
      return encode(CreateRequest, {
        path,
        data: rng.bool() ? null : rng.bytes(rng.int(0, 64)),
        acl: rng.bool() ? [] : [{ perms: rng.i32(), id: { scheme: rng.pick(['world', 'auth', 'digest', 'ip', 'x']), id: 'anyone' } }],
        flags: rng.i32() % 8,
      });
    case OpCode.auth:
      return encode(AuthPacket, { type: rng.i32(), scheme: rng.pick(['digest', 'sasl', '', 'x'.repeat(300)]), auth: rng.bytes(rng.int(0, 40)) });
    case OpCode.setWatches:
      return encode(SetWatches, {
        relativeZxid: BigInt(rng.i32()),
        dataWatches: Array.from({ length: rng.int(0, 5) }, () => randomPath(rng)),
        existWatches: [],
        childWatches: [randomPath(rng)],
      });
    default:
      return rng.bytes(rng.int(0, 200));
  }
}

/** Jute's length-prefixed fields claiming far more than the frame holds. */
function liarBody(rng: Rng): Buffer {
  const w = new JuteWriter();
  switch (rng.int(0, 3)) {
    case 0: // a path string whose length runs past the frame
      w.writeInt(rng.int(1_000, INT32_MAX));
      w.writeRaw(Buffer.from('/short'));
      break;
    case 1: // CreateRequest with an enormous ACL vector
      w.writeString('/liar');
      w.writeBuffer(null);
      w.writeInt(INT32_MAX);
      ACL.write(w, { perms: 31, id: { scheme: 'world', id: 'anyone' } });
      break;
    case 2: // negative lengths where none are allowed but -1
      w.writeInt(rng.int(INT32_MIN, -2));
      break;
    default: // a multi whose ops never say done
      for (let i = 0; i < rng.int(1, 20); i++) {
        MultiHeader.write(w, { type: OpCode.create, done: false, err: -1 });
        w.writeString(`/m${i}`);
      }
  }
  return w.toBuffer();
}

function garbageRequest(rng: Rng, xid: number): Buffer {
  switch (rng.int(0, 7)) {
    case 0: {
      // unknown opcode
      let type = rng.i32();
      while (KNOWN_OPS.includes(type)) type = rng.int(23, 99);
      return request(xid, type, rng.bytes(rng.int(0, 64)));
    }
    case 1: {
      const type = rng.pick(KNOWN_OPS);
      return request(xid, type, rng.bytes(rng.int(0, 64)));
    }
    case 2: {
      const type = rng.pick(KNOWN_OPS);
      const body = requestBody(rng, type);
      return request(xid, type, body.subarray(0, rng.int(0, Math.max(0, body.length - 1))));
    }
    case 3:
      return request(xid, OpCode.multi, liarBody(rng));
    case 4:
      return request(xid, rng.pick([OpCode.create, OpCode.getData, OpCode.setData]), liarBody(rng));
    case 5: {
      const type = rng.pick([OpCode.getData, OpCode.exists, OpCode.create, OpCode.delete, OpCode.setData, OpCode.auth, OpCode.setWatches]);
      const x = type === OpCode.auth ? Xid.auth : type === OpCode.setWatches ? Xid.setWatches : xid;
      return request(x, type, requestBody(rng, type));
    }
    case 6:
      return request(rng.pick([Xid.ping, Xid.notification, Xid.auth, INT32_MIN, INT32_MAX]), rng.pick(KNOWN_OPS), rng.bytes(rng.int(0, 32)));
    default:
      return frame(rng.bytes(rng.int(0, 300)));
  }
}

function flipBits(rng: Rng, b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let i = rng.int(1, 8); i > 0; i--) {
    const at = rng.int(0, out.length - 1);
    out[at] = out[at]! ^ (1 << rng.int(0, 7));
  }
  return out;
}

type Builder = (rng: Rng, limits: FuzzLimits) => Omit<FuzzScript, 'caseName'>;

const plain = (steps: Step[]): Omit<FuzzScript, 'caseName'> => ({ steps, expectClose: false, expectAnswer: false });

const CASES: Record<string, Builder> = {
  'random-bytes': (rng) => plain([{ write: rng.bytes(rng.int(1, 2_048)) }]),

  'connect-bit-flips': (rng) => plain([{ write: flipBits(rng, connectFrame(rng)) }]),

  'connect-truncated-then-close': (rng) => {
    const f = connectFrame(rng);
    return plain([{ write: f.subarray(0, rng.int(1, f.length - 1)) }, { end: true }]);
  },

  'length-negative': (rng) => ({
    steps: [{ write: withLength(rng.pick([-1, INT32_MIN, rng.int(INT32_MIN, -1)]), rng.bytes(rng.int(0, 64))) }],
    expectClose: true,
    expectAnswer: false,
  }),

  'length-huge': (rng, { maxBufferBytes }) => ({
    steps: [{ write: withLength(rng.pick([INT32_MAX, maxBufferBytes + 1, rng.int(maxBufferBytes + 1, INT32_MAX)]), rng.bytes(rng.int(0, 64))) }],
    expectClose: true,
    expectAnswer: false,
  }),

  'length-off-by-one': (rng) => {
    const body = connectBody(rng);
    return plain([{ write: withLength(body.length + rng.pick([-1, 1]), body) }, { pauseMs: rng.int(0, 50) }, { write: rng.bytes(rng.int(0, 8)) }]);
  },

  'valid-length-garbage-body': (rng) => plain([{ write: frame(rng.bytes(rng.int(1, 200))) }]),

  'connect-then-garbage-requests': (rng) => {
    const steps: Step[] = [{ write: connectFrame(rng) }, { pauseMs: rng.int(0, 20) }];
    for (let i = rng.int(1, 10); i > 0; i--) steps.push({ write: garbageRequest(rng, rng.int(1, 1_000)) });
    return plain(steps);
  },

  'connect-then-oversized-frame': (rng, { maxBufferBytes }) => {
    const len = maxBufferBytes + rng.int(1, 1_000);
    const body = rng.bytes(len);
    body.writeInt32BE(rng.int(1, 1_000), 0); // a plausible xid
    body.writeInt32BE(OpCode.setData, 4);
    return { steps: [{ write: connectFrame(rng) }, { write: withLength(len, body) }], expectClose: true, expectAnswer: false };
  },

  'partial-frame-then-close': (rng) => {
    const steps: Step[] = rng.bool() ? [{ write: connectFrame(rng) }] : [];
    const body = requestBody(rng, OpCode.getData);
    const full = frame(Buffer.concat([encode(RequestHeader, { xid: 1, type: OpCode.getData }), body]));
    steps.push({ write: full.subarray(0, rng.int(1, full.length - 1)) }, { pauseMs: rng.int(0, 100) }, { end: true });
    return plain(steps);
  },

  'fragmented-valid-client': (rng) => {
    const bytes = Buffer.concat([connectFrame(rng), request(1, OpCode.getData, encode(GetDataRequest, { path: '/', watch: false }))]);
    const steps: Step[] = [];
    for (let at = 0; at < bytes.length; ) {
      const n = rng.int(1, 7);
      steps.push({ write: bytes.subarray(at, at + n) }, { pauseMs: rng.int(0, 3) });
      at += n;
    }
    return { steps, expectClose: false, expectAnswer: true };
  },

  'unknown-session': (rng) => ({
    steps: [{ write: frame(connectBody(rng, { sessionId: BigInt(rng.int(1, INT32_MAX)) * 4_294_967_296n + BigInt(rng.u32()) })) }],
    expectClose: true,
    expectAnswer: false,
  }),

  'four-letter-like': (rng) => plain([{ write: Buffer.from(Array.from({ length: 4 }, () => rng.int(0x61, 0x7a))) }]),

  'close-session-then-requests': (rng) =>
    plain([
      { write: connectFrame(rng) },
      { write: request(1, OpCode.closeSession, Buffer.alloc(0)) },
      { write: garbageRequest(rng, 2) },
      { write: request(3, OpCode.getData, encode(GetDataRequest, { path: '/', watch: true })) },
    ]),
};

export const CASE_NAMES = Object.keys(CASES);

/** The script for one connection, decided by `rng` alone. */
export function buildScript(rng: Rng, limits: FuzzLimits): FuzzScript {
  const caseName = rng.pick(CASE_NAMES);
  return { caseName, ...CASES[caseName]!(rng, limits) };
}
