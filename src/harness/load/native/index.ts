/** harness/load/native: the `native` load driver (our pipelined ZooKeeper client in worker processes). */
export { nativeLoadDriver, validateNativeWorkload, NATIVE_LIMITS } from './driver.js';
export { rotateHosts } from './session.js';
