/** harness/scenario: scenario YAML → checked Scenario → one RunPlan per matrix cell and repeat. */
export type {
  EnsembleDriverName,
  EnsembleSection,
  ExternalServer,
  FaultAction,
  FaultRepeat,
  FaultSpec,
  FaultTarget,
  LoadDriverName,
  LoadSection,
  OpKind,
  PartitionMode,
  ReadOp,
  RunPlan,
  Scenario,
  WatchMode,
  WorkloadSection,
  WriteOp,
} from './types.js';
export { ENSEMBLE_DRIVERS, FAULT_ACTIONS, LOAD_DRIVERS, OP_KINDS, PARTITION_MODES, READ_OPS, REPEATABLE_ACTIONS, WATCH_MODES, WRITE_OPS, isWriteOp } from './types.js';
export { parseScenario, MAX_SCENARIO_CHARS } from './parse.js';
export { loadScenarioFile, builtinScenario, builtinScenarioNames } from './files.js';
export { expandRuns, MATRIX_PATHS } from './matrix.js';
export type { MatrixValue } from './matrix.js';
export { largeStateOf } from './large-state.js';
export { describeScenario, describeRun, describeTimeline } from './describe.js';
export { faultSteps, faultEndMs, undoOf } from './schedule.js';
export type { FaultStep } from './schedule.js';
export { parseDurationMs, formatDurationMs } from './duration.js';
export { targetText } from './faults.js';
export { MAX_RUNS, MAX_REPEATS, MAX_VOTERS, MAX_OBSERVERS } from './schema.js';
