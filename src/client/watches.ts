/**
 * The watches this session holds on the server, by server path, so that they can be
 * re-registered (SetWatches) after a reconnect. One-shot watches are dropped when their
 * event arrives; persistent ones stay until removed.
 */
import { AddWatchMode, EventType, OpCode, SetWatches, SetWatches2, WatcherType, type JuteWriter } from '../jute/index.js';

export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';

/** Bytes of paths per SetWatches packet, so that a reconnect never sends one huge frame. */
export const SET_WATCHES_MAX_BYTES = 128 * 1024;

export interface SetWatchesPacket {
  type: number;
  write(w: JuteWriter): void;
}

export class WatchRegistry {
  private readonly sets: Record<WatchKind, Set<string>> = {
    data: new Set(),
    exist: new Set(),
    child: new Set(),
    persistent: new Set(),
    persistentRecursive: new Set(),
  };

  add(kind: WatchKind, path: string): void {
    this.sets[kind].add(path);
  }

  has(kind: WatchKind, path: string): boolean {
    return this.sets[kind].has(path);
  }

  get size(): number {
    let n = 0;
    for (const s of Object.values(this.sets)) n += s.size;
    return n;
  }

  addPersistent(path: string, mode: number): void {
    this.add(mode === AddWatchMode.PERSISTENT_RECURSIVE ? 'persistentRecursive' : 'persistent', path);
  }

  /** Drop the one-shot watches that an event with this type and path has fired. */
  fired(type: number, path: string): void {
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        this.sets.data.delete(path);
        this.sets.exist.delete(path);
        break;
      case EventType.NodeDeleted:
        this.sets.data.delete(path);
        this.sets.exist.delete(path);
        this.sets.child.delete(path);
        break;
      case EventType.NodeChildrenChanged:
        this.sets.child.delete(path);
        break;
      default:
        break;
    }
  }

  /** Forget what the server removed after removeWatches(path, type). */
  removed(path: string, watcherType: number): void {
    const drop = (...kinds: WatchKind[]): void => kinds.forEach((k) => this.sets[k].delete(path));
    switch (watcherType) {
      case WatcherType.Children:
        drop('child');
        break;
      case WatcherType.Data:
        drop('data', 'exist');
        break;
      case WatcherType.Any:
        drop('data', 'exist', 'child');
        break;
      case WatcherType.Persistent:
        drop('persistent');
        break;
      case WatcherType.PersistentRecursive:
        drop('persistentRecursive');
        break;
      default:
        break;
    }
  }

  clear(): void {
    for (const s of Object.values(this.sets)) s.clear();
  }

  /**
   * SetWatches packets that re-register every watch, each holding at most about
   * SET_WATCHES_MAX_BYTES of paths. SetWatches2 only when a batch has persistent watches,
   * so that servers older than 3.6 keep working.
   */
  setWatchesPackets(relativeZxid: bigint): SetWatchesPacket[] {
    const kinds: WatchKind[] = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'];
    const packets: SetWatchesPacket[] = [];
    let batch = emptyBatch();
    let bytes = 0;
    const flush = (): void => {
      if (bytes === 0) return;
      packets.push(toPacket(relativeZxid, batch));
      batch = emptyBatch();
      bytes = 0;
    };
    for (const kind of kinds) {
      for (const path of this.sets[kind]) {
        batch[kind].push(path);
        bytes += Buffer.byteLength(path) + 4;
        if (bytes >= SET_WATCHES_MAX_BYTES) flush();
      }
    }
    flush();
    return packets;
  }
}

type Batch = Record<WatchKind, string[]>;

function emptyBatch(): Batch {
  return { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };
}

function toPacket(relativeZxid: bigint, b: Batch): SetWatchesPacket {
  const common = { relativeZxid, dataWatches: b.data, existWatches: b.exist, childWatches: b.child };
  if (b.persistent.length === 0 && b.persistentRecursive.length === 0) {
    return { type: OpCode.setWatches, write: (w) => SetWatches.write(w, common) };
  }
  const v2 = { ...common, persistentWatches: b.persistent, persistentRecursiveWatches: b.persistentRecursive };
  return { type: OpCode.setWatches2, write: (w) => SetWatches2.write(w, v2) };
}
