/**
 * postFaultAnnotation against a real HTTP endpoint on 127.0.0.1 that answers as Grafana's
 * /api/annotations does (no Grafana on CI machines): the request it sends, and that it never
 * throws or hangs when Grafana refuses, is away, or does not answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postFaultAnnotation } from '../../../src/harness/measure/grafana.js';

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
