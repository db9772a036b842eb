/**
 * Every query of every dashboard panel, and the fault annotation query, evaluated by a real
 * Prometheus that scrapes a real 3-voter + 1-observer zablab ensemble and the harness's fault
 * counter. Load (writes and reads through our client), snapshots (low snapCount), a follower
 * restart and a leader kill give every panel something to show; a query that returns nothing
 * (a renamed metric, a typo, a label that does not exist) fails the test with its panel's name.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/client/index.js';
import { allAnnotationQueries, allPanelQueries, serverVariableQuery, substituteVariables } from '../../src/dashboards/index.js';
import { FaultsMetricServer } from '../../src/harness/measure/faults-metric.js';
import { LocalEnsemble } from '../../src/harness/ensemble/index.js';
import { freePort } from '../helpers/ports.js';

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? 'prometheus';
const prometheusVersion = spawnSync(PROMETHEUS, ['--version'], { encoding: 'utf8' });
const havePrometheus = prometheusVersion.status === 0;
const mustRun = process.env.CI === 'true';
const skip = !havePrometheus && !mustRun;
if (skip) console.warn(`prometheus-dashboards: skipped, \`${PROMETHEUS}\` is not installed (apt-get install prometheus)`);

/** What Grafana would put in for the variables: every server, a window of several scrapes. */
const VARIABLES = { server: '.*', rateInterval: '10s', interval: '1s', range: '5m' };
const SCRAPE_INTERVAL = '1s';

