/**
 * Who may use the HTTP face, against real servers over real HTTP and TLS: the bearer token
 * on everything that reads znodes, changes state or shows sessions (and not on health,
 * /metrics and stat-only commands); Host and Origin checks against DNS rebinding and
 * cross-site requests; HTTPS and client certificates as ZooKeeper's AdminServer does them,
 * with certificates made by src/harness/tls; and a bad token or key file stopping
 * `zablab server` before it serves, with an error naming the zoo.cfg line and key.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import nodeHttp from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, writeStores, type CertificateAuthority, type IssuedCertificate } from '../../../src/harness/tls/index.js';
import { connectionRefused, freePorts } from '../../helpers/ports.js';
import { runZablabServer, ZABLAB_CLI, zablabBuilt } from '../../helpers/zablab.js';
import { startStandaloneHttp, writeTokenFile, type HttpTarget } from './harness.js';

interface Answer {
  status: number;
  headers: nodeHttp.IncomingHttpHeaders;
  body: unknown;
  text: string;
}

interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** HTTPS with this trust (and client certificate). */
  tls?: { ca: string; key?: string; cert?: string };
}

/** One request with exactly the headers given (Host and Origin included: fetch would not send them as given). */
function send(port: number, url: string, opts: SendOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { host: `127.0.0.1:${port}`, ...opts.headers };
    const options = { host: '127.0.0.1', port, path: url, method: opts.method ?? 'GET', headers };
    const onResponse = (res: nodeHttp.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const json = (res.headers['content-type'] ?? '').includes('json') && text !== '';
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: json ? (JSON.parse(text) as unknown) : null });
      });
    };
    const req = opts.tls === undefined ? nodeHttp.request(options, onResponse) : https.request({ ...options, ...opts.tls, servername: 'localhost' }, onResponse);
    req.on('error', reject);
    req.end(opts.body);
  });
}

const bearer = (token: string | null): Record<string, string> => ({ authorization: `Bearer ${token ?? ''}` });

