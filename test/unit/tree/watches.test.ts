import { describe, expect, it } from 'vitest';
import { EventType, KeeperState, WatcherType } from '../../../src/jute/index.js';
import { DataTree, type WatchedEvent } from '../../../src/tree/index.js';
import { WatchManager, WatcherMode } from '../../../src/tree/watches.js';
import { Driver, Recorder } from './helpers.js';

function setup(): Driver {
  const d = new Driver(new DataTree());
  d.create('/a', { data: Buffer.from('1') });
  d.create('/a/b');
  return d;
}

describe('one-shot watches', () => {
  it('a data watch fires NodeDataChanged once, with the txn zxid and SyncConnected', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.getData('/a', w);
    const rc = d.setData('/a', '2');
    d.setData('/a', '3');
    expect(w.events).toEqual([{ type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: '/a', zxid: rc.zxid }]);
  });

  it('a data watch fires NodeDeleted when the node goes', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.getData('/a/b', w);
    d.delete('/a/b');
    expect(w.seen()).toEqual(['NodeDeleted /a/b']);
  });

  it('an exist watch on a missing node fires NodeCreated', () => {
    const d = setup();
    const w = new Recorder();
    expect(() => d.tree.statNode('/a/new', w)).toThrow();
    d.create('/a/new');
    d.delete('/a/new');
    expect(w.seen()).toEqual(['NodeCreated /a/new']);
  });

  it('a child watch fires NodeChildrenChanged for creates and deletes of children, not for their data or grandchildren', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.getChildren('/a', w);
    d.setData('/a/b', 'x');
    d.create('/a/b/deep');
    d.setData('/a', 'x');
    expect(w.events).toEqual([]);
    d.create('/a/c');
    expect(w.seen()).toEqual(['NodeChildrenChanged /a']);
    d.tree.getChildren('/a', w);
    d.delete('/a/c');
    expect(w.seen()).toEqual(['NodeChildrenChanged /a', 'NodeChildrenChanged /a']);
  });

  it('a child watch fires NodeDeleted when the watched node itself goes', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.getChildren('/a/b', w);
    d.delete('/a/b');
    expect(w.seen()).toEqual(['NodeDeleted /a/b']);
  });

  it('a watcher with both a data and a child watch hears NodeDeleted once', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.getData('/a/b', w);
    d.tree.getChildren('/a/b', w);
    d.delete('/a/b');
    expect(w.seen()).toEqual(['NodeDeleted /a/b']);
    expect(d.tree.watchCount()).toBe(0);
  });

  it('create fires NodeCreated on the node before NodeChildrenChanged on its parent', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.statNode('/a', w);
    expect(() => d.tree.statNode('/a/c', w)).toThrow();
    d.tree.getChildren('/a', w);
    d.create('/a/c');
    expect(w.seen()).toEqual(['NodeCreated /a/c', 'NodeChildrenChanged /a']);
  });

  it('is removed before process() runs, so a watcher can re-arm from inside process()', () => {
    const d = setup();
    const stillArmed: boolean[] = [];
    const w = {
      events: [] as WatchedEvent[],
      process(e: WatchedEvent): void {
        this.events.push(e);
        stillArmed.push(d.tree.containsWatch('/a', WatcherType.Data, w));
        d.tree.getData('/a', w);
      },
    };
    d.tree.getData('/a', w);
    d.setData('/a', 'x');
    d.setData('/a', 'y');
    expect(stillArmed).toEqual([false, false]);
    expect(w.events).toHaveLength(2);
  });

  it('every watcher on a path hears the event', () => {
    const d = setup();
    const w1 = new Recorder('1');
    const w2 = new Recorder('2');
    d.tree.getData('/a', w1);
    d.tree.getData('/a', w2);
    d.tree.getData('/a', w2); // the same watch twice is one watch
    expect(d.tree.watchCount()).toBe(2);
    d.setData('/a', 'x');
    expect(w1.seen()).toEqual(['NodeDataChanged /a']);
    expect(w2.seen()).toEqual(['NodeDataChanged /a']);
  });
});

describe('persistent watches', () => {
  it('hear data and child events of their node and stay armed', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.addWatch('/a', w, 'persistent');
    d.setData('/a', 'x');
    d.create('/a/c');
    d.delete('/a/c');
    d.setData('/a', 'y');
    d.setData('/a/b', 'not mine');
    expect(w.seen()).toEqual([
      'NodeDataChanged /a',
      'NodeChildrenChanged /a',
      'NodeChildrenChanged /a',
      'NodeDataChanged /a',
    ]);
    expect(d.tree.containsWatch('/a', WatcherType.Persistent, w)).toBe(true);
  });

  it('survive the deletion and re-creation of their node', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.addWatch('/a/b', w, 'persistent');
    d.delete('/a/b');
    d.create('/a/b');
    expect(w.seen()).toEqual(['NodeDeleted /a/b', 'NodeCreated /a/b']);
  });

  it('count as a watch in both tables, like ZooKeeper', () => {
    const d = setup();
    d.tree.addWatch('/a', new Recorder(), 'persistent');
    expect(d.tree.watchCount()).toBe(2);
  });

  it('keep firing after a one-shot watch of the same watcher on the same path is consumed', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.addWatch('/a', w, 'persistent');
    d.tree.getData('/a', w);
    d.setData('/a', 'x');
    expect(w.seen()).toEqual(['NodeDataChanged /a']);
    expect(d.tree.containsWatch('/a', WatcherType.Data, w)).toBe(false);
    d.setData('/a', 'y');
    expect(w.seen()).toHaveLength(2);
  });
});

