/**
 * The connection throttle with a hand-driven clock and random source: ZooKeeper's
 * BlueThrottle (token bucket, lost refill remainders, BLUE random drops, weights) and
 * zablab's per-address bucket in front of it.
 */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlueThrottle, type BlueThrottleSettings } from '../../../src/server/blue-throttle.js';
import { parseConfig } from '../../../src/server/config.js';
import { ConnectionThrottle } from '../../../src/server/connection-throttle.js';

class Clock {
  ms = 0;
  readonly now = (): number => this.ms;
}

const BUCKET: BlueThrottleSettings = {
  maxTokens: 3,
  fillTimeMs: 1_000,
  fillCount: 1,
  freezeTimeMs: -1,
  dropIncrease: 0.02,
  dropDecrease: 0.002,
  decreasePoint: 0,
};

function passes(t: BlueThrottle, n: number, need = 1): boolean[] {
  return Array.from({ length: n }, () => t.checkLimit(need));
}

/** A config with ZooKeeper's defaults and the given zoo.cfg lines. */
function cfg(...lines: string[]) {
  return parseConfig([`dataDir=${path.join(os.tmpdir(), 'zablab-unused')}`, 'clientPort=2181', ...lines].join('\n'));
}

describe('BlueThrottle (ZooKeeper\'s)', () => {
  it('is off with 0 tokens (the default)', () => {
    const t = new BlueThrottle({ ...BUCKET, maxTokens: 0 }, new Clock().now);
    expect(passes(t, 1_000).every(Boolean)).toBe(true);
  });

  it('starts full, refuses when empty, refills fillCount per fillTime once more than fillTime has passed', () => {
    const clock = new Clock();
    const t = new BlueThrottle(BUCKET, clock.now);
    expect(passes(t, 4)).toEqual([true, true, true, false]);
    expect(t.deficit).toBe(3);
    clock.ms = 1_000; // not more than fillTime yet
    expect(t.checkLimit(1)).toBe(false);
    clock.ms = 1_001;
    expect(passes(t, 2)).toEqual([true, false]);
  });

  it('loses the remainder of an interval at a refill, and never holds more than maxTokens', () => {
    const clock = new Clock();
    const t = new BlueThrottle(BUCKET, clock.now);
    passes(t, 3);
    clock.ms = 2_500; // +2 tokens; the half interval is lost
    expect(passes(t, 3)).toEqual([true, true, false]);
    clock.ms = 3_400; // 900 ms since the refill at 2 500: nothing yet
    expect(t.checkLimit(1)).toBe(false);
    clock.ms = 100_000;
    expect(passes(t, 4)).toEqual([true, true, true, false]);
  });

  it('a check that needs more tokens than there are fails and takes none', () => {
    const t = new BlueThrottle(BUCKET, new Clock().now);
    expect(t.checkLimit(2)).toBe(true);
    expect(t.checkLimit(2)).toBe(false);
    expect(t.checkLimit(1)).toBe(true);
  });

  it('BLUE: raises the drop chance while the bucket is empty, lowers it once it has refilled', () => {
    const clock = new Clock();
    let r = 0.99;
    const t = new BlueThrottle({ ...BUCKET, freezeTimeMs: 100, dropIncrease: 0.5, dropDecrease: 0.25 }, clock.now, () => r);
    passes(t, 3);
    expect(t.dropChance).toBe(0);
    clock.ms = 101; // empty bucket at a freeze boundary: +0.5
    expect(t.checkLimit(1)).toBe(false);
    expect(t.dropChance).toBe(0.5);
    clock.ms = 150; // within the freeze time: unchanged
    t.checkLimit(1);
    expect(t.dropChance).toBe(0.5);
    clock.ms = 5_000; // refilled (deficit 0 <= 0 × maxTokens): 0.5 - 0.25; a draw of 0.4 is not below it
    r = 0.4;
    expect(t.checkLimit(1)).toBe(true);
    expect(t.dropChance).toBe(0.25);
    clock.ms = 5_200; // deficit 1 > 0: unchanged; a draw below 0.25 drops although tokens are left
    r = 0.1;
    expect(t.checkLimit(1)).toBe(false);
    expect(t.deficit).toBe(1);
  });
});

