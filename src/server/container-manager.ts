/**
 * ContainerManager: deletes containers whose last child is gone and TTL nodes whose time is
 * up and that have no children, as ZooKeeper does — on the server that decides txns
 * (standalone or leader), every checkInterval, at most maxPerMinute deletions a minute.
 */
import { JuteWriter, OpCode } from '../jute/index.js';
import { ttlOf } from '../tree/index.js';
import type { ZabConfig } from './config.js';
import { serverRequest, type ZooKeeperServer } from './zk-server.js';

/** ZooKeeper's defaults: znode.container.checkIntervalMs and znode.container.maxPerMinute. */
export const CONTAINER_CHECK_INTERVAL_MS = 60_000;
export const CONTAINER_MAX_PER_MINUTE = 10_000;

/** `znode.container.checkIntervalMs` from zoo.cfg, else ZooKeeper's default. */
export function containerCheckIntervalMs(cfg: ZabConfig): number {
  const v = Number(cfg.raw.get('znode.container.checkIntervalMs') ?? cfg.raw.get('zookeeper.znode.container.checkIntervalMs'));
  return Number.isInteger(v) && v > 0 ? v : CONTAINER_CHECK_INTERVAL_MS;
}

export class ContainerManager {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly server: ZooKeeperServer,
    private readonly checkIntervalMs = CONTAINER_CHECK_INTERVAL_MS,
    private readonly maxPerMinute = CONTAINER_MAX_PER_MINUTE,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.checkContainers(), this.checkIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Paths to delete now: empty containers that once had a child, expired childless TTL nodes. */
  candidates(nowMs: number): string[] {
    const tree = this.server.db.tree;
    const out: string[] = [];
    for (const path of tree.containers()) {
      const n = tree.getNode(path);
      // cversion > 0: it had children once (a container never used is left alone, as in ZooKeeper).
      if (n && n.children.size === 0 && n.stat.cversion > 0) out.push(path);
    }
    for (const path of tree.ttls()) {
      const n = tree.getNode(path);
      if (!n || n.children.size > 0) continue;
      const ttl = ttlOf(n.stat.ephemeralOwner);
      if (ttl > 0n && BigInt(nowMs) - n.stat.mtime > ttl) out.push(path);
    }
    return out;
  }

  checkContainers(): void {
    if (!this.server.serving || this.server.prep === null) return;
    const limit = Math.max(1, Math.floor((this.maxPerMinute * this.checkIntervalMs) / 60_000));
    for (const path of this.candidates(Date.now()).slice(0, limit)) {
      const w = new JuteWriter(path.length + 8);
      w.writeString(path);
      const req = serverRequest(0n, OpCode.deleteContainer);
      this.server.submitWrite({ ...req, body: w.toBuffer() });
    }
  }
}
