/** harness/drivers: where an ensemble runs (local zablab, local Apache ZooKeeper, docker compose, external), and how each cuts its peers. */
import type { EnsembleDriverName } from '../scenario/types.js';
import { composeDriver } from './compose.js';
import { externalDriver } from './external.js';
import { localDriver } from './local.js';
import type { EnsembleDriver } from './types.js';
import { zookeeperDriver } from './zookeeper.js';

export type { EnsembleDriver, EnsembleHandle, Member, MemberMetrics, MemberMode, MemberRole, MemberStatus, UpOptions } from './types.js';
export { parseMntr, MNTR_LINES_MAX } from './mntr.js';
export { localDriver, LocalEnsembleHandle, LOCAL_FAULTS, unsupportedFault } from './local.js';
export { zookeeperDriver, zookeeperProgram, findZooKeeper, javaAvailable, zookeeperMissing, ZOOKEEPER_FAULTS } from './zookeeper.js';
export type { ZooKeeperDriverOptions, ZooKeeperInstall, ZooKeeperProgramOptions } from './zookeeper.js';
export { externalDriver, EXTERNAL_SERVERS_MAX } from './external.js';
export { composeDriver, ComposeEnsembleHandle, COMPOSE_FAULTS } from './compose.js';
export { PeerRelay, RELAY_HOST } from './peer-relay.js';
export type { RelayEndpoint } from './peer-relay.js';
export { hostPort, loadTargetOf, memberMetrics, probeConf, probeSrvr, programFromVersion, soleLeader, waitMembersServing } from './probe.js';
export type { SrvrProbe } from './probe.js';

/**
 * The driver for a scenario's `ensemble.driver`. `zookeeper` runs the JVM with its default
 * flags, as benchmarks need (tests use zookeeperDriver({ fastStart: true })).
 */
export function driverFor(name: EnsembleDriverName): EnsembleDriver {
  switch (name) {
    case 'local':
      return localDriver();
    case 'zookeeper':
      return zookeeperDriver();
    case 'external':
      return externalDriver();
    case 'compose':
      return composeDriver();
  }
}
