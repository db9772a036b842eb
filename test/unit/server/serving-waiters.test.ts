import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServingWaiters } from '../../../src/server/serving-waiters.js';

describe('ServingWaiters', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => void vi.useRealTimers());

  it('lets waiters go in arrival order once the server serves', () => {
    const w = new ServingWaiters(1_000, 2_000);
    const seen: string[] = [];
    expect(w.wait({}, () => seen.push('a'), () => seen.push('refused a'))).toBe(true);
    expect(w.wait({}, () => seen.push('b'), () => seen.push('refused b'))).toBe(true);
    w.setServing(true);
    expect(seen).toEqual(['a', 'b']);
    expect(w.size).toBe(0);
  });

  it('refuses a waiter after holdMs, and does not hold while serving or after windowMs without a leader', () => {
    const w = new ServingWaiters(1_000, 2_000);
    const seen: string[] = [];
    w.wait({}, () => seen.push('go'), () => seen.push('refused'));
    vi.advanceTimersByTime(1_000);
    expect(seen).toEqual(['refused']);
    vi.advanceTimersByTime(1_000);
    expect(w.wait({}, () => undefined, () => undefined)).toBe(false); // electing for 2 s: refuse now
    w.setServing(true);
    expect(w.wait({}, () => undefined, () => undefined)).toBe(false); // serving: nothing to wait for
    w.setServing(false);
    expect(w.wait({}, () => undefined, () => undefined)).toBe(true); // a fresh election
  });

  it('forgets a cancelled waiter and refuses all on shutdown', () => {
    const w = new ServingWaiters(1_000, 2_000);
    const seen: string[] = [];
    const k = {};
    w.wait(k, () => seen.push('k'), () => seen.push('refused k'));
    w.wait({}, () => seen.push('m'), () => seen.push('refused m'));
    w.cancel(k);
    w.refuseAll();
    expect(seen).toEqual(['refused m']);
    vi.advanceTimersByTime(5_000);
    expect(seen).toEqual(['refused m']);
  });
});
