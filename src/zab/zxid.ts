/** The ZAB core's zxid helpers live with the txn header in src/jute (one home for every layer). */
export { COUNTER_MAX, counterOf, epochOf, followsZxid, makeZxid, zxidHex } from '../jute/zxid.js';
export type { Zxid } from '../jute/zxid.js';
