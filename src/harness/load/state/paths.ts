/**
 * Where populated znodes live and how many go in one multi. Pure: the populate code, the
 * session holder (which watches them) and tests share it.
 */

/** The parent of every populated znode; the load's own keys live elsewhere (/zablab-bench). */
export const POPULATE_ROOT = '/zablab-populate';
/** Children per bucket: a getChildren of one stays small, as in well-kept ZooKeeper trees. */
export const BUCKET_CHILDREN = 10_000;
/** Creates per multi at most. */
export const OPS_PER_MULTI_MAX = 1_000;
/**
 * Bytes a multi request may take: a quarter of jute.maxbuffer's default (1 MiB), which both the
 * client port and the leader's proposal to its learners (which carries the whole txn) must pass.
 */
export const MULTI_BYTES_MAX = 256 * 1024;
/**
 * A create op in a multi besides its path and data: op header (type, done, err), the path's and
 * data's lengths, the ACL world:anyone (count, perms, scheme, id) and the flags; rounded up.
 */
const CREATE_OP_OVERHEAD_BYTES = 64;

const BUCKET_DIGITS = 4;
const NODE_DIGITS = 7;

export function bucketPath(bucket: number): string {
  return `${POPULATE_ROOT}/b${String(bucket).padStart(BUCKET_DIGITS, '0')}`;
}

/** Populated znode i (0-based): `/zablab-populate/b0042/n0421337`. */
export function populatePath(i: number): string {
  return `${bucketPath(Math.floor(i / BUCKET_CHILDREN))}/n${String(i).padStart(NODE_DIGITS, '0')}`;
}

export function bucketsFor(znodes: number): number {
  return Math.ceil(znodes / BUCKET_CHILDREN);
}

/** Creates per multi for values of valueSize bytes: up to OPS_PER_MULTI_MAX, within MULTI_BYTES_MAX, at least 1. */
export function opsPerMulti(valueSize: number, znodes: number): number {
  const opBytes = populatePath(Math.max(0, znodes - 1)).length + valueSize + CREATE_OP_OVERHEAD_BYTES;
  return Math.max(1, Math.min(OPS_PER_MULTI_MAX, Math.floor(MULTI_BYTES_MAX / opBytes)));
}

/**
 * The populated znodes session s watches: w of them, consecutive from s × w (wrapping), so
 * that the sessions together cover the populated znodes evenly and no session watches one twice
 * (w ≤ znodes).
 */
export function watchedIndexes(session: number, watches: number, znodes: number): number[] {
  const first = (session * watches) % znodes;
  return Array.from({ length: watches }, (_, j) => (first + j) % znodes);
}
