/**
 * Ensembles that serve TLS: `zablab ensemble up --tls` (its files, ensemble.json, and real
 * clients using them: ours and kazoo), the native load driver over TLS against a local TLS
 * ensemble, and the zookeeper driver serving TLS with Apache ZooKeeper's Netty factory.
 */
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { ZkClient, type ClientTlsOptions } from '../../../src/client/index.js';
import { loadTargetOf, localDriver, zookeeperDriver, zookeeperMissing } from '../../../src/harness/drivers/index.js';
import type { ClientTlsFiles, EnsembleHandle } from '../../../src/harness/drivers/types.js';
import { nativeLoadDriver } from '../../../src/harness/load/native/index.js';
import { defaultWorkload } from '../../../src/harness/scenario/schema.js';
import type { WorkloadSection } from '../../../src/harness/scenario/types.js';
import { kazooMissing, runKazoo } from '../../compat/kazoo.js';
import { tempDir, teardown, zablab, zablabBuilt } from './support.js';

const dirs: string[] = [];
const handles: EnsembleHandle[] = [];
afterAll(async () => {
  await Promise.all(handles.map((h) => h.down().catch(() => undefined)));
  for (const d of dirs) await teardown(d);
});

function tlsOptions(files: ClientTlsFiles): ClientTlsOptions {
  return { ca: fs.readFileSync(files.caFile), cert: fs.readFileSync(files.certFile), key: fs.readFileSync(files.keyFile) };
}

async function whoAmIOverTls(connectString: string, files: ClientTlsFiles): Promise<string[]> {
  const c = await ZkClient.connect({ connectString, tls: tlsOptions(files), connectTimeoutMs: 10_000 });
  try {
    return (await c.whoAmI()).map((i) => `${i.authScheme}:${i.user}`).sort();
  } finally {
    await c.close();
  }
}

interface UpJson {
  secureConnectString: string;
  tls: { caFile: string; certFile: string; keyFile: string; clientKeyStore: string; serverKeyStore: string };
  servers: { id: number; secureClientPort: number }[];
}

describe.skipIf(!zablabBuilt())('zablab ensemble up --tls', () => {
  it('writes DIR/tls, names every secureClientPort in ensemble.json, and real clients connect with those files', async () => {
    const dir = tempDir('zablab-tls-ensemble-');
    dirs.push(dir);
    const up = await zablab(['ensemble', 'up', '--voters', '3', '--tls', '--dir', dir, '--json']);
    expect(up.code, up.stderr).toBe(0);
    const out = JSON.parse(up.stdout) as UpJson;
    const tls = path.join(dir, 'tls');
    expect(out.tls).toEqual({
      caFile: path.join(tls, 'ca.crt'),
      certFile: path.join(tls, 'client.crt'),
      keyFile: path.join(tls, 'client.key'),
      clientKeyStore: path.join(tls, 'client.pem'),
      serverKeyStore: path.join(tls, 'server.pem'),
    });
    const mode = (f: string): number => fs.statSync(f).mode & 0o777;
    expect([mode(out.tls.caFile), mode(out.tls.certFile), mode(out.tls.keyFile), mode(out.tls.clientKeyStore), mode(out.tls.serverKeyStore)]).toEqual([0o644, 0o644, 0o600, 0o600, 0o600]);
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'ensemble.json'), 'utf8')) as { tls: unknown; servers: { secureClientPort: number; clientPort: number }[] };
    expect(state.tls).toEqual(out.tls);
    expect(state.servers.map((s) => typeof s.secureClientPort)).toEqual(['number', 'number', 'number']);
    expect(out.secureConnectString).toBe(state.servers.map((s) => `127.0.0.1:${s.secureClientPort}`).join(','));
    expect(fs.readFileSync(path.join(dir, 's1', 'zoo.cfg'), 'utf8')).toContain(`secureClientPort=${state.servers[0]!.secureClientPort}`);

    // Every member serves the client certificate's subject as its x509 id.
    for (const s of state.servers) expect(await whoAmIOverTls(`127.0.0.1:${s.secureClientPort}`, out.tls)).toEqual(['ip:127.0.0.1', 'x509:CN=zablab client']);
    // CI installs kazoo (and fails here without it); elsewhere this part needs python3-kazoo.
    if (kazooMissing() === null || process.env['CI'] === 'true') {
      const r = await runKazoo({ k: { hosts: out.secureConnectString, tls: { ca: out.tls.caFile, certfile: out.tls.certFile, keyfile: out.tls.keyFile } } }, [
        ['k', 'create', '/kazoo-tls', 'v', [['x509', 'CN=zablab client', 'ALL']]],
        ['k', 'get', '/kazoo-tls'],
      ]);
      expect(r).toEqual([{ ok: true, value: '/kazoo-tls' }, { ok: true, value: { data: 'v', stat: { version: 0, aversion: 0, numChildren: 0, dataLength: 1 } } }]);
    }
    // Plaintext on a secureClientPort gets no session.
    await expect(ZkClient.connect({ connectString: `127.0.0.1:${state.servers[0]!.secureClientPort}`, connectTimeoutMs: 1_500 })).rejects.toThrow();

    const down = await zablab(['ensemble', 'down', '--dir', dir, '--purge']);
    expect(down.code, down.stderr).toBe(0);
    expect(fs.existsSync(tls)).toBe(false);
  }, 120_000);
});

