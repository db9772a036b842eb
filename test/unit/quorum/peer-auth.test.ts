/**
 * The proofs of quorum authentication: each binds the secret, the role, the channel, both ids
 * and both nonces, so none passes for another connection, member, channel or direction.
 */
import crypto from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { newNonce, NONCE_BYTES, proofMatches, proofOf, type AuthTranscript } from '../../../src/server/quorum/peer-auth.js';

const secret = crypto.createSecretKey(Buffer.from('a secret of thirty-two characters'));
const t: AuthTranscript = { channel: 'quorum', dialerId: 3, acceptorId: 2, dialerNonce: newNonce(), acceptorNonce: newNonce() };

describe('quorum authentication proofs', () => {
  test('a proof matches exactly its own transcript, role and secret', () => {
    const proof = proofOf(secret, 'dialer', t);
    expect(proof.length).toBe(32);
    expect(proofMatches(secret, 'dialer', t, proof)).toBe(true);
    const variants: [string, boolean][] = [
      ['acceptor role (reflection)', proofMatches(secret, 'acceptor', t, proof)],
      ['other secret', proofMatches(crypto.createSecretKey(Buffer.from('another secret of 32 characters')), 'dialer', t, proof)],
      ['election channel', proofMatches(secret, 'dialer', { ...t, channel: 'election' }, proof)],
      ['another claimed id', proofMatches(secret, 'dialer', { ...t, dialerId: 1 }, proof)],
      ['another acceptor', proofMatches(secret, 'dialer', { ...t, acceptorId: 1 }, proof)],
      ['ids swapped', proofMatches(secret, 'dialer', { ...t, dialerId: 2, acceptorId: 3 }, proof)],
      ["a new acceptor nonce (replay)", proofMatches(secret, 'dialer', { ...t, acceptorNonce: newNonce() }, proof)],
      ['a new dialer nonce', proofMatches(secret, 'dialer', { ...t, dialerNonce: newNonce() }, proof)],
      ['truncated', proofMatches(secret, 'dialer', t, proof.subarray(0, 31))],
      ['empty', proofMatches(secret, 'dialer', t, Buffer.alloc(0))],
    ];
    for (const [what, matched] of variants) expect(matched, what).toBe(false);
  });

  test('nonces are fresh and of the fixed size; other sizes are refused', () => {
    expect(newNonce().length).toBe(NONCE_BYTES);
    expect(newNonce().equals(newNonce())).toBe(false);
    expect(() => proofOf(secret, 'dialer', { ...t, dialerNonce: Buffer.alloc(8) })).toThrow(RangeError);
  });
});
