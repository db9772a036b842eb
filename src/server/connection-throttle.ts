/**
 * Which ConnectRequests get a session: ZooKeeper's connection throttle (one BlueThrottle for
 * the whole server, `connection_throttle_*`), and zablab's per-address bucket
 * (`zablab.connection_throttle_per_ip_*`).
 *
 * ZooKeeper's throttle is global: one client that opens sessions as fast as it can empties
 * the bucket for everyone. The per-address bucket is checked first, so a client past its own
 * budget is refused without taking any of the global tokens; what one address can take from
 * the global bucket is bounded by its own.
 *
 * Weights are ZooKeeper's: with connection_throttle_weight_enabled a new session costs the
 * global session weight and a reconnect (session id given) the renew weight, and the token
 * and fill counts, written in sessions, are multiplied by the global weight. zablab has no
 * local sessions, so the local weight only bounds the others, as in ZooKeeper.
 */
import { BlueThrottle } from './blue-throttle.js';
import type { ZabConfig } from './config.js';

export type ConnectionThrottleConfig = Pick<
  ZabConfig,
  | 'connectionThrottleTokens'
  | 'connectionThrottleFillTimeMs'
  | 'connectionThrottleFillCount'
  | 'connectionThrottleFreezeTimeMs'
  | 'connectionThrottleDropIncrease'
  | 'connectionThrottleDropDecrease'
  | 'connectionThrottleDecreaseRatio'
  | 'connectionThrottleWeightEnabled'
  | 'connectionThrottleGlobalSessionWeight'
  | 'connectionThrottleRenewSessionWeight'
  | 'connectionThrottlePerIpTokens'
  | 'connectionThrottlePerIpFillTimeMs'
  | 'connectionThrottlePerIpFillCount'
>;

export type Admission =
  | { admitted: true; deficit: number }
  /** `limit` names the zoo.cfg key whose bucket was empty. */
  | { admitted: false; limit: string };

/** Addresses tracked at most; beyond that, full buckets are forgotten, then the least recently used. */
const PER_ADDRESS_MAX = 65_536;
const PER_ADDRESS_KEEP = (PER_ADDRESS_MAX / 8) * 7;

export class ConnectionThrottle {
  private readonly global: BlueThrottle;
  /** Settings count sessions; with weights, a session costs globalSessionWeight tokens. */
  private readonly scale: number;
  /** By client address, least recently used first. */
  private readonly perAddress = new Map<string, BlueThrottle>();

  constructor(
    private readonly cfg: ConnectionThrottleConfig,
    private readonly nowMs: () => number = () => performance.now(),
    random: () => number = Math.random,
  ) {
    this.scale = cfg.connectionThrottleWeightEnabled ? cfg.connectionThrottleGlobalSessionWeight : 1;
    this.global = new BlueThrottle(
      {
        maxTokens: cfg.connectionThrottleTokens * this.scale,
        fillTimeMs: cfg.connectionThrottleFillTimeMs,
        fillCount: cfg.connectionThrottleFillCount * this.scale,
        freezeTimeMs: cfg.connectionThrottleFreezeTimeMs,
        dropIncrease: cfg.connectionThrottleDropIncrease,
        dropDecrease: cfg.connectionThrottleDropDecrease,
        decreasePoint: cfg.connectionThrottleDecreaseRatio,
      },
      nowMs,
      random,
    );
  }

  get dropChance(): number {
    return this.global.dropChance;
  }

  /** Addresses with a bucket now (bounded by PER_ADDRESS_MAX). */
  get trackedAddresses(): number {
    return this.perAddress.size;
  }

  /** A ConnectRequest from `address` for `sessionId` (0n: a new session). */
  admit(address: string, sessionId: bigint): Admission {
    const c = this.cfg;
    const need = !c.connectionThrottleWeightEnabled ? 1 : sessionId === 0n ? c.connectionThrottleGlobalSessionWeight : c.connectionThrottleRenewSessionWeight;
    if (c.connectionThrottlePerIpTokens > 0 && !this.addressBucket(address).checkLimit(need)) {
      return { admitted: false, limit: 'zablab.connection_throttle_per_ip_tokens' };
    }
    if (!this.global.checkLimit(need)) return { admitted: false, limit: 'connection_throttle_tokens' };
    return { admitted: true, deficit: this.global.deficit };
  }

  private addressBucket(address: string): BlueThrottle {
    let b = this.perAddress.get(address);
    if (b !== undefined) {
      this.perAddress.delete(address);
      this.perAddress.set(address, b);
      return b;
    }
    if (this.perAddress.size >= PER_ADDRESS_MAX) this.forget();
    b = new BlueThrottle(
      {
        maxTokens: this.cfg.connectionThrottlePerIpTokens * this.scale,
        fillTimeMs: this.cfg.connectionThrottlePerIpFillTimeMs,
        fillCount: this.cfg.connectionThrottlePerIpFillCount * this.scale,
        freezeTimeMs: -1,
        dropIncrease: 0,
        dropDecrease: 0,
        decreasePoint: 0,
      },
      this.nowMs,
    );
    this.perAddress.set(address, b);
    return b;
  }

  /**
   * Make room: a full bucket is the same as none; failing that, drop the least recently used
   * down to 7/8 of the limit, so that the sweep runs once per many new addresses.
   */
  private forget(): void {
    for (const [a, b] of this.perAddress) {
      if (b.isFull()) this.perAddress.delete(a);
    }
    for (const a of this.perAddress.keys()) {
      if (this.perAddress.size <= PER_ADDRESS_KEEP) break;
      this.perAddress.delete(a);
    }
  }
}
