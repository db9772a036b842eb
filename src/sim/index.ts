/**
 * sim: the deterministic ZAB simulator — the ZabHost of src/server (the same Ready loop,
 * recovery and storage code as `zablab server`) for every server, on simulated disks that
 * crash and damage, a simulated network and clock, seeded faults, invariant checkers, and a
 * builder for scripted scenarios. See runner.ts (seeded runs), scenario.ts (scripts), checkers.ts.
 */
export { Prng } from './prng.js';
export { Network, IN_FLIGHT_MAX } from './network.js';
export type { InFlight } from './network.js';
export { SimDisk, serverDirs } from './disk.js';
export type { DurableRecord, GateHandler } from './disk.js';
export { SimServer } from './host.js';
export type { ServerRole } from './host.js';
export { Cluster, emptyStats, describeMessage } from './cluster.js';
export type { ClusterConfig, ClusterDriver, CrashKeep, CrashOptions, SimStats } from './cluster.js';
export { Checkers } from './checkers.js';
export type { AckedWrite, CheckName, CheckerView, Violation } from './checkers.js';
export { Conditions, FaultInjector, randomFaultRates, TICK_UNITS } from './faults.js';
export type { FaultRates } from './faults.js';
export { runSeed, DEFAULT_STEPS, DEFAULT_LIVENESS_TICKS } from './runner.js';
export type { RunOptions, RunResult } from './runner.js';
export { Scenario, ScenarioError, SCENARIO_TICKS } from './scenario.js';
export type { DiskSpec, MessageFilter, ScenarioOptions } from './scenario.js';
export { simMain, parseSimArgs, formatFailure, formatStats, formatTotals, addStats, SimUsageError } from './cli.js';
export type { SimArgs, SimIO } from './cli.js';
export { appliedFromTree, decodeSync, decodeWrite, encodeSync, encodeWrite, writeIdOf, writeTxn, SimStateError } from './state.js';
export type { AppliedEntry } from './state.js';
