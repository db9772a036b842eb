import { describe, expect, test } from 'vitest';
import { FaultArgumentError, FaultController, type FaultEvent } from '../../../src/server/quorum/faults.js';
import type { Message } from '../../../src/zab/index.js';

const ping: Message = { kind: 'ping', zxid: 1n };

describe('FaultController', () => {
  test('no faults: every message goes out at once', () => {
    const f = new FaultController();
    expect(f.decide(2, ping)).toEqual({});
    expect(f.admit(2, ping)).toBe(true);
    expect(f.isCut(2)).toBe(false);
  });

  test('cut drops both ways until healed, and tells subscribers', () => {
    const f = new FaultController();
    const events: FaultEvent[] = [];
    const unsubscribe = f.subscribe((e) => events.push(e));
    f.cut(2);
    expect(f.decide(2, ping)).toEqual({ drop: true });
    expect(f.admit(2, ping)).toBe(false);
    expect(f.decide(3, ping)).toEqual({});
    f.heal(2);
    expect(f.decide(2, ping)).toEqual({});
    expect(f.admit(2, ping)).toBe(true);
    unsubscribe();
    f.cut(3);
    expect(events).toEqual([
      { type: 'cut', peer: 2 },
      { type: 'heal', peer: 2 },
    ]);
  });

  test("a peer's own delay or drop rate overrides '*'; 0 removes a setting", () => {
    const f = new FaultController();
    f.setDelay('*', 50);
    f.setDelay(2, 10);
    expect(f.decide(2, ping)).toEqual({ delayMs: 10 });
    expect(f.decide(3, ping)).toEqual({ delayMs: 50 });
    f.setDropRate('*', 1, () => 0.99);
    f.setDropRate(2, 0.5, () => 0.99);
    expect(f.decide(2, ping)).toEqual({ delayMs: 10 });
    expect(f.decide(3, ping)).toEqual({ drop: true });
    f.setDelay(2, 0);
    expect(f.decide(2, ping)).toEqual({ delayMs: 50 });
    expect(f.state()).toEqual({ cut: [], delayMs: { '*': 50 }, dropRate: { '*': 1, '2': 0.5 } });
  });

  test('heal(peer) clears that edge; heal() clears everything', () => {
    const f = new FaultController();
    f.cut(2);
    f.cut(3);
    f.setDelay(2, 5);
    f.setDelay('*', 7);
    f.setDropRate(3, 0.1, Math.random);
    f.heal(2);
    expect(f.state()).toEqual({ cut: [3], delayMs: { '*': 7 }, dropRate: { '3': 0.1 } });
    f.heal();
    expect(f.state()).toEqual({ cut: [], delayMs: {}, dropRate: {} });
  });

  test('bad settings are refused with ZABLAB_FAULT_ARGUMENT', () => {
    const f = new FaultController();
    for (const bad of [() => f.setDelay(2, -1), () => f.setDelay(2, Number.NaN), () => f.setDelay(2, 1e9), () => f.setDropRate(2, 1.5, Math.random), () => f.cut(1.5), () => f.cut(-1)]) {
      expect(bad).toThrow(FaultArgumentError);
    }
    try {
      f.setDropRate('*', -0.1, Math.random);
    } catch (e) {
      expect((e as FaultArgumentError).code).toBe('ZABLAB_FAULT_ARGUMENT');
      expect((e as Error).message).toMatch(/\[0, 1\]/);
    }
  });
});
