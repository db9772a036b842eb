/**
 * A Docker engine for tests: the one DOCKER_HOST (or the default socket) names when it
 * answers; otherwise, as root with `dockerd` installed, a private engine of our own in a
 * temp dir, stopped by pid at the end. Also the local base image the Dockerfile is built on
 * (no registry is reachable here: nothing can be pulled).
 *
 * The private engine leaves nothing on the host: no iptables rules and no ip_forward change
 * (--iptables=false --ip-masq=false --ip-forward=false), no docker0 (--bridge=none); compose
 * networks are plain Linux bridges that `compose down` removes, and stop() deletes any that
 * remain, with what dockerd makes outside its roots anyway (/etc/docker/key.json, empty
 * /run/docker and /run/containerd) when they were not there before. Published ports work
 * through docker-proxy; containers have no route out.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DockerEngine {
  /** unix:///... */
  dockerHost: string;
  /** An image with node, npm, sh and a `node` user (uid 1000): `--build-arg BASE=<it>`. */
  baseImage: string;
  /** true when we started the engine (and stop() stops it). */
  private: boolean;
  /** Runs the docker CLI against this engine; rejects with its output when it fails. */
  docker(args: string[], timeoutMs?: number): Promise<string>;
  /** Stops what we started (a private engine: containers, networks, the daemon, its files). */
  stop(): Promise<void>;
}

export type DockerOrReason = DockerEngine | { unavailable: string };

const ANSWER_TIMEOUT_MS = 5_000;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
const CLI_TIMEOUT_MS = 120_000;
const MAX_OUTPUT_BYTES = 64 << 20;
const DEFAULT_SOCKET = 'unix:///var/run/docker.sock';
const TRUST_KEY = '/etc/docker/key.json';
/** A unix socket path is at most 107 bytes on Linux. */
const MAX_SOCKET_PATH = 100;

/** The engine, or null when none can be had here (see ensureDockerOrReason for why). */
export async function ensureDocker(): Promise<DockerEngine | null> {
  const r = await ensureDockerOrReason();
  return 'unavailable' in r ? null : r;
}

/**
 * The engine, or why there is none. Sets DOCKER_HOST and TESTCONTAINERS_RYUK_DISABLED=true in
 * this process's environment (testcontainers and docker-compose read them; Ryuk's image
 * cannot be pulled here); stop() puts them back.
 */
export async function ensureDockerOrReason(): Promise<DockerOrReason> {
  if (!(await commandRuns('docker', ['--version']))) return { unavailable: 'the docker CLI is not installed (apt-get install docker.io docker-compose)' };
  const candidates = process.env['DOCKER_HOST'] ? [process.env['DOCKER_HOST']] : [DEFAULT_SOCKET];
  for (const host of candidates) {
    if (await engineAnswers(host)) return withBase(await existingEngine(host));
  }
  if (process.getuid?.() !== 0) return { unavailable: `no Docker engine answers at ${candidates.join(', ')}, and only root can start one` };
  if (!(await commandRuns('dockerd', ['--version']))) return { unavailable: 'no Docker engine answers and dockerd is not installed (apt-get install docker.io)' };
  const started = await startPrivateEngine();
  return 'unavailable' in started ? started : withBase(started);
}

async function withBase(engine: DockerEngine): Promise<DockerOrReason> {
  try {
    engine.baseImage = await ensureBaseImage(engine);
    return engine;
  } catch (err) {
    await engine.stop().catch(() => undefined);
    return { unavailable: `cannot make the local base image: ${(err as Error).message}` };
  }
}

