/** Stat as JSON for the REST face: zxids and the owner session as hex strings, the rest as numbers. */
import type { Stat } from '../../jute/index.js';

export interface StatJson {
  czxid: string;
  mzxid: string;
  /** ms since the epoch. */
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** Session id of an ephemeral's owner, "0x0" for other znodes. */
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
  pzxid: string;
}

/** "0x100000002": Long.toHexString with ZooKeeper's 0x prefix (two's complement for negatives). */
export function hex64(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

export function statJson(s: Stat): StatJson {
  return {
    czxid: hex64(s.czxid),
    mzxid: hex64(s.mzxid),
    ctime: Number(s.ctime),
    mtime: Number(s.mtime),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: hex64(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
    pzxid: hex64(s.pzxid),
  };
}

/** JSON schema of StatJson, for fastify's response serializer. */
export const STAT_JSON_SCHEMA = {
  type: 'object',
  required: ['czxid', 'mzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren', 'pzxid'],
  properties: {
    czxid: { type: 'string' },
    mzxid: { type: 'string' },
    ctime: { type: 'integer' },
    mtime: { type: 'integer' },
    version: { type: 'integer' },
    cversion: { type: 'integer' },
    aversion: { type: 'integer' },
    ephemeralOwner: { type: 'string' },
    dataLength: { type: 'integer' },
    numChildren: { type: 'integer' },
    pzxid: { type: 'string' },
  },
} as const;
