/** dashboards: Grafana dashboards as code (foundation SDK) → the committed dashboards/*.json. */
export {
  DASHBOARDS,
  allAnnotationQueries,
  allPanelQueries,
  defaultDashboardsDir,
  renderDashboards,
  staleDashboards,
  substituteVariables,
  writeDashboards,
} from './generate.js';
export type { AnnotationExpr, PanelQuery, RenderedDashboard, StaleDashboard, VariableValues } from './generate.js';
export { DashboardsError } from './errors.js';
export type { DashboardsErrorCode } from './errors.js';
export { DATASOURCE, FAULT_ANNOTATION_EXPR, buildDashboard, serverVariableQuery } from './panels.js';
export type { DashboardItem, DashboardSpec, PanelSpec, QuerySpec, StatSpec, TimeseriesSpec, Unit } from './panels.js';
export { SERVER_LABEL } from './promql.js';
