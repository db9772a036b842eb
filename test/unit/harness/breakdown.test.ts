/** The write breakdown from hand-written spans files: stages per server, the window, sampling, malformed lines. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { breakdownFromSpans, readWriteBreakdown } from '../../../src/harness/measure/breakdown.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-breakdown-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const T = 1_795_000_000_000; // epoch ms
const ns = (ms: number): string => (BigInt(Math.round(ms * 1_000)) * 1_000n).toString();

interface SpanSpec {
  trace: string;
  id: string;
  parent?: string;
  name: string;
  server: number;
  role: string;
  start: number;
  end: number;
  events?: [string, number][];
}

function span(s: SpanSpec): string {
  return JSON.stringify({
    traceId: s.trace,
    spanId: s.id.padEnd(16, '0'),
    parentSpanId: s.parent === undefined ? null : s.parent.padEnd(16, '0'),
    name: s.name,
    kind: 0,
    startTimeUnixNano: ns(s.start),
    endTimeUnixNano: ns(s.end),
    durationMs: s.end - s.start,
    status: { code: 0 },
    attributes: { 'zab.server.id': s.server, 'zab.role': s.role },
    events: (s.events ?? []).map(([n, t]) => ({ name: n, timeUnixNano: ns(t), attributes: {} })),
    links: [],
    resource: { 'service.name': 'zablab' },
  });
}

/** One write through follower 1 of a 2-voter + 1-observer ensemble led by 2, starting at t. */
function write(trace: string, t: number): Record<number, string[]> {
  const common = { trace };
  return {
    1: [
      span({ ...common, id: 'a1', parent: 'b2', name: 'zab.ack', server: 1, role: 'follower', start: t + 2, end: t + 6, events: [['appended', t + 2.5], ['fsynced', t + 5.5], ['ack sent', t + 6]] }),
      span({ ...common, id: 'c1', parent: 'b2', name: 'zab.commit', server: 1, role: 'follower', start: t + 8, end: t + 9, events: [['applied', t + 9]] }),
      // A read on the same server in between: not part of any write.
      span({ trace: 'f'.repeat(32), id: 'r1', name: 'zk.request', server: 1, role: 'follower', start: t + 3, end: t + 3.1 }),
      span({ ...common, id: 'e1', name: 'zk.request', server: 1, role: 'follower', start: t, end: t + 10 }),
    ],
    2: [
      span({ ...common, id: 'a2', parent: 'b2', name: 'zab.ack', server: 2, role: 'leader', start: t + 1.25, end: t + 5, events: [['appended', t + 1.5], ['fsynced', t + 4.5]] }),
      span({ ...common, id: 'b2', parent: 'e1', name: 'zab.proposal', server: 2, role: 'leader', start: t + 1, end: t + 7, events: [['ack received', t + 6], ['quorum', t + 6.5], ['commit sent', t + 7]] }),
      span({ ...common, id: 'c2', parent: 'b2', name: 'zab.commit', server: 2, role: 'leader', start: t + 7, end: t + 7.5 }),
    ],
    3: [span({ ...common, id: 'c3', parent: 'b2', name: 'zab.commit', server: 3, role: 'observer', start: t + 8, end: t + 8.25 })],
  };
}

function writeFiles(writes: number, extra: Record<number, string[]> = {}): void {
  const lines: Record<number, string[]> = { 1: [], 2: [], 3: [] };
  for (let i = 0; i < writes; i++) {
    const w = write(`${i}`.padStart(32, 'd'), T + i * 100);
    for (const id of [1, 2, 3]) lines[id]!.push(...w[id]!);
  }
  for (const id of [1, 2, 3]) fs.writeFileSync(path.join(dir, `server-${id}.jsonl`), [...lines[id]!, ...(extra[id] ?? [])].join('\n') + '\n');
}

