/**
 * What the runner publishes for the live view: servers as they report themselves, leader
 * changes and faults as markers, the load's seconds per op, bounded series, and a sequence
 * number that moves on every change (the page's "updated without reload").
 */
import { describe, expect, it } from 'vitest';
import { LiveState, SECONDS_KEPT } from '../../../../src/harness/live/state.js';
import type { AppliedFault } from '../../../../src/harness/measure/recovery.js';

const T = 1_795_000_000_000;
const zxid = (epoch: number, counter: number): bigint => (BigInt(epoch) << 32n) | BigInt(counter);

function killOf(id: number, atEpochMs: number): AppliedFault {
  return { action: 'kill', target: 'leader', serverId: id, atMs: 0, atEpochMs, effectiveEpochMs: atEpochMs, leaderBefore: id };
}

describe('LiveState', () => {
  it('shows each server as it reports itself: role, mode, epoch, zxid, serving', () => {
    const s = new LiveState('bench');
    s.serversPolled([
      { id: 1, role: 'voter', mode: 'leader', zxid: zxid(3, 17) },
      { id: 2, role: 'voter', mode: 'follower', zxid: zxid(3, 16) },
      { id: 3, role: 'observer', mode: 'down', zxid: null },
    ], T);
    const snap = s.snapshot();
    expect(snap.leader).toBe(1);
    expect(snap.servers).toEqual([
      { id: 1, role: 'voter', mode: 'leader', epoch: 3, zxid: '0x300000011', serving: true, outstanding: null },
      { id: 2, role: 'voter', mode: 'follower', epoch: 3, zxid: '0x300000010', serving: true, outstanding: null },
      { id: 3, role: 'observer', mode: 'down', epoch: null, zxid: null, serving: false, outstanding: null },
    ]);
  });

  it('marks a leader change (not the first leader seen) and a fault, at their times', () => {
    const s = new LiveState('bench');
    const poll = (leader: number | null, at: number): void =>
      s.serversPolled([1, 2, 3].map((id) => ({ id, role: 'voter' as const, mode: id === leader ? ('leader' as const) : id === 1 && leader !== 1 ? ('down' as const) : ('follower' as const), zxid: zxid(1, 5) })), at);
    poll(1, T);
    poll(1, T + 500);
    expect(s.snapshot().markers).toEqual([]);
    s.fault(killOf(1, T + 800));
    poll(null, T + 1_000);
    poll(2, T + 1_500);
    poll(2, T + 2_000);
    expect(s.snapshot().markers).toEqual([
      { atEpochMs: T + 800, kind: 'fault', label: 'kill leader (server 1)' },
      { atEpochMs: T + 1_000, kind: 'leader', label: 'no leader' },
      { atEpochMs: T + 1_500, kind: 'leader', label: 'leader: server 2' },
    ]);
    expect(s.snapshot().leader).toBe(2);
  });

  it('in a bench takes the leader from the run\'s observer, not from its own slower polls', () => {
    const s = new LiveState('bench');
    const servers = (leader: number | null): { id: number; role: 'voter'; mode: 'leader' | 'follower' | 'looking'; zxid: bigint | null }[] =>
      [1, 2, 3].map((id) => ({ id, role: 'voter' as const, mode: leader === null ? ('looking' as const) : id === leader ? ('leader' as const) : ('follower' as const), zxid: null }));
    s.leader(1, T);
    s.serversPolled(servers(null), T + 10, false);
    s.leader(2, T + 40);
    s.serversPolled(servers(2), T + 500, false);
    expect(s.snapshot().markers).toEqual([{ atEpochMs: T + 40, kind: 'leader', label: 'leader: server 2' }]);
    expect(s.snapshot().leader).toBe(2);
  });

  it('places the load\'s seconds after the measured window\'s start and keeps only the last ones', () => {
    const s = new LiveState('bench');
    s.runStarted(1, 2, 'quick#1');
    s.windowStarted(T);
    for (let t = 0; t < SECONDS_KEPT + 10; t++) {
      s.second({ t, ops: 100, errors: 0, p50: 1, p99: 2, byOp: { getData: { ops: 80, errors: 0, p50: 1, p99: 2 }, setData: { ops: 20, errors: 0, p50: 3, p99: 9 } } });
    }
    const snap = s.snapshot();
    expect(snap.seconds).toHaveLength(SECONDS_KEPT);
    expect(snap.seconds.at(-1)).toEqual({ atEpochMs: T + (SECONDS_KEPT + 9) * 1_000, byOp: { getData: { ops: 80, p99: 2 }, setData: { ops: 20, p99: 9 } } });
    expect(snap.run).toMatchObject({ index: 1, total: 2, name: 'quick#1' });
  });

  it('follows the progress of a matrix and starts each run with empty timelines', () => {
    const s = new LiveState('bench');
    s.runStarted(1, 2, 'a');
    s.fault(killOf(1, T));
    s.phase('measuring');
    s.measured(3, 10);
    expect(s.snapshot().run).toEqual({ index: 1, total: 2, name: 'a', phase: 'measuring', measured: '3/10 s', liveOpsPerSec: null });
    s.runDone('1,000 ops/s');
    s.runStarted(2, 2, 'b');
    const snap = s.snapshot();
    expect(snap.done).toEqual(['[1/2] a: 1,000 ops/s']);
    expect(snap.markers).toEqual([]);
    expect(snap.run?.name).toBe('b');
  });

  it('keeps outstanding requests per server, and none for a server that does not serve', () => {
    const s = new LiveState('watch');
    s.serversPolled([{ id: 1, role: 'voter', mode: 'leader', zxid: 1n }, { id: 2, role: 'voter', mode: 'looking', zxid: null }], T);
    s.outstandingOf(1, 7, T);
    s.outstandingOf(2, 3, T);
    const snap = s.snapshot();
    expect(snap.outstanding).toEqual([{ atEpochMs: T, id: 1, value: 7 }, { atEpochMs: T, id: 2, value: 3 }]);
    expect(snap.servers.map((x) => x.outstanding)).toEqual([7, null]);
  });

  it('moves its sequence number on every change', () => {
    const s = new LiveState('bench');
    const a = s.snapshot().seq;
    s.phase('warm-up');
    const b = s.snapshot().seq;
    s.leader(1);
    expect(b).toBeGreaterThan(a);
    expect(s.snapshot().seq).toBeGreaterThan(b);
  });
});
