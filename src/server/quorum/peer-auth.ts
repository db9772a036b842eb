/**
 * Quorum authentication (quorum.auth.enableSasl): a mutual challenge–response over a secret
 * every member shares, run in the handshake of every peer connection, on both channels.
 *
 *   dialer   → HANDSHAKE {id D, channel, nonce Nd}
 *   acceptor → CHALLENGE {nonce Na}
 *   dialer   → PROOF     {HMAC(K, "dialer"   | channel | D | A | Nd | Na)}
 *   acceptor → HANDSHAKE {id A, channel, proof HMAC(K, "acceptor" | channel | D | A | Nd | Na)}
 *
 * Each side picks a fresh 32-byte nonce per connection, so a recorded proof is worth nothing
 * on another connection; both proofs cover both ids and the channel, so a proof for one
 * member, peer or channel does not pass for another; the role label keeps a proof from being
 * reflected back. The acceptor proves itself last, and only to a dialer that has proven
 * itself: an unauthenticated dialer learns nothing it could use.
 *
 * Why not ZooKeeper's DIGEST-MD5 (SASL over JAAS)? zablab's peer wire format is its own, so
 * matching ZooKeeper's bytes buys nothing, and DIGEST-MD5 is an MD5-based mechanism the IETF
 * moved to Historic (RFC 6331). HMAC-SHA256 with a nonce from each side is the textbook
 * mutual challenge–response (ISO/IEC 9798-4). Like ZooKeeper's quorum SASL (qop=auth) it
 * authenticates the connection, not each message: against someone on the network path who
 * can rewrite a TCP stream, use sslQuorum.
 */
import crypto from 'node:crypto';
import type { Channel } from './codec.js';

export const NONCE_BYTES = 32;
export const PROOF_BYTES = 32;

/** The secret and ZooKeeper's two require switches, as the peer transport uses them. */
export interface QuorumAuthOptions {
  /** The shared secret, kept as a KeyObject from the moment it is read; never logged. */
  secret: crypto.KeyObject;
  /** quorum.auth.learnerRequireSasl: refuse a peer we dialed that does not prove itself. */
  learnerRequire: boolean;
  /** quorum.auth.serverRequireSasl: refuse a peer that dialed us and does not prove itself. */
  serverRequire: boolean;
}

export type AuthRole = 'dialer' | 'acceptor';

/** What both proofs of one connection cover. */
export interface AuthTranscript {
  channel: Channel;
  dialerId: number;
  acceptorId: number;
  dialerNonce: Buffer;
  acceptorNonce: Buffer;
}

const LABEL = 'zablab quorum auth v1';
const CHANNEL_BYTE: Record<Channel, number> = { election: 1, quorum: 2 };

export function newNonce(): Buffer {
  return crypto.randomBytes(NONCE_BYTES);
}

/** The proof `role` sends on the connection `t` describes. */
export function proofOf(secret: crypto.KeyObject, role: AuthRole, t: AuthTranscript): Buffer {
  if (t.dialerNonce.length !== NONCE_BYTES || t.acceptorNonce.length !== NONCE_BYTES) throw new RangeError(`nonces must be ${NONCE_BYTES} bytes`);
  // Every field has a fixed length, so the concatenation is unambiguous.
  const fields = Buffer.alloc(1 + 8 + 8);
  fields.writeUInt8(CHANNEL_BYTE[t.channel], 0);
  fields.writeBigInt64BE(BigInt(t.dialerId), 1);
  fields.writeBigInt64BE(BigInt(t.acceptorId), 9);
  return crypto
    .createHmac('sha256', secret)
    .update(`${LABEL} ${role}\0`)
    .update(fields)
    .update(t.dialerNonce)
    .update(t.acceptorNonce)
    .digest();
}

/** True when `presented` is the proof `role` owes on `t` (compared in constant time). */
export function proofMatches(secret: crypto.KeyObject, role: AuthRole, t: AuthTranscript, presented: Buffer): boolean {
  const expected = proofOf(secret, role, t);
  return presented.length === expected.length && crypto.timingSafeEqual(presented, expected);
}
