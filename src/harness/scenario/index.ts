/** harness/scenario: scenario YAML → checked Scenario → one RunPlan per matrix cell and repeat. */
export type {
  EnsembleDriverName,
  EnsembleSection,
  ExternalServer,
  FaultAction,
  FaultSpec,
  FaultTarget,
  LoadDriverName,
  LoadSection,
  OpKind,
  ReadOp,
  RunPlan,
  Scenario,
  WorkloadSection,
  WriteOp,
} from './types.js';
export { ENSEMBLE_DRIVERS, FAULT_ACTIONS, LOAD_DRIVERS, OP_KINDS, READ_OPS, WRITE_OPS, isWriteOp } from './types.js';
export { parseScenario, MAX_SCENARIO_CHARS } from './parse.js';
export { loadScenarioFile, builtinScenario, builtinScenarioNames } from './files.js';
export { expandRuns, MATRIX_PATHS } from './matrix.js';
export type { MatrixValue } from './matrix.js';
export { describeScenario, describeRun } from './describe.js';
export { parseDurationMs, formatDurationMs } from './duration.js';
export { targetText } from './faults.js';
export { MAX_RUNS, MAX_REPEATS, MAX_VOTERS, MAX_OBSERVERS } from './schema.js';
