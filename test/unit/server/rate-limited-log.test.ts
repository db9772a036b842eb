/** A flood of one event becomes one line at once and one summary line per interval. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/server/log.js';
import { RateLimitedLog } from '../../../src/server/rate-limited-log.js';

describe('RateLimitedLog', () => {
  let lines: string[];
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    lines = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const logger = () => createLogger({ level: 'info', write: (l) => lines.push(l.replace(/^\S+ /, '').trimEnd()) });

  it('writes the first event, then the rest of the interval as one line with their count', () => {
    const log = new RateLimitedLog(logger(), 1_000);
    for (let i = 1; i <= 500; i++) log.warn('refused', { client: `c${i}` });
    expect(lines).toEqual(['WARN refused client=c1']);
    vi.advanceTimersByTime(1_000);
    expect(lines).toEqual(['WARN refused client=c1', 'WARN refused client=c500 times=499']);
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(2);
  });

  it('keeps kinds apart, and logs at once again after a quiet interval', () => {
    const log = new RateLimitedLog(logger(), 1_000);
    log.info('expired', { n: 1 });
    log.warn('refused', { n: 1 });
    log.info('expired', { n: 2 });
    vi.advanceTimersByTime(1_000);
    vi.advanceTimersByTime(5_000);
    log.info('expired', { n: 3 });
    expect(lines).toEqual(['INFO expired n=1', 'WARN refused n=1', 'INFO expired n=2 times=1', 'INFO expired n=3']);
  });
});
