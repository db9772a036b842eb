/** jute: ZooKeeper's binary codec and records, opcodes and error codes. */
export { JuteReader, JuteWriter, JuteDecodeError, JuteTruncatedError } from './archive.js';
export { bool, buffer, decode, encode, int, long, record, ustring, vector } from './schema.js';
export type { Codec, Infer } from './schema.js';
export * from './records.js';
export * from './opcodes.js';
export * from './errors.js';
export * from './txn.js';
export * from './zxid.js';
