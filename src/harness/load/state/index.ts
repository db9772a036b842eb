/** Large state: populated znodes and held sessions with their watches (workload.populate, sessions, watches). */
export { LargeState, SESSIONS_PER_WORKER, CONNECTS_IN_FLIGHT_PER_MEMBER } from './driver.js';
export { POPULATE_ROOT, BUCKET_CHILDREN, MULTI_BYTES_MAX, OPS_PER_MULTI_MAX, bucketPath, populatePath, opsPerMulti, watchedIndexes } from './paths.js';
