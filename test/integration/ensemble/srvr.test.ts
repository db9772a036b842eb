/**
 * The driver's reading of `srvr` answers (in ZooKeeper 3.8's format) and its rule for when
 * a learner has caught up with the leader.
 */
import { describe, expect, it } from 'vitest';
import { caughtUp, parseSrvr } from '../../../src/harness/ensemble/index.js';

const FOLLOWER = [
  'Zookeeper version: 3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f, built on 2022-02-25 08:49 UTC',
  'Latency min/avg/max: 0/0.5/3',
  'Received: 12',
  'Sent: 11',
  'Connections: 1',
  'Outstanding: 0',
  'Zxid: 0x200000003',
  'Mode: follower',
  'Node count: 7',
  '',
].join('\n');

describe('parseSrvr', () => {
  it('reads mode, zxid and counts of a serving server', () => {
    expect(parseSrvr(FOLLOWER)).toEqual({
      serving: true,
      mode: 'follower',
      zxid: 0x200000003n,
      nodeCount: 7,
      connections: 1,
      outstanding: 0,
      version: '3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f, built on 2022-02-25 08:49 UTC',
    });
    expect(parseSrvr(FOLLOWER.replace('Mode: follower', 'Mode: standalone'))).toMatchObject({ serving: true, mode: 'standalone' });
  });

  it('reports a server that is electing, or answers nothing or garbage, as not serving with the reason', () => {
    expect(parseSrvr('This ZooKeeper instance is not currently serving requests\n')).toEqual({ serving: false, reason: 'not currently serving requests' });
    expect(parseSrvr('')).toMatchObject({ serving: false, reason: expect.stringContaining('without answering') as string });
    expect(parseSrvr(FOLLOWER.replace('Mode: follower', 'Mode: looking'))).toMatchObject({ serving: false });
    expect(parseSrvr(FOLLOWER.replace('Zxid: 0x200000003', 'Zxid: 12'))).toMatchObject({ serving: false });
  });
});

describe('caughtUp', () => {
  it('holds at the leader zxid, or at what the leader had when first seen while writes continue', () => {
    expect(caughtUp(0x100000005n, 0x100000005n, 0x100000005n)).toBe(true);
    expect(caughtUp(0x100000007n, 0x100000009n, 0x100000006n)).toBe(true);
    expect(caughtUp(0x100000004n, 0x100000009n, 0x100000006n)).toBe(false);
  });

  it('accepts an older zxid only while the new epoch has no txn (ZooKeeper learners keep their last txn zxid)', () => {
    expect(caughtUp(0x100000005n, 0x200000000n, 0x200000000n)).toBe(true);
    expect(caughtUp(0x100000005n, 0x200000001n, 0x200000001n)).toBe(false);
  });
});