function setEnv(dockerHost: string): () => void {
  const saved = { host: process.env['DOCKER_HOST'], ryuk: process.env['TESTCONTAINERS_RYUK_DISABLED'] };
  process.env['DOCKER_HOST'] = dockerHost;
  process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
  return () => {
    restore('DOCKER_HOST', saved.host);
    restore('TESTCONTAINERS_RYUK_DISABLED', saved.ryuk);
  };
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

async function existingEngine(dockerHost: string): Promise<DockerEngine> {
  const restoreEnv = setEnv(dockerHost);
  return {
    dockerHost,
    baseImage: '',
    private: false,
    docker: (args, timeoutMs) => runDocker(dockerHost, args, timeoutMs),
    stop: async () => restoreEnv(),
  };
}

// ---- a private engine ---------------------------------------------------------------------

async function startPrivateEngine(): Promise<DockerEngine | { unavailable: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-dockerd-'));
  const socket = path.join(root, 'docker.sock');
  if (socket.length > MAX_SOCKET_PATH) {
    fs.rmSync(root, { recursive: true, force: true });
    return { unavailable: `the temp dir ${root} makes too long a socket path; set TMPDIR to a shorter directory` };
  }
  const dockerHost = `unix://${socket}`;
  fs.writeFileSync(path.join(root, 'daemon.json'), '{}\n');
  // What dockerd makes outside its roots whatever the flags: remove it afterwards if it is new.
  const before = { runContainerd: fs.existsSync('/run/containerd'), runDocker: fs.existsSync('/run/docker'), trustKey: fs.existsSync(TRUST_KEY) };
  const log = fs.openSync(path.join(root, 'dockerd.log'), 'a');
  const child = spawn(
    'dockerd',
    [
      // Our own config, data and state: nothing of a system engine is read or touched.
      `--config-file=${path.join(root, 'daemon.json')}`,
      `--data-root=${path.join(root, 'data')}`,
      `--exec-root=${path.join(root, 'exec')}`,
      `--pidfile=${path.join(root, 'dockerd.pid')}`,
      `--host=${dockerHost}`,
      '--iptables=false',
      '--ip-masq=false',
      '--ip-forward=false',
      '--bridge=none',
      '--log-level=warn',
    ],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  const pid = child.pid;
  if (pid === undefined) return { unavailable: 'dockerd did not start' };
  // If this process dies without stop(), do not leave the daemon behind.
  const onExit = (): void => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + START_TIMEOUT_MS;
  let up = false;
  while (!up && Date.now() < deadline && child.exitCode === null) {
    up = await engineAnswers(dockerHost);
    if (!up) await sleep(200);
  }
  const stopDaemon = async (): Promise<void> => {
    process.off('exit', onExit);
    await stopPrivateEngine(root, dockerHost, child, exited, before);
  };
  if (!up) {
    const tail = fs.readFileSync(path.join(root, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
    await stopDaemon();
    return { unavailable: `a private dockerd did not answer within ${START_TIMEOUT_MS} ms:\n${tail}` };
  }
  const restoreEnv = setEnv(dockerHost);
  let stopped = false;
  return {
    dockerHost,
    baseImage: '',
    private: true,
    docker: (args, timeoutMs) => runDocker(dockerHost, args, timeoutMs),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      restoreEnv();
      await stopDaemon();
    },
  };
}

interface HostState {
  runContainerd: boolean;
  runDocker: boolean;
  trustKey: boolean;
}

async function stopPrivateEngine(root: string, dockerHost: string, child: ChildProcess, exited: Promise<void>, before: HostState): Promise<void> {
  const containerdPid = readPid(path.join(root, 'exec', 'containerd', 'containerd.pid'));
  let bridges: string[] = [];
  if (child.exitCode === null) {
    // Containers first (their shims and veths go with them), then the networks (their bridges).
    const ids = (await runDocker(dockerHost, ['ps', '-aq']).catch(() => '')).split('\n').filter(Boolean);
    if (ids.length > 0) await runDocker(dockerHost, ['rm', '-f', '-v', ...ids]).catch(() => '');
    const nets = (await runDocker(dockerHost, ['network', 'ls', '-q', '--no-trunc', '--filter', 'type=custom']).catch(() => '')).split('\n').filter(Boolean);
    bridges = nets.map((id) => `br-${id.slice(0, 12)}`);
    if (nets.length > 0) await runDocker(dockerHost, ['network', 'rm', ...nets]).catch(() => '');
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  // dockerd stops its containerd; make sure (it is ours only if its command line names our root).
  if (containerdPid !== null && cmdlineOf(containerdPid).includes(root)) {
    process.kill(containerdPid, 'SIGTERM');
    for (let i = 0; i < 50 && cmdlineOf(containerdPid) !== ''; i++) await sleep(100);
  }
  for (const bridge of bridges) if (fs.existsSync(`/sys/class/net/${bridge}`)) await run('ip', ['link', 'delete', bridge]).catch(() => '');
  for (const mount of mountsUnder(root)) await run('umount', ['-l', mount]).catch(() => '');
  fs.rmSync(root, { recursive: true, force: true });
  // The shims' socket directory and the plugin directory, when they are ours and empty now;
  // dockerd 20.10 always writes its (deprecated) identity key to /etc/docker/key.json.
  const emptyDirs = [...(before.runContainerd ? [] : ['/run/containerd/s', '/run/containerd']), ...(before.runDocker ? [] : ['/run/docker/plugins', '/run/docker'])];
  for (const dir of emptyDirs) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // not empty (another engine uses it) or gone
    }
  }
  if (!before.trustKey) fs.rmSync(TRUST_KEY, { force: true });
}

function readPid(file: string): number | null {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Mount points under dir, deepest first. */
function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const points = text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

// ---- the local base image -------------------------------------------------------------------

/** Programs the Dockerfile's stages use besides node and npm (npm runs scripts with sh; tsc starts with `env node`). */
const BASE_PROGRAMS = ['sh', 'env', 'id', 'mkdir', 'chown', 'chmod', 'rm', 'cp', 'mv', 'ls', 'cat', 'ln'];

/**
 * zablab-test-base:<node version>: this host's node and npm, the programs above, the shared
 * libraries they link, the users root and node (1000), and this host's CA bundle when node
 * is told to trust it (NODE_EXTRA_CA_CERTS: the registry may be reached through a proxy that
 * the host trusts). Made once per engine with `docker import` (a few seconds).
 */
export async function ensureBaseImage(engine: DockerEngine): Promise<string> {
  const tag = `zablab-test-base:node-${process.version}`;
  if (await engine.docker(['image', 'inspect', '--format', '{{.Id}}', tag]).then(() => true, () => false)) return tag;
  const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-base-'));
  try {
    const env = await buildRootfs(rootfs);
    const changes = Object.entries(env).flatMap(([k, v]) => ['--change', `ENV ${k}=${v}`]);
    await pipeTarTo(rootfs, engine.dockerHost, ['import', ...changes, '-', tag]);
    return tag;
  } finally {
    fs.rmSync(rootfs, { recursive: true, force: true });
  }
}

/** Fills rootfs; returns the image's environment. */
async function buildRootfs(rootfs: string): Promise<Record<string, string>> {
  for (const d of ['usr/bin', 'usr/lib', 'usr/lib64', 'usr/sbin', 'usr/local/bin', 'usr/local/lib/node_modules', 'etc/ssl/certs', 'root', 'home/node', 'tmp']) {
    fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  }
  // Debian's merged /usr, so that ldd's /lib/... paths land in usr/lib.
  for (const [link, target] of [
    ['bin', 'usr/bin'],
    ['lib', 'usr/lib'],
    ['lib64', 'usr/lib64'],
    ['sbin', 'usr/sbin'],
  ] as const) {
    fs.symlinkSync(target, path.join(rootfs, link));
  }
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.chownSync(path.join(rootfs, 'home/node'), 1000, 1000);
  const node = fs.realpathSync(process.execPath);
  const binaries = [node];
  copyFile(node, path.join(rootfs, 'usr/local/bin/node'));
  for (const name of BASE_PROGRAMS) {
    const found = which(name);
    if (found === null) throw new Error(`${name} is not on PATH`);
    const real = fs.realpathSync(found);
    copyFile(real, path.join(rootfs, 'usr/bin', name));
    binaries.push(real);
  }
  for (const lib of new Set((await Promise.all(binaries.map(sharedLibraries))).flat())) copyFile(lib, path.join(rootfs, lib));
  const npmCli = which('npm');
  if (npmCli === null) throw new Error('npm is not on PATH');
  const npmDir = path.resolve(path.dirname(fs.realpathSync(npmCli)), '..');
  fs.cpSync(npmDir, path.join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true, dereference: false });
  fs.symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(rootfs, 'usr/local/bin/npm'));
  fs.symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(rootfs, 'usr/local/bin/npx'));
  fs.writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n');
  fs.writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n');
  const env: Record<string, string> = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  const ca = process.env['NODE_EXTRA_CA_CERTS'];
  if (ca !== undefined && fs.existsSync(ca)) {
    copyFile(ca, path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
    env['NODE_EXTRA_CA_CERTS'] = '/etc/ssl/certs/ca-certificates.crt';
  }
  return env;
}

function copyFile(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(fs.realpathSync(from), to);
  fs.chmodSync(to, fs.statSync(from).mode & 0o7777);
}

function which(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

/** Absolute paths of the shared libraries (and the loader) `ldd` lists for a binary. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const out = await run('ldd', [binary]);
  return out
    .split('\n')
    .map((line) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined);
}

function pipeTarTo(rootfs: string, dockerHost: string, dockerArgs: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const docker = spawn('docker', dockerArgs, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, DOCKER_HOST: dockerHost } });
    let err = '';
    tar.stderr.on('data', (d: Buffer) => (err += d.toString()));
    docker.stderr.on('data', (d: Buffer) => (err += d.toString()));
    tar.stdout.pipe(docker.stdin);
    docker.once('error', reject);
    docker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker ${dockerArgs.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

// ---- running things ---------------------------------------------------------------------------

async function engineAnswers(dockerHost: string): Promise<boolean> {
  return runDocker(dockerHost, ['version', '--format', '{{.Server.Version}}'], ANSWER_TIMEOUT_MS).then(
    (v) => v.trim() !== '',
    () => false,
  );
}

function runDocker(dockerHost: string, args: string[], timeoutMs = CLI_TIMEOUT_MS): Promise<string> {
  return run('docker', args, { ...process.env, DOCKER_HOST: dockerHost }, timeoutMs);
}

/** Runs a command; resolves with stdout, rejects with both outputs when it fails. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = CLI_TIMEOUT_MS, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: MAX_OUTPUT_BYTES, ...(cwd === undefined ? {} : { cwd }) }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`.trim()));
    });
  });
}

function commandRuns(command: string, args: string[]): Promise<boolean> {
  return run(command, args, process.env, ANSWER_TIMEOUT_MS).then(
    () => true,
    () => false,
  );
}
