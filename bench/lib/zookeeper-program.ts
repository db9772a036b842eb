/**
 * Apache ZooKeeper as an ensemble server program for the benchmarks: jars from
 * $ZOOKEEPER_HOME (an Apache tarball: the top folder and lib/) or from Debian's
 * /usr/share/java, run with the JVM's default flags (not the tests' fast-start flags).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ServerProgram } from '../../src/harness/ensemble/index.js';

const DEBIAN_JAR_DIR = path.join(path.sep, 'usr', 'share', 'java');
const DEBIAN_JARS = ['zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-log4j12.jar', 'log4j-1.2.jar'];

/** The program, or why ZooKeeper cannot run here (in words that say how to fix it). */
export function benchZooKeeperProgram(heapMb: number): ServerProgram | string {
  const home = process.env['ZOOKEEPER_HOME'];
  let classpath: string[];
  if (home !== undefined && home !== '') {
    classpath = [home, path.join(home, 'lib')]
      .filter((d) => fs.existsSync(d))
      .flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.jar')).map((f) => path.join(d, f)));
    if (!classpath.some((j) => /zookeeper-\d[^/]*\.jar$/.test(j))) return `ZOOKEEPER_HOME=${home} holds no zookeeper-<version>.jar`;
  } else {
    classpath = DEBIAN_JARS.map((j) => path.join(DEBIAN_JAR_DIR, j));
    const missing = classpath.filter((j) => !fs.existsSync(j));
    if (missing.length > 0) return `Apache ZooKeeper is not installed (missing ${missing.join(', ')}): install the Debian package \`zookeeper\` or set ZOOKEEPER_HOME`;
  }
  if (spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 10_000 }).status !== 0) return '`java -version` fails: install a JRE (17+) for Apache ZooKeeper';
  return { kind: 'zookeeper', classpath, heapMb, fastStart: false };
}
