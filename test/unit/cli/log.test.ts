import { describe, expect, it } from 'vitest';
import { createLogger, logLevelFromEnv } from '../../../src/server/log.js';

function capture(opts: Parameters<typeof createLogger>[0] = {}): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ ...opts, write: (l) => lines.push(l) }) };
}

describe('createLogger', () => {
  it('one line per event: ISO time, level, server id, message, fields as key=value', () => {
    const { lines, log } = capture({ serverId: 2 });
    log.info('snapshot taken', { zxid: '0x100000003', ms: 12, ok: true, skipped: undefined });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO \[myid:2\] snapshot taken zxid=0x100000003 ms=12 ok=true\n$/);
  });

  it('quotes values with spaces, quotes or =; formats errors, bigints and objects', () => {
    const { lines, log } = capture();
    log.error('failed', { error: new Error('disk full'), path: '/a b', empty: '', sid: 5n, obj: { a: 1n } });
    expect(lines[0]).toMatch(/ ERROR failed error="disk full" path="\/a b" empty="" sid=5 obj="\{\\"a\\":\\"1\\"\}"\n$/);
  });

  it('cuts very long field values', () => {
    const { lines, log } = capture();
    log.warn('big', { data: 'x'.repeat(10_000) });
    expect(lines[0]!.length).toBeLessThan(2200);
    expect(lines[0]).toContain('...(10000 chars)');
  });

  it('filters below the level; the level defaults to $ZABLAB_LOG_LEVEL, else info', () => {
    const { lines, log } = capture({ level: 'warn' });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['WARN', 'ERROR']);
    expect(logLevelFromEnv({ ZABLAB_LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(logLevelFromEnv({ ZABLAB_LOG_LEVEL: 'loud' })).toBeUndefined();
    expect(logLevelFromEnv({})).toBeUndefined();
  });
});
