import { describe, expect, test } from 'vitest';
import { WatchRegistry, SET_WATCHES_MAX_BYTES } from '../../../src/client/watches.js';
import { AddWatchMode, EventType, JuteReader, JuteWriter, OpCode, SetWatches, SetWatches2, WatcherType } from '../../../src/jute/index.js';

function decodePackets(reg: WatchRegistry, zxid = 9n) {
  return reg.setWatchesPackets(zxid).map((p) => {
    const w = new JuteWriter();
    p.write(w);
    const r = new JuteReader(w.toBuffer());
    return { type: p.type, bytes: w.length, body: p.type === OpCode.setWatches2 ? SetWatches2.read(r) : SetWatches.read(r) };
  });
}

describe('WatchRegistry', () => {
  test('one-shot watches go when their event fires; persistent ones stay', () => {
    const reg = new WatchRegistry();
    reg.add('data', '/a');
    reg.add('exist', '/b');
    reg.add('child', '/a');
    reg.addPersistent('/a', AddWatchMode.PERSISTENT);
    reg.addPersistent('/', AddWatchMode.PERSISTENT_RECURSIVE);
    reg.fired(EventType.NodeDataChanged, '/a');
    expect(reg.has('data', '/a')).toBe(false);
    expect(reg.has('child', '/a')).toBe(true);
    reg.fired(EventType.NodeCreated, '/b');
    expect(reg.has('exist', '/b')).toBe(false);
    reg.fired(EventType.NodeDeleted, '/a');
    expect(reg.has('child', '/a')).toBe(false);
    expect(reg.has('persistent', '/a')).toBe(true);
    expect(reg.has('persistentRecursive', '/')).toBe(true);
    expect(reg.size).toBe(2);
  });

  test('removeWatches types map to the kinds they remove', () => {
    const reg = new WatchRegistry();
    for (const k of ['data', 'exist', 'child', 'persistent', 'persistentRecursive'] as const) reg.add(k, '/p');
    reg.removed('/p', WatcherType.Data);
    expect([reg.has('data', '/p'), reg.has('exist', '/p'), reg.has('child', '/p')]).toEqual([false, false, true]);
    reg.removed('/p', WatcherType.Any);
    expect(reg.has('child', '/p')).toBe(false);
    expect(reg.size).toBe(2);
    reg.removed('/p', WatcherType.PersistentRecursive);
    reg.removed('/p', WatcherType.Persistent);
    expect(reg.size).toBe(0);
  });

  test('SetWatches (not SetWatches2) when there are no persistent watches, carrying the relative zxid', () => {
    const reg = new WatchRegistry();
    reg.add('data', '/d');
    reg.add('exist', '/e');
    reg.add('child', '/c');
    expect(decodePackets(reg, 42n)).toEqual([
      { type: OpCode.setWatches, bytes: expect.any(Number), body: { relativeZxid: 42n, dataWatches: ['/d'], existWatches: ['/e'], childWatches: ['/c'] } },
    ]);
    reg.addPersistent('/r', AddWatchMode.PERSISTENT_RECURSIVE);
    const [p] = decodePackets(reg, 42n);
    expect(p!.type).toBe(OpCode.setWatches2);
    expect(p!.body).toMatchObject({ persistentWatches: [], persistentRecursiveWatches: ['/r'] });
  });

  test('many watches are split into packets of bounded size, none lost', () => {
    const reg = new WatchRegistry();
    const paths = Array.from({ length: 5_000 }, (_, i) => `/some/fairly/long/path/number/${i}/${'x'.repeat(40)}`);
    for (const p of paths) reg.add(p.endsWith('0') ? 'child' : 'data', p);
    const packets = decodePackets(reg);
    expect(packets.length).toBeGreaterThan(1);
    for (const p of packets) expect(p.bytes).toBeLessThan(SET_WATCHES_MAX_BYTES + 1024);
    const all = packets.flatMap((p) => [...p.body.dataWatches, ...p.body.childWatches]);
    expect(all.sort()).toEqual([...paths].sort());
  });

  test('no watches, no packets', () => {
    expect(new WatchRegistry().setWatchesPackets(1n)).toEqual([]);
  });
});