describe('persistent recursive watches', () => {
  it('hear NodeCreated, NodeDataChanged and NodeDeleted for the node and every descendant, never NodeChildrenChanged', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.addWatch('/a', w, 'persistentRecursive');
    d.create('/a/b/c');
    d.setData('/a/b/c', 'x');
    d.setData('/a', 'x');
    d.delete('/a/b/c');
    d.create('/other');
    d.create('/ab');
    expect(w.seen()).toEqual(['NodeCreated /a/b/c', 'NodeDataChanged /a/b/c', 'NodeDataChanged /a', 'NodeDeleted /a/b/c']);
  });

  it('on the root hear everything, with each event once even when a one-shot watch also matches', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.addWatch('/', w, 'persistentRecursive');
    d.tree.getData('/a/b', w);
    d.setData('/a/b', 'x');
    d.setData('/a/b', 'y');
    expect(w.seen()).toEqual(['NodeDataChanged /a/b', 'NodeDataChanged /a/b']);
  });

  it('counts once (data table only)', () => {
    const d = setup();
    d.tree.addWatch('/a', new Recorder(), 'persistentRecursive');
    expect(d.tree.watchCount()).toBe(1);
  });
});

describe('checking and removing watches', () => {
  it('containsWatch answers per WatcherType as ZooKeeper checkWatches does', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.getData('/a', w);
    d.tree.getChildren('/a/b', w);
    d.tree.addWatch('/a/b', w, 'persistentRecursive');
    expect(d.tree.containsWatch('/a', WatcherType.Data, w)).toBe(true);
    expect(d.tree.containsWatch('/a', WatcherType.Children, w)).toBe(false);
    expect(d.tree.containsWatch('/a', WatcherType.Any, w)).toBe(true);
    expect(d.tree.containsWatch('/a/b', WatcherType.Children, w)).toBe(true);
    expect(d.tree.containsWatch('/a/b', WatcherType.PersistentRecursive, w)).toBe(true);
    expect(d.tree.containsWatch('/a/b', WatcherType.Persistent, w)).toBe(false);
    expect(d.tree.containsWatch('/a', WatcherType.Data, new Recorder())).toBe(false);
  });

  it('removeWatch removes the named kind only, says whether there was one, and sends no event', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.getData('/a', w);
    d.tree.getChildren('/a', w);
    expect(d.tree.removeWatch('/a', WatcherType.Children, w)).toBe(true);
    expect(d.tree.removeWatch('/a', WatcherType.Children, w)).toBe(false);
    expect(d.tree.containsWatch('/a', WatcherType.Data, w)).toBe(true);
    d.create('/a/c');
    d.setData('/a', 'x');
    expect(w.seen()).toEqual(['NodeDataChanged /a']);
  });

  it('removeWatch Persistent clears both tables; Any clears everything on the path', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.addWatch('/a', w, 'persistent');
    expect(d.tree.removeWatch('/a', WatcherType.Persistent, w)).toBe(true);
    expect(d.tree.watchCount()).toBe(0);
    d.tree.addWatch('/a', w, 'persistentRecursive');
    d.tree.getChildren('/a', w);
    expect(d.tree.removeWatch('/a', WatcherType.Any, w)).toBe(true);
    expect(d.tree.watchCount()).toBe(0);
    expect(d.tree.removeWatch('/a', WatcherType.Any, w)).toBe(false);
    d.create('/a/c');
    expect(w.events).toEqual([]);
  });

  it('removeWatch PersistentRecursive stops descendant events', () => {
    const d = setup();
    const w = new Recorder();
    d.tree.addWatch('/a', w, 'persistentRecursive');
    expect(d.tree.removeWatch('/a', WatcherType.PersistentRecursive, w)).toBe(true);
    d.create('/a/c');
    expect(w.events).toEqual([]);
  });

  it('removeWatcher drops every watch of a closed connection and no other', () => {
    const d = setup();
    const gone = new Recorder('gone');
    const stays = new Recorder('stays');
    d.tree.getData('/a', gone);
    d.tree.getChildren('/a', gone);
    d.tree.addWatch('/', gone, 'persistentRecursive');
    d.tree.getData('/a', stays);
    d.tree.removeWatcher(gone);
    expect(d.tree.watchCount()).toBe(1);
    d.setData('/a', 'x');
    d.create('/a/c');
    expect(gone.events).toEqual([]);
    expect(stays.seen()).toEqual(['NodeDataChanged /a']);
  });

  it('lists watches by path and by watcher over both tables (wchp / wchc)', () => {
    const d = setup();
    const w1 = new Recorder('1');
    const w2 = new Recorder('2');
    d.tree.getData('/a', w1);
    d.tree.getChildren('/a', w2);
    d.tree.getChildren('/a/b', w1);
    const byPath = d.tree.watchesByPath();
    expect(new Set(byPath.get('/a'))).toEqual(new Set([w1, w2]));
    expect(byPath.get('/a/b')).toEqual([w1]);
    const byWatcher = d.tree.watchesByWatcher();
    expect(byWatcher.get(w1)!.sort()).toEqual(['/a', '/a/b']);
    expect(byWatcher.get(w2)).toEqual(['/a']);
  });

  it('wchs counts what the by-watcher and by-path lists hold, overlaps between the tables once', () => {
    const d = setup();
    const w1 = new Recorder('1');
    const w2 = new Recorder('2');
    const w3 = new Recorder('3');
    d.tree.getData('/a', w1);
    d.tree.getChildren('/a', w1); // the same pair in both tables: one watch in wchs
    d.tree.getChildren('/a', w2);
    d.tree.getChildren('/a/b', w1);
    expect(() => d.tree.statNode('/nope', w3)).toThrow(); // an exist watch on a missing node
    const byWatcher = d.tree.watchesByWatcher();
    let watches = 0;
    for (const ps of byWatcher.values()) watches += ps.length;
    expect(d.tree.watchSummary()).toEqual({ connections: byWatcher.size, paths: d.tree.watchesByPath().size, watches });
    expect(d.tree.watchSummary()).toEqual({ connections: 3, paths: 3, watches: 4 });
  });
});

