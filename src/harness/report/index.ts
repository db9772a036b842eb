/** Reports of a bench: results.json (schema in results.ts), timeline.csv, summary.md, report.html, comparisons. */
export * from './results.js';
export { readResults, resultsPath, validateResults, RESULTS_BYTES_MAX } from './validate.js';
export { writeReports } from './write.js';
export { renderSummary } from './summary.js';
export { tracingCost, type TracingCostGroup, type TracingCostRow } from './tracing-cost.js';
export { renderTimelineCsv, TIMELINE_COLUMNS } from './timeline-csv.js';
export { renderReportHtml } from './report-html.js';
export { compareResults, renderComparison, verdict, type Comparison, type ComparisonSide, type MetricComparison, type RunComparison } from './compare.js';
export { renderComparisonHtml } from './compare-html.js';
export { formatMs, formatOpsPerSec, formatCount, formatDeltaPct, formatRatio } from './format.js';
