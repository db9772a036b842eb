/**
 * zablab's client-port TLS and SASL where no third-party client goes (compat/client-security
 * covers kazoo and zkCli against both servers): port unification, ssl.clientAuth=want, what
 * a client that does not speak the protocol gets (garbage TLS, plaintext on the TLS port, a
 * handshake that never comes, malformed SASL), each answered with one log line and no harm to
 * the server; and `zablab server` stopping at start on client-port keys it cannot honour.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient, ZkError, type ClientTlsOptions } from '../../src/client/index.js';
import { createCertificateAuthority, writeStores, type CertificateAuthority } from '../../src/harness/tls/index.js';
import { Code, JuteWriter, OpCode, RequestHeader } from '../../src/jute/index.js';
import { freePort, freePorts } from '../helpers/ports.js';
import { rawConnect, rawSession, saslFrame, waitUntil } from '../helpers/raw-session.js';
import { runZablabServer, startZablab, ZABLAB_CLI, zablabBuilt, type ServerHandle } from '../helpers/zablab.js';

const PASSWORD = 'never-in-a-log-line';

interface Pki {
  dir: string;
  ca: CertificateAuthority;
  trustStore: string;
  keyStore: string;
  client: ClientTlsOptions;
  foreign: ClientTlsOptions;
  jaas: string;
}

async function makePki(): Promise<Pki> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-cnxn-security-'));
  const ca = await createCertificateAuthority();
  const stores = writeStores(dir, 'server', await ca.issueServer({ hosts: ['127.0.0.1'] }), ca);
  const client = await ca.issueClient({ commonName: 'app' });
  const foreign = await (await createCertificateAuthority({ commonName: 'someone else' })).issueClient({ commonName: 'app' });
  const jaas = path.join(dir, 'jaas.conf');
  fs.writeFileSync(jaas, `Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="${PASSWORD}";\n};\n`, { mode: 0o600 });
  return {
    dir,
    ca,
    trustStore: stores.trustStore,
    keyStore: stores.keyStore,
    client: { ca: ca.certPem, cert: client.certPem, key: client.keyPem },
    foreign: { ca: ca.certPem, cert: foreign.certPem, key: foreign.keyPem },
    jaas,
  };
}

function serverLog(server: ServerHandle): string {
  return fs.readFileSync(path.join(server.dataDir, 'server.log'), 'utf8');
}

describe.skipIf(!zablabBuilt())('client-port TLS and SASL (zablab)', () => {
  let pki: Pki;
  let server: ServerHandle;
  let securePort: number;
  const clients: ZkClient[] = [];

  beforeAll(async () => {
    pki = await makePki();
    securePort = await freePort();
    server = await startZablab({
      config: {
        secureClientPort: String(securePort),
        secureClientPortAddress: '127.0.0.1',
        'client.portUnification': 'true',
        'ssl.keyStore.location': pki.keyStore,
        'ssl.trustStore.location': pki.trustStore,
        'ssl.clientAuth': 'want',
        'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
        'zablab.sasl.jaasFile': pki.jaas,
        'nio.sessionlessCnxnTimeout': '1000',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.stop();
    if (pki !== undefined) fs.rmSync(pki.dir, { recursive: true, force: true });
  });

  async function connect(port: number, tls?: ClientTlsOptions): Promise<ZkClient> {
    const c = await ZkClient.connect({ connectString: `127.0.0.1:${port}`, connectTimeoutMs: 5_000, ...(tls === undefined ? {} : { tls }) });
    clients.push(c);
    return c;
  }

  const ids = async (c: ZkClient): Promise<string[]> => (await c.whoAmI()).map((i) => `${i.authScheme}:${i.user}`).sort();

  it('port unification: plaintext and TLS clients share clientPort; four-letter words stay plaintext', async () => {
    const plain = await connect(server.port);
    const secure = await connect(server.port, pki.client);
    await plain.create('/unified', Buffer.from('p'));
    expect((await secure.getData('/unified')).data?.toString()).toBe('p');
    expect(await ids(plain)).toEqual(['ip:127.0.0.1']);
    expect(await ids(secure)).toEqual(['ip:127.0.0.1', 'x509:CN=app']);
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.connect(server.port, '127.0.0.1', () => s.end('ruok'));
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.on('close', () => resolve(text));
      s.on('error', reject);
    });
    expect(answer).toBe('imok');
  });

  it('ssl.clientAuth=want: no certificate is served without an x509 id; one of another CA is refused', async () => {
    const anonymous = await connect(securePort, { ca: pki.ca.certPem });
    expect(await ids(anonymous)).toEqual(['ip:127.0.0.1']);
    await expect(connect(securePort, pki.foreign)).rejects.toThrow();
    await waitUntil(() => serverLog(server).includes('closing connection: client certificate not trusted'), 'the log line', 5_000);
  });

  it('addauth x509 succeeds only on a TLS connection with a certificate; addauth sasl never does', async () => {
    const secure = await connect(securePort, pki.client);
    await secure.addAuth('x509', Buffer.alloc(0));
    expect(await ids(secure)).toEqual(['ip:127.0.0.1', 'x509:CN=app']);
    const plain = await connect(server.port);
    await expect(plain.addAuth('x509', Buffer.alloc(0))).rejects.toMatchObject({ code: Code.AUTHFAILED });
    const other = await connect(server.port);
    await expect(other.addAuth('sasl', Buffer.from('bob'))).rejects.toMatchObject({ code: Code.AUTHFAILED });
  });

  it('garbage, plaintext on secureClientPort and a handshake that never comes: each closed and logged, the server serves on', async () => {
    const garbage = await rawConnect('127.0.0.1', securePort);
    garbage.socket.write(Buffer.from([0x16, 3, 1, 0, 5, 9, 9, 9, 9, 9, 9, 9]));
    const plaintext = await rawSession('127.0.0.1', securePort).catch((e: unknown) => e);
    expect(plaintext).toBeInstanceOf(Error);
    const silent = await rawConnect('127.0.0.1', securePort);
    await garbage.waitForClose(5_000);
    await silent.waitForClose(5_000);
    // One line, then a count: a client can repeat these at will (the rate-limited log).
    expect(serverLog(server)).toMatch(/closing connection: TLS handshake failed client=127\.0\.0\.1:\d+ error=ERR_SSL_/);
    const after = await connect(securePort, pki.client);
    expect(await after.exists('/')).not.toBeNull();
  });

  it('malformed SASL: junk after the challenge, an oversized response, an undecodable packet — AUTHFAILED or closed, logged without secrets', async () => {
    const junk = await rawSession('127.0.0.1', server.port);
    junk.socket.write(saslFrame(1, Buffer.alloc(0)));
    await junk.waitForReplies(1, 5_000);
    junk.socket.write(saslFrame(2, Buffer.from(`username="bob",password="${PASSWORD}",response="`)));
    await junk.waitForClose(5_000);
    expect(junk.replies.map((r) => [r.xid, r.err])).toEqual([
      [1, Code.OK],
      [2, Code.AUTHFAILED],
    ]);

    const big = await rawSession('127.0.0.1', server.port);
    big.socket.write(saslFrame(3, Buffer.alloc(5000, 0x61)));
    await big.waitForClose(5_000);
    expect(big.replies.map((r) => [r.xid, r.err])).toEqual([[3, Code.AUTHFAILED]]);

    const broken = await rawSession('127.0.0.1', server.port);
    const w = new JuteWriter(16);
    const at = w.reserveLength();
    RequestHeader.write(w, { xid: 4, type: OpCode.sasl });
    w.writeInt(1000); // a token length with no token behind it
    w.patchLength(at);
    broken.socket.write(w.toBuffer());
    await broken.waitForClose(5_000);
    expect(broken.replies).toEqual([]);

    const log = serverLog(server);
    expect(log).toMatch(/closing connection: SASL authentication failed client="127\.0\.0\.1:\d+ session 0x[0-9a-f]+" reason="DIGEST-MD5: /);
    expect(log).toContain('closing connection: malformed packet');
    expect(log).not.toContain(PASSWORD);
    const after = await connect(server.port);
    expect(await after.exists('/')).not.toBeNull();
  });

  it('a plaintext client of secureClientPort gets no session (our client over TLS does)', async () => {
    await expect(ZkClient.connect({ connectString: `127.0.0.1:${securePort}`, connectTimeoutMs: 2_000 })).rejects.toBeInstanceOf(ZkError);
  });
});

describe.skipIf(!zablabBuilt())('`zablab server` stops at start on client-port keys it cannot honour (real process)', () => {
  let dir: string;
  let pki: Pki;
  beforeAll(async () => {
    pki = await makePki();
    dir = pki.dir;
  });
  afterAll(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `zablab server` on a standalone zoo.cfg ending with `lines` (from line 5); resolves when it exits. */
  async function serve(lines: string[]): Promise<{ code: number | null; stderr: string }> {
    const [clientPort, adminPort] = (await freePorts(2)) as [number, number];
    const cfg = path.join(dir, 'zoo.cfg');
    const base = [`dataDir=${path.join(dir, 'data')}`, `clientPort=${clientPort}`, 'clientPortAddress=127.0.0.1', `admin.serverPort=${adminPort}`];
    fs.writeFileSync(cfg, [...base, ...lines].join('\n') + '\n');
    return runZablabServer(cfg);
  }

  it('each refusal exits 1 and names the zoo.cfg line and key', async () => {
    const open = path.join(dir, 'open-jaas.conf');
    fs.writeFileSync(open, fs.readFileSync(pki.jaas));
    fs.chmodSync(open, 0o644);
    const noServer = path.join(dir, 'client-only-jaas.conf');
    fs.writeFileSync(noServer, 'Client { m required username="bob" password="x"; };\n', { mode: 0o600 });
    const noCert = path.join(dir, 'key-only.pem');
    fs.writeFileSync(noCert, (await pki.ca.issueServer({ hosts: ['127.0.0.1'] })).keyPem, { mode: 0o600 });
    const port = String(await freePort());
    const cases: [string[], string][] = [
      [[`secureClientPort=${port}`], 'zoo.cfg line 5: secureClientPort is set, but ssl.keyStore.location is not'],
      [[`secureClientPort=${port}`, `ssl.keyStore.location=${noCert}`, 'ssl.clientAuth=none'], `zoo.cfg line 6: ssl.keyStore.location names ${noCert}, which holds no certificate`],
      [[`secureClientPort=${port}`, `ssl.keyStore.location=${pki.keyStore}`, `ssl.trustStore.location=${pki.trustStore}`, 'ssl.ocsp=true'], 'zoo.cfg line 8: ssl.ocsp is true, but zablab does not check certificate revocation'],
      [['authProvider.1=com.example.LdapAuthenticationProvider'], 'zoo.cfg line 5: authProvider.1 names com.example.LdapAuthenticationProvider, which zablab does not implement'],
      [['enforce.auth.enabled=true', 'enforce.auth.schemes=sasl'], 'zoo.cfg line 6: enforce.auth.schemes names the sasl scheme, which is not available'],
      [[`zablab.sasl.jaasFile=${open}`], `zoo.cfg line 5: zablab.sasl.jaasFile names ${open}, which every user can read (mode 644); chmod 600 ${open}`],
      [[`zablab.sasl.jaasFile=${noServer}`], `zoo.cfg line 5: zablab.sasl.jaasFile names ${noServer}, which has no section named Server (it has Client)`],
    ];
    for (const [lines, message] of cases) {
      const r = await serve(lines);
      expect(r.code, message).toBe(1);
      expect(r.stderr).toContain(message);
    }
  }, 120_000);
});
