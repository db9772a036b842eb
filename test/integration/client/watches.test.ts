/**
 * Watches of every kind against a real server. To show that a watch did NOT fire, a later
 * change with a known event serves as a barrier: notifications arrive in the order the
 * server applied the changes, so anything the earlier change fired would already be here.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ZkError, type WatchedEvent, type ZkClient } from '../../../src/client/index.js';
import { AddWatchMode, Code, EventType, KeeperState, WatcherType } from '../../../src/jute/index.js';
import type { ServerHandle } from '../../helpers/server-process.js';
import { ClientPool, startTarget, targetMissing, targetName, uniquePath, waitFor } from './target.js';

let server: ServerHandle;
const pool = new ClientPool();
let writer: ZkClient;

class EventLog {
  readonly events: WatchedEvent[] = [];
  constructor(client: ZkClient) {
    client.on('watch', (e) => this.events.push(e));
  }
  /** "Type path" strings, the easiest form to compare. */
  get seen(): string[] {
    return this.events.map((e) => `${typeName(e.type)} ${e.path}`);
  }
  async until(entry: string): Promise<void> {
    await waitFor(() => this.seen.includes(entry), `watch event "${entry}" (seen: ${this.seen.join('; ')})`);
  }
}

function typeName(t: number): string {
  return Object.entries(EventType).find(([, v]) => v === t)?.[0] ?? String(t);
}

/** A change whose event proves that earlier notifications have all arrived. */
async function barrier(watcher: ZkClient, log: EventLog): Promise<void> {
  const b = uniquePath('barrier');
  await watcher.exists(b, true);
  await writer.create(b);
  await log.until(`NodeCreated ${b}`);
}

describe.skipIf(targetMissing() !== null)(`watches against ${targetName}`, () => {
  beforeAll(async () => {
    server = await startTarget();
    writer = await pool.open(server.connectString);
  });
  afterAll(async () => {
    await pool.closeAll();
    await server?.stop();
  });

  test('a data watch fires once on change, with SyncConnected state', async () => {
    const w = await pool.open(server.connectString);
    const log = new EventLog(w);
    const p = uniquePath('data');
    await writer.create(p, Buffer.from('0'));
    await w.getData(p, true);
    await writer.setData(p, Buffer.from('1'));
    await log.until(`NodeDataChanged ${p}`);
    expect(log.events[0]).toMatchObject({ type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: p });
    await writer.setData(p, Buffer.from('2'));
    await barrier(w, log);
    expect(log.seen.filter((s) => s.endsWith(` ${p}`))).toEqual([`NodeDataChanged ${p}`]);
  });

  test('an exists watch on a missing node fires NodeCreated; on an existing node, NodeDeleted', async () => {
    const w = await pool.open(server.connectString);
    const log = new EventLog(w);
    const p = uniquePath('exists');
    expect(await w.exists(p, true)).toBeNull();
    await writer.create(p);
    await log.until(`NodeCreated ${p}`);
    expect(await w.exists(p, true)).not.toBeNull();
    await writer.delete(p);
    await log.until(`NodeDeleted ${p}`);
  });

  test('a child watch fires NodeChildrenChanged for a new child, not for data changes', async () => {
    const w = await pool.open(server.connectString);
    const log = new EventLog(w);
    const p = uniquePath('children');
    await writer.create(p);
    await w.getChildren(p, true);
    await writer.setData(p, Buffer.from('not a child change'));
    await writer.create(`${p}/kid`);
    await log.until(`NodeChildrenChanged ${p}`);
    expect(log.seen).toEqual([`NodeChildrenChanged ${p}`]);
  });

  test('deleting a watched node fires NodeDeleted to data and child watches', async () => {
    const w = await pool.open(server.connectString);
    const log = new EventLog(w);
    const p = uniquePath('del');
    await writer.create(p);
    await w.getData(p, true);
    await w.getChildren(p, true);
    await writer.delete(p);
    await log.until(`NodeDeleted ${p}`);
    await barrier(w, log);
    expect(log.seen.filter((s) => s.endsWith(` ${p}`))).toEqual([`NodeDeleted ${p}`]);
  });

  test('a persistent watch fires on every change of the node and its children list', async () => {
    const w = await pool.open(server.connectString);
    const log = new EventLog(w);
    const p = uniquePath('persistent');
    await writer.create(p);
    await w.addWatch(p, AddWatchMode.PERSISTENT);
    await writer.setData(p, Buffer.from('1'));
    await writer.setData(p, Buffer.from('2'));
    await writer.create(`${p}/c`);
    await writer.create(`${p}/c/grandchild`);
    await barrier(w, log);
    expect(log.seen.filter((s) => s.includes(p))).toEqual([
      `NodeDataChanged ${p}`,
      `NodeDataChanged ${p}`,
      `NodeChildrenChanged ${p}`,
    ]);
  });

  test('a persistent recursive watch fires for every descendant, without child events', async () => {
    const w = await pool.open(server.connectString);
    const log = new EventLog(w);
    const p = uniquePath('recursive');
    await writer.create(p);
    await w.addWatch(p, AddWatchMode.PERSISTENT_RECURSIVE);
    await writer.create(`${p}/a`);
    await writer.create(`${p}/a/b`);
    await writer.setData(`${p}/a/b`, Buffer.from('x'));
    await writer.delete(`${p}/a/b`);
    await barrier(w, log);
    expect(log.seen.filter((s) => s.includes(p))).toEqual([
      `NodeCreated ${p}/a`,
      `NodeCreated ${p}/a/b`,
      `NodeDataChanged ${p}/a/b`,
      `NodeDeleted ${p}/a/b`,
    ]);
  });

  test('removeWatches stops a watch; removing one that does not exist is NOWATCHER', async () => {
    const w = await pool.open(server.connectString);
    const log = new EventLog(w);
    const p = uniquePath('remove');
    await writer.create(p);
    await w.getData(p, true);
    await w.getChildren(p, true);
    await w.removeWatches(p, WatcherType.Data);
    await w.removeWatches(p, WatcherType.Children);
    // (Removing persistent watches one by one needs ZooKeeper 3.9: ZOOKEEPER-4472.)
    await writer.setData(p, Buffer.from('unseen'));
    await writer.create(`${p}/unseen`);
    await barrier(w, log);
    expect(log.seen.filter((s) => s.endsWith(` ${p}`))).toEqual([]);
    const err = await w.removeWatches(p, WatcherType.Children).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkError);
    expect((err as ZkError).code).toBe(Code.NOWATCHER);
  });

  test('a chrooted client sees watch paths relative to its chroot', async () => {
    const root = uniquePath('wchroot');
    await writer.create(root);
    const w = await pool.open(server.connectString + root);
    const log = new EventLog(w);
    await w.exists('/n', true);
    await writer.create(`${root}/n`);
    await log.until('NodeCreated /n');
  });
});
