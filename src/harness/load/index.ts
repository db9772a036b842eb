/** harness/load: load drivers behind one interface, the recorder they share, and the op mix. */
export type { FaultObservation, LoadDriver, LoadResult, LoadRun, LoadStartOptions, LoadTarget, OpStats, Percentiles, TimelinePoint } from './types.js';
export { EMPTY_PERCENTILES, LoadRecorder, mergeSnapshots, nowEpochMs } from './recorder.js';
export type { OpCellSnapshot, RecorderSnapshot } from './recorder.js';
export { KeyPicker, OpPicker, keyPath, opMix } from './ops.js';
export type { OpWeight } from './ops.js';
export { NATIVE_LIMITS, nativeLoadDriver, validateNativeWorkload } from './native/index.js';
export { HTTP_LIMITS, httpLoadDriver, validateHttpWorkload } from './http/index.js';
