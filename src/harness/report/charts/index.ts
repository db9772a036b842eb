/** Our own small SVG charts for reports: no library, no network, all text escaped. */
export { lineChart, type ChartMarker, type LineChartSpec, type LinePoint, type LineSeries } from './line.js';
export { groupedBarChart, type BarChartSpec, type BarSeries } from './bar.js';
export { stripPlot, type StripPlotSpec, type StripSeries, type StripValue } from './strip.js';
export { stackedBarChart, type StackedBarSpec, type StackedRow } from './stacked.js';
export { opsTimeline, OUTCOME_COLORS, type OpBar, type OpsTimelineSpec } from './ops.js';
export { linearScale, logScale, niceStep, type Scale } from './scale.js';
export { PALETTE, seriesColor } from './palette.js';

/** The charts' look; report pages include it once. */
export const CHART_CSS = `
svg.chart { max-width: 100%; height: auto; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 11px; background: #fff; }
svg.chart text { fill: #333; }
svg.chart .chart-title { font-size: 13px; font-weight: 600; fill: #111; }
svg.chart .axis-title { font-size: 11px; fill: #555; }
svg.chart .tick { fill: #555; }
svg.chart .note { fill: #888; font-style: italic; }
svg.chart .grid { stroke: #e6e6e6; stroke-width: 1; }
svg.chart .axis { stroke: #999; stroke-width: 1; }
svg.chart .marker-label { font-size: 10px; }
svg.chart .op-label { font-size: 11px; fill: #222; }
svg.chart .dot, svg.chart .bar, svg.chart .point, svg.chart .segment { cursor: default; }
svg.chart .dot:hover, svg.chart .point:hover { stroke: #111; stroke-width: 1.5; }
svg.chart .bar:hover, svg.chart .segment:hover { opacity: 0.8; }
`;
