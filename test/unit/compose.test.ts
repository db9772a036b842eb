/**
 * `zablab compose` and the compose rendering, without Docker: the spec's limits, each
 * server's zoo.cfg as zablab's own config parser reads it, the compose document, the stack's
 * configs, the output directory's rules, and the committed compose/ example staying what the
 * command writes today. (test/e2e/compose.test.ts runs all of it on a real engine.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadCommands } from '../../src/cli/commands/index.js';
import { runCli } from '../../src/cli/registry.js';
import {
  ComposeError,
  composeDocument,
  composeServers,
  consecutivePorts,
  prometheusConfig,
  renderComposeFile,
  renderComposeZooCfg,
  validateComposeSpec,
  writeComposeDir,
  type ComposeSpec,
} from '../../src/harness/compose/index.js';
import { parseConfig } from '../../src/server/config.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-compose-unit-'));
  dirs.push(d);
  return d;
}

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function spec(over: Partial<ComposeSpec> = {}): ComposeSpec {
  const voters = over.voters ?? 3;
  const observers = over.observers ?? 1;
  return {
    voters,
    observers,
    image: 'zablab:latest',
    config: {},
    clientPorts: consecutivePorts(2181, voters + observers),
    httpPorts: consecutivePorts(8080, voters + observers),
    bindAddress: '127.0.0.1',
    stack: true,
    spansDir: null,
    env: {},
    ...over,
  };
}

function specError(s: ComposeSpec): string {
  try {
    validateComposeSpec(s);
  } catch (err) {
    expect(err).toBeInstanceOf(ComposeError);
    expect((err as ComposeError).code).toBe('ZABLAB_COMPOSE_SPEC');
    return (err as Error).message;
  }
  throw new Error('the spec was accepted');
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli({ name: 'zablab', version: 'test', summary: 'test', commands: await loadCommands() }, argv, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: {},
  });
  return { code, stdout, stderr };
}

describe('compose spec', () => {
  it('refuses shapes, images, addresses, ports and settings it cannot run, naming the field', () => {
    expect(specError(spec({ voters: 0, clientPorts: [2181], httpPorts: [8080] }))).toMatch(/voters must be an integer from 1 to 32, got 0/);
    expect(specError(spec({ observers: -1 }))).toMatch(/observers must be/);
    expect(specError(spec({ voters: 20, observers: 13, clientPorts: consecutivePorts(2181, 33), httpPorts: consecutivePorts(8080, 33) }))).toMatch(/at most 32, got 33/);
    expect(specError(spec({ image: 'Zablab:Latest' }))).toMatch(/image must be a Docker image reference/);
    expect(specError(spec({ bindAddress: 'localhost' }))).toMatch(/bind address must be an IP address/);
    expect(specError(spec({ clientPorts: consecutivePorts(65_534, 4) }))).toMatch(/client port 65536 is not a port/);
    // zk1's HTTP port would be Prometheus' 9090.
    expect(specError(spec({ httpPorts: consecutivePorts(9090, 4) }))).toMatch(/host port 9090 would be published twice/);
    expect(specError(spec({ config: { dataDir: '/elsewhere' } }))).toMatch(/dataDir is set by the compose layout/);
    expect(specError(spec({ config: { 'server.9': 'x:1:2' } }))).toMatch(/server\.9 is set by the compose layout/);
    expect(specError(spec({ config: { 'admin.serverPort': '9' } }))).toMatch(/admin\.serverPort/);
    expect(specError(spec({ config: { 'bad key': '1' } }))).toMatch(/is not a zoo\.cfg key/);
    expect(specError(spec({ config: { snapCount: '1\nx=2' } }))).toMatch(/must be one line/);
    expect(() => validateComposeSpec(spec({ httpPorts: consecutivePorts(9090, 4), stack: false }))).not.toThrow();
  });
});

describe("each server's zoo.cfg", () => {
  const parse = (text: string, myid: number) => parseConfig(text, { path: 'zoo.cfg', readMyid: () => String(myid) });

  it('zablab reads it as the member it is: peers by their peers-network names, fixed container ports, the settings given', () => {
    const s = spec({ config: { snapCount: '500', tickTime: '250' } });
    const servers = composeServers(s);
    const voter = parse(renderComposeZooCfg(servers, servers[1]!, s.config), 2);
    expect(voter.serverId).toBe(2);
    expect(voter.peerType).toBe('participant');
    expect(voter.servers.map((x) => `${x.id}:${x.host}:${x.quorumPort}:${x.electionPort}:${x.role}`)).toEqual([
      '1:zk1-peer:2888:3888:participant',
      '2:zk2-peer:2888:3888:participant',
      '3:zk3-peer:2888:3888:participant',
      '4:zk4-peer:2888:3888:observer',
    ]);
    expect([voter.clientPort, voter.clientPortAddress, voter.adminServerPort, voter.adminServerAddress]).toEqual([2181, '0.0.0.0', 8080, '0.0.0.0']);
    expect(voter.dataDir).toBe('/data');
    expect(voter.quorumListenOnAllIPs).toBe(true);
    expect([voter.snapCount, voter.tickTime]).toEqual([500, 250]);
    expect(voter.warnings).toEqual([]);
    // The HTTP face's token is the project's admin-token, mounted here.
    expect(voter.adminTokenFile).toBe('/conf/admin-token');
    // Peers prove the project's quorum-secret to each other, both ways.
    expect(voter).toMatchObject({ quorumAuthEnableSasl: true, quorumAuthLearnerRequireSasl: true, quorumAuthServerRequireSasl: true, quorumAuthSecretFile: '/conf/quorum-secret' });
    const observer = parse(renderComposeZooCfg(servers, servers[3]!, {}), 4);
    expect(observer.peerType).toBe('observer');
    expect(observer.quorumAuthSecretFile).toBe('/conf/quorum-secret');
    const open = parse(
      renderComposeZooCfg(servers, servers[0]!, { 'admin.auth.enabled': 'false', 'quorum.auth.enableSasl': 'false' }, { adminToken: false, quorumSecret: false }),
      1,
    );
    expect([open.adminTokenFile, open.adminAuthEnabled, open.quorumAuthEnableSasl, open.quorumAuthSecretFile]).toEqual([undefined, false, false, undefined]);
  });

  it('one voter alone runs standalone; one voter with observers runs a quorum of one', () => {
    const alone = spec({ voters: 1, observers: 0, clientPorts: [2181], httpPorts: [8080] });
    const [only] = composeServers(alone);
    const standalone = parse(renderComposeZooCfg([only!], only!, {}), 1);
    expect(standalone.standalone).toBe(true);
    expect(standalone.quorumAuthEnableSasl).toBe(false); // no peers to authenticate
    expect(standalone.clientPort).toBe(2181);
    const withObservers = spec({ voters: 1, observers: 2, clientPorts: [2181, 2182, 2183], httpPorts: [8080, 8081, 8082] });
    const servers = composeServers(withObservers);
    const cfg = parse(renderComposeZooCfg(servers, servers[0]!, {}), 1);
    expect(cfg.standalone).toBe(false);
    expect(cfg.servers.filter((x) => x.role === 'observer')).toHaveLength(2);
  });
});

describe('the compose document', () => {
  it('servers zk1..zkN: the image, init, config and myid mounted read-only, a data volume, published ports, the peers network', () => {
    const doc = composeDocument(spec()) as {
      services: Record<string, { image: string; init: boolean; ports: string[]; volumes: { type: string; source: string; target: string; read_only?: boolean }[]; networks: Record<string, { aliases?: string[] }> }>;
      networks: Record<string, { internal?: boolean }>;
      volumes: Record<string, unknown>;
    };
    expect(Object.keys(doc.services)).toEqual(['zk1', 'zk2', 'zk3', 'zk4', 'prometheus', 'grafana', 'otel-collector', 'jaeger']);
    const zk3 = doc.services['zk3']!;
    expect(zk3.image).toBe('zablab:latest');
    expect(zk3.init).toBe(true);
    expect(zk3.ports).toEqual(['127.0.0.1:2183:2181', '127.0.0.1:8082:8080']);
    expect(zk3.volumes).toEqual([
      { type: 'bind', source: './zk3/zoo.cfg', target: '/conf/zoo.cfg', read_only: true },
      { type: 'bind', source: './zk3/myid', target: '/data/myid', read_only: true },
      { type: 'volume', source: 'zk3-data', target: '/data' },
      { type: 'bind', source: './admin-token', target: '/conf/admin-token', read_only: true },
      { type: 'bind', source: './quorum-secret', target: '/conf/quorum-secret', read_only: true },
    ]);
    expect(zk3.networks).toEqual({ default: {}, peers: { aliases: ['zk3-peer'] } });
    expect(doc.networks['peers']?.internal).toBe(true);
    expect(Object.keys(doc.volumes)).toEqual(['zk1-data', 'zk2-data', 'zk3-data', 'zk4-data', 'prometheus-data', 'grafana-data']);
  });

  it('servers only, with a spans directory and an IPv6 bind address', () => {
    const doc = composeDocument(spec({ stack: false, spansDir: '/var/tmp/spans', bindAddress: '::1', env: { ZABLAB_LOG_LEVEL: 'debug' } })) as {
      services: Record<string, { environment?: Record<string, string>; ports: string[]; volumes: { source: string; target: string }[] }>;
    };
    expect(Object.keys(doc.services)).toEqual(['zk1', 'zk2', 'zk3', 'zk4']);
    const zk1 = doc.services['zk1']!;
    expect(zk1.environment).toEqual({ ZABLAB_SPANS_DIR: '/spans', ZABLAB_LOG_LEVEL: 'debug' });
    expect(zk1.volumes.at(-1)).toEqual({ type: 'bind', source: '/var/tmp/spans', target: '/spans' });
    expect(zk1.ports).toEqual(['[::1]:2181:2181', '[::1]:8080:8080']);
  });

  it('the file says how to use it, quotes port mappings, and parses back to the document', () => {
    const s = spec();
    const text = renderComposeFile(s);
    expect(text.split('\n')[0]).toMatch(/^# A zablab ensemble of 3 voters \(zk1-zk3\) and 1 observer \(zk4\), written by `zablab compose`\.$/);
    expect(text).toContain('docker compose up -d');
    expect(text).toContain('- "127.0.0.1:2181:2181"');
    expect(YAML.parse(text)).toEqual(composeDocument(s));
  });

  it('Prometheus scrapes every server by service name on its HTTP port, labelled with role and id', () => {
    const cfg = YAML.parse(prometheusConfig(composeServers(spec()))) as { scrape_configs: { job_name: string; static_configs: { targets: string[]; labels: Record<string, string> }[] }[] };
    expect(cfg.scrape_configs[0]!.job_name).toBe('zablab');
    expect(cfg.scrape_configs[0]!.static_configs.map((c) => [c.targets[0], c.labels['role'], c.labels['server_id']])).toEqual([
      ['zk1:8080', 'voter', '1'],
      ['zk2:8080', 'voter', '2'],
      ['zk3:8080', 'voter', '3'],
      ['zk4:8080', 'observer', '4'],
    ]);
  });
});

describe('the compose directory', () => {
  it('holds every file, readable by the containers, with no path of this machine; dashboards are copied', () => {
    const dashboards = tmp();
    fs.writeFileSync(path.join(dashboards, 'b.json'), '{"title":"b"}');
    fs.writeFileSync(path.join(dashboards, 'a.json'), '{"title":"a"}');
    fs.writeFileSync(path.join(dashboards, 'notes.txt'), 'not a dashboard');
    const out = path.join(tmp(), 'stack');
    const w = writeComposeDir(out, spec(), { dashboardsDir: dashboards, readme: true });
    expect(w.files).toEqual([
      '.gitignore',
      'README.md',
      'docker-compose.yml',
      'grafana/dashboards/a.json',
      'grafana/dashboards/b.json',
      'grafana/provisioning/dashboards/zablab.yml',
      'grafana/provisioning/datasources/zablab.yml',
      'otel-collector/config.yaml',
      'prometheus/prometheus.yml',
      'zk1/myid',
      'zk1/zoo.cfg',
      'zk2/myid',
      'zk2/zoo.cfg',
      'zk3/myid',
      'zk3/zoo.cfg',
      'zk4/myid',
      'zk4/zoo.cfg',
    ]);
    expect(w.dashboards).toEqual(['a.json', 'b.json']);
    // The token: private to the servers' uid, ignored by git, in no other file.
    expect(w.adminTokenFile).toBe(path.join(out, 'admin-token'));
    // So is the quorum secret the servers authenticate each other with.
    expect(w.quorumSecretFile).toBe(path.join(out, 'quorum-secret'));
    for (const file of [w.adminTokenFile!, w.quorumSecretFile!]) {
      const st = fs.statSync(file);
      expect(st.mode & 0o777).toBe(0o600);
      if (process.getuid?.() === 0) expect(st.uid).toBe(1000);
    }
    if (process.getuid?.() !== 0) {
      expect(w.warnings).toEqual([expect.stringMatching(/admin-token belongs .* servers run as uid 1000 .* chown 1000/), expect.stringMatching(/quorum-secret belongs .* chown 1000/)]);
    }
    expect(fs.readFileSync(path.join(out, '.gitignore'), 'utf8')).toContain('/admin-token\n/quorum-secret\n');
    const secret = fs.readFileSync(w.adminTokenFile!, 'utf8').trim();
    const quorumSecret = fs.readFileSync(w.quorumSecretFile!, 'utf8').trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(quorumSecret.length).toBeGreaterThanOrEqual(32);
    expect(quorumSecret).not.toBe(secret);
    if (process.getuid?.() === 0) expect(w.warnings).toEqual([]);
    expect(fs.readFileSync(path.join(out, 'zk4/myid'), 'utf8')).toBe('4\n');
    for (const f of w.files) {
      expect(fs.statSync(path.join(out, f)).mode & 0o777, f).toBe(0o644);
      expect(fs.readFileSync(path.join(out, f), 'utf8'), f).not.toContain(out);
      expect(fs.readFileSync(path.join(out, f), 'utf8'), f).not.toContain(secret);
      expect(fs.readFileSync(path.join(out, f), 'utf8'), f).not.toContain(quorumSecret);
    }
    const sources = YAML.parse(fs.readFileSync(path.join(out, 'grafana/provisioning/datasources/zablab.yml'), 'utf8')) as { datasources: { type: string; url: string; isDefault?: boolean }[] };
    expect(sources.datasources.find((d) => d.isDefault === true)).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const otel = YAML.parse(fs.readFileSync(path.join(out, 'otel-collector/config.yaml'), 'utf8')) as { service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } } };
    expect(otel.service.pipelines.traces).toMatchObject({ receivers: ['otlp'], exporters: ['otlp/jaeger'] });
  });

  it('a re-run replaces its own output (fewer servers leave no stale zk<id>/); another non-empty directory is refused', () => {
    const out = tmp();
    writeComposeDir(out, spec(), { dashboardsDir: tmp() });
    fs.writeFileSync(path.join(out, '.env'), 'KEEP=1\n');
    const token = fs.readFileSync(path.join(out, 'admin-token'), 'utf8');
    const quorumSecret = fs.readFileSync(path.join(out, 'quorum-secret'), 'utf8');
    const w = writeComposeDir(out, spec({ voters: 3, observers: 0, clientPorts: [2181, 2182, 2183], httpPorts: [8080, 8081, 8082] }), { dashboardsDir: tmp() });
    expect(fs.existsSync(path.join(out, 'zk4'))).toBe(false);
    // The token outlives a re-run: scripts that hold it keep working.
    expect(fs.readFileSync(path.join(out, 'admin-token'), 'utf8')).toBe(token);
    // The quorum secret too: a server restarted from the earlier run still knows its peers.
    expect(fs.readFileSync(path.join(out, 'quorum-secret'), 'utf8')).toBe(quorumSecret);
    expect(fs.readFileSync(path.join(out, '.env'), 'utf8')).toBe('KEEP=1\n');
    expect(w.warnings).toContainEqual(expect.stringMatching(/no dashboards in .*zablab dashboards/));
    const foreign = tmp();
    fs.writeFileSync(path.join(foreign, 'docker-compose.yml'), 'services: {}\n');
    expect(() => writeComposeDir(foreign, spec())).toThrow(/not empty and holds no docker-compose\.yml written by `zablab compose`/);
  });
});

describe('zablab compose (the command)', () => {
  it('writes the directory and says what to run next', async () => {
    const out = path.join(tmp(), 'c');
    const r = await cli(['compose', '--voters', '3', '--observers', '1', '--out', out, '--client-port', '12181', '--admin-port', '18080', '--set', 'snapCount=1000', '--dashboards', tmp()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('client ports 127.0.0.1:12181-12184, HTTP 127.0.0.1:18080-18083');
    expect(r.stdout).toContain('docker compose up -d');
    expect(r.stderr).toMatch(/warning: no dashboards/);
    expect(fs.readFileSync(path.join(out, 'zk2/zoo.cfg'), 'utf8')).toContain('snapCount=1000\n');
    expect(r.stdout).toContain(`peers: authenticated with the secret in ${path.join(out, 'quorum-secret')}`);
  });

  it("--peer-security none leaves the peers open, as ZooKeeper's default, and says so", async () => {
    const out = path.join(tmp(), 'c');
    const r = await cli(['compose', '--voters', '3', '--out', out, '--peer-security', 'none', '--dashboards', tmp()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('peers: open');
    const cfg = parseConfig(fs.readFileSync(path.join(out, 'zk1/zoo.cfg'), 'utf8'), { readMyid: () => '1' });
    expect([cfg.quorumAuthEnableSasl, cfg.quorumAuthSecretFile]).toEqual([false, undefined]);
    expect(fs.existsSync(path.join(out, 'quorum-secret'))).toBe(false);
    const doc = YAML.parse(fs.readFileSync(path.join(out, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { volumes: { source: string }[] }> };
    expect(doc.services['zk1']!.volumes.map((v) => v.source)).not.toContain('./quorum-secret');
  });

  it('usage mistakes exit 2 with a message that names the option', async () => {
    const out = path.join(tmp(), 'c');
    expect(await cli(['compose', '--out', out])).toMatchObject({ code: 2, stderr: expect.stringMatching(/needs --voters/) as unknown });
    expect(await cli(['compose', '--voters', '0', '--out', out])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--voters must be an integer from 1 to 32, got "0"/) as unknown });
    expect(await cli(['compose', '--voters', '3', '--out', out, '--set', 'dataDir=/x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/dataDir is set by the compose layout/) as unknown });
    expect(await cli(['compose', '--voters', '3', '--out', out, '--set', 'novalue'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/"novalue" is not key=value/) as unknown });
    expect(await cli(['compose', '--voters', '3', '--out', out, '--client-port', '65534'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/client port 65536/) as unknown });
    expect(await cli(['compose', '--voters', '3', '--out', out, '--peer-security', 'tls'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--peer-security must be secret or none/) as unknown });
    expect(await cli(['compose', '--voters', '3', '--out', out, '--set', 'quorum.auth.secretFile=/s'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/quorum.auth.secretFile is set by the compose layout/) as unknown });
    expect(fs.existsSync(out)).toBe(false);
  });

  it('the committed compose/ example is what `zablab compose --voters 3 --observers 1 --out compose` writes today', async () => {
    const committed = path.join(REPO, 'compose');
    const fresh = path.join(tmp(), 'compose');
    expect((await cli(['compose', '--voters', '3', '--observers', '1', '--out', fresh])).code).toBe(0);
    // admin-token and quorum-secret are secrets of each directory (git ignores them): never the same, never committed.
    const secrets = new Set(['admin-token', 'quorum-secret']);
    const list = (root: string): string[] =>
      (fs.readdirSync(root, { recursive: true, withFileTypes: false }) as string[]).filter((f) => !secrets.has(f) && fs.statSync(path.join(root, f)).isFile()).sort();
    expect(list(committed)).toEqual(list(fresh));
    for (const f of list(fresh)) {
      expect(fs.readFileSync(path.join(committed, f), 'utf8'), `compose/${f} is stale: run \`zablab compose --voters 3 --observers 1 --out compose\``).toBe(fs.readFileSync(path.join(fresh, f), 'utf8'));
    }
  });
});
