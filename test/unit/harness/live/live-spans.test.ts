/**
 * The waterfall of a recent write from spans files that grow while they are read: only whole
 * lines, the newest complete trace (proposal and commits on more than one server), reads and
 * torn lines ignored, a file replaced by a shorter one read from its start.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpansTail } from '../../../../src/harness/live/waterfall.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-live-spans-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const T = 1_795_000_000_000;
const ns = (ms: number): string => (BigInt(Math.round(ms * 1_000)) * 1_000n).toString();

function span(trace: string, name: string, server: number, role: string, start: number, end: number, extra: Record<string, unknown> = {}, events: [string, number][] = []): string {
  return JSON.stringify({
    traceId: trace.padEnd(32, '0'),
    spanId: `${name}${server}`.padEnd(16, '0'),
    parentSpanId: null,
    name,
    kind: 0,
    startTimeUnixNano: ns(start),
    endTimeUnixNano: ns(end),
    durationMs: end - start,
    status: { code: 0 },
    attributes: { 'zab.server.id': server, 'zab.role': role, ...extra },
    events: events.map(([n, t]) => ({ name: n, timeUnixNano: ns(t) })),
    links: [],
    resource: { 'service.name': 'zablab' },
  });
}

/** One write of trace `t` at time `at`: client on server 2, leader 1, followers 2 and 3. */
function write(t: string, at: number): Record<number, string[]> {
  return {
    1: [
      span(t, 'zab.proposal', 1, 'leader', at + 0.2, at + 1.5, { 'zab.zxid': '0x200000005' }, [['quorum', at + 1.2]]),
      span(t, 'zab.ack', 1, 'leader', at + 0.2, at + 0.9, {}, [['fsynced', at + 0.8]]),
      span(t, 'zab.commit', 1, 'leader', at + 1.3, at + 1.4),
    ],
    2: [span(t, 'zk.request', 2, 'follower', at, at + 2, { 'zk.op': 'setData' }), span(t, 'zab.ack', 2, 'follower', at + 0.3, at + 1.1), span(t, 'zab.commit', 2, 'follower', at + 1.6, at + 1.8)],
    3: [span(t, 'zab.ack', 3, 'follower', at + 0.3, at + 1.0), span(t, 'zab.commit', 3, 'follower', at + 1.6, at + 1.9)],
  };
}

function append(dir: string, lines: Record<number, string[]>, torn = ''): void {
  for (const [id, ls] of Object.entries(lines)) fs.appendFileSync(path.join(dir, `server-${id}.jsonl`), ls.map((l) => `${l}\n`).join('') + (id === '3' ? torn : ''));
}

describe('SpansTail', () => {
  it('draws the newest write with spans from every server, in stage order', () => {
    const dir = fs.mkdtempSync(path.join(root, 'a-'));
    const tail = new SpansTail(dir);
    expect(tail.poll()).toBeNull();
    expect(tail.hasFiles()).toBe(false);
    append(dir, write('aa', T));
    append(dir, { 2: [span('bb', 'zk.request', 2, 'follower', T + 5, T + 6, { 'zk.op': 'getData' })] }); // a read: no proposal
    const w = tail.poll();
    expect(w).not.toBeNull();
    expect(w!.traceId).toBe('aa'.padEnd(32, '0'));
    expect(w!.servers).toBe(3);
    expect(w!.leader).toBe(1);
    expect(w!.zxid).toBe('0x200000005');
    expect(w!.op).toBe('setData');
    expect(w!.spans.map((s) => `${s.stage}@${s.serverId}`)).toEqual(['request@2', 'proposal@1', 'ack@1', 'ack@2', 'ack@3', 'commit@1', 'commit@2', 'commit@3']);
    expect(w!.spans[0]!.fromMs).toBe(0);
    expect(w!.spans[1]!.events).toEqual([{ name: 'quorum', atMs: expect.closeTo(1.2, 3) as number }]);

    // A newer write replaces it once its spans are whole; a torn line waits for its end.
    const later = write('cc', T + 1_000);
    const partial = later[3]!.pop()!;
    append(dir, later, partial.slice(0, 40));
    expect(tail.poll()!.traceId).toBe('cc'.padEnd(32, '0'));
    expect(tail.poll()!.spans.filter((s) => s.stage === 'commit')).toHaveLength(2);
    fs.appendFileSync(path.join(dir, 'server-3.jsonl'), `${partial.slice(40)}\n`);
    expect(tail.poll()!.spans.filter((s) => s.stage === 'commit')).toHaveLength(3);
  });

  it('waits for a write whose commits reached more than one server', () => {
    const dir = fs.mkdtempSync(path.join(root, 'b-'));
    const tail = new SpansTail(dir);
    const w = write('dd', T);
    append(dir, { 1: w[1]! });
    expect(tail.poll()).toBeNull();
    expect(tail.hasFiles()).toBe(true);
    append(dir, { 3: w[3]! });
    expect(tail.poll()?.servers).toBe(2);
  });

  it('reads a file replaced by a shorter one from its start, and skips lines that are not spans', () => {
    const dir = fs.mkdtempSync(path.join(root, 'c-'));
    const tail = new SpansTail(dir);
    append(dir, write('ee', T));
    expect(tail.poll()?.traceId).toBe('ee'.padEnd(32, '0'));
    for (const id of [1, 2, 3]) fs.writeFileSync(path.join(dir, `server-${id}.jsonl`), 'not json\n{"name":"zab.commit",\n');
    expect(tail.poll()?.traceId).toBe('ee'.padEnd(32, '0'));
    append(dir, write('ff', T + 10));
    expect(tail.poll()?.traceId).toBe('ff'.padEnd(32, '0'));
  });
});
