/**
 * Apache ZooKeeper as a real child process: standalone, temp dataDir, free loopback ports.
 * Jars come from $ZOOKEEPER_HOME (an Apache tarball: lib/*.jar) or from Debian's
 * /usr/share/java (zookeeper.jar's manifest lists its dependencies).
 */
import fs from 'node:fs';
import path from 'node:path';
import { findZooKeeper, javaAvailable } from '../../src/harness/drivers/zookeeper.js';
import { launch, writeStandaloneConfig, type ServerHandle } from './server-process.js';

export type { ServerHandle } from './server-process.js';

const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

/** The server's jars, or null when no ZooKeeper install is found. */
function zookeeperJars(): string[] | null {
  const install = findZooKeeper();
  return install.ok ? install.classpath : null;
}

let available: boolean | undefined;
/** True when `java` runs and ZooKeeper's jars are present. */
export function zookeeperAvailable(): boolean {
  available ??= zookeeperJars() !== null && javaAvailable();
  return available;
}

function writeLogConfig(confDir: string, logFile: string): void {
  // log4j 1.2 (Debian's 3.8 package) ...
  const log4j = [
    'log4j.rootLogger=INFO, FILE',
    'log4j.appender.FILE=org.apache.log4j.FileAppender',
    `log4j.appender.FILE.File=${logFile}`,
    'log4j.appender.FILE.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n',
  ];
  fs.writeFileSync(path.join(confDir, 'log4j.properties'), log4j.join('\n') + '\n');
  // ... and logback (Apache's own 3.8+ tarballs).
  const logback = `<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>${logFile}</file>
    <encoder><pattern>%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
`;
  fs.writeFileSync(path.join(confDir, 'logback.xml'), logback);
}

export interface StartZooKeeperOptions {
  /** zoo.cfg entries; they override the defaults (clientPort and dataDir included). */
  config?: Record<string, string>;
  /** Keep the temp dir on stop (for post-mortems). */
  keepDir?: boolean;
  /** Run on this dataDir (e.g. to restart on the same data); the caller owns and removes it. */
  dataDir?: string;
  /**
   * JVM flags for a quick start (serial GC, C1 only): right for tests, wrong for benchmarks,
   * where ZooKeeper must run with the JVM's defaults to be measured fairly. Default true.
   */
  fastStart?: boolean;
  /** More JVM flags (e.g. -Djava.security.auth.login.config=... for SASL users). */
  jvmFlags?: string[];
}

/** JVM flags: a quick start for tests; the JVM's defaults (G1, C2) for benchmarks. */
export function zookeeperJvmFlags(fastStart: boolean): string[] {
  return fastStart ? ['-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'] : ['-Xmx1g'];
}

/** Start a standalone Apache ZooKeeper and wait until it grants a session. */
export async function startZooKeeper(opts: StartZooKeeperOptions = {}): Promise<ServerHandle> {
  const jars = zookeeperJars();
  if (jars === null || !javaAvailable()) {
    throw new Error('Apache ZooKeeper is not available: install the Debian package `zookeeper` or set ZOOKEEPER_HOME');
  }
  const { dataDir, ownedDir, cfgFile, cfg } = await writeStandaloneConfig('zablab-zk-', opts, false);
  const logFile = path.join(dataDir, 'zookeeper.log');
  writeLogConfig(dataDir, logFile);
  const args = [
    ...zookeeperJvmFlags(opts.fastStart ?? true),
    ...(opts.jvmFlags ?? []),
    `-Dlog4j.configuration=file:${path.join(dataDir, 'log4j.properties')}`,
    `-Dlogback.configurationFile=${path.join(dataDir, 'logback.xml')}`,
    `-Dzookeeper.log.dir=${dataDir}`,
    '-Dzookeeper.jmx.log4j.disable=true',
    '-cp',
    [dataDir, ...jars].join(path.delimiter),
    MAIN_CLASS,
    cfgFile,
  ];
  return launch({
    command: 'java',
    args,
    options: { cwd: dataDir, env: { ...process.env } },
    logFile: path.join(dataDir, 'zookeeper.out'),
    host: '127.0.0.1',
    port: Number(cfg['clientPort']),
    adminPort: Number(cfg['admin.serverPort']),
    dataDir,
    ownedDir,
    keepDir: opts.keepDir ?? false,
    what: 'Apache ZooKeeper',
  });
}
