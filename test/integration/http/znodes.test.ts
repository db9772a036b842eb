/**
 * The REST face on znodes against a real standalone server (in-process: real storage with
 * fsync, real sockets): every verb, every error answer, binary data, and that REST writes
 * and ZooKeeper clients on the client port see the same tree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { OpCode } from '../../../src/jute/index.js';
import { serverRequest } from '../../../src/server/zk-server.js';
import { http, rawGet, startStandaloneHttp, type HttpTarget } from './harness.js';

interface StatJson {
  czxid: string;
  mzxid: string;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
  pzxid: string;
}

const JUTE_MAX_BUFFER = 64 * 1024;

function expectError(r: { status: number; body: unknown; text: string }, status: number, code: string, zkCode: number): void {
  expect(r.status, r.text).toBe(status);
  expect(r.body).toEqual({ error: { code, zkCode, message: expect.any(String) } });
  expect(r.text).not.toMatch(/at .*\.(js|ts):\d+/); // no stack trace
}

describe('REST znodes (standalone, in-process)', () => {
  let t: HttpTarget;
  let client: ZkClient;
  const req = (method: string, url: string, body?: Buffer | string, headers?: Record<string, string>) => http(t.base, method, url, body, headers);

  beforeAll(async () => {
    // A short tick makes the session timeout short (maxSessionTimeout = 20 ticks = 2 s).
    t = await startStandaloneHttp({ tickTime: '100', 'jute.maxbuffer': String(JUTE_MAX_BUFFER) });
    client = await ZkClient.connect({ connectString: `127.0.0.1:${t.clientPort}` });
  });
  afterAll(async () => {
    await client?.close();
    await t?.stop();
  });

  it('creates, reads, updates and deletes a znode', async () => {
    const created = await req('POST', '/v1/znodes/crud', 'v1');
    expect(created.status).toBe(201);
    const c = created.body as { path: string; stat: StatJson };
    expect(c.path).toBe('/crud');
    expect(c.stat).toMatchObject({ version: 0, dataLength: 2, numChildren: 0, ephemeralOwner: '0x0' });
    expect(c.stat.czxid).toMatch(/^0x[0-9a-f]+$/);
    expect(c.stat.mzxid).toBe(c.stat.czxid);
    expect(Math.abs(c.stat.ctime - Date.now())).toBeLessThan(60_000);

    const got = await req('GET', '/v1/znodes/crud');
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ path: '/crud', data: Buffer.from('v1').toString('base64'), stat: c.stat });

    const set = await req('PUT', '/v1/znodes/crud?version=0', 'v2');
    expect(set.status).toBe(200);
    const s = (set.body as { stat: StatJson }).stat;
    expect(s).toMatchObject({ version: 1, dataLength: 2, czxid: c.stat.czxid });
    expect(BigInt(s.mzxid)).toBeGreaterThan(BigInt(c.stat.mzxid));

    const unconditional = await req('PUT', '/v1/znodes/crud', 'v3');
    expect((unconditional.body as { stat: StatJson }).stat.version).toBe(2);

    const del = await req('DELETE', '/v1/znodes/crud?version=2');
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expectError(await req('GET', '/v1/znodes/crud'), 404, 'NONODE', -101);
  });

  it('lists children with the parent stat', async () => {
    await req('POST', '/v1/znodes/kids');
    for (const k of ['a', 'b', 'c']) expect((await req('POST', `/v1/znodes/kids/${k}`)).status).toBe(201);
    const r = await req('GET', '/v1/children/kids');
    expect(r.status).toBe(200);
    const body = r.body as { children: string[]; stat: StatJson };
    expect([...body.children].sort()).toEqual(['a', 'b', 'c']);
    expect(body.stat).toMatchObject({ numChildren: 3, cversion: 3 });
    const root = (await req('GET', '/v1/children')).body as { children: string[] };
    expect(root.children).toEqual(expect.arrayContaining(['zookeeper', 'kids']));
    expect((await req('GET', '/v1/children/')).body).toEqual(await req('GET', '/v1/children').then((x) => x.body));
  });

  it('round-trips binary data byte for byte, and an empty body is empty data', async () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const r = await req('POST', '/v1/znodes/binary', bytes, { 'content-type': 'application/octet-stream' });
    expect((r.body as { stat: StatJson }).stat.dataLength).toBe(512);
    const got = (await req('GET', '/v1/znodes/binary')).body as { data: string };
    expect(Buffer.from(got.data, 'base64').equals(bytes)).toBe(true);
    // A ZooKeeper client on the client port reads the same bytes.
    expect((await client.getData('/binary')).data?.equals(bytes)).toBe(true);
    // Whatever the content type says, the body is the data.
    await req('PUT', '/v1/znodes/binary', '{"not":"parsed"}', { 'content-type': 'application/json' });
    expect((await client.getData('/binary')).data?.toString()).toBe('{"not":"parsed"}');

    const empty = await req('POST', '/v1/znodes/empty');
    expect(empty.status).toBe(201);
    expect((empty.body as { stat: StatJson }).stat.dataLength).toBe(0);
    expect(((await req('GET', '/v1/znodes/empty')).body as { data: string }).data).toBe('');
  });

  it('creates sequential and container znodes', async () => {
    await req('POST', '/v1/znodes/queue');
    const a = (await req('POST', '/v1/znodes/queue/item-?mode=persistent_sequential', 'a')).body as { path: string };
    const b = (await req('POST', '/v1/znodes/queue/?mode=persistent_sequential', 'b')).body as { path: string };
    expect(a.path).toBe('/queue/item-0000000000');
    expect(b.path).toBe('/queue/0000000001');
    const ctr = await req('POST', '/v1/znodes/ctr?mode=container');
    expect(ctr.status).toBe(201);
    // Clients see 0 as a container's owner (ZooKeeper hides its internal marker).
    expect((ctr.body as { stat: StatJson }).stat.ephemeralOwner).toBe('0x0');
  });

  it('serves REST writes and client-port writes from the same tree', async () => {
    await client.create('/from-client', Buffer.from('c'));
    expect(((await req('GET', '/v1/znodes/from-client')).body as { data: string }).data).toBe(Buffer.from('c').toString('base64'));
    await req('POST', '/v1/znodes/from-rest', 'r');
    expect((await client.getData('/from-rest')).data?.toString()).toBe('r');
  });

  it('counts REST requests as client requests: zab_requests by op, readlatency and updatelatency', async () => {
    const metrics = async (): Promise<(name: string) => number> => {
      const text = (await req('GET', '/metrics')).text;
      return (series) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        return line === undefined ? 0 : Number(line.slice(series.length + 1));
      };
    };
    const before = await metrics();
    expect((await req('POST', '/v1/znodes/counted', 'x')).status).toBe(201);
    expect((await req('PUT', '/v1/znodes/counted', 'y')).status).toBe(200);
    expect((await req('GET', '/v1/znodes/counted')).status).toBe(200);
    expect((await req('GET', '/v1/znodes/counted')).status).toBe(200);
    await client.exists('/counted');
    const after = await metrics();
    const delta = (series: string): number => after(series) - before(series);
    expect(delta('zab_requests{op="create2"}')).toBe(1); // REST creates answer with a stat, as create2 does
    expect(delta('zab_requests{op="setData"}')).toBe(1);
    expect(delta('zab_requests{op="getData"}')).toBe(2);
    expect(delta('zab_requests{op="exists"}')).toBe(1);
    expect(delta('updatelatency_count')).toBe(2);
    expect(delta('readlatency_count')).toBe(3);
  });

  it('answers 404 NONODE for a missing znode or parent', async () => {
    expectError(await req('GET', '/v1/znodes/missing'), 404, 'NONODE', -101);
    expectError(await req('GET', '/v1/children/missing'), 404, 'NONODE', -101);
    expectError(await req('PUT', '/v1/znodes/missing', 'x'), 404, 'NONODE', -101);
    expectError(await req('DELETE', '/v1/znodes/missing'), 404, 'NONODE', -101);
    expectError(await req('POST', '/v1/znodes/missing/child'), 404, 'NONODE', -101);
  });

  it('answers 409 for NODEEXISTS, BADVERSION and NOTEMPTY', async () => {
    await req('POST', '/v1/znodes/conflict');
    await req('POST', '/v1/znodes/conflict/child');
    expectError(await req('POST', '/v1/znodes/conflict'), 409, 'NODEEXISTS', -110);
    expectError(await req('PUT', '/v1/znodes/conflict?version=7', 'x'), 409, 'BADVERSION', -103);
    expectError(await req('DELETE', '/v1/znodes/conflict/child?version=3'), 409, 'BADVERSION', -103);
    const notEmpty = await req('DELETE', '/v1/znodes/conflict');
    expectError(notEmpty, 409, 'NOTEMPTY', -111);
    expect((notEmpty.body as { error: { message: string } }).error.message).toContain('delete them first');
  });

  it('answers 400 BADARGUMENTS for bad paths, modes, versions and unknown parameters', async () => {
    for (const url of ['/v1/znodes//double', '/v1/znodes/trailing/', '/v1/znodes/a/./b', '/v1/znodes/a/../b', '/v1/znodes/nul%00byte']) {
      const r = await rawGet(t.adminPort, url);
      expectError(r, 400, 'BADARGUMENTS', -8);
      expect((r.body as { error: { message: string } }).error.message).toContain('invalid znode path');
    }
    const mode = await req('POST', '/v1/znodes/m?mode=ephemeral');
    expectError(mode, 400, 'BADARGUMENTS', -8);
    expect((mode.body as { error: { message: string } }).error.message).toBe(
      'query parameter "mode" must be one of: persistent, persistent_sequential, container',
    );
    for (const v of ['abc', '1.5', '-2', '2147483648']) expectError(await req('PUT', `/v1/znodes/kids?version=${v}`, 'x'), 400, 'BADARGUMENTS', -8);
    const typo = await req('DELETE', '/v1/znodes/kids/a?versoin=0');
    expectError(typo, 400, 'BADARGUMENTS', -8);
    expect((typo.body as { error: { message: string } }).error.message).toBe('unknown query parameter "versoin"; allowed: version');
    // Nothing was deleted by the mistyped request.
    expect((await req('GET', '/v1/znodes/kids/a')).status).toBe(200);
  });

  it('answers 413 for data beyond jute.maxbuffer and stores nothing', async () => {
    expectError(await req('POST', '/v1/znodes/huge', Buffer.alloc(JUTE_MAX_BUFFER + 1)), 413, 'BADARGUMENTS', -8);
    // Within the body limit but not once the path and request header are added, as ZooKeeper counts the packet.
    expectError(await req('POST', '/v1/znodes/huge', Buffer.alloc(JUTE_MAX_BUFFER - 4)), 413, 'BADARGUMENTS', -8);
    expectError(await req('GET', '/v1/znodes/huge'), 404, 'NONODE', -101);
    expect((await req('POST', '/v1/znodes/big', Buffer.alloc(JUTE_MAX_BUFFER - 1024))).status).toBe(201);
  });

  it('answers concurrent writes, each once, and a read after a write sees it', async () => {
    await req('POST', '/v1/znodes/many');
    const results = await Promise.all(Array.from({ length: 200 }, () => req('POST', '/v1/znodes/many/n-?mode=persistent_sequential')));
    expect(results.every((r) => r.status === 201)).toBe(true);
    const names = new Set(results.map((r) => (r.body as { path: string }).path));
    expect(names.size).toBe(200);
    for (let i = 0; i < 20; i++) {
      await req('PUT', '/v1/znodes/many', String(i));
      expect(((await req('GET', '/v1/znodes/many')).body as { data: string }).data).toBe(Buffer.from(String(i)).toString('base64'));
    }
  });

  it('keeps its session alive beyond the session timeout, and replaces it when it expires', async () => {
    await req('GET', '/v1/znodes/kids');
    const sessionsOf = async () => {
      const dump = await http(t.base, 'GET', '/commands/dump');
      return [...dump.text.matchAll(/\b\d{15,}\b/g)].map((m) => m[0]).filter((id) => id !== client.sessionId.toString());
    };
    const [restSession] = await sessionsOf();
    expect(restSession).toBeDefined();
    // maxSessionTimeout is 2 s here: idle for longer, the REST session must still be there.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await sessionsOf()).toEqual([restSession]);
    expect((await req('GET', '/v1/znodes/kids')).status).toBe(200);

    // Expire it the way the server expires a session (a closeSession txn through the pipeline).
    t.running.server.submitWrite(serverRequest(BigInt(restSession!), OpCode.closeSession));
    await new Promise((r) => setTimeout(r, 200));
    expect((await req('POST', '/v1/znodes/after-expiry', 'x')).status).toBe(201);
    const now = await sessionsOf();
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(restSession);
  });
});

describe('REST writes under globalOutstandingLimit (standalone, in-process)', () => {
  let t: HttpTarget;
  beforeAll(async () => {
    t = await startStandaloneHttp({ globalOutstandingLimit: '2' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('holds writes beyond the limit and still answers every one of them', async () => {
    await http(t.base, 'POST', '/v1/znodes/t');
    const n = 300;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => http(t.base, 'POST', `/v1/znodes/t/n${i}`, String(i))));
    expect(results.filter((r) => r.status !== 201).map((r) => r.text)).toEqual([]);
    const children = (await http(t.base, 'GET', '/v1/children/t')).body as { children: string[] };
    expect(children.children).toHaveLength(n);
    const srvr = (await http(t.base, 'GET', '/commands/srvr')).body as { server_stats: { outstanding_requests: number } };
    expect(srvr.server_stats.outstanding_requests).toBe(0);
    // The REST session was throttled like a client connection would have been.
    expect(t.running.server.stats.throttledOps).toBeGreaterThan(0);
  });
});
