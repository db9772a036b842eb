/**
 * zxid = epoch (high 32 bits) | counter (low 32 bits), as in ZooKeeper's ZxidUtils. Here, at
 * the bottom of the layers, because the txn header, the log files, the ZAB core and the
 * reports all speak of zxids: one home for these helpers.
 */

export type Zxid = bigint;

const COUNTER_MASK = 0xffffffffn;

export function makeZxid(epoch: bigint, counter: bigint): Zxid {
  return (epoch << 32n) | (counter & COUNTER_MASK);
}

export function epochOf(zxid: Zxid): bigint {
  return zxid >> 32n;
}

export function counterOf(zxid: Zxid): bigint {
  return zxid & COUNTER_MASK;
}

/** The last counter a leader may use before it must force a new epoch (ZooKeeper re-elects at rollover). */
export const COUNTER_MAX = 0xfffffffen;

export function zxidHex(zxid: Zxid): string {
  return '0x' + BigInt.asUintN(64, zxid).toString(16);
}

/**
 * Can `next` come right after `prev` in one server's history? Within an epoch counters run
 * without gaps; a new epoch starts at counter 1. Anything else means txns are missing between.
 */
export function followsZxid(prev: Zxid, next: Zxid): boolean {
  return next === prev + 1n || (epochOf(next) > epochOf(prev) && counterOf(next) === 1n);
}
