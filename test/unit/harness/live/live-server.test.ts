/**
 * The live view's HTTP face on 127.0.0.1: the page is self-contained (no address outside
 * itself, a CSP that allows only its own script and this server), live.json carries the
 * state with its regions rendered by the report's chart code, nothing else is served, and a
 * busy or bad port is one clear error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveError, LiveServer, LiveState, livePort, REGIONS } from '../../../../src/harness/live/index.js';
import type { Waterfall } from '../../../../src/harness/live/waterfall.js';

let state: LiveState;
let server: LiveServer;

const waterfall: Waterfall = {
  traceId: 'ab'.padEnd(32, '0'),
  startEpochMs: Date.now() - 1_000,
  zxid: '0x200000005',
  op: 'setData',
  leader: 1,
  servers: 3,
  spans: [
    { stage: 'request', serverId: 2, role: 'follower', fromMs: 0, toMs: 2, events: [] },
    { stage: 'proposal', serverId: 1, role: 'leader', fromMs: 0.2, toMs: 1.5, events: [{ name: 'quorum', atMs: 1.2 }] },
    { stage: 'ack', serverId: 3, role: 'follower', fromMs: 0.3, toMs: 1, events: [{ name: 'fsynced', atMs: 0.9 }] },
    { stage: 'commit', serverId: 2, role: 'follower', fromMs: 1.6, toMs: 1.8, events: [] },
    { stage: 'commit', serverId: 3, role: 'follower', fromMs: 1.6, toMs: 1.9, events: [] },
  ],
};

beforeAll(async () => {
  state = new LiveState('bench');
  server = await LiveServer.start(state, 0, 'zablab bench: live view');
});
afterAll(async () => {
  await server.close();
});

async function get(path: string, method = 'GET'): Promise<{ status: number; headers: Headers; text: string }> {
  const r = await fetch(new URL(path, server.url), { method });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

describe('LiveServer', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves a page that needs nothing but itself and this server', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/connect-src 'self'/);
    expect(csp).toMatch(/script-src 'sha256-/);
    expect(r.text).not.toMatch(/https?:\/\//);
    expect(r.text).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    for (const region of REGIONS) expect(r.text).toContain(`aria-labelledby="h-${region.id}"`);
    expect(r.text).toContain('role="status"');
  });

  it('answers live.json with the state and its regions, and follows changes', async () => {
    state.runStarted(1, 3, 'quickstart#1');
    state.serversPolled([
      { id: 1, role: 'voter', mode: 'leader', zxid: (2n << 32n) | 5n },
      { id: 2, role: 'voter', mode: 'follower', zxid: (2n << 32n) | 5n },
    ]);
    state.windowStarted(Date.now() - 3_000);
    state.second({ t: 1, ops: 10, errors: 0, p50: 1, p99: 4, byOp: { getData: { ops: 8, errors: 0, p50: 1, p99: 2 }, setData: { ops: 2, errors: 0, p50: 2, p99: 4 } } });
    state.second({ t: 2, ops: 10, errors: 0, p50: 1, p99: 4, byOp: { getData: { ops: 8, errors: 0, p50: 1, p99: 2 }, setData: { ops: 2, errors: 0, p50: 2, p99: 4 } } });
    state.fault({ action: 'kill', target: 'leader', serverId: 1, atMs: 2_000, atEpochMs: Date.now() - 1_000, effectiveEpochMs: Date.now() - 1_000, leaderBefore: 1 });
    state.serversPolled([
      { id: 1, role: 'voter', mode: 'down', zxid: null },
      { id: 2, role: 'voter', mode: 'leader', zxid: 3n << 32n },
    ]);
    state.setWaterfall(waterfall, '');
    const first = JSON.parse((await get('/live.json')).text) as { seq: number; leader: number; regions: Record<string, string> };
    expect(first.leader).toBe(2);
    const r = first.regions;
    expect(Object.keys(r).sort()).toEqual(['events', 'latency', 'outstanding', 'runs', 'servers', 'status', 'throughput', 'waterfall']);
    expect(r['status']).toContain('run 1/3 quickstart#1');
    expect(r['status']).toContain('leader: server 2');
    expect(r['servers']).toMatch(/<tr data-server="1" data-mode="down">/);
    expect(r['servers']).toContain('0x300000000');
    // The report's charts: series per op, a fault and a leader-change marker.
    expect(r['throughput']).toMatch(/data-testid="live-throughput"/);
    expect(r['throughput']).toMatch(/data-series="getData"/);
    expect(r['throughput']).toMatch(/class="marker marker-fault"/);
    expect(r['latency']).toMatch(/class="marker marker-leader" data-label="leader: server 2"/);
    expect(r['events']).toContain('kill leader (server 1)');
    expect(r['waterfall']).toMatch(/data-testid="live-waterfall"/);
    expect(r['waterfall']).toContain('data-servers="3"');
    expect(r['waterfall']).toContain('proposal on s1 (leader)');
    expect(r['runs']).toContain('run <strong>1 of 3</strong>');

    state.phase('stopping load');
    const second = JSON.parse((await get('/live.json')).text) as { seq: number; regions: Record<string, string> };
    expect(second.seq).toBeGreaterThan(first.seq);
    expect(second.regions['status']).toContain('stopping load');
  });

  it('escapes what it shows', async () => {
    state.note('<img src=x onerror=alert(1)>');
    const r = JSON.parse((await get('/live.json')).text) as { regions: Record<string, string> };
    expect(r.regions['events']).toContain('&lt;img src=x');
    expect(r.regions['events']).not.toContain('<img');
  });

  it('serves nothing else and takes no writes', async () => {
    expect((await get('/results.json')).status).toBe(404);
    expect((await get('/../etc/passwd')).status).toBe(404);
    const post = await get('/live.json', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers only requests that name it by its address (no DNS rebinding)', async () => {
    const status = (host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: server.port, path: '/live.json', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.once('error', reject);
      });
    expect(await status(`127.0.0.1:${server.port}`)).toBe(200);
    expect(await status(`localhost:${server.port}`)).toBe(200);
    expect(await status(`attacker.example:${server.port}`)).toBe(421);
    expect(await status('127.0.0.1')).toBe(421);
  });

  it('says in one line that a port is in use', async () => {
    const busy = http.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const err = await LiveServer.start(new LiveState('bench'), port, 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LiveError);
      expect((err as LiveError).code).toBe('ZABLAB_LIVE_PORT');
      expect((err as LiveError).message).toBe(`live view: port ${port} on 127.0.0.1 is in use; choose another port (or 0 for any free one)`);
    } finally {
      busy.close();
    }
  });

  it('takes a port from 0 to 65535 and nothing else', () => {
    expect(livePort('', '--live')).toBe(0);
    expect(livePort('8080', '--live')).toBe(8080);
    expect(() => livePort('http', '--live')).toThrow(/--live takes a port from 1 to 65535 \(or 0 for any free one\), got "http"/);
    expect(() => livePort('70000', '--live')).toThrow(LiveError);
    expect(() => livePort('-1', '--live')).toThrow(LiveError);
  });
});
