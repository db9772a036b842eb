/**
 * Session ids and passwords as ZooKeeper makes them, so that a session id means the same
 * thing on every server of an ensemble (and a password can be re-derived after a restart).
 */

const MASK_48 = (1n << 48n) - 1n;
const MULTIPLIER = 0x5deece66dn;

/** java.util.Random, only as much as generatePasswd needs: the same bytes for the same seed. */
class JavaRandom {
  private seed: bigint;
  constructor(seed: bigint) {
    this.seed = (BigInt.asUintN(64, seed) ^ MULTIPLIER) & MASK_48;
  }
  private next(bits: number): number {
    this.seed = (this.seed * MULTIPLIER + 0xbn) & MASK_48;
    return Number(BigInt.asIntN(32, this.seed >> BigInt(48 - bits)));
  }
  nextBytes(out: Uint8Array): void {
    for (let i = 0; i < out.length; ) {
      let rnd = this.next(32);
      for (let n = Math.min(out.length - i, 4); n-- > 0; rnd >>= 8) out[i++] = rnd & 0xff;
    }
  }
}

/** ZooKeeperServer.superSecret: a fixed constant, as in ZooKeeper (passwords are not secrets there either). */
const SUPER_SECRET = 0xb3415c00n;
export const PASSWD_LENGTH = 16;

export function generatePasswd(sessionId: bigint): Buffer {
  const out = Buffer.alloc(PASSWD_LENGTH);
  new JavaRandom(sessionId ^ SUPER_SECRET).nextBytes(out);
  return out;
}

export function checkPasswd(sessionId: bigint, passwd: Buffer | null): boolean {
  return sessionId !== 0n && passwd !== null && generatePasswd(sessionId).equals(passwd);
}

/**
 * The first session id of a server: the server id in the top byte, then the time in ms
 * (SessionTrackerImpl.initializeNextSessionId), so ids from different servers never clash.
 */
export function initialSessionId(serverId: number, nowMs: number): bigint {
  const t = BigInt.asUintN(64, BigInt(nowMs) << 24n) >> 8n;
  return BigInt.asIntN(64, t | (BigInt(serverId) << 56n));
}

export function sessionHex(id: bigint): string {
  return '0x' + BigInt.asUintN(64, id).toString(16);
}
