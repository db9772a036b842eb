/**
 * The history file format the load drivers write: what a valid file becomes, and that every
 * mistake is one message naming its line and what to write instead.
 */
import { describe, expect, it } from 'vitest';
import { HistoryError, parseHistory } from '../../../src/harness/history/index.js';

const line = (fields: Record<string, unknown>): string => JSON.stringify({ process: 0, type: 'invoke', f: 'write', key: 'x', value: 1, time: 0, ...fields });

function formatError(text: string): string {
  try {
    parseHistory(text);
  } catch (err) {
    expect(err).toBeInstanceOf(HistoryError);
    expect((err as HistoryError).code).toBe('ZABLAB_HISTORY_FORMAT');
    return (err as Error).message;
  }
  throw new Error('expected a format error');
}

describe('parseHistory', () => {
  it('pairs each invoke with its process next completion, by process, across interleaved lines', () => {
    const h = parseHistory(
      [
        line({ process: 0, f: 'write', value: 'a', time: 10 }),
        line({ process: 1, f: 'read', value: null, time: 11 }),
        '',
        line({ process: 1, type: 'ok', f: 'read', value: null, time: 12 }),
        line({ process: 0, type: 'ok', f: 'write', value: 'a', time: 13 }),
      ].join('\n'),
    );
    expect(h.ops).toEqual([
      { index: 0, process: 0, f: 'write', key: 'x', value: 'a', outcome: 'ok', invokeNs: 10n, completeNs: 13n, invokeLine: 1, completeLine: 5 },
      { index: 1, process: 1, f: 'read', key: 'x', value: null, outcome: 'ok', invokeNs: 11n, completeNs: 12n, invokeLine: 2, completeLine: 4 },
    ]);
  });

  it('takes times as numbers or as strings of digits of any size', () => {
    const big = '1700000000123456789';
    const h = parseHistory([line({ time: big }), line({ type: 'ok', time: '1700000000123456790' })].join('\n'));
    expect(h.ops[0]).toMatchObject({ invokeNs: 1700000000123456789n, completeNs: 1700000000123456790n });
  });

  it('keeps an info op open to the end, frees its process, and treats a missing completion as info', () => {
    const h = parseHistory([line({ time: 1 }), line({ type: 'info', value: null, time: 2 }), line({ value: 2, time: 3 })].join('\n'));
    expect(h.ops.map((o) => [o.outcome, o.completeNs, o.completeLine])).toEqual([
      ['info', null, 2],
      ['info', null, null],
    ]);
  });

  it.each([
    ['not JSON', '{"process":0,', /^line 1: not JSON/],
    ['not an object', '[1,2]', /^line 1: must be a JSON object/],
    ['an unknown field', line({ proc: 1 }), /^line 1: unknown field "proc"/],
    ['a negative process', line({ process: -1 }), /^line 1: "process" must be an integer >= 0, got -1$/],
    ['a bad type', line({ type: 'done' }), /^line 1: "type" must be one of invoke, ok, fail, info, got "done"$/],
    ['a bad f', line({ f: 'delete' }), /^line 1: "f" must be one of read, write, cas, got "delete"$/],
    ['an object key', line({ key: { a: 1 } }), /^line 1: "key" must be a string or a number/],
    ['no value', JSON.stringify({ process: 0, type: 'invoke', f: 'read', key: 'x', time: 0 }), /^line 1: "value" is missing/],
    ['a fractional time', line({ time: 1.5 }), /^line 1: "time" must be a whole number of nanoseconds/],
    ['a time past 2^53 as a number', line({ time: 2 ** 60 }), /^line 1: "time" 1152921504606847000 is past 2\^53 .* write it as a string of digits/],
    ['a time that is not digits', line({ time: '12ms' }), /^line 1: "time" must be nanoseconds as a number or a string of digits, got "12ms"$/],
    ['a cas whose value is not a pair', line({ f: 'cas', value: 3 }), /^line 1: a cas invoke's "value" must be \[expected, new\], got 3$/],
  ])('rejects %s, naming the line', (_what, text, message) => {
    expect(formatError(text)).toMatch(message);
  });

  it('rejects a broken invoke/completion pairing, naming both lines', () => {
    expect(formatError(line({ type: 'ok' }))).toMatch(/^line 1: process 0 completes an op it has not invoked/);
    expect(formatError([line({}), line({ time: 1 })].join('\n'))).toMatch(/^line 2: process 0 invokes again before its write from line 1 completed/);
    expect(formatError([line({}), line({ type: 'ok', f: 'read', time: 1 })].join('\n'))).toMatch(/^line 2: process 0 completes read on "x" but invoked write on "x" \(line 1\)$/);
    expect(formatError([line({}), line({ type: 'ok', key: 'y', time: 1 })].join('\n'))).toMatch(/^line 2: process 0 completes write on "y" but invoked write on "x"/);
    expect(formatError([line({ time: 5 }), line({ type: 'ok', time: 4 })].join('\n'))).toMatch(/^line 2: completes at 4 ns, before its invoke at 5 ns \(line 1\)$/);
    expect(formatError([line({ value: 1 }), line({ type: 'ok', value: 2, time: 1 })].join('\n'))).toMatch(/^line 2: the ok write's value 2 differs from its invoke's 1 \(line 1\)$/);
  });

  it('counts blank lines in line numbers', () => {
    expect(formatError(['', line({}), '', 'oops'].join('\n'))).toMatch(/^line 4: not JSON/);
  });
});
