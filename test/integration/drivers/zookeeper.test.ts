/**
 * The `zookeeper` driver (Apache ZooKeeper as local processes, JVM fast-start flags) against
 * the driver conformance suite: every fault, partition and heal through the harness's peer
 * relay (asked for with UpOptions.partitions). In CI it must run; on a machine without java
 * or ZooKeeper's jars it is skipped with the reason.
 */
import { zookeeperDriver, zookeeperMissing } from '../../../src/harness/drivers/index.js';
import { runDriverConformance } from './conformance.js';

const missing = zookeeperMissing();

runDriverConformance('zookeeper', () => zookeeperDriver({ fastStart: true }), {
  faults: true,
  partition: true,
  addObserver: true,
  prepare: async () => ({ up: { partitions: true }, cleanup: async () => undefined }),
  program: 'zookeeper',
  skip: missing !== null && process.env['CI'] !== 'true' ? missing : null,
});
