/**
 * Which program an ensemble's servers run, and the command line that starts one server.
 * zablab is the default; Apache ZooKeeper (given its jars) runs the same layout for
 * side-by-side comparisons and as a reference for the driver's own tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnsembleError } from './errors.js';

export type ServerProgram =
  /** `node <this package>/dist/cli/main.js server --config zoo.cfg`. */
  | { kind: 'zablab' }
  /**
   * `java -cp <classpath> QuorumPeerMain zoo.cfg`. fastStart (default true) adds JVM flags
   * for a quick start (serial GC, C1 only): right for tests, wrong for benchmarks, where
   * ZooKeeper must run with the JVM's own defaults (G1, C2) to be measured fairly.
   */
  | { kind: 'zookeeper'; classpath: string[]; java?: string; heapMb?: number; fastStart?: boolean };

export interface LaunchCommand {
  command: string;
  args: string[];
  /**
   * Substrings the process's command line must all contain before we signal it: pids are
   * reused, and we must never signal a process we did not start.
   */
  markers: string[];
}

/** Text that marks a zablab server's command line (contract: see DESIGN.md, `zablab ensemble`). */
export const ZABLAB_SERVER_MARKER = 'dist/cli/main.js server';
export const ZOOKEEPER_MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
/**
 * ZooKeeper's own default (zkEnv.sh: ZK_SERVER_HEAP=1000). The JVM commits heap as it grows,
 * so an idle server costs no more; 256 MB ran out of memory at a million znodes.
 */
const DEFAULT_ZOOKEEPER_HEAP_MB = 1000;
/** Serial GC and C1 only: the JVM is up and serving sooner, at the cost of peak speed. */
const FAST_START_JVM_FLAGS = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];
const MAX_CLASSPATH_ENTRIES = 1_000;

/**
 * The built CLI of the package this module belongs to. src/harness/ensemble/ and
 * dist/harness/ensemble/ both sit three levels below the package root, so the same
 * relative URL works from sources (tests, tsx) and from the build.
 */
export function zablabCliPath(): string {
  return fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
}

/** Throws a PROGRAM error that says how to fix it when the program cannot run. */
export function checkProgram(program: ServerProgram): void {
  switch (program.kind) {
    case 'zablab': {
      const cli = zablabCliPath();
      if (!fs.existsSync(cli)) {
        throw new EnsembleError('ZABLAB_ENSEMBLE_PROGRAM', `zablab is not built: ${cli} is missing; run \`npm run build\` in the zablab package`);
      }
      return;
    }
    case 'zookeeper': {
      if (program.classpath.length === 0 || program.classpath.length > MAX_CLASSPATH_ENTRIES) {
        throw new EnsembleError('ZABLAB_ENSEMBLE_PROGRAM', `the ZooKeeper classpath must list 1 to ${MAX_CLASSPATH_ENTRIES} jars or directories`);
      }
      const missing = program.classpath.filter((p) => !fs.existsSync(p));
      if (missing.length > 0) {
        throw new EnsembleError('ZABLAB_ENSEMBLE_PROGRAM', `ZooKeeper classpath entries do not exist: ${missing.join(', ')}; point it at an installed ZooKeeper`);
      }
      return;
    }
  }
}

/** The command that runs one server on `cfgFile`; may write helper files (log config) into serverDir. */
export function launchCommand(program: ServerProgram, serverDir: string, cfgFile: string): LaunchCommand {
  switch (program.kind) {
    case 'zablab':
      return {
        command: process.execPath,
        args: [zablabCliPath(), 'server', '--config', cfgFile],
        markers: serverMarkers(program, cfgFile),
      };
    case 'zookeeper': {
      writeZooKeeperLogConfig(serverDir);
      return {
        command: program.java ?? 'java',
        args: [
          `-Xmx${program.heapMb ?? DEFAULT_ZOOKEEPER_HEAP_MB}m`,
          ...(program.fastStart === false ? [] : FAST_START_JVM_FLAGS),
          `-Dlog4j.configuration=file:${path.join(serverDir, 'log4j.properties')}`,
          `-Dlogback.configurationFile=${path.join(serverDir, 'logback.xml')}`,
          `-Dzookeeper.log.dir=${serverDir}`,
          '-Dzookeeper.jmx.log4j.disable=true',
          '-cp',
          [serverDir, ...program.classpath].join(path.delimiter),
          ZOOKEEPER_MAIN_CLASS,
          cfgFile,
        ],
        markers: serverMarkers(program, cfgFile),
      };
    }
  }
}

/** What the command line of the server running cfgFile holds (no side effects, unlike launchCommand). */
export function serverMarkers(program: ServerProgram, cfgFile: string): string[] {
  switch (program.kind) {
    case 'zablab':
      return [ZABLAB_SERVER_MARKER, cfgFile];
    case 'zookeeper':
      return [ZOOKEEPER_MAIN_CLASS, cfgFile];
  }
}

/** ZooKeeper logs to stdout (which goes to server.log): log4j 1.2 for Debian's 3.8, logback for Apache's tarballs. */
function writeZooKeeperLogConfig(serverDir: string): void {
  const pattern = '%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n';
  const log4j = [
    'log4j.rootLogger=INFO, CONSOLE',
    'log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender',
    'log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout',
    `log4j.appender.CONSOLE.layout.ConversionPattern=${pattern}`,
  ];
  fs.writeFileSync(path.join(serverDir, 'log4j.properties'), log4j.join('\n') + '\n');
  const logback = [
    '<configuration>',
    '  <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">',
    `    <encoder><pattern>${pattern}</pattern></encoder>`,
    '  </appender>',
    '  <root level="INFO"><appender-ref ref="CONSOLE"/></root>',
    '</configuration>',
  ];
  fs.writeFileSync(path.join(serverDir, 'logback.xml'), logback.join('\n') + '\n');
}
