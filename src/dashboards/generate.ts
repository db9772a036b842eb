/**
 * The committed dashboards/*.json: rendering, writing, checking that what is committed is
 * what the code generates, and every query the panels run (for tests against a real
 * Prometheus).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import { DashboardsError } from './errors.js';
import { buildDashboard, type DashboardSpec } from './panels.js';
import { zabEnsemble } from './zab-ensemble.js';
import { zabWritePath } from './zab-write-path.js';

export const DASHBOARDS: readonly DashboardSpec[] = [zabEnsemble, zabWritePath];

export interface RenderedDashboard {
  file: string;
  uid: string;
  title: string;
  /** The file's exact content (2-space JSON and a final newline). */
  text: string;
  dashboard: Dashboard;
}

export function renderDashboards(): RenderedDashboard[] {
  return DASHBOARDS.map((spec) => {
    const dashboard = buildDashboard(spec);
    return { file: spec.file, uid: spec.uid, title: spec.title, text: `${JSON.stringify(dashboard, null, 2)}\n`, dashboard };
  });
}

/**
 * The package's dashboards/ folder. src/dashboards/ and dist/dashboards/ both sit two levels
 * below the package root, so the same relative URL works from sources and from the build.
 */
export function defaultDashboardsDir(): string {
  return fileURLToPath(new URL('../../dashboards/', import.meta.url));
}

/** Writes every dashboard into dir (created if missing); returns the paths written. */
export function writeDashboards(dir: string): string[] {
  try {
    fs.mkdirSync(dir, { recursive: true });
    return renderDashboards().map((d) => {
      const file = path.join(dir, d.file);
      fs.writeFileSync(file, d.text);
      return file;
    });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new DashboardsError('ZABLAB_DASHBOARDS_WRITE', `cannot write dashboards into ${dir} (${why}); pick a writable directory with --out`);
  }
}

export interface StaleDashboard {
  file: string;
  reason: 'missing' | 'differs';
}

/** Dashboards in dir that are missing or differ from what the code generates (empty: up to date). */
export function staleDashboards(dir: string): StaleDashboard[] {
  const stale: StaleDashboard[] = [];
  for (const d of renderDashboards()) {
    const file = path.join(dir, d.file);
    let committed: string;
    try {
      committed = fs.readFileSync(file, 'utf8');
    } catch {
      stale.push({ file, reason: 'missing' });
      continue;
    }
    if (committed !== d.text) stale.push({ file, reason: 'differs' });
  }
  return stale;
}

export interface PanelQuery {
  /** Dashboard title. */
  dashboard: string;
  /** Panel title. */
  panel: string;
  panelId: number;
  refId: string;
  /** PromQL with Grafana variables ($server, $__rate_interval) as the panel has it. */
  expr: string;
}

function panelsOf(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  for (const p of (d.panels ?? []) as (Panel | RowPanel)[]) {
    if (p.type === 'row') out.push(...((p as RowPanel).panels ?? []));
    else out.push(p as Panel);
  }
  return out;
}

/** Every query of every panel of every dashboard, read from the generated JSON. */
export function allPanelQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const { dashboard } of renderDashboards()) {
    for (const p of panelsOf(dashboard)) {
      for (const t of (p.targets ?? []) as { expr?: unknown; refId?: unknown }[]) {
        if (typeof t.expr !== 'string') continue;
        out.push({ dashboard: dashboard.title ?? '', panel: p.title ?? '', panelId: p.id ?? 0, refId: String(t.refId ?? ''), expr: t.expr });
      }
    }
  }
  return out;
}

export interface AnnotationExpr {
  dashboard: string;
  name: string;
  expr: string;
}

/** Every Prometheus annotation query (the fault markers). */
export function allAnnotationQueries(): AnnotationExpr[] {
  const out: AnnotationExpr[] = [];
  for (const { dashboard } of renderDashboards()) {
    for (const a of dashboard.annotations?.list ?? []) {
      if (typeof a.expr === 'string') out.push({ dashboard: dashboard.title ?? '', name: a.name, expr: a.expr });
    }
  }
  return out;
}

export interface VariableValues {
  /** Regex for `$server` (Grafana's "All" is `.*`). */
  server: string;
  /** `$__rate_interval`, e.g. '10s'. */
  rateInterval: string;
  /** `$__interval`, e.g. '1s'. */
  interval: string;
  /** `$__range`, e.g. '5m'. */
  range: string;
}

/** Replaces Grafana's variables as Grafana would; an unknown variable throws (a typo in a panel). */
export function substituteVariables(expr: string, v: VariableValues): string {
  const values: Record<string, string> = {
    server: v.server,
    __rate_interval: v.rateInterval,
    __interval: v.interval,
    __range: v.range,
  };
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = values[name];
    if (value === undefined) throw new RangeError(`unknown Grafana variable ${whole} in ${expr}`);
    return value;
  });
}
