/**
 * Dashboards as data: a dashboard is a list of rows and panels (title, unit, queries), and
 * buildDashboard() turns that list into Grafana JSON with the foundation SDK's builders.
 *
 * Output is deterministic: panel ids follow the order of the list, query refIds are A, B, ...,
 * and nothing reads the clock, so regenerating gives byte-identical files.
 */
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  FieldColorModeId,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { FAULT_ANNOTATION_TAGS, HarnessMetric, Metric } from '../telemetry/names.js';
import { SERVER_LABEL } from './promql.js';

/** Grafana unit ids used here: every axis says what it measures. */
export type Unit = 'ms' | 'reqps' | 'ops' | 'short' | 'none' | 'bytes' | 'hex0x';

export interface QuerySpec {
  expr: string;
  /** Grafana legend template, e.g. '{{instance}} p99'. */
  legend: string;
  /** A second unit for this query: it gets the right-hand axis. */
  unit?: Unit;
}

export interface TimeseriesSpec {
  kind: 'timeseries';
  title: string;
  description: string;
  unit: Unit;
  queries: QuerySpec[];
  /** Grid columns (of 24); default 12. */
  width?: number;
  /** Grid rows; default 8. */
  height?: number;
  /** Draw every sample: for rare events (elections, snapshots) a line alone can hide a lone point. */
  points?: boolean;
}

export interface StatSpec {
  kind: 'stat';
  title: string;
  description: string;
  unit: Unit;
  queries: QuerySpec[];
  /** 'name' shows the series name only (e.g. a role), 'value' the number. */
  show: 'name' | 'value';
  /** Series whose name matches `match` (a regexp) take `color`. */
  colors?: { match: string; color: string }[];
  width?: number;
  height?: number;
}

export interface RowSpec {
  kind: 'row';
  title: string;
}

export type PanelSpec = TimeseriesSpec | StatSpec;
export type DashboardItem = RowSpec | PanelSpec;

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** File name under dashboards/. */
  file: string;
  items: DashboardItem[];
}

/** Panels per dashboard, queries per panel: generous, but a typo in a loop must not make 10,000. */
export const MAX_ITEMS = 64;
export const MAX_QUERIES = 8;
const GRID_COLUMNS = 24;

/** Every panel and variable reads the data source the user picks in `$datasource`. */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;
/** Grafana's own annotation store (where postFaultAnnotation writes). */
const GRAFANA_DATASOURCE = { type: 'grafana', uid: '-- Grafana --' } as const;
export const DASHBOARD_TAGS = ['zablab', 'zookeeper', 'zab'];

const FAULTS = HarnessMetric.benchFaults.name;
/**
 * A fault marker from Prometheus: the harness's fault counter changed, or a fault series
 * appeared (a counter's first sample is 1, so changes() alone would miss the first fault of
 * each action and server).
 */
export const FAULT_ANNOTATION_EXPR = `changes(${FAULTS}[1m]) > 0 or (${FAULTS} unless ${FAULTS} offset 1m)`;

/** Grafana annotations carrying all of these tags (the "-- Grafana --" source's target). */
class TagsAnnotationTarget implements Builder<Dataquery> {
  constructor(private readonly tags: string[]) {}
  build(): Dataquery {
    const t = { type: 'tags', tags: this.tags, matchAny: false, limit: ANNOTATIONS_MAX };
    return t as unknown as Dataquery;
  }
}

/** Fault annotations Grafana returns per dashboard view. */
const ANNOTATIONS_MAX = 500;

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function refId(i: number): string {
  const r = REF_IDS[i];
  if (r === undefined) throw new RangeError(`at most ${REF_IDS.length} queries per panel`);
  return r;
}

function target(q: QuerySpec, i: number): DataqueryBuilder {
  return new DataqueryBuilder().expr(q.expr).legendFormat(q.legend).refId(refId(i)).range();
}

function checkPanel(p: PanelSpec): void {
  if (p.queries.length === 0 || p.queries.length > MAX_QUERIES) {
    throw new RangeError(`panel "${p.title}" has ${p.queries.length} queries; it needs 1 to ${MAX_QUERIES}`);
  }
  const w = p.width ?? 12;
  if (!Number.isInteger(w) || w < 1 || w > GRID_COLUMNS) throw new RangeError(`panel "${p.title}": width must be 1..${GRID_COLUMNS}, got ${w}`);
}