describe('write breakdown from spans files', () => {
  it('joins each write across servers: one row per stage and server, in pipeline order', () => {
    writeFiles(4, {
      // A torn last line (a killed server) and garbage: skipped and counted.
      1: ['{"traceId":"dddd', 'not json at all'],
      // A write long after the window.
      2: [span({ trace: 'late'.padEnd(32, '0'), id: 'b9', name: 'zab.proposal', server: 2, role: 'leader', start: T + 60_000, end: T + 60_001 })],
    });
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a spans file\n');

    const reading = readWriteBreakdown(dir, { fromEpochMs: T - 1, toEpochMs: T + 10_000 });
    expect(reading.malformedLines).toBe(2);
    expect(reading.files).toBe(3);
    const b = reading.breakdown!;
    expect(b.writes).toBe(4);
    const row = (stage: string, id: number) => b.stages.find((s) => s.stage === stage && s.serverId === id);
    // The request and its queue count where the client's request was: follower 1.
    expect(row('request', 1)).toMatchObject({ count: 4, meanMs: 10, p50Ms: 10, p99Ms: 10, role: 'follower' });
    expect(row('queue', 1)).toMatchObject({ count: 4, p50Ms: 1 });
    expect(row('quorum', 2)).toMatchObject({ count: 4, p50Ms: 5.5, role: 'leader' });
    expect(row('commitSent', 2)).toMatchObject({ p50Ms: 0.5 });
    expect(row('append', 1)).toMatchObject({ p50Ms: 0.5 });
    expect(row('append', 2)).toMatchObject({ p50Ms: 0.25 });
    expect(row('fsync', 1)).toMatchObject({ p50Ms: 3 });
    expect(row('fsync', 2)).toMatchObject({ p50Ms: 3 });
    expect(row('ack', 1)).toMatchObject({ p50Ms: 4 });
    expect(row('ack', 2)).toMatchObject({ p50Ms: 3.75 });
    expect(row('apply', 3)).toMatchObject({ count: 4, p50Ms: 0.25, role: 'observer' });
    // The observer acks nothing.
    expect(row('ack', 3)).toBeUndefined();
    expect(b.stages.map((s) => `${s.stage}/${s.serverId}`)).toEqual([
      'request/1',
      'queue/1',
      'quorum/2',
      'commitSent/2',
      'append/1',
      'append/2',
      'fsync/1',
      'fsync/2',
      'ack/1',
      'ack/2',
      'apply/1',
      'apply/2',
      'apply/3',
    ]);
    // The window is on the proposal's start: without one, the late write counts too.
    expect(breakdownFromSpans(dir)?.writes).toBe(5);
  });

  it('null when no write falls in the window, when there are only reads, or when the directory is missing', () => {
    writeFiles(2);
    expect(breakdownFromSpans(dir, { fromEpochMs: T + 100_000 })).toBeNull();
    expect(breakdownFromSpans(path.join(dir, 'missing'))).toBeNull();
    const reads = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-breakdown-reads-'));
    try {
      fs.writeFileSync(path.join(reads, 'server-1.jsonl'), span({ trace: 'r'.repeat(32), id: 'r1', name: 'zk.request', server: 1, role: 'leader', start: T, end: T + 1 }) + '\n');
      expect(breakdownFromSpans(reads)).toBeNull();
    } finally {
      fs.rmSync(reads, { recursive: true, force: true });
    }
  });

  it('maxWrites samples the writes: the same files give the same sample', () => {
    writeFiles(50);
    const a = readWriteBreakdown(dir, { maxWrites: 7 });
    expect(a.writesInWindow).toBe(50);
    expect(a.breakdown?.writes).toBe(7);
    expect(a.breakdown!.stages.find((s) => s.stage === 'apply' && s.serverId === 3)?.count).toBe(7);
    expect(readWriteBreakdown(dir, { maxWrites: 7 })).toEqual(a);
  });

  it('a line longer than any span is skipped without being held, the lines around it still count', () => {
    const w = write('l'.padEnd(32, '0'), T);
    fs.writeFileSync(path.join(dir, 'server-1.jsonl'), [...w[1]!, `{"junk":"${'x'.repeat(5 * 1024 * 1024)}"}`, ...w[1]!.slice(0, 1)].join('\n'));
    fs.writeFileSync(path.join(dir, 'server-2.jsonl'), w[2]!.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'server-3.jsonl'), w[3]!.join('\n') + '\n');
    const r = readWriteBreakdown(dir);
    expect(r.malformedLines).toBe(1);
    expect(r.breakdown?.writes).toBe(1);
    expect(r.breakdown!.stages.find((s) => s.stage === 'request')?.serverId).toBe(1);
  });
});