describe.skipIf(!zablabBuilt())('the native load over TLS (local driver, ensemble.tls)', () => {
  it('connects every session to a secureClientPort and runs without errors', async () => {
    const dir = tempDir('zablab-tls-load-');
    dirs.push(dir);
    const handle = await localDriver().up({ voters: 1, observers: 0, config: {}, dir, tls: true });
    handles.push(handle);
    const target = loadTargetOf(handle);
    expect(target.tls).toEqual(handle.clientTls);
    expect(target.connectString).toBe(`127.0.0.1:${handle.members[0]!.secureClientPort}`);
    const w: WorkloadSection = { ...defaultWorkload(), valueSize: 32, keys: 20, clients: 1, connections: 2, pipelining: 4, durationMs: 1_500, warmupMs: 200 };
    const run = await nativeLoadDriver.start(target, w, { root: '/tls-load' });
    await new Promise((r) => setTimeout(r, w.warmupMs));
    await run.mark();
    await new Promise((r) => setTimeout(r, w.durationMs));
    const result = await run.stop();
    expect(result.errors).toEqual({});
    expect(result.ops).toBeGreaterThan(100);
  }, 120_000);
});

const zkMissing = zookeeperMissing();
describe.skipIf(zkMissing !== null && process.env['CI'] !== 'true')('the zookeeper driver with ensemble.tls (Apache ZooKeeper, Netty)', () => {
  it('serves TLS on every secureClientPort with the run\'s certificates', async () => {
    const dir = tempDir('zablab-tls-zk-');
    dirs.push(dir);
    const handle = await zookeeperDriver({ fastStart: true }).up({ voters: 1, observers: 0, config: {}, dir, tls: true });
    handles.push(handle);
    expect(handle.clientTls).not.toBeNull();
    const secure = handle.members[0]!.secureClientPort!;
    expect(await whoAmIOverTls(`127.0.0.1:${secure}`, handle.clientTls!)).toEqual(['ip:127.0.0.1', 'x509:CN=zablab client']);
  }, 120_000);
});

describe.skipIf(zkMissing !== null && process.env['CI'] !== 'true')('the zookeeper driver with ensemble.peerSecurity tls (Apache ZooKeeper, sslQuorum)', () => {
  it('forms a quorum over mutual TLS with the run\'s peer certificates and replicates a write', async () => {
    const dir = tempDir('zablab-peer-tls-zk-');
    dirs.push(dir);
    const handle = await zookeeperDriver({ fastStart: true }).up({ voters: 3, observers: 0, config: {}, dir, peerSecurity: 'tls' });
    handles.push(handle);
    const cfg = fs.readFileSync(path.join(dir, 's1', 'zoo.cfg'), 'utf8');
    expect(cfg).toContain('sslQuorum=true');
    expect(cfg).toContain('ssl.quorum.keyStore.type=PEM');
    // The election port speaks TLS and shows member 1's certificate to a peer holding member 2's.
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'ensemble.json'), 'utf8')) as { servers: { electionPort: number }[] };
    const peerStore = fs.readFileSync(path.join(dir, 'peer-tls', 's2.pem'));
    const subject = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: state.servers[0]!.electionPort, ca: fs.readFileSync(path.join(dir, 'peer-tls', 's2-ca.pem')), cert: peerStore, key: peerStore, servername: '127.0.0.1' }, () => {
        resolve(String(s.getPeerCertificate().subject.CN));
        s.destroy();
      });
      s.on('error', reject);
    });
    expect(subject).toBe('zablab server.1');
    const [a, , c] = handle.members;
    const writer = await ZkClient.connect({ connectString: `127.0.0.1:${a!.clientPort}`, connectTimeoutMs: 10_000 });
    const reader = await ZkClient.connect({ connectString: `127.0.0.1:${c!.clientPort}`, connectTimeoutMs: 10_000 });
    try {
      await writer.create('/over-peer-tls', Buffer.from('v'));
      await reader.sync('/over-peer-tls');
      expect((await reader.getData('/over-peer-tls')).data?.toString()).toBe('v');
    } finally {
      await writer.close();
      await reader.close();
    }
  }, 120_000);
});
