/** harness: scenarios → ensembles × load × faults → measurements → reports (`zablab bench`). */
export { HarnessError } from './errors.js';
export type { HarnessErrorCode } from './errors.js';
export { planBench, runBench, runDirName, runSummaryLine } from './runner/bench.js';
export type { BenchOptions, BenchPlan } from './runner/bench.js';
export { runOne, LOAD_ROOT, BENCH_BASE_CONFIG } from './runner/run.js';
export { TerminalProgress, SilentProgress, formatOps } from './runner/progress.js';
export type { ProgressSink } from './runner/progress.js';
export { ensembleDriverFor, loadDriverFor } from './runner/registry.js';
