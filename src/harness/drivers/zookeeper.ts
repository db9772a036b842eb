/**
 * The `zookeeper` ensemble driver: Apache ZooKeeper in the same local layout as zablab, for
 * side-by-side runs. Also the one place that finds a ZooKeeper install: $ZOOKEEPER_HOME (an
 * Apache tarball: its top folder and lib/) or Debian's /usr/share/java jars (zookeeper.jar's
 * manifest lists the rest of its dependencies).
 *
 * ZooKeeper has no fault hook: for a run that partitions (UpOptions.partitions) the harness
 * puts its relay between the peers (peer-relay.ts; each server's zoo.cfg names the relay's
 * ports for the others), and cuts and heals there. Not with peerSecurity tls: the relay must
 * rewrite the election handshake, which TLS hides. Without partitions the peers talk directly,
 * so the relay's hop never weighs on a benchmark that does not need it. Benchmarks run the JVM
 * with its own defaults (G1, C2); fastStart (serial GC, C1 only) is for tests that need servers quickly.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HarnessError } from '../errors.js';
import type { ServerProgram } from '../ensemble/index.js';
import { FAULT_ACTIONS, type FaultAction } from '../scenario/types.js';
import { upLocalFamily } from './local.js';
import type { EnsembleDriver, EnsembleHandle, UpOptions } from './types.js';

const DEBIAN_JAR_DIR = path.join(path.sep, 'usr', 'share', 'java');
/** What QuorumPeerMain needs beyond zookeeper.jar's manifest: jute, and log4j 1.2 behind slf4j. */
const DEBIAN_JARS = ['zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-log4j12.jar', 'log4j-1.2.jar'];
/**
 * The AdminServer's Jetty needs javax.servlet (without it ZooKeeper runs but answers no HTTP);
 * the Netty connection factory's TLS needs netty-codec and netty-resolver, which zookeeper.jar's
 * manifest leaves out (without them every TLS handshake fails with NoClassDefFoundError).
 */
const DEBIAN_OPTIONAL_JARS = ['servlet-api.jar', 'netty-codec.jar', 'netty-resolver.jar'];
const ZOOKEEPER_JAR = /zookeeper-\d[^/\\]*\.jar$/;
const HOME_JARS_MAX = 1_000;
const INSTALL_HINT = 'install the Debian package `zookeeper` (apt-get install zookeeper), or set ZOOKEEPER_HOME to an Apache ZooKeeper install';

export const ZOOKEEPER_FAULTS: ReadonlySet<FaultAction> = new Set<FaultAction>(FAULT_ACTIONS);

export type ZooKeeperInstall = { ok: true; classpath: string[] } | { ok: false; why: string };

/**
 * ZooKeeper's jars: from `home` (default $ZOOKEEPER_HOME) when set, else Debian's. Never
 * throws; `why` says what is missing and how to install it.
 */
export function findZooKeeper(home: string | undefined = process.env['ZOOKEEPER_HOME']): ZooKeeperInstall {
  if (home !== undefined && home !== '') {
    const classpath = [home, path.join(home, 'lib')]
      .filter((d) => fs.existsSync(d) && fs.statSync(d).isDirectory())
      .flatMap((d) =>
        fs
          .readdirSync(d)
          .filter((f) => f.endsWith('.jar'))
          .sort()
          .map((f) => path.join(d, f)),
      )
      .slice(0, HOME_JARS_MAX);
    if (!classpath.some((j) => ZOOKEEPER_JAR.test(j))) return { ok: false, why: `ZOOKEEPER_HOME=${home} holds no zookeeper-<version>.jar (in it or in lib/)` };
    return { ok: true, classpath };
  }
  const classpath = DEBIAN_JARS.map((j) => path.join(DEBIAN_JAR_DIR, j));
  const missing = classpath.filter((j) => !fs.existsSync(j));
  if (missing.length > 0) return { ok: false, why: `Apache ZooKeeper is not installed (missing ${missing.join(', ')}): ${INSTALL_HINT}` };
  const optional = DEBIAN_OPTIONAL_JARS.map((j) => path.join(DEBIAN_JAR_DIR, j)).filter((j) => fs.existsSync(j));
  return { ok: true, classpath: [...classpath, ...optional] };
}