describe('the token (standalone server, in-process)', () => {
  let t: HttpTarget;
  beforeAll(async () => {
    t = await startStandaloneHttp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('REST reads and writes need it: 401 with WWW-Authenticate: Bearer without it or with a wrong one', async () => {
    for (const [method, url] of [['GET', '/v1/znodes/'], ['GET', '/v1/children/'], ['POST', '/v1/znodes/no-token'], ['PUT', '/v1/znodes/no-token'], ['DELETE', '/v1/znodes/no-token']]) {
      const none = await send(t.adminPort, url!, { method: method! });
      expect(none.status, `${method} ${url}`).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="zablab"');
      expect(none.body).toEqual({ error: { code: 'ZABLAB_HTTP_UNAUTHORIZED', zkCode: null, message: expect.stringContaining('Authorization: Bearer <token>') } });
      const wrong = await send(t.adminPort, url!, { method: method!, headers: bearer('x'.repeat(43)) });
      expect(wrong.status).toBe(401);
      expect(wrong.headers['www-authenticate']).toBe('Bearer realm="zablab", error="invalid_token"');
    }
    // Nothing was created by the refused POST.
    expect((await send(t.adminPort, '/v1/znodes/no-token', { headers: bearer(t.token) })).status).toBe(404);
    const created = await send(t.adminPort, '/v1/znodes/with-token', { method: 'POST', headers: bearer(t.token), body: 'v' });
    expect(created.status, created.text).toBe(201);
    expect((await send(t.adminPort, '/v1/znodes/with-token', { headers: { authorization: `bearer  ${t.token}` } })).status).toBe(200);
  });

  it('commands that reset state or show sessions, connections, watches or the config text need it; stat-only ones and probes do not', async () => {
    const guarded = ['dump', 'cons', 'connections', 'stat', 'stats', 'wchc', 'watches', 'wchp', 'watches_by_path', 'crst', 'srst', 'icfg'];
    for (const name of guarded) {
      const r = await send(t.adminPort, `/commands/${name}`);
      expect(r.status, name).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="zablab"');
      // ZooKeeper's command shape: the primary name and an error text.
      expect(r.body).toMatchObject({ command: expect.any(String), error: expect.stringContaining('bearer token') });
      expect((await send(t.adminPort, `/commands/${name}`, { headers: bearer(t.token) })).status, name).toBe(200);
    }
    for (const name of ['mntr', 'monitor', 'srvr', 'ruok', 'conf', 'envi', 'dirs', 'wchs', 'isro', 'lsnp', 'voting_view', 'zabstate', 'leader', 'no_such_command']) {
      expect((await send(t.adminPort, `/commands/${name}`)).status, name).toBe(200);
    }
    expect((await send(t.adminPort, '/commands', { headers: { accept: 'application/json' } })).status).toBe(200);
    // Probes answer whatever the Host or Origin: load balancers and Prometheus use any name.
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      const r = await send(t.adminPort, url, { headers: { host: 'zk1:8080', origin: 'http://evil.example' } });
      expect(r.status, url).not.toBe(401);
      expect(r.status, url).not.toBe(403);
    }
  });
});

describe('Host and Origin (standalone server, in-process)', () => {
  let t: HttpTarget;
  beforeAll(async () => {
    t = await startStandaloneHttp({ 'admin.allowedHosts': 'zk.example.org' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a rebinding Host (a foreign name resolving to 127.0.0.1) is refused, even with the token', async () => {
    for (const url of ['/v1/znodes/', '/commands/mntr', '/commands/dump', '/nothing-here']) {
      const r = await send(t.adminPort, url, { headers: { host: `evil.example:${t.adminPort}`, ...bearer(t.token) } });
      expect(r.status, url).toBe(403);
      // /commands keeps ZooKeeper's {command, error} shape; the rest zablab's {error: {code, message}}.
      const error = (r.body as { error: string | { code: string; message: string } }).error;
      const message = typeof error === 'string' ? error : error.message;
      expect(message).toContain(`Host "evil.example:${t.adminPort}" is not a name of this server`);
      if (typeof error !== 'string') expect(error.code).toBe('ZABLAB_HTTP_FORBIDDEN_HOST');
    }
    for (const host of [`127.0.0.1:${t.adminPort}`, `localhost:${t.adminPort}`, `LOCALHOST.:${t.adminPort}`, `[::1]:${t.adminPort}`, `127.1.2.3:${t.adminPort}`, 'zk.example.org']) {
      const r = await send(t.adminPort, '/v1/children/', { headers: { host, ...bearer(t.token) } });
      expect(r.status, host).toBe(200);
    }
  });

  it('bound to every address (0.0.0.0), the machine\'s own host name and addresses are names of this server; others are not', async () => {
    const wide = await startStandaloneHttp({ 'admin.serverAddress': '0.0.0.0' });
    try {
      const own = [os.hostname(), ...Object.values(os.networkInterfaces()).flatMap((l) => (l ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address))];
      // Requests still go to 127.0.0.1; only the Host header names the server otherwise.
      for (const host of own) expect((await send(wide.adminPort, '/v1/children/', { headers: { host, ...bearer(wide.token) } })).status, host).toBe(200);
      expect((await send(wide.adminPort, '/v1/children/', { headers: { host: 'evil.example', ...bearer(wide.token) } })).status).toBe(403);
    } finally {
      await wide.stop();
    }
  });

  it('a cross-site POST (text/plain, foreign Origin) is refused and creates nothing, with or without the token', async () => {
    for (const headers of [{}, bearer(t.token)]) {
      const r = await send(t.adminPort, '/v1/znodes/csrf', {
        method: 'POST',
        headers: { ...headers, origin: 'http://evil.example', 'content-type': 'text/plain;charset=UTF-8' },
        body: 'pwned',
      });
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ error: { code: 'ZABLAB_HTTP_CROSS_ORIGIN', zkCode: null, message: expect.stringContaining('Origin "http://evil.example" is not this server') } });
    }
    // A browser's own marks refuse it too, and a null origin (sandboxed frames, file:) is foreign.
    expect((await send(t.adminPort, '/v1/znodes/csrf', { method: 'POST', headers: { ...bearer(t.token), 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await send(t.adminPort, '/v1/znodes/csrf', { method: 'POST', headers: { ...bearer(t.token), 'sec-fetch-site': 'same-site' } })).status).toBe(403);
    expect((await send(t.adminPort, '/v1/znodes/csrf', { method: 'POST', headers: { ...bearer(t.token), origin: 'null' } })).status).toBe(403);
    expect((await send(t.adminPort, '/v1/znodes/csrf', { headers: bearer(t.token) })).status).toBe(404);
    // The same origin (this server's own page) may.
    const same = await send(t.adminPort, '/v1/znodes/csrf', { method: 'POST', headers: { ...bearer(t.token), origin: `http://127.0.0.1:${t.adminPort}`, 'sec-fetch-site': 'same-origin' }, body: 'ok' });
    expect(same.status, same.text).toBe(201);
  });
});

describe('credentials unset or turned off (standalone server, in-process)', () => {
  it('with no admin.tokenFile, protected routes answer 401 and say how to configure one (fail closed)', async () => {
    const unset = await startStandaloneHttp({ 'admin.auth.enabled': 'true' });
    try {
      const r = await send(unset.adminPort, '/v1/children/', { headers: bearer('anything-at-all-123') });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ error: { code: 'ZABLAB_HTTP_NO_CREDENTIALS', message: expect.stringContaining('set admin.tokenFile') } });
      expect((await send(unset.adminPort, '/commands/mntr')).status).toBe(200);
    } finally {
      await unset.stop();
    }
  });

  it('admin.auth.enabled=false opens them (the user turned it off); Host and Origin checks stay', async () => {
    const t = await startStandaloneHttp({ 'admin.auth.enabled': 'false' });
    try {
      expect((await send(t.adminPort, '/v1/znodes/open', { method: 'POST', body: 'x' })).status).toBe(201);
      expect((await send(t.adminPort, '/commands/dump')).status).toBe(200);
      expect((await send(t.adminPort, '/v1/children/', { headers: { host: 'evil.example' } })).status).toBe(403);
      expect((await send(t.adminPort, '/v1/znodes/open2', { method: 'POST', headers: { origin: 'http://evil.example' } })).status).toBe(403);
    } finally {
      await t.stop();
    }
  });
});

describe('HTTPS: admin.forceHttps and admin.needClientAuth with PEM stores (standalone server, in-process)', () => {
  let ca: CertificateAuthority;
  let client: IssuedCertificate;
  let stranger: IssuedCertificate;
  const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-https-'));
  let stores: { keyStore: string; trustStore: string };

  beforeAll(async () => {
    ca = await createCertificateAuthority();
    stores = writeStores(certDir, 'admin', await ca.issueServer({ hosts: ['localhost', '127.0.0.1'] }), ca);
    client = await ca.issueClient({ commonName: 'operator' });
    stranger = await (await createCertificateAuthority({ commonName: 'other CA' })).issueClient();
  });
  afterAll(() => {
    fs.rmSync(certDir, { recursive: true, force: true });
  });

  it('forceHttps: HTTPS only, with HSTS as ZooKeeper sends it; plain HTTP gets no answer', async () => {
    const t = await startStandaloneHttp({ 'admin.forceHttps': 'true', 'ssl.quorum.keyStore.location': stores.keyStore });
    try {
      const r = await send(t.adminPort, '/commands/mntr', { tls: { ca: ca.certPem } });
      expect(r.status).toBe(200);
      expect(r.headers['strict-transport-security']).toBe('max-age=86400; includeSubDomains');
      expect((await send(t.adminPort, '/v1/children/', { tls: { ca: ca.certPem } })).status).toBe(401);
      expect((await send(t.adminPort, '/v1/children/', { tls: { ca: ca.certPem }, headers: bearer(t.token) })).status).toBe(200);
      // Same-origin now means https.
      const origin = `https://127.0.0.1:${t.adminPort}`;
      expect((await send(t.adminPort, '/v1/children/', { tls: { ca: ca.certPem }, headers: { ...bearer(t.token), origin } })).status).toBe(200);
      expect((await send(t.adminPort, '/v1/children/', { tls: { ca: ca.certPem }, headers: { ...bearer(t.token), origin: origin.replace('https', 'http') } })).status).toBe(403);
      await expect(send(t.adminPort, '/commands/mntr')).rejects.toThrow();
    } finally {
      await t.stop();
    }
  });

  it('needClientAuth: only clients with a certificate from the trust store get through the handshake', async () => {
    const t = await startStandaloneHttp({
      'admin.forceHttps': 'true',
      'admin.needClientAuth': 'true',
      'ssl.quorum.keyStore.location': stores.keyStore,
      'ssl.quorum.trustStore.location': stores.trustStore,
    });
    try {
      const ok = await send(t.adminPort, '/v1/children/', { tls: { ca: ca.certPem, key: client.keyPem, cert: client.certPem }, headers: bearer(t.token) });
      expect(ok.status, ok.text).toBe(200);
      // The certificate does not replace the token.
      expect((await send(t.adminPort, '/v1/children/', { tls: { ca: ca.certPem, key: client.keyPem, cert: client.certPem } })).status).toBe(401);
      await expect(send(t.adminPort, '/commands/mntr', { tls: { ca: ca.certPem } })).rejects.toThrow();
      await expect(send(t.adminPort, '/commands/mntr', { tls: { ca: ca.certPem, key: stranger.keyPem, cert: stranger.certPem } })).rejects.toThrow();
    } finally {
      await t.stop();
    }
  });
});

describe.skipIf(!zablabBuilt())('`zablab server` refuses to start on a bad token or key file (real process)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-badcred-'));
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `zablab server` on a standalone zoo.cfg ending with `lines`; resolves when it exits (or after 20 s). */
  async function serve(lines: string[]): Promise<{ code: number | null; stderr: string; clientPort: number }> {
    const [clientPort, adminPort] = (await freePorts(2)) as [number, number];
    const cfg = path.join(dir, 'zoo.cfg');
    const base = [`dataDir=${path.join(dir, 'data')}`, `clientPort=${clientPort}`, 'clientPortAddress=127.0.0.1', `admin.serverPort=${adminPort}`];
    fs.writeFileSync(cfg, [...base, ...lines].join('\n') + '\n');
    return { ...(await runZablabServer(cfg)), clientPort };
  }


  it('missing, empty, world-readable, short, or a directory: exit 1 naming zoo.cfg line 5 and admin.tokenFile', async () => {
    const token = path.join(dir, 'token');
    const cases: [() => void, string][] = [
      [() => fs.rmSync(token, { force: true, recursive: true }), `zoo.cfg line 5: admin.tokenFile names ${token}, which does not exist; create it (mode 600)`],
      [() => fs.writeFileSync(token, '\n', { mode: 0o600 }), `zoo.cfg line 5: admin.tokenFile names ${token}, which is empty`],
      [
        () => {
          writeTokenFile(token);
          fs.chmodSync(token, 0o644);
        },
        `zoo.cfg line 5: admin.tokenFile names ${token}, which every user can read (mode 644); chmod 600 ${token}`,
      ],
      [
        () => {
          fs.writeFileSync(token, 'short\n');
          fs.chmodSync(token, 0o600);
        },
        `zoo.cfg line 5: admin.tokenFile names ${token}, whose token has 5 characters; use at least 16`,
      ],
      [
        () => {
          fs.rmSync(token, { force: true });
          fs.mkdirSync(token, { mode: 0o700 });
        },
        `zoo.cfg line 5: admin.tokenFile names ${token}, which is not a regular file`,
      ],
    ];
    for (const [prepare, message] of cases) {
      prepare();
      const r = await serve([`admin.tokenFile=${token}`]);
      expect(r.code, message).toBe(1);
      expect(r.stderr).toContain(message);
      // It stopped before it bound anything.
      expect(await connectionRefused(r.clientPort)).toBe(true);
    }
  }, 120_000);

  it('a key store without its certificate, or whose certificate is for another key: exit 1 naming the key store line', async () => {
    const ca = await createCertificateAuthority();
    const a = await ca.issueServer({ hosts: ['localhost'] });
    const b = await ca.issueServer({ hosts: ['localhost'] });
    const store = path.join(dir, 'admin.pem');
    fs.writeFileSync(store, a.keyPem, { mode: 0o600 });
    fs.chmodSync(store, 0o600);
    let r = await serve(['admin.auth.enabled=false', 'admin.forceHttps=true', `ssl.quorum.keyStore.location=${store}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`zoo.cfg line 7: ssl.quorum.keyStore.location names ${store}, which holds no certificate`);
    fs.writeFileSync(store, a.keyPem + b.certPem);
    r = await serve(['admin.auth.enabled=false', 'admin.forceHttps=true', `ssl.quorum.keyStore.location=${store}`]);
    expect(r.stderr).toContain(`zoo.cfg line 7: ssl.quorum.keyStore.location names ${store}, whose first certificate (CN=localhost) is not for its private key`);
    fs.writeFileSync(store, a.keyStorePem);
    fs.chmodSync(store, 0o640);
    fs.chmodSync(store, 0o604);
    r = await serve(['admin.auth.enabled=false', 'admin.forceHttps=true', `ssl.quorum.keyStore.location=${store}`]);
    expect(r.stderr).toContain(`which every user can read (mode 604)`);
  }, 60_000);
});
