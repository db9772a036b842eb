/**
 * When an election may finish before finalizeWait: only when no vote can still change it,
 * because every voter backs the proposal or is known down (its connection was reset by a
 * dead process). A voter whose fate is unknown (partitioned, hung) keeps ZooKeeper's wait.
 * Every step runs under the simulator's invariant checkers.
 */
import { describe, expect, it } from 'vitest';
import { Scenario } from '../../src/sim/index.js';

/** Long waits, so that an election that waits for a timer shows it. */
const ticks = { finalizeWait: 20, notificationMin: 20, notificationMax: 40, ping: 5, syncLimit: 100, initLimit: 200 };

describe('an election waits for finalizeWait only while a vote could still come', () => {
  it('after the leader process dies the others elect a leader and serve with no timer firing', async () => {
    const s = await Scenario.start({ voters: 3, ticks });
    await s.electLeader(3);
    const before = await s.write(3);
    await s.stabilize();
    await s.crash(3, { reset: true });
    await s.stabilize(); // messages and disk only: no tick passes
    expect(s.leader()).toBe(2);
    expect(s.state(1)).toBe('FOLLOWING(serving)');
    const after = await s.write(1);
    await s.stabilize();
    expect(s.acked(before)).toBe(true);
    expect(s.acked(after)).toBe(true);
    s.expectOk();
  });

  it('with 5 voters and 2 observers too: every running server serves again before any tick', async () => {
    const s = await Scenario.start({ voters: 5, observers: 2, ticks });
    await s.electLeader(5);
    await s.crash(5, { reset: true });
    await s.stabilize();
    expect(s.leader()).toBe(4);
    expect(s.allServing()).toBe(true);
    s.expectOk();
  });

  it('a voter that learns of the death later is told the better vote at once, not when the notification timer fires', async () => {
    const s = await Scenario.start({ voters: 3, ticks });
    await s.electLeader(3);
    await s.crash(3, { reset: false });
    // Server 2 notices first: its notification reaches 1 while 1 still follows 3, and 1
    // answers as a follower; then 1 notices and proposes itself, which is worse than 2.
    const [one, two] = [s.cluster.server(1).host!, s.cluster.server(2).host!];
    two.disconnected(3);
    two.peerDown(3);
    await s.stabilize();
    expect(s.state(2)).toBe('LOOKING');
    one.disconnected(3);
    one.peerDown(3);
    await s.stabilize(); // no tick: 2 answers 1's worse vote with its own
    expect(s.leader()).toBe(2);
    expect(s.state(1)).toBe('FOLLOWING(serving)');
    s.expectOk();
  });

  it('when every voter agrees at startup the election ends at once', async () => {
    const s = await Scenario.start({ voters: 3, ticks });
    await s.stabilize();
    expect(s.leader()).toBe(3);
    expect(s.allServing()).toBe(true);
  });

  it('a partitioned leader says nothing about its process: the others wait finalizeWait', async () => {
    const s = await Scenario.start({ voters: 3, ticks });
    await s.electLeader(3);
    await s.partition([3]);
    await s.stabilize();
    await s.tick(ticks.finalizeWait - 1);
    await s.stabilize();
    expect(s.serving(1) || s.serving(2)).toBe(false);
    await s.runUntil(() => s.leader() === 2 && s.serving(1), 10);
    s.expectOk();
  });

  it('a leader that hangs (no reset) is waited for too, once its followers give up on it', async () => {
    const s = await Scenario.start({ voters: 3, ticks });
    await s.electLeader(3);
    await s.crash(3, { reset: false });
    await s.stabilize();
    expect(s.state(1)).toBe('FOLLOWING(serving)'); // nobody knows yet
    // syncLimit passes, then finalizeWait: not before.
    await s.runUntil(() => s.state(1) === 'LOOKING' || s.state(2) === 'LOOKING', ticks.syncLimit + 5);
    await s.tick(ticks.finalizeWait - 2);
    await s.stabilize();
    expect(s.leader()).toBe(null);
    await s.runUntil(() => s.leader() === 2 && s.serving(1), 10);
    s.expectOk();
  });

  it('a voter believed down that is back (restarted, not heard from yet) is counted again once it speaks', async () => {
    const s = await Scenario.start({ voters: 3, ticks });
    await s.electLeader(3);
    await s.crash(1, { reset: true });
    await s.restart(1);
    await s.stabilize();
    expect(s.allServing()).toBe(true);
    expect(s.leader()).toBe(3);
    s.expectOk();
  });
});
