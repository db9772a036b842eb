/**
 * The Dockerfile, `zablab compose` and the `compose` ensemble driver on a real Docker engine
 * (DOCKER_HOST's, else a private dockerd this file starts and stops; see test/helpers/docker.ts).
 *
 * The image is built from this source tree exactly as a user builds it (npm ci from the
 * registry, tsc, production dependencies only), on a local base image made from this host's
 * node since no registry can be pulled from. The driver runs the conformance suite shared by
 * every driver; its partition (a `docker network disconnect`, not zablab's fault hook) has
 * its own tests below, since the suite checks partitions through the hook's state, and so do
 * its partitions by mode (a network per side) on 5 voters.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ZkClient } from '../../src/client/index.js';
import { ComposeEnsembleHandle, composeDriver } from '../../src/harness/drivers/compose.js';
import { unsupportedFault } from '../../src/harness/drivers/local.js';
import type { EnsembleDriver, EnsembleHandle, MemberMode } from '../../src/harness/drivers/types.js';
import { HarnessError } from '../../src/harness/errors.js';
import { runDriverConformance } from '../integration/drivers/conformance.js';
import { ensureDockerOrReason, run, type DockerEngine } from '../helpers/docker.js';
import { ZABLAB_CLI, zablabBuilt } from '../helpers/zablab.js';
import { withClient } from '../helpers/with-client.js';
import { seededRandom } from '../helpers/random.js';
import { bridge, isolateLeader, randomHalves } from '../../src/harness/nemesis/index.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_TIMEOUT_MS = 480_000;

const found = await ensureDockerOrReason();
const engine: DockerEngine | null = 'unavailable' in found ? null : found;
const skipReason = 'unavailable' in found ? found.unavailable : zablabBuilt() ? null : 'zablab is not built (run `npm run build`)';
if (skipReason !== null) {
  if (process.env.CI === 'true') throw new Error(`CI must run the Docker tests (test/e2e/compose.test.ts), but: ${skipReason}`);
  console.warn(`compose tests skipped: ${skipReason}`);
}
const image = `zablab:e2e-${process.pid}`;

/** The driver with partition and heal taken out, for the conformance suite (see the file comment). */
function withoutPartition(driver: EnsembleDriver): EnsembleDriver {
  const hidden = new Set(['partition', 'heal']);
  return {
    name: driver.name,
    faults: new Set([...driver.faults].filter((a) => !hidden.has(a))),
    async up(opts) {
      const handle = await driver.up(opts);
      return new Proxy(handle, {
        get(target, prop) {
          if (prop === 'partition' || prop === 'heal') return () => Promise.reject(unsupportedFault('compose', prop));
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
  };
}

describe.skipIf(skipReason !== null)('docker: the image, zablab compose, the compose driver', () => {
  let buildSeconds = 0;

  beforeAll(async () => {
    const t0 = Date.now();
    // --network host: npm in the build stage reaches the registry the way this host does (a
    // private engine gives containers no route out: no bridge NAT, see helpers/docker.ts).
    await engine!.docker(['build', '--network', 'host', '--build-arg', `BASE=${engine!.baseImage}`, '-t', image, REPO], BUILD_TIMEOUT_MS);
    buildSeconds = (Date.now() - t0) / 1000;
    console.log(`built ${image} from the Dockerfile in ${buildSeconds.toFixed(0)} s`);
  }, BUILD_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    if (engine === null) return;
    if (!engine.private) await engine.docker(['rmi', '-f', image]).catch(() => '');
    await engine.stop();
  }, 120_000);

  it('the image runs as a non-root user, serves from /conf/zoo.cfg, and checks its health on /readyz', async () => {
    const uid = (await engine!.docker(['run', '--rm', image, 'id', '-u'])).trim();
    expect(uid).toMatch(/^\d+$/);
    expect(uid).not.toBe('0');
    const [config] = JSON.parse(await engine!.docker(['image', 'inspect', image])) as { Config: { User: string; Cmd: string[]; Healthcheck?: { Test: string[] }; Volumes: Record<string, unknown> } }[];
    expect(config!.Config.User).toBe('node');
    expect(config!.Config.Cmd).toEqual(['node', 'dist/cli/main.js', 'server', '--config', '/conf/zoo.cfg']);
    expect(Object.keys(config!.Config.Volumes)).toContain('/data');
    expect(config!.Config.Healthcheck?.Test[0]).toBe('CMD');
    expect(config!.Config.Healthcheck?.Test.join(' ')).toContain('/readyz');
    // Production dependencies only: no compiler, no test runner.
    const modules = (await engine!.docker(['run', '--rm', image, 'ls', 'node_modules'])).split('\n');
    expect(modules).toContain('fastify');
    expect(modules).not.toContain('typescript');
    expect(modules).not.toContain('vitest');
  });

  it('`zablab compose` writes a stack (3 voters, 1 observer, Prometheus, Grafana, collector, Jaeger) that docker-compose accepts', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-compose-cli-'));
    try {
      const stdout = await run(process.execPath, [ZABLAB_CLI, 'compose', '--voters', '3', '--observers', '1', '--out', out, '--image', image]);
      expect(stdout).toContain('docker-compose.yml');
      const text = fs.readFileSync(path.join(out, 'docker-compose.yml'), 'utf8');
      const doc = YAML.parse(text) as { services: Record<string, { image: string; ports?: string[]; environment?: Record<string, string> }> };
      expect(Object.keys(doc.services).sort()).toEqual(['grafana', 'jaeger', 'otel-collector', 'prometheus', 'zk1', 'zk2', 'zk3', 'zk4']);
      expect(doc.services['zk1']!.ports).toEqual(['127.0.0.1:2181:2181', '127.0.0.1:8080:8080']);
      expect(doc.services['zk4']!.ports).toEqual(['127.0.0.1:2184:2181', '127.0.0.1:8083:8080']);
      expect(doc.services['zk2']!.environment?.['OTEL_EXPORTER_OTLP_ENDPOINT']).toBe('http://otel-collector:4318');
      expect(doc.services['zk2']!.environment?.['OTEL_METRICS_EXPORTER']).toBe('none');
      const prometheus = YAML.parse(fs.readFileSync(path.join(out, 'prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
      expect(prometheus.scrape_configs[0]!.static_configs.flatMap((s) => s.targets)).toEqual(['zk1:8080', 'zk2:8080', 'zk3:8080', 'zk4:8080']);
      const dashboards = fs.readdirSync(path.join(REPO, 'dashboards')).filter((f) => f.endsWith('.json'));
      expect(fs.readdirSync(path.join(out, 'grafana/dashboards')).sort()).toEqual(dashboards.sort());
      // Compose itself reads it: every service, mount, port and network is valid.
      const services = await run('docker-compose', ['-f', path.join(out, 'docker-compose.yml'), 'config', '--services']);
      expect(services.trim().split('\n').sort()).toEqual(Object.keys(doc.services).sort());
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  runDriverConformance('compose', () => withoutPartition(composeDriver({ image })), {
    faults: true,
    partition: false,
    spans: true,
    program: 'zablab',
    skip: skipReason,
  });

  describe('compose driver: partitions through the peers network, health, spans', () => {
    let dir: string;
    let handle: ComposeEnsembleHandle;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-compose-partition-'));
      handle = (await composeDriver({ image }).up({
        voters: 3,
        observers: 0,
        config: { tickTime: '500', initLimit: '20', syncLimit: '4' },
        dir,
        spansDir: path.join(dir, 'spans'),
        timeoutMs: 90_000,
      })) as ComposeEnsembleHandle;
    }, 150_000);

    afterAll(async () => {
      await handle?.down();
      if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('every container turns healthy (the HEALTHCHECK on /readyz) once the ensemble serves', async () => {
      await poll('every container healthy', async () => {
        const states = await Promise.all(handle.members.map((m) => healthOf(handle, m.id)));
        return states.every((s) => s === 'healthy') ? true : undefined;
      }, 50_000);
    }, 60_000);

    it('spans files are written by the container user and readable here', async () => {
      await withClient(handle.connectString(), (c) => c.create('/spans-probe', Buffer.from('x')));
      const file = path.join(handle.spansDir!, 'server-1.jsonl');
      await poll('server-1.jsonl', async () => (fs.existsSync(file) && fs.statSync(file).size > 0 ? true : undefined));
      const st = fs.statSync(file);
      expect(st.uid).toBe(1000);
      expect(st.mode & 0o004).toBe(0o004);
      expect(fs.readFileSync(file, 'utf8').split('\n')[0]).toContain('traceId');
    });

    it('partition a follower: it leaves the quorum but still answers on its published port; the rest serve writes; heal: it rejoins', async () => {
      const follower = (await handle.status()).find((s) => s.mode === 'follower')!.id;
      await handle.partition(follower);
      // "looking" is an answer: its clients still reach it through the published port.
      await waitMode(handle, follower, 'looking', 20_000);
      await withClient(others(handle, follower), (c) => c.create('/during-partition', Buffer.from('p')));
      await handle.waitServing(30_000);
      await handle.heal(follower);
      // Its old TCP connections died in the partition; it rejoins when retransmission or a new connection gets through.
      await waitMode(handle, follower, 'follower', 60_000);
      const data = await withClient(at(handle, follower), async (c) => {
        await c.sync('/during-partition');
        return (await c.getData('/during-partition')).data?.toString();
      });
      expect(data).toBe('p');
    }, 120_000);

    let restarted = 0;
    it('a partition is network configuration: it survives kill and restart', async () => {
      // The lowest-id follower: some peer with a higher id holds a connection to it.
      const follower = (await handle.status()).find((s) => s.mode === 'follower')!.id;
      await handle.partition(follower);
      await handle.kill(follower);
      expect((await handle.status()).find((s) => s.id === follower)).toMatchObject({ mode: 'down', stopped: true });
      await handle.restart(follower);
      await sleep(2_000);
      expect((await handle.status()).find((s) => s.id === follower)).toMatchObject({ mode: 'looking', stopped: false });
      await handle.heal(follower);
      restarted = follower;
    }, 60_000);

    // The old process died while partitioned, so its higher-id peers hold half-open connections
    // to it. The restarted server's dials to them are nudges: they drop those stale connections
    // and dial back (as ZooKeeper's QuorumCnxManager does for a lower sid).
    it('after that restart and the heal, the server rejoins', async ({ skip }) => {
      if (restarted === 0) skip('the test before it failed');
      // A plain heal rejoins within seconds (see above); this gives it far more.
      await handle.waitServing(15_000);
      await withClient(at(handle, restarted), (c) => c.create('/after-heal', Buffer.from('h')));
    }, 40_000);

    it('faults name the server: an unknown id is a FAULT error, restart of a running server is refused', async () => {
      const err = await handle.kill(9).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HarnessError);
      expect((err as HarnessError).code).toBe('ZABLAB_BENCH_FAULT');
      const again = await handle.restart(1).catch((e: unknown) => e);
      expect((again as HarnessError).message).toMatch(/kill it before restarting/);
    });

    it('down() removes the containers, the networks and the data volumes', async () => {
      await handle.down();
      const label = `label=com.docker.compose.project=${handle.project}`;
      expect((await engine!.docker(['ps', '-aq', '--filter', label])).trim()).toBe('');
      expect((await engine!.docker(['network', 'ls', '-q', '--filter', label])).trim()).toBe('');
      expect((await engine!.docker(['volume', 'ls', '-q', '--filter', label])).trim()).toBe('');
    }, 60_000);
  });
  describe('compose driver: partitions by mode, a network per side', () => {
    let dir: string;
    let handle: ComposeEnsembleHandle;
    const voters = [1, 2, 3, 4, 5];

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-compose-sides-'));
      handle = (await composeDriver({ image }).up({
        voters: 5,
        observers: 0,
        config: { tickTime: '500', initLimit: '20', syncLimit: '4' },
        dir,
        timeoutMs: 90_000,
      })) as ComposeEnsembleHandle;
    }, 150_000);

    afterAll(async () => {
      await handle?.down();
      if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('random-halves: the minority stops serving, the majority keeps a leader and takes writes; heal: all five serve', async () => {
      const { sides } = randomHalves({ voters, observers: [] }, seededRandom(7));
      const [majority, minority] = sides as [number[], number[]];
      await handle.partitionSides(sides);
      // The minority is on a network of its own: a second one beside peers.
      expect(await peerNetworksOf(handle, minority[0]!)).toEqual([`${handle.project}_peers2`]);
      await servingExactly(handle, majority, 30_000);
      await withClient(others(handle, ...minority), (c) => c.create('/sides-majority', Buffer.from('m')));
      await handle.healSides();
      await handle.waitServing(60_000);
      const data = await withClient(at(handle, minority[0]!), async (c) => {
        await c.sync('/sides-majority');
        return (await c.getData('/sides-majority')).data?.toString();
      });
      expect(data).toBe('m');
    }, 120_000);

    it('isolate-leader: the leader is on no peer network and stops serving; the rest elect another; heal: it follows', async () => {
      const old = (await handle.leader())!;
      await handle.partitionSides(isolateLeader({ voters, observers: [] }, old).sides);
      expect(await peerNetworksOf(handle, old)).toEqual([]);
      const next = await servingExactly(handle, voters.filter((id) => id !== old), 30_000);
      expect(next).not.toBe(old);
      await handle.healAll();
      await handle.waitServing(60_000);
      await withClient(at(handle, old), (c) => c.create('/after-isolation', Buffer.from('i')));
    }, 120_000);

    it('bridge: the bridge is on both networks; the half that shares no side with the leader stops serving, the rest serve', async () => {
      const cut = bridge({ voters, observers: [] }, seededRandom(11));
      await handle.partitionSides(cut.sides);
      expect((await peerNetworksOf(handle, cut.bridge!)).sort()).toEqual([`${handle.project}_peers`, `${handle.project}_peers2`].sort());
      await poll('the leader\'s sides serving, the other half looking', async () => {
        const st = await handle.status();
        const leaders = st.filter((s) => s.mode === 'leader');
        if (leaders.length !== 1) return undefined;
        const reach = (id: number): boolean => cut.sides.some((side) => side.includes(id) && side.includes(leaders[0]!.id));
        return st.every((s) => (reach(s.id) ? s.mode === 'leader' || s.mode === 'follower' : s.mode === 'looking')) ? true : undefined;
      }, 30_000);
      await handle.healSides();
      await handle.waitServing(60_000);
    }, 120_000);

    it('down() removes the networks made for sides too', async () => {
      await handle.down();
      const label = `label=com.docker.compose.project=${handle.project}`;
      expect((await engine!.docker(['network', 'ls', '-q', '--filter', label])).trim()).toBe('');
    }, 60_000);
  });
});

/** The peer networks (peers, peers2, ...) a member's container is on now. */
async function peerNetworksOf(h: ComposeEnsembleHandle, id: number): Promise<string[]> {
  const name = (await engine!.docker(['ps', '-q', '--filter', `label=com.docker.compose.project=${h.project}`, '--filter', `label=com.docker.compose.service=zk${id}`])).trim();
  const nets = JSON.parse(await engine!.docker(['inspect', '--format', '{{json .NetworkSettings.Networks}}', name])) as Record<string, unknown>;
  return Object.keys(nets).filter((n) => /_peers\d*$/.test(n));
}

/** Until exactly `serving` serve (one leading) and the others are looking; the leader. */
async function servingExactly(h: EnsembleHandle, serving: readonly number[], timeoutMs: number): Promise<number> {
  return poll(`${serving.join(',')} serving and the rest looking`, async () => {
    const st = await h.status();
    const on = st.filter((s) => serving.includes(s.id));
    const leaders = on.filter((s) => s.mode === 'leader');
    const ok = leaders.length === 1 && on.every((s) => s.mode === 'leader' || s.mode === 'follower') && st.filter((s) => !serving.includes(s.id)).every((s) => s.mode === 'looking');
    return ok ? leaders[0]!.id : undefined;
  }, timeoutMs);
}

async function healthOf(h: ComposeEnsembleHandle, id: number): Promise<string> {
  const name = (await engine!.docker(['ps', '-q', '--filter', `label=com.docker.compose.project=${h.project}`, '--filter', `label=com.docker.compose.service=zk${id}`])).trim();
  return (await engine!.docker(['inspect', '--format', '{{.State.Health.Status}}', name])).trim();
}

function at(h: EnsembleHandle, id: number): string {
  const m = h.members.find((x) => x.id === id)!;
  return `${m.host}:${m.clientPort}`;
}

function others(h: EnsembleHandle, ...ids: number[]): string {
  return h.members
    .filter((m) => !ids.includes(m.id))
    .map((m) => `${m.host}:${m.clientPort}`)
    .join(',');
}

async function waitMode(h: EnsembleHandle, id: number, mode: MemberMode, timeoutMs: number): Promise<void> {
  await poll(`server ${id} ${mode}`, async () => ((await h.status()).find((s) => s.id === id)?.mode === mode ? true : undefined), timeoutMs);
}

async function poll<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}
