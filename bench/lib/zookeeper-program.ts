/**
 * Apache ZooKeeper as an ensemble server program for the benchmarks: jars found by the
 * zookeeper driver ($ZOOKEEPER_HOME, else Debian's /usr/share/java), run with the JVM's
 * default flags (not the tests' fast-start flags).
 */
import type { ServerProgram } from '../../src/harness/ensemble/index.js';
import { findZooKeeper, zookeeperMissing } from '../../src/harness/drivers/zookeeper.js';

/** The program, or why ZooKeeper cannot run here (in words that say how to fix it). */
export function benchZooKeeperProgram(heapMb: number): ServerProgram | string {
  const missing = zookeeperMissing();
  if (missing !== null) return missing;
  const install = findZooKeeper();
  if (!install.ok) return install.why;
  return { kind: 'zookeeper', classpath: install.classpath, heapMb, fastStart: false };
}