interface PromResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] }[] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Writers and readers through our client, pipelined; failures (during an election) are retried. */
function startLoad(connectString: string, workers: number, pipeline: number): { writes: () => number; stop: () => Promise<void> } {
  let stopping = false;
  let writes = 0;
  const value = Buffer.alloc(64, 'z');
  const run = async (w: number): Promise<void> => {
    let c: ZkClient | null = null;
    for (let n = 0; !stopping; n++) {
      try {
        const client = (c ??= await ZkClient.connect({ connectString, sessionTimeoutMs: 20_000, connectTimeoutMs: 5_000 }));
        const paths = Array.from({ length: pipeline }, (_, i) => `/dash/w${w}-${n}-${i}`);
        await Promise.all(paths.map((p) => client.create(p, value)));
        writes += paths.length;
        await Promise.all(paths.map((p, i) => client.getData(p, i === 0)));
        await client.exists(paths[0]!);
      } catch {
        await sleep(20);
      }
    }
    await c?.close().catch(() => undefined);
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => run(w)));
  return {
    writes: () => writes,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

describe.skipIf(skip)('dashboards against a real Prometheus scraping a zablab ensemble', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-prom-dash-'));
  let ens: LocalEnsemble | null = null;
  let faults: FaultsMetricServer | null = null;
  let prom: ChildProcess | null = null;
  let promUrl = '';
  const promLog = path.join(dir, 'prometheus.log');

  async function api(endpoint: string, params: Record<string, string>): Promise<PromResponse> {
    const res = await fetch(`${promUrl}/api/v1/${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    return (await res.json()) as PromResponse;
  }

  beforeAll(async () => {
    if (!havePrometheus) throw new Error(`CI=true but \`${PROMETHEUS}\` cannot run: apt-get install -y prometheus`);
    ens = await LocalEnsemble.up({
      voters: 3,
      observers: 1,
      dir: path.join(dir, 'ensemble'),
      // Short ticks for quick elections; a low snapCount so snapshots happen under the load.
      config: { tickTime: '200', initLimit: '25', syncLimit: '10', snapCount: '100' },
    });
    faults = await FaultsMetricServer.start(0);
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const cfg = [
      'global:',
      `  scrape_interval: ${SCRAPE_INTERVAL}`,
      `  evaluation_interval: ${SCRAPE_INTERVAL}`,
      'scrape_configs:',
      '  - job_name: zablab',
      '    static_configs:',
      `      - targets: [${ens.servers.map((s) => `'127.0.0.1:${s.httpPort}'`).join(', ')}]`,
      '  - job_name: zablab-bench',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${faults.port}']`,
      '',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), cfg);
    const log = fs.openSync(promLog, 'w');
    prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', log, log] },
    );
    prom.on('error', () => undefined); // a failed start shows as exitCode below
    fs.closeSync(log);
    const tail = (): string => fs.readFileSync(promLog, 'utf8').split('\n').slice(-15).join('\n');
    await until('Prometheus ready', async () => {
      if (prom?.exitCode !== null) throw new Error(`prometheus exited (${prom?.exitCode}):\n${tail()}`);
      return fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false);
    });
    await until('every target scraped', async () => {
      const r = await api('query', { query: 'up == 1' });
      return (r.data?.result.length ?? 0) === ens!.servers.length + 1;
    });
  }, 90_000);

  afterAll(async () => {
    const p = prom;
    if (p?.pid !== undefined && p.exitCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      process.kill(p.pid, 'SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (p.exitCode === null) process.kill(p.pid, 'SIGKILL');
    }
    await faults?.close();
    await ens?.down({ purge: true }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every panel query and the fault annotation return data', async () => {
    const e = ens!;
    const f = faults!;
    const startSec = Date.now() / 1_000 - 5;
    const setup = await ZkClient.connect({ connectString: e.connectString() });
    await setup.create('/dash');
    await setup.close();
    const load = startLoad(e.connectString(), 4, 8);
    await until('writes enough for snapshots', () => load.writes() >= 1_000);

    // A follower restarts and syncs with the leader by DIFF (the leader's diff_count).
    const leader = (await e.leader())!;
    const follower = e.servers.find((s) => s.role === 'voter' && s.id !== leader.id)!;
    await e.kill(follower.id, 'SIGKILL');
    f.record('kill', follower.id, 'follower');
    await sleep(1_000);
    await e.start(follower.id);
    f.record('restart', follower.id, 'last');

    // The leader dies: elections, unavailable time, and every learner syncs with the new leader.
    const before = load.writes();
    await e.kill(leader.id, 'SIGKILL');
    f.record('kill', leader.id, 'leader');
    await until('writes under the new leader', () => load.writes() >= before + 500, 60_000);
    await e.start(leader.id);
    f.record('restart', leader.id, 'last');
    await load.stop();
    await sleep(3_000); // the last scrapes

    const endSec = Date.now() / 1_000;
    const empty: string[] = [];
    for (const q of allPanelQueries()) {
      const expr = substituteVariables(q.expr, VARIABLES);
      const r = await api('query_range', { query: expr, start: String(startSec), end: String(endSec), step: '1' });
      expect(r.status, `${q.dashboard} / ${q.panel} ${q.refId}: ${r.error ?? ''}\n${expr}`).toBe('success');
      const finite = (r.data?.result ?? []).some((s) => (s.values ?? []).some(([, v]) => Number.isFinite(Number(v))));
      if (!finite) empty.push(`${q.dashboard} / ${q.panel} ${q.refId}: ${expr}`);
    }
    expect(empty, 'panel queries without data').toEqual([]);

    for (const a of allAnnotationQueries()) {
      const r = await api('query_range', { query: a.expr, start: String(startSec), end: String(endSec), step: '1' });
      expect(r.status, `${a.dashboard} / ${a.name}: ${r.error ?? ''}`).toBe('success');
      const marked = new Set((r.data?.result ?? []).map((s) => `${s.metric.action} ${s.metric.server_id}`));
      expect(marked, `${a.dashboard} / ${a.name}`).toContain(`kill ${leader.id}`);
      expect(marked).toContain(`kill ${follower.id}`);
      expect(marked).toContain(`restart ${leader.id}`);
    }

    // The `server` variable lists every server by its scrape target.
    const label = /^label_values\((\w+), (\w+)\)$/.exec(serverVariableQuery())!;
    const res = await fetch(`${promUrl}/api/v1/label/${label[2]}/values?${new URLSearchParams({ 'match[]': label[1]! }).toString()}`);
    const values = ((await res.json()) as { data: string[] }).data;
    expect(values.sort()).toEqual(e.servers.map((s) => `127.0.0.1:${s.httpPort}`).sort());
  }, 120_000);
});
