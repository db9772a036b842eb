/**
 * The Grafana dashboards as code: what is committed in dashboards/ is what the code generates,
 * generation is deterministic, and every panel is one a user can read (a unit on its axis, a
 * description, queries on metrics zablab exports, filtered by the `server` variable).
 */
import { describe, expect, it } from 'vitest';
import {
  allAnnotationQueries,
  allPanelQueries,
  defaultDashboardsDir,
  renderDashboards,
  staleDashboards,
  substituteVariables,
} from '../../../src/dashboards/index.js';
import { HarnessMetric, Metric } from '../../../src/telemetry/names.js';

interface PanelJson {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  fieldConfig?: { defaults?: { unit?: string }; overrides?: { properties: { id: string; value?: unknown }[] }[] };
  targets?: { expr?: string; refId?: string; legendFormat?: string }[];
  datasource?: { type?: string; uid?: string };
}

function panels(text: string): PanelJson[] {
  return (JSON.parse(text) as { panels: PanelJson[] }).panels;
}

const METRIC_NAMES = new Set<string>(Object.values(Metric).map((m) => m.name));
const HISTOGRAMS = new Set<string>(Object.values(Metric).filter((m) => m.kind === 'histogram').map((m) => m.name));

/** Metric names a PromQL expression selects (`name{...}`). */
function selectedMetrics(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]!);
}

function knownMetric(name: string): boolean {
  if (METRIC_NAMES.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && HISTOGRAMS.has(base);
}

describe('dashboards/', () => {
  it('the committed dashboards/*.json are what `zablab dashboards` generates', () => {
    const stale = staleDashboards(defaultDashboardsDir());
    expect(stale, 'dashboards/ is out of date: run `npm run build && node dist/cli/main.js dashboards`').toEqual([]);
  });

  it('generating twice gives byte-identical files with stable uids', () => {
    const a = renderDashboards();
    const b = renderDashboards();
    expect(a.map((d) => d.text)).toEqual(b.map((d) => d.text));
    expect(a.map((d) => [d.file, d.uid, d.title])).toEqual([
      ['zab-ensemble.json', 'zablab-zab-ensemble', 'ZAB ensemble'],
      ['zab-write-path.json', 'zablab-zab-write-path', 'ZAB write path'],
    ]);
  });
});

describe('every panel', () => {
  for (const d of renderDashboards()) {
    it(`${d.title}: has a unique id, a unit, a description, and reads $datasource`, () => {
      const ps = panels(d.text);
      const ids = ps.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(ps.map((_, i) => i + 1));
      for (const p of ps.filter((x) => x.type !== 'row')) {
        expect(p.fieldConfig?.defaults?.unit, `unit of "${p.title}"`).toMatch(/^(ms|reqps|ops|short|none|bytes|hex0x)$/);
        expect(p.description, `description of "${p.title}"`).toBeTruthy();
        expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(p.targets!.length).toBeGreaterThan(0);
        // A second unit on a panel goes with its own (right) axis.
        for (const o of p.fieldConfig?.overrides ?? []) {
          const unit = o.properties.find((x) => x.id === 'unit');
          if (unit !== undefined) expect(o.properties.find((x) => x.id === 'custom.axisPlacement')?.value).toBe('right');
        }
        for (const t of p.targets!) expect(t.legendFormat, `legend of "${p.title}" ${t.refId}`).toBeTruthy();
      }
    });
  }

  it('queries select only metrics zablab exports, each filtered by $server', () => {
    const queries = allPanelQueries();
    expect(queries.length).toBeGreaterThan(30);
    for (const q of queries) {
      const names = selectedMetrics(q.expr);
      expect(names.length, `${q.dashboard} / ${q.panel}: ${q.expr}`).toBeGreaterThan(0);
      for (const n of names) expect(knownMetric(n), `${q.dashboard} / ${q.panel}: unknown metric ${n}`).toBe(true);
      const selectors = q.expr.match(/[a-z_]+\{[^}]*\}/g) ?? [];
      for (const s of selectors) expect(s, `${q.dashboard} / ${q.panel}`).toContain('instance=~"$server"');
    }
  });

  it('the panels the operators asked for are there', () => {
    const titles = new Set(allPanelQueries().map((q) => `${q.dashboard} / ${q.panel}`));
    for (const t of [
      'ZAB ensemble / Requests/s by op and server',
      'ZAB ensemble / Request latency p50 / p99',
      'ZAB ensemble / Outstanding requests and throttling',
      'ZAB ensemble / Role',
      'ZAB ensemble / Epoch',
      'ZAB ensemble / Last zxid',
      'ZAB ensemble / Learners and synced followers / observers',
      'ZAB ensemble / Election and unavailable time',
      'ZAB ensemble / Connections and sessions',
      'ZAB ensemble / Znodes',
      'ZAB ensemble / Watches',
      'ZAB write path / Proposals/s',
      'ZAB write path / Quorum ack latency',
      'ZAB write path / Ack latency per voter',
      'ZAB write path / Proposal and commit propagation',
      'ZAB write path / fsync time',
      'ZAB write path / Txns per fsync',
      'ZAB write path / Snapshot time',
      'ZAB write path / Snapshots',
      'ZAB write path / Sync time',
      'ZAB write path / Syncs by mode (DIFF / SNAP)',
    ]) {
      expect(titles.has(t), t).toBe(true);
    }
  });
});

describe('variables and annotations', () => {
  for (const d of renderDashboards()) {
    it(`${d.title}: a prometheus data source variable, a server variable over instance, fault annotations`, () => {
      const j = JSON.parse(d.text) as {
        templating: { list: { name: string; type: string; query?: unknown; includeAll?: boolean; allValue?: string }[] };
        annotations: { list: { name: string; expr?: string; datasource?: { type?: string }; target?: { tags?: string[] } }[] };
      };
      const [ds, server] = j.templating.list;
      expect(ds).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
      expect(server).toMatchObject({ name: 'server', type: 'query', query: 'label_values(zab_role, instance)', includeAll: true, allValue: '.*' });
      const prom = j.annotations.list.find((a) => a.datasource?.type === 'prometheus');
      expect(prom?.expr).toContain(`changes(${HarnessMetric.benchFaults.name}[1m]) > 0`);
      const grafana = j.annotations.list.find((a) => a.datasource?.type === 'grafana');
      expect(grafana?.target?.tags).toEqual(['zablab', 'fault']);
    });
  }

  it('allAnnotationQueries lists the fault query of each dashboard', () => {
    expect(allAnnotationQueries().map((a) => a.dashboard)).toEqual(['ZAB ensemble', 'ZAB write path']);
  });

  it('substituteVariables fills in what Grafana would and refuses an unknown variable', () => {
    const v = { server: '.*', rateInterval: '10s', interval: '1s', range: '5m' };
    expect(substituteVariables('rate(x{instance=~"$server"}[$__rate_interval]) + y[${__range}] + z[$__interval]', v)).toBe(
      'rate(x{instance=~".*"}[10s]) + y[5m] + z[1s]',
    );
    expect(() => substituteVariables('x{instance=~"$srever"}', v)).toThrow(/unknown Grafana variable \$srever/);
    for (const q of allPanelQueries()) expect(substituteVariables(q.expr, v)).not.toContain('$');
  });
});
