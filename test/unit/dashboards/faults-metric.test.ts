/**
 * The harness's fault counter as Prometheus sees it: a real HTTP server, read with a real
 * Prometheus text parser.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FaultsMetricServer, FAULT_SERIES_MAX } from '../../../src/harness/measure/faults-metric.js';
import { parsePrometheus } from '../telemetry/prom-parse.js';

const servers: FaultsMetricServer[] = [];
async function start(): Promise<FaultsMetricServer> {
  const s = await FaultsMetricServer.start(0);
  servers.push(s);
  return s;
}

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('FaultsMetricServer', () => {
  it('counts faults per action, target and server on GET /metrics', async () => {
    const s = await start();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const empty = await fetch(s.url);
    expect(empty.status).toBe(200);
    expect(empty.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(parsePrometheus(await empty.text()).get('zablab_bench_faults_total')?.metrics ?? []).toEqual([]);

    s.record('kill', 2, 'leader');
    s.record('restart', 2, 'last');
    s.record('kill', 2, 'leader');
    s.record('pause', 4, 'id:4');
    const fam = parsePrometheus(await (await fetch(s.url)).text()).get('zablab_bench_faults_total');
    expect(fam?.type).toBe('COUNTER');
    const byLabels = new Map(fam!.metrics.map((m) => [JSON.stringify(m.labels), m.value]));
    expect(byLabels.get(JSON.stringify({ action: 'kill', target: 'leader', server_id: '2' }))).toBe('2');
    expect(byLabels.get(JSON.stringify({ action: 'restart', target: 'last', server_id: '2' }))).toBe('1');
    expect(byLabels.get(JSON.stringify({ action: 'pause', target: 'id:4', server_id: '4' }))).toBe('1');
  });

  it('answers 404 elsewhere and 405 to a POST', async () => {
    const s = await start();
    const base = s.url.replace(/\/metrics$/, '');
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(s.url, { method: 'POST' })).status).toBe(405);
  });

  it('escapes label values and keeps at most FAULT_SERIES_MAX series', async () => {
    const s = await start();
    s.record('kill', 1, 'a"b\\c');
    const fam = parsePrometheus(await (await fetch(s.url)).text()).get('zablab_bench_faults_total');
    expect(fam!.metrics[0]!.labels).toEqual({ action: 'kill', target: 'a"b\\c', server_id: '1' });
    for (let i = 0; i < FAULT_SERIES_MAX + 10; i++) s.record('kill', i, 'leader');
    expect(s.dropped).toBe(11);
    expect(s.render().split('\n').filter((l) => l.startsWith('zablab_bench_faults_total{')).length).toBe(FAULT_SERIES_MAX);
  });

  it('a port in use is an error that names it', async () => {
    const s = await start();
    await expect(FaultsMetricServer.start(s.port)).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${s.port} \\(EADDRINUSE\\); choose another port`));
    await expect(FaultsMetricServer.start(70_000)).rejects.toThrow(/from 0 to 65535/);
  });
});
