/** Fault requests are checked whole against the ensemble before anything is applied. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/server/index.js';
import { applyFaults, HttpError, parseFaultRequest } from '../../../src/server/http/index.js';
import { FaultController } from '../../../src/server/quorum/faults.js';

// Server 2 of 3 voters + observer 4.
const cfg = parseConfig(
  [
    'tickTime=2000',
    'initLimit=10',
    'syncLimit=5',
    'dataDir=/var/lib/zablab-test',
    'clientPort=2181',
    'server.1=127.0.0.1:2888:3888',
    'server.2=127.0.0.1:2889:3889',
    'server.3=127.0.0.1:2890:3890',
    'server.4=127.0.0.1:2891:3891:observer',
    'quorum.auth.enableSasl=false',
  ].join('\n'),
  { readMyid: () => '2' },
);

function refusal(body: unknown): HttpError {
  try {
    parseFaultRequest(body, cfg);
  } catch (e) {
    if (e instanceof HttpError) return e;
    throw e;
  }
  throw new Error('the request was accepted');
}

describe('parseFaultRequest', () => {
  it('accepts every field, with ids as numbers or strings and "*" for every peer', () => {
    const r = parseFaultRequest({ cut: [1], heal: 'all', delayMs: { '*': 10, '3': 50 }, dropRate: { '4': 0.5 } }, cfg);
    expect(r.cut).toEqual([1]);
    expect(r.heal).toBe('all');
    expect(new Map(r.delayMs)).toEqual(new Map<number | '*', number>([['*', 10], [3, 50]]));
    expect(r.dropRate).toEqual([[4, 0.5]]);
  });

  it('refuses ids that are not peers (including the server itself), naming the peers', () => {
    for (const body of [{ cut: [2] }, { cut: [9] }, { heal: [0] }, { delayMs: { '7': 1 } }, { cut: ['x'] }]) {
      const e = refusal(body);
      expect(e.statusCode).toBe(400);
      expect(e.code).toBe('ZABLAB_HTTP_FAULT_ARGUMENT');
      expect(e.message).toContain('its peers are 1, 3, 4');
    }
  });

  it('refuses out-of-range values and unknown fields, saying what is allowed', () => {
    expect(refusal({ dropRate: { '1': 1.5 } }).message).toMatch(/probability in \[0, 1\]/);
    expect(refusal({ delayMs: { '1': -1 } }).message).toMatch(/milliseconds in \[0, 600000\]/);
    expect(refusal({ cutt: [1] }).message).toMatch(/unknown field "cutt"; allowed: cut, heal, delayMs, dropRate/);
    expect(refusal([1, 2]).message).toMatch(/must be a JSON object/);
    expect(refusal({ heal: 'some' }).message).toMatch(/heal must be an array/);
  });

  it('applies heal before cut, so {"heal":"all","cut":[3]} leaves exactly one cut edge', () => {
    const f = new FaultController();
    f.cut(1);
    f.setDelay('*', 100);
    applyFaults(f, parseFaultRequest({ heal: 'all', cut: [3], dropRate: { '4': 0.25 } }, cfg));
    expect(f.state()).toEqual({ cut: [3], delayMs: {}, dropRate: { '4': 0.25 } });
  });
});
