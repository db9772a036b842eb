/**
 * postFaultAnnotation against a real HTTP endpoint on 127.0.0.1 that answers as Grafana's
 * /api/annotations does (no Grafana on CI machines): the request it sends, and that it never
 * throws or hangs when Grafana refuses, is away, or does not answer. And `zablab bench
 * --grafana-url`: the flag wins over GRAFANA_URL, faults are posted, and the ensemble
 * dashboard's address over the bench's time range is printed at the end.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensembleDashboardUrl, postFaultAnnotation } from '../../../src/harness/measure/grafana.js';
import { runZablabCli, zablabBuilt } from '../../helpers/zablab.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

const servers: http.Server[] = [];

async function grafana(answer: (req: Seen, res: http.ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text === '' ? null : JSON.parse(text) };
      seen.push(s);
      answer(s, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

const fault = { timeMs: 1_700_000_000_123, action: 'kill' as const, serverId: 2, text: 'zablab: kill leader (server 2)' };

describe('postFaultAnnotation', () => {
  it('POSTs /api/annotations with the time, tags zablab/fault/<action> and a Bearer key', async () => {
    const g = await grafana((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":17,"message":"Annotation added"}'));
    const out = await postFaultAnnotation(g.url, fault, { apiKey: 'glsa_test' });
    expect(out).toEqual({ ok: true, id: 17 });
    expect(g.seen).toHaveLength(1);
    const [req] = g.seen;
    expect(req).toMatchObject({ method: 'POST', url: '/api/annotations' });
    expect(req!.headers.authorization).toBe('Bearer glsa_test');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.body).toEqual({ time: fault.timeMs, tags: ['zablab', 'fault', 'kill'], text: fault.text });
  });

  it('reads GRAFANA_API_KEY, keeps a sub-path, and turns user:password into Basic auth', async () => {
    const g = await grafana((_, res) => res.writeHead(200).end('{"id":1}'));
    expect(await postFaultAnnotation(`${g.url}/grafana/`, fault, { env: { GRAFANA_API_KEY: 'from-env' } })).toEqual({ ok: true, id: 1 });
    expect(g.seen[0]!.url).toBe('/grafana/api/annotations');
    expect(g.seen[0]!.headers.authorization).toBe('Bearer from-env');
    const withUser = g.url.replace('http://', 'http://admin:s%3Acret@');
    expect(await postFaultAnnotation(withUser, fault, { env: {}, dashboardUid: 'zablab-zab-ensemble' })).toEqual({ ok: true, id: 1 });
    expect(g.seen[1]!.headers.authorization).toBe(`Basic ${Buffer.from('admin:s:cret').toString('base64')}`);
    expect(g.seen[1]!.body).toMatchObject({ dashboardUID: 'zablab-zab-ensemble' });
  });

  it('a refusal comes back as an error that says what to do, not as an exception', async () => {
    const g = await grafana((_, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized"}'));
    const out = await postFaultAnnotation(g.url, fault, { env: {} });
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error).toContain('401');
      expect(out.error).toContain('GRAFANA_API_KEY');
    }
  });

  it('no Grafana, a hung Grafana, or a bad URL: ok false within the timeout', async () => {
    const away = await grafana((_, res) => res.end());
    const awayUrl = away.url;
    for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
    const refused = await postFaultAnnotation(awayUrl, fault, { env: {} });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error).toMatch(/ECONNREFUSED/);

    const hung = await grafana(() => undefined);
    const started = performance.now();
    const out = await postFaultAnnotation(hung.url, fault, { env: {}, timeoutMs: 300 });
    expect(out).toEqual({ ok: false, error: expect.stringMatching(/no answer within the timeout/) as unknown });
    expect(performance.now() - started).toBeLessThan(5_000);

    expect(await postFaultAnnotation('not a url', fault)).toMatchObject({ ok: false, error: expect.stringMatching(/is not a URL/) as unknown });
    expect(await postFaultAnnotation('ftp://127.0.0.1/', fault)).toMatchObject({ ok: false, error: expect.stringMatching(/http or https/) as unknown });
  });
});

describe('ensembleDashboardUrl', () => {
  it('is the ensemble dashboard (the uid of dashboards/zab-ensemble.json) over the range, without credentials', () => {
    const uid = (JSON.parse(fs.readFileSync(new URL('../../../dashboards/zab-ensemble.json', import.meta.url), 'utf8')) as { uid: string }).uid;
    expect(ensembleDashboardUrl('http://admin:pw@127.0.0.1:3000', { fromMs: 1_700_000_000_000.4, toMs: 1_700_000_060_000.2 })).toBe(
      `http://127.0.0.1:3000/d/${uid}?from=1700000000000&to=1700000060001`,
    );
    expect(ensembleDashboardUrl('https://example.com/grafana?orgId=1', { fromMs: 1, toMs: 2 })).toBe(`https://example.com/grafana/d/${uid}?from=1&to=2`);
    expect(ensembleDashboardUrl('not a url', { fromMs: 1, toMs: 2 })).toBeNull();
    expect(ensembleDashboardUrl('ftp://127.0.0.1/', { fromMs: 1, toMs: 2 })).toBeNull();
  });
});

describe.skipIf(!zablabBuilt())('zablab bench --grafana-url', () => {
  const SCENARIO = [
    'name: grafana-flag',
    'description: a follower paused and resumed',
    // 3 voters: with one, the after-run check of acknowledged writes waits a minute (it does not take standalone for serving).
    'ensemble: {driver: local, voters: 3}',
    'workload: {readPct: 90, clients: 1, connections: 1, pipelining: 4, keys: 10, duration: 3s, warmup: 0s}',
    'faults:',
    '  - {at: 1s, action: pause, target: follower}',
    '  - {at: 2s, action: resume, target: last}',
    '',
  ].join('\n');

  it('wins over GRAFANA_URL: the faults go to its /api/annotations with --grafana-api-key, and the dashboard over the bench is printed', async () => {
    const flag = await grafana((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1}'));
    const env = await grafana((_, res) => res.writeHead(200).end('{"id":2}'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-grafana-flag-'));
    try {
      const file = path.join(dir, 'grafana-flag.yaml');
      fs.writeFileSync(file, SCENARIO);
      const before = Date.now();
      const r = await runZablabCli(['bench', file, '--out', path.join(dir, 'out'), '--grafana-url', `${flag.url}/grafana`, '--grafana-api-key', 'glsa_flag'], {
        timeoutMs: 90_000,
        cwd: dir,
        env: { GRAFANA_URL: env.url, GRAFANA_API_KEY: 'from-env' },
      });
      const after = Date.now();
      expect(r.code, r.stderr).toBe(0);
      expect(env.seen).toEqual([]);
      expect(flag.seen.map((x) => [x.method, x.url, x.headers.authorization])).toEqual([
        ['POST', '/grafana/api/annotations', 'Bearer glsa_flag'],
        ['POST', '/grafana/api/annotations', 'Bearer glsa_flag'],
      ]);
      const times = flag.seen.map((x) => (x.body as { time: number; tags: string[] }).time);
      expect(flag.seen.map((x) => (x.body as { tags: string[] }).tags)).toEqual([
        ['zablab', 'fault', 'pause'],
        ['zablab', 'fault', 'resume'],
      ]);
      const m = /^grafana: (.+)$/m.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      const shown = new URL(m![1]!);
      expect(`${shown.origin}${shown.pathname}`).toBe(`${flag.url}/grafana/d/zablab-zab-ensemble`);
      const from = Number(shown.searchParams.get('from'));
      const to = Number(shown.searchParams.get('to'));
      expect(from).toBeGreaterThanOrEqual(before);
      expect(to).toBeLessThanOrEqual(after);
      for (const t of times) {
        expect(t).toBeGreaterThanOrEqual(from);
        expect(t).toBeLessThanOrEqual(to);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses a --grafana-url that is not an http(s) address before anything starts', async () => {
    const r = await runZablabCli(['bench', 'quickstart', '--grafana-url', 'grafana.local:3000'], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--grafana-url \(or GRAFANA_URL\) must be Grafana's http\(s\) address, e\.g\. http:\/\/127\.0\.0\.1:3000, got "grafana\.local:3000"/);
  });
});
