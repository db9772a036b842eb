/**
 * ZooKeeper's BlueThrottle: a token bucket, with optional random dropping after the BLUE
 * queue-management algorithm, that says yes or no to each new session.
 *
 * The bucket holds at most `maxTokens` (0 turns the throttle off) and starts full; it gains
 * `fillCount` tokens per `fillTimeMs` elapsed, counted only once more than `fillTimeMs` has
 * passed since the last refill (ZooKeeper's rule: the remainder of an interval is lost).
 * A check that finds fewer tokens than it needs fails and takes none.
 *
 * With `freezeTimeMs` other than -1, a check first drops at random with probability `drop`,
 * which is adjusted at most once per `freezeTimeMs`: up by `dropIncrease` when the bucket is
 * empty, down by `dropDecrease` when its deficit is at most `decreasePoint` × maxTokens.
 * Under constant overload the drops spread refusals over every client instead of refusing
 * whoever arrives just after the bucket empties.
 */

export interface BlueThrottleSettings {
  maxTokens: number;
  fillTimeMs: number;
  fillCount: number;
  /** -1: no random dropping. */
  freezeTimeMs: number;
  dropIncrease: number;
  dropDecrease: number;
  decreasePoint: number;
}

export class BlueThrottle {
  private tokens: number;
  private lastFillMs: number;
  private lastFreezeMs: number;
  private drop = 0;

  constructor(
    private readonly s: BlueThrottleSettings,
    private readonly nowMs: () => number = () => performance.now(),
    private readonly random: () => number = Math.random,
  ) {
    this.tokens = s.maxTokens;
    this.lastFillMs = nowMs();
    this.lastFreezeMs = this.lastFillMs;
  }

  get enabled(): boolean {
    return this.s.maxTokens > 0;
  }

  /** The current probability of a random drop (ZooKeeper's gauge connection_drop_probability). */
  get dropChance(): number {
    return this.drop;
  }

  /** Tokens missing from a full bucket (ZooKeeper's connection_token_deficit). */
  get deficit(): number {
    return this.s.maxTokens - this.tokens;
  }

  /** Is the bucket full as of now? (Refills first.) */
  isFull(): boolean {
    this.refill(this.nowMs());
    return this.tokens >= this.s.maxTokens;
  }

  /** May a request that costs `need` tokens pass? Takes them when it may. */
  checkLimit(need: number): boolean {
    if (this.s.maxTokens === 0) return true;
    const now = this.nowMs();
    this.refill(now);
    if (this.s.freezeTimeMs !== -1 && !this.checkBlue(now)) return false;
    if (this.tokens < need) return false;
    this.tokens -= need;
    return true;
  }

  private refill(now: number): void {
    const elapsed = now - this.lastFillMs;
    if (elapsed <= this.s.fillTimeMs) return;
    const refill = Math.floor((elapsed * this.s.fillCount) / this.s.fillTimeMs);
    this.tokens = Math.min(this.tokens + refill, this.s.maxTokens);
    this.lastFillMs = now;
  }

  /** BLUE: adjust the drop probability once per freeze time, then drop at random. */
  private checkBlue(now: number): boolean {
    const s = this.s;
    if (now - this.lastFreezeMs > s.freezeTimeMs) {
      const deficit = s.maxTokens - this.tokens;
      if (deficit === s.maxTokens && this.drop < 1) {
        this.drop = Math.min(this.drop + s.dropIncrease, 1);
      } else if (deficit <= Math.round(s.maxTokens * s.decreasePoint) && this.drop > 0) {
        this.drop = Math.max(this.drop - s.dropDecrease, 0);
      }
      this.lastFreezeMs = now;
    }
    return !(this.random() < this.drop);
  }
}
