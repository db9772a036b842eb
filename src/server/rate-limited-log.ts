/**
 * Log lines for events a client can repeat at will (refused connections, expired half-open
 * ones): the first of a kind is logged at once; those that follow within the interval are
 * counted and written as one line when it ends — the latest one's fields with `times=N`,
 * the number of events that line stands for. A flood of connections must not become a flood
 * of log lines; ZooKeeper rate-limits its accept errors the same way.
 */
import type { Logger } from './log.js';

const DEFAULT_INTERVAL_MS = 1_000;

interface Kind {
  atMs: number;
  times: number;
  level: 'info' | 'warn';
  fields: object | undefined;
  timer: NodeJS.Timeout | null;
}

export class RateLimitedLog {
  /** By message (a fixed set of literals, so this map stays small). */
  private readonly kinds = new Map<string, Kind>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
  ) {}

  info(msg: string, fields?: object): void {
    this.emit('info', msg, fields);
  }

  warn(msg: string, fields?: object): void {
    this.emit('warn', msg, fields);
  }

  private emit(level: 'info' | 'warn', msg: string, fields: object | undefined): void {
    const now = performance.now();
    const k = this.kinds.get(msg);
    if (k !== undefined && now - k.atMs < this.intervalMs) {
      k.times++;
      k.level = level;
      k.fields = fields;
      if (k.timer === null) {
        k.timer = setTimeout(() => this.flush(msg, k), this.intervalMs - (now - k.atMs));
        k.timer.unref();
      }
      return;
    }
    this.kinds.set(msg, { atMs: now, times: 0, level, fields: undefined, timer: null });
    this.log[level](msg, fields);
  }

  private flush(msg: string, k: Kind): void {
    k.timer = null;
    if (k.times === 0) return;
    this.log[k.level](msg, { ...k.fields, times: k.times });
    k.atMs = performance.now();
    k.times = 0;
  }
}
