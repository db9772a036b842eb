import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { breakdownFromSpans } from '../../../src/harness/measure/breakdown.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-breakdown-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const T = 1_795_000_000_000; // ms
const ns = (ms: number): string => (BigInt(Math.round(ms * 1_000)) * 1_000n).toString();

function span(trace: string, name: string, server: number, role: string, startMs: number, endMs: number, events: [string, number][] = []): string {
  return JSON.stringify({
    traceId: trace,
    spanId: `${server}${name}`.padEnd(16, '0').slice(0, 16),
    parentSpanId: null,
    name,
    startTimeUnixNano: ns(startMs),
    endTimeUnixNano: ns(endMs),
    attributes: { 'zab.server.id': server, 'zab.role': role },
    events: events.map(([n, t]) => ({ name: n, timeUnixNano: ns(t), attributes: {} })),
  });
}

/** One write through follower 1 of a 2-voter + 1-observer ensemble led by 2, at offset t. */
function write(trace: string, t: number): Record<number, string[]> {
  return {
    1: [
      span(trace, 'zk.request', 1, 'follower', t, t + 10),
      span(trace, 'zab.ack', 1, 'follower', t + 2, t + 6, [['appended', t + 2.5], ['fsynced', t + 5.5], ['ack sent', t + 6]]),
      span(trace, 'zab.commit', 1, 'follower', t + 8, t + 9),
    ],
    2: [
      span(trace, 'zab.proposal', 2, 'leader', t + 1, t + 7, [['quorum', t + 6.5], ['commit sent', t + 7]]),
      span(trace, 'zab.ack', 2, 'leader', t + 1, t + 5, [['appended', t + 1.5], ['fsynced', t + 4.5], ['ack sent', t + 5]]),
      span(trace, 'zab.commit', 2, 'leader', t + 7, t + 7.5),
    ],
    3: [span(trace, 'zab.commit', 3, 'observer', t + 8, t + 8.25)],
  };
}

describe('write breakdown from spans files', () => {
  it('joins each write trace across servers into per-stage, per-server rows; skips malformed lines and reads outside the window', async () => {
    const lines: Record<number, string[]> = { 1: [], 2: [], 3: [] };
    for (let i = 0; i < 4; i++) {
      const w = write(`t${i}`.padEnd(32, '0'), T + i * 100);
      for (const id of [1, 2, 3]) lines[id]!.push(...w[id]!);
    }
    lines[1]!.push('{"traceId": torn');
    lines[2]!.push(span('late'.padEnd(32, '0'), 'zab.proposal', 2, 'leader', T + 60_000, T + 60_001));
    for (const id of [1, 2, 3]) fs.writeFileSync(path.join(dir, `server-${id}.jsonl`), lines[id]!.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a spans file');

    const b = await breakdownFromSpans(dir, { fromEpochMs: T - 1, toEpochMs: T + 10_000 });
    expect(b?.writes).toBe(4);
    const row = (stage: string, id: number | null) => b!.stages.find((s) => s.stage === stage && s.serverId === id);
    expect(row('request', 1)).toMatchObject({ count: 4, p50Ms: 10, role: 'follower' });
    expect(row('queue', 2)).toMatchObject({ count: 4, p50Ms: 1 });
    expect(row('quorum', 2)).toMatchObject({ p50Ms: 5.5 });
    expect(row('commitSent', 2)).toMatchObject({ p50Ms: 0.5 });
    expect(row('fsync', 1)).toMatchObject({ p50Ms: 3 });
    expect(row('fsync', 2)).toMatchObject({ p50Ms: 3 });
    expect(row('ack', 1)).toMatchObject({ p50Ms: 4 });
    expect(row('apply', 3)).toMatchObject({ p50Ms: 0.25, role: 'observer' });
    // The observer acks nothing; stages come in pipeline order.
    expect(row('ack', 3)).toBeUndefined();
    expect(b!.stages.map((s) => s.stage)).toEqual(['request', 'queue', 'quorum', 'commitSent', 'append', 'append', 'fsync', 'fsync', 'ack', 'ack', 'apply', 'apply', 'apply']);
  });

  it('null when no write falls in the window, or the directory is missing', async () => {
    expect(await breakdownFromSpans(dir, { fromEpochMs: T + 100_000 })).toBeNull();
    expect(await breakdownFromSpans(path.join(dir, 'missing'))).toBeNull();
  });

  it('maxWrites bounds the traces read', async () => {
    expect((await breakdownFromSpans(dir, { maxWrites: 2 }))?.writes).toBe(2);
  });
});