function timeseries(p: TimeseriesSpec, id: number): TimeseriesPanelBuilder {
  const b = new TimeseriesPanelBuilder()
    .id(id)
    .title(p.title)
    .description(p.description)
    .datasource(DATASOURCE)
    .unit(p.unit)
    .span(p.width ?? 12)
    .height(p.height ?? 8)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(p.points === true ? VisibilityMode.Always : VisibilityMode.Auto)
    .pointSize(p.points === true ? 4 : 3)
    .spanNulls(false)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).calcs([]))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
  p.queries.forEach((q, i) => {
    b.withTarget(target(q, i));
    if (q.unit !== undefined && q.unit !== p.unit) {
      b.overrideByQuery(refId(i), [
        { id: 'unit', value: q.unit },
        { id: 'custom.axisPlacement', value: 'right' },
      ]);
    }
  });
  return b;
}

function stat(p: StatSpec, id: number): StatPanelBuilder {
  const b = new StatPanelBuilder()
    .id(id)
    .title(p.title)
    .description(p.description)
    .datasource(DATASOURCE)
    .unit(p.unit)
    .span(p.width ?? 6)
    .height(p.height ?? 4)
    .textMode(p.show === 'name' ? BigValueTextMode.Name : BigValueTextMode.ValueAndName)
    .colorMode(p.colors === undefined ? BigValueColorMode.None : BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.None)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  p.queries.forEach((q, i) => b.withTarget(target(q, i).instant()));
  for (const c of p.colors ?? []) {
    b.overrideByRegexp(c.match, [{ id: 'color', value: { mode: FieldColorModeId.Fixed, fixedColor: c.color } }]);
  }
  return b;
}

function variables(): (DatasourceVariableBuilder | QueryVariableBuilder)[] {
  return [
    new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    new QueryVariableBuilder('server')
      .label('Server')
      .description(`Servers by their scrape target (Prometheus' ${SERVER_LABEL} label)`)
      .datasource(DATASOURCE)
      .query(serverVariableQuery())
      .definition(serverVariableQuery())
      .multi(true)
      .includeAll(true)
      .allValue('.*')
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc),
  ];
}

/** The `server` variable's query: every scrape target that reports a ZAB role. */
export function serverVariableQuery(): string {
  return `label_values(${Metric.zabRole.name}, ${SERVER_LABEL})`;
}

function annotations(): AnnotationQueryBuilder[] {
  return [
    new AnnotationQueryBuilder()
      .name('Faults (Prometheus)')
      .datasource(DATASOURCE)
      .enable(true)
      .iconColor('red')
      .expr(FAULT_ANNOTATION_EXPR)
      .titleFormat('{{action}} {{target}}')
      .textFormat('fault: {{action}} server {{server_id}} ({{target}})')
      .tagKeys('action,target,server_id')
      .step('15s'),
    new AnnotationQueryBuilder()
      .name('Faults (bench)')
      .datasource(GRAFANA_DATASOURCE)
      .enable(true)
      .iconColor('orange')
      .target(new TagsAnnotationTarget([...FAULT_ANNOTATION_TAGS])),
  ];
}

/** The Grafana dashboard JSON of a spec. */
export function buildDashboard(spec: DashboardSpec): Dashboard {
  if (spec.items.length === 0 || spec.items.length > MAX_ITEMS) {
    throw new RangeError(`dashboard "${spec.title}" has ${spec.items.length} items; it needs 1 to ${MAX_ITEMS}`);
  }
  const d = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(DASHBOARD_TAGS)
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-30m', to: 'now' })
    .refresh('10s')
    .timezone('browser')
    .variables(variables())
    .annotations(annotations())
    .link(new DashboardLinkBuilder('zablab').type(DashboardLinkType.Dashboards).tags(['zablab']).asDropdown(false).includeVars(true).keepTime(true));
  spec.items.forEach((item, i) => {
    const id = i + 1;
    switch (item.kind) {
      case 'row':
        d.withRow(new RowBuilder(item.title).id(id));
        return;
      case 'timeseries':
        checkPanel(item);
        d.withPanel(timeseries(item, id));
        return;
      case 'stat':
        checkPanel(item);
        d.withPanel(stat(item, id));
        return;
    }
  });
  return d.build();
}
