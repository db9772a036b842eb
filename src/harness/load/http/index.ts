/** harness/load/http: the `http` load driver (autocannon against zablab's REST face). */
export { DRAIN_TIMEOUT_MS, HTTP_LIMITS, httpLoadDriver, validateHttpWorkload } from './driver.js';
export { OPEN_LOOP_BACKLOG_MAX } from './connection.js';
export { MIX_ENTRIES, outcomeOf, restPath, weightedOps } from './requests.js';
export type { Outcome } from './requests.js';
