/** zxid = epoch (high 32 bits) | counter (low 32 bits), as in ZooKeeper's ZxidUtils. */

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
