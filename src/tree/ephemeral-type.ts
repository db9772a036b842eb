/**
 * What StatPersisted.ephemeralOwner encodes (ZooKeeper's EphemeralType, with extended
 * types enabled): 0 = persistent, 0x8000000000000000 = container, high byte 0xff with
 * feature bits 0 = TTL node whose low 40 bits are the TTL in ms, anything else = the
 * session that owns an ephemeral node.
 *
 * Because of the TTL encoding, a session id whose high byte is 0xff would read as a TTL:
 * ZooKeeper therefore limits server ids to 254 when TTL nodes are on, and so do we.
 */
import { Code, KeeperException } from '../jute/index.js';

export type EphemeralType = 'void' | 'normal' | 'container' | 'ttl';

export const CONTAINER_EPHEMERAL_OWNER = -(1n << 63n);
export const MAX_EXTENDED_SERVER_ID = 0xfe;
/** The largest TTL a node may have, in ms (about 34 years). */
export const TTL_MS_MAX = (1n << 40n) - 1n;

const EXTENDED_MASK = 0xff00000000000000n;
const RESERVED_BITS_MASK = 0x00ffff0000000000n;
const EXTENDED_BIT_TTL = 0n;

export function ephemeralTypeOf(ephemeralOwner: bigint): EphemeralType {
  if (ephemeralOwner === 0n) return 'void';
  if (ephemeralOwner === CONTAINER_EPHEMERAL_OWNER) return 'container';
  const u = BigInt.asUintN(64, ephemeralOwner);
  // An unknown extended feature is kept as a plain ephemeral rather than refused, so no
  // input can make the tree throw; ZooKeeper never writes one.
  if ((u & EXTENDED_MASK) === EXTENDED_MASK && (u & RESERVED_BITS_MASK) >> 40n === EXTENDED_BIT_TTL) return 'ttl';
  return 'normal';
}

/** The ephemeralOwner of a TTL node; throws BADARGUMENTS unless 0 < ttl <= TTL_MS_MAX. */
export function ttlEphemeralOwner(ttlMs: bigint): bigint {
  if (ttlMs <= 0n || ttlMs > TTL_MS_MAX) throw new KeeperException(Code.BADARGUMENTS);
  return BigInt.asIntN(64, EXTENDED_MASK | EXTENDED_BIT_TTL | ttlMs);
}

/** The TTL in ms of a TTL node's ephemeralOwner (0 for any other kind of node). */
export function ttlOf(ephemeralOwner: bigint): bigint {
  if (ephemeralTypeOf(ephemeralOwner) !== 'ttl') return 0n;
  return BigInt.asUintN(64, ephemeralOwner) & TTL_MS_MAX;
}

/** The ephemeralOwner a client sees in Stat: only real sessions, 0 for containers and TTLs. */
export function clientEphemeralOwner(ephemeralOwner: bigint): bigint {
  return ephemeralTypeOf(ephemeralOwner) === 'normal' ? ephemeralOwner : 0n;
}
