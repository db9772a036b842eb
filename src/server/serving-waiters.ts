/**
 * Sessions that ask to connect while the server elects a leader wait for it to serve rather
 * than being closed at once. ZooKeeper closes them, and its clients then back off (up to a
 * second per round of hosts), which after a leader's death costs more than the election.
 * A waiter goes on as soon as the server serves, or is refused after `holdMs`. Once the
 * server has been without a leader for `windowMs` (a partitioned minority, say) new
 * sessions are refused at once, as ZooKeeper does, so that clients move on to other servers.
 */

interface Waiter {
  go: () => void;
  refuse: () => void;
  timer: NodeJS.Timeout;
}

export class ServingWaiters {
  private readonly waiting = new Map<object, Waiter>();
  /** When the server stopped serving (null: it serves). A new server has not served yet. */
  private notServingSince: number | null = performance.now();

  constructor(
    private readonly holdMs: number,
    private readonly windowMs: number,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  /** The server serves, or stopped serving (an election started). */
  setServing(serving: boolean): void {
    if (!serving) {
      this.notServingSince ??= performance.now();
      return;
    }
    this.notServingSince = null;
    for (const [key, w] of [...this.waiting]) {
      this.waiting.delete(key);
      clearTimeout(w.timer);
      w.go();
    }
  }

  /**
   * Hold `key` until the server serves (`go`) or `holdMs` passes (`refuse`). False when the
   * server serves already or has been electing too long to wait for: refuse now.
   */
  wait(key: object, go: () => void, refuse: () => void): boolean {
    const since = this.notServingSince;
    if (since === null || performance.now() - since >= this.windowMs || this.waiting.has(key)) return false;
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      refuse();
    }, this.holdMs);
    timer.unref();
    this.waiting.set(key, { go, refuse, timer });
    return true;
  }

  /** The waiter's connection closed on its own. */
  cancel(key: object): void {
    const w = this.waiting.get(key);
    if (w === undefined) return;
    clearTimeout(w.timer);
    this.waiting.delete(key);
  }

  /** The server shuts down: refuse everyone still waiting. */
  refuseAll(): void {
    for (const [key, w] of [...this.waiting]) {
      this.waiting.delete(key);
      clearTimeout(w.timer);
      w.refuse();
    }
  }
}