describe('ConnectionThrottle', () => {
  it('ZooKeeper\'s keys make one bucket for every client', () => {
    const clock = new Clock();
    const t = new ConnectionThrottle(cfg('connection_throttle_tokens=2', 'connection_throttle_fill_time=60000'), clock.now);
    expect(t.admit('10.0.0.1', 0n)).toEqual({ admitted: true, deficit: 1 });
    expect(t.admit('10.0.0.2', 0n)).toEqual({ admitted: true, deficit: 2 });
    expect(t.admit('10.0.0.3', 0n)).toEqual({ admitted: false, limit: 'connection_throttle_tokens' });
  });

  it('the per-address bucket refuses one address without taking the others\' global tokens', () => {
    const clock = new Clock();
    const t = new ConnectionThrottle(
      cfg('connection_throttle_tokens=4', 'connection_throttle_fill_time=60000', 'zablab.connection_throttle_per_ip_tokens=2'),
      clock.now,
    );
    const greedy = Array.from({ length: 50 }, () => t.admit('10.0.0.1', 0n).admitted);
    expect(greedy.filter(Boolean)).toHaveLength(2);
    expect(t.admit('10.0.0.1', 0n)).toEqual({ admitted: false, limit: 'zablab.connection_throttle_per_ip_tokens' });
    // The greedy address took 2 global tokens, not 50: the others still get the remaining 2.
    expect([t.admit('10.0.0.2', 0n).admitted, t.admit('10.0.0.3', 0n).admitted]).toEqual([true, true]);
    expect(t.admit('10.0.0.4', 0n)).toEqual({ admitted: false, limit: 'connection_throttle_tokens' });
    // One second later (the per-address default fill time) the greedy address gets one more... but the global bucket is empty.
    clock.ms = 1_001;
    expect(t.admit('10.0.0.1', 0n)).toEqual({ admitted: false, limit: 'connection_throttle_tokens' });
  });

  it('the per-address bucket alone refills one session a second by default', () => {
    const clock = new Clock();
    const t = new ConnectionThrottle(cfg('zablab.connection_throttle_per_ip_tokens=1'), clock.now);
    expect([t.admit('a', 0n).admitted, t.admit('a', 0n).admitted, t.admit('b', 0n).admitted]).toEqual([true, false, true]);
    clock.ms = 1_001;
    expect(t.admit('a', 0n).admitted).toBe(true);
  });

  it('with weights, a new session costs the global weight and a reconnect the renew weight; counts are in sessions', () => {
    const clock = new Clock();
    // 2 sessions' worth of tokens = 6; new sessions cost 3, reconnects 2.
    const t = new ConnectionThrottle(
      cfg('connection_throttle_tokens=2', 'connection_throttle_fill_time=60000', 'connection_throttle_weight_enabled=true'),
      clock.now,
    );
    expect(t.admit('a', 0n)).toEqual({ admitted: true, deficit: 3 });
    expect(t.admit('a', 0x1234n)).toEqual({ admitted: true, deficit: 5 });
    expect(t.admit('a', 0n).admitted).toBe(false);
    expect(t.admit('a', 0x1234n).admitted).toBe(false);
    clock.ms = 60_001; // fill_count 1 session = 3 tokens: 1 + 3 = 4 left, a new session takes 3
    expect(t.admit('a', 0n)).toEqual({ admitted: true, deficit: 5 });
  });

  it('keeps a bounded number of addresses', () => {
    const t = new ConnectionThrottle(cfg('zablab.connection_throttle_per_ip_tokens=5'), new Clock().now);
    for (let i = 0; i < 70_000; i++) t.admit(`a${i}`, 0n);
    expect(t.trackedAddresses).toBeLessThanOrEqual(65_536);
    expect(t.trackedAddresses).toBeGreaterThan(50_000);
  });
});