const javaChecked = new Map<string, boolean>();
/** True when `java -version` runs (remembered per command). */
export function javaAvailable(java = 'java'): boolean {
  let ok = javaChecked.get(java);
  if (ok === undefined) {
    ok = spawnSync(java, ['-version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
    javaChecked.set(java, ok);
  }
  return ok;
}

/** Why Apache ZooKeeper cannot run here, or null when it can (jars found and java runs). */
export function zookeeperMissing(home?: string, java = 'java'): string | null {
  const install = findZooKeeper(home);
  if (!install.ok) return install.why;
  return javaAvailable(java) ? null : noJava(java);
}

function noJava(java: string): string {
  return `\`${java} -version\` fails: install a Java runtime (17+) for Apache ZooKeeper (apt-get install zookeeper brings one)`;
}

export interface ZooKeeperProgramOptions {
  /** ZOOKEEPER_HOME; default the environment's, else Debian's jars. */
  home?: string;
  /** JVM flags for a quick start (tests); default false: the JVM's defaults, as benchmarks need. */
  fastStart?: boolean;
  /** -Xmx in MB (default: LocalEnsemble's). */
  heapMb?: number;
  java?: string;
}

/** The ServerProgram that runs Apache ZooKeeper; throws HarnessError DRIVER saying how to install what is missing. */
export function zookeeperProgram(opts: ZooKeeperProgramOptions = {}): ServerProgram {
  const java = opts.java ?? 'java';
  const install = findZooKeeper(opts.home);
  if (!install.ok) throw new HarnessError('ZABLAB_BENCH_DRIVER', `driver zookeeper: ${install.why}`);
  if (!javaAvailable(java)) throw new HarnessError('ZABLAB_BENCH_DRIVER', `driver zookeeper: ${noJava(java)}`);
  return {
    kind: 'zookeeper',
    classpath: install.classpath,
    fastStart: opts.fastStart ?? false,
    ...(opts.heapMb === undefined ? {} : { heapMb: opts.heapMb }),
    ...(opts.java === undefined ? {} : { java: opts.java }),
  };
}

export interface ZooKeeperDriverOptions {
  /** Serial GC and C1 only, for tests; default false (benchmarks need the JVM's defaults). */
  fastStart?: boolean;
  heapMb?: number;
  java?: string;
}

export function zookeeperDriver(opts: ZooKeeperDriverOptions = {}): EnsembleDriver {
  return {
    name: 'zookeeper',
    faults: ZOOKEEPER_FAULTS,
    async up(up: UpOptions): Promise<EnsembleHandle> {
      const program = zookeeperProgram({ ...opts, ...(up.zookeeperHome === undefined ? {} : { home: up.zookeeperHome }) });
      if (up.partitions === true && up.peerSecurity === 'tls') {
        throw new HarnessError(
          'ZABLAB_BENCH_DRIVER',
          "driver zookeeper: cannot partition an ensemble with peerSecurity tls: the peer relay must rewrite ZooKeeper's election handshake, which TLS hides; use peerSecurity none",
        );
      }
      const peers = up.partitions === true ? { kind: 'relay' as const } : { kind: 'none' as const, why: 'this ensemble was started without the peer relay (a run with partition faults starts it with one: UpOptions.partitions)' };
      // The layout already sets 4lw.commands.whitelist (srvr, mntr, conf, ...) and admin.serverPort; spans are zablab's only.
      return upLocalFamily(up, { driver: 'zookeeper', program, faults: ZOOKEEPER_FAULTS, env: {}, spansDir: null, peers });
    },
  };
}