describe('setWatches (re-arming after a reconnect)', () => {
  it('fires at once what changed after relativeZxid and re-arms the rest', () => {
    const d = setup(); // zxid 1: /a, zxid 2: /a/b
    d.create('/x'); // 3
    d.create('/a/c'); // 4 (moves /a pzxid)
    d.setData('/a/b', 'changed'); // 5
    d.delete('/x'); // 6
    const relativeZxid = 3n;
    const w = new Recorder();
    d.tree.setWatches(
      relativeZxid,
      {
        data: ['/a', '/a/b', '/x'],
        exist: ['/a/c', '/not-yet'],
        child: ['/a', '/a/b', '/x'],
        persistent: ['/p'],
        persistentRecursive: ['/a'],
      },
      w,
    );
    expect(w.seen()).toEqual([
      'NodeDataChanged /a/b',
      'NodeDeleted /x',
      'NodeCreated /a/c',
      'NodeChildrenChanged /a',
      'NodeDeleted /x',
    ]);
    expect(w.events.every((e) => e.zxid === -1n && e.state === KeeperState.SyncConnected)).toBe(true);
    expect(d.tree.containsWatch('/a', WatcherType.Data, w)).toBe(true);
    expect(d.tree.containsWatch('/not-yet', WatcherType.Data, w)).toBe(true);
    expect(d.tree.containsWatch('/a/b', WatcherType.Children, w)).toBe(true);
    expect(d.tree.containsWatch('/a', WatcherType.Children, w)).toBe(false);
    expect(d.tree.containsWatch('/p', WatcherType.Persistent, w)).toBe(true);
    expect(d.tree.containsWatch('/a', WatcherType.PersistentRecursive, w)).toBe(true);
    w.clear();
    d.create('/not-yet');
    expect(w.seen()).toEqual(['NodeCreated /not-yet']);
  });
});

describe('the watch count (kept as watches change: mntr reads it several times a second)', () => {
  it('equals the (path, watcher) pairs after any mix of adds, removes, triggers and closed watchers', () => {
    const m = new WatchManager();
    const watchers = Array.from({ length: 6 }, (_, i) => new Recorder(String(i)));
    const paths = ['/a', '/a/b', '/a/b/c', '/d'];
    const modes = [WatcherMode.STANDARD, WatcherMode.PERSISTENT, WatcherMode.PERSISTENT_RECURSIVE];
    let seed = 12345;
    const pick = <T>(xs: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return xs[Math.floor((seed / 2 ** 31) * xs.length)]!;
    };
    const recount = (): number => {
      let n = 0;
      for (const [, ps] of m.watchers()) n += ps.size;
      return n;
    };
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const op = pick(['add', 'add', 'add', 'remove', 'removeMode', 'trigger', 'close']);
      if (op === 'add') m.add(pick(paths), pick(watchers), pick(modes));
      else if (op === 'remove') m.remove(pick(paths), pick(watchers));
      else if (op === 'removeMode') m.remove(pick(paths), pick(watchers), pick(modes));
      else if (op === 'trigger') m.trigger(pick(paths), EventType.NodeDataChanged, BigInt(i));
      else m.removeWatcher(pick(watchers));
      expect(m.size).toBe(recount());
      seen.add(m.size);
    }
    // The mix reached many sizes, not one that a constant would match.
    expect(seen.size).toBeGreaterThan(10);
  });
});
