/**
 * Watches (ZooKeeper's WatchManager). The tree keeps two tables, data and child; a watcher
 * holds a set of modes per path: one-shot (cleared when it fires), persistent (kept) and
 * persistent-recursive (kept, fires for every descendant too).
 */
import { KeeperState } from '../jute/index.js';

export interface WatchedEvent {
  type: number /* EventType */;
  state: number /* KeeperState */;
  path: string;
  /** zxid of the txn that fired the event; -1n when there is none (setWatches replies). */
  zxid: bigint;
}

/** Usually a client connection: it turns the event into a notification packet. */
export interface Watcher {
  process(event: WatchedEvent): void;
}

export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';

/** Watch modes as bit flags, so one watcher can hold several on one path. */
export const WatcherMode = {
  STANDARD: 1,
  PERSISTENT: 2,
  PERSISTENT_RECURSIVE: 4,
} as const;
export type WatcherMode = (typeof WatcherMode)[keyof typeof WatcherMode];

export const NO_ZXID = -1n;

/** Walk from a path up to '/', e.g. '/a/b' -> '/a/b', '/a', '/'. */
function* pathAndParents(path: string): Generator<string> {
  let p = path;
  for (;;) {
    yield p;
    if (p === '/' || p === '') return;
    const lastSlash = p.lastIndexOf('/');
    p = lastSlash <= 0 ? '/' : p.slice(0, lastSlash);
  }
}

export class WatchManager {
  private readonly watchTable = new Map<string, Set<Watcher>>();
  private readonly watch2Paths = new Map<Watcher, Map<string, number>>();
  /** How many (watcher, path) pairs hold a recursive watch; 0 lets triggers skip the parents. */
  private recursiveWatchQty = 0;
  /** (path, watcher) pairs in watchTable, kept as they change: mntr asks for it several times a second. */
  private pairs = 0;

  /** Number of (path, watcher) pairs, as ZooKeeper counts watches. */
  get size(): number {
    return this.pairs;
  }

  add(path: string, watcher: Watcher, mode: WatcherMode): boolean {
    let ws = this.watchTable.get(path);
    if (ws === undefined) {
      ws = new Set();
      this.watchTable.set(path, ws);
    }
    if (!ws.has(watcher)) {
      ws.add(watcher);
      this.pairs++;
    }
    let paths = this.watch2Paths.get(watcher);
    if (paths === undefined) {
      paths = new Map();
      this.watch2Paths.set(watcher, paths);
    }
    const old = paths.get(path) ?? 0;
    if ((old & mode) !== 0) return false;
    paths.set(path, old | mode);
    if (mode === WatcherMode.PERSISTENT_RECURSIVE) this.recursiveWatchQty++;
    return true;
  }

  /** Drop every watch of this watcher (its connection closed). */
  removeWatcher(watcher: Watcher): void {
    const paths = this.watch2Paths.get(watcher);
    if (paths === undefined) return;
    this.watch2Paths.delete(watcher);
    for (const [p, modes] of paths) {
      this.dropFromTable(p, watcher);
      if ((modes & WatcherMode.PERSISTENT_RECURSIVE) !== 0) this.recursiveWatchQty--;
    }
  }

  /** Whether the watcher watches path with `mode` (any mode when undefined). */
  contains(path: string, watcher: Watcher, mode?: WatcherMode): boolean {
    const modes = this.watch2Paths.get(watcher)?.get(path);
    if (modes === undefined) return false;
    return mode === undefined || (modes & mode) !== 0;
  }

  /** Remove one mode (every mode when undefined) of a watch; true when something was removed. */
  remove(path: string, watcher: Watcher, mode?: WatcherMode): boolean {
    const paths = this.watch2Paths.get(watcher);
    const old = paths?.get(path);
    if (paths === undefined || old === undefined) return false;
    const next = mode === undefined ? 0 : old & ~mode;
    if (next === old) return false;
    if (next === 0) {
      paths.delete(path);
      if (paths.size === 0) this.watch2Paths.delete(watcher);
      this.dropFromTable(path, watcher);
    } else {
      paths.set(path, next);
    }
    if ((old & WatcherMode.PERSISTENT_RECURSIVE) !== 0 && (next & WatcherMode.PERSISTENT_RECURSIVE) === 0) {
      this.recursiveWatchQty--;
    }
    return true;
  }

  /**
   * Fire `type` for `path`: every watcher on the path itself (one-shot modes are cleared
   * first) and every recursive watcher on an ancestor. Each watcher gets the event once.
   * Watchers in `suppress` are cleared but not told (ZooKeeper's delete: a connection that
   * watches both data and children of a node hears NodeDeleted once). Returns who fired.
   */
  trigger(path: string, type: number, zxid: bigint, suppress?: ReadonlySet<Watcher>): Set<Watcher> {
    const fired = new Set<Watcher>();
    let atParent = false;
    for (const p of this.recursiveWatchQty === 0 ? [path] : pathAndParents(path)) {
      const ws = this.watchTable.get(p);
      if (ws !== undefined) {
        for (const w of ws) {
          const paths = this.watch2Paths.get(w);
          const modes = paths?.get(p);
          if (paths === undefined || modes === undefined) continue;
          if (!atParent) {
            fired.add(w);
            const next = modes & ~WatcherMode.STANDARD;
            if (next === 0) {
              ws.delete(w);
              this.pairs--;
              paths.delete(p);
              if (paths.size === 0) this.watch2Paths.delete(w);
            } else if (next !== modes) {
              paths.set(p, next);
            }
          } else if ((modes & WatcherMode.PERSISTENT_RECURSIVE) !== 0) {
            fired.add(w);
          }
        }
        if (ws.size === 0) this.watchTable.delete(p);
      }
      atParent = true;
    }
    if (fired.size === 0) return fired;
    const event: WatchedEvent = { type, state: KeeperState.SyncConnected, path, zxid };
    for (const w of fired) {
      if (suppress?.has(w) === true) continue;
      w.process(event);
    }
    return fired;
  }

  /** Watched paths (no copy: for counting). */
  paths(): IterableIterator<string> {
    return this.watchTable.keys();
  }

  /** Each watcher with its paths (no copy: for counting). */
  watchers(): IterableIterator<[Watcher, ReadonlyMap<string, number>]> {
    return this.watch2Paths.entries();
  }

  /** The paths `watcher` watches here, if any. */
  pathsOf(watcher: Watcher): ReadonlyMap<string, number> | undefined {
    return this.watch2Paths.get(watcher);
  }

  /** path -> watchers, for wchp. */
  byPath(): Map<string, Set<Watcher>> {
    return new Map([...this.watchTable].map(([p, ws]) => [p, new Set(ws)]));
  }

  /** watcher -> paths, for wchc. */
  byWatcher(): Map<Watcher, Set<string>> {
    return new Map([...this.watch2Paths].map(([w, paths]) => [w, new Set(paths.keys())]));
  }

  private dropFromTable(path: string, watcher: Watcher): void {
    const ws = this.watchTable.get(path);
    if (ws === undefined) return;
    if (ws.delete(watcher)) this.pairs--;
    if (ws.size === 0) this.watchTable.delete(path);
  }
}

