import { describe, expect, it } from 'vitest';
import { QuorumVerifier, totalOrderPredicate, makeZxid } from '../../../src/zab/index.js';

describe('QuorumVerifier (majority of voters; observers never count)', () => {
  it('needs more than half of the voters', () => {
    expect(new QuorumVerifier([1, 2, 3]).quorumSize).toBe(2);
    expect(new QuorumVerifier([1, 2, 3, 4]).quorumSize).toBe(3);
    expect(new QuorumVerifier([1, 2, 3, 4, 5], [6, 7]).quorumSize).toBe(3);
  });

  it('ignores observers and strangers when counting', () => {
    const q = new QuorumVerifier([1, 2, 3], [4, 5]);
    expect(q.containsQuorum([1, 4, 5])).toBe(false);
    expect(q.containsQuorum([1, 2])).toBe(true);
    expect(q.containsQuorum([1, 9, 10])).toBe(false);
  });

  it('refuses a server that is both voter and observer, and an ensemble without voters', () => {
    expect(() => new QuorumVerifier([1, 2], [2])).toThrow(/both/);
    expect(() => new QuorumVerifier([], [1])).toThrow(/at least one voter/);
  });
});

describe('FLE vote order (totalOrderPredicate): peer epoch, then zxid, then server id', () => {
  it('prefers the higher epoch even with a lower zxid', () => {
    expect(totalOrderPredicate(1, makeZxid(1n, 9n), 2n, 3, makeZxid(2n, 1n), 1n)).toBe(true);
  });
  it('prefers the higher zxid within an epoch', () => {
    expect(totalOrderPredicate(1, makeZxid(2n, 5n), 2n, 3, makeZxid(2n, 4n), 2n)).toBe(true);
    expect(totalOrderPredicate(3, makeZxid(2n, 4n), 2n, 1, makeZxid(2n, 5n), 2n)).toBe(false);
  });
  it('breaks ties by the higher server id', () => {
    expect(totalOrderPredicate(3, 7n, 1n, 2, 7n, 1n)).toBe(true);
    expect(totalOrderPredicate(2, 7n, 1n, 3, 7n, 1n)).toBe(false);
  });
});
