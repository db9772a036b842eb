/**
 * `zablab watch --dir DIR` against an ensemble that `zablab ensemble up` started (built CLI,
 * real processes): the page on 127.0.0.1 follows the servers, draws a write's waterfall from
 * the spans files when the ensemble was started with ZABLAB_SPANS_DIR, shows the leader
 * change after `zablab ensemble kill --leader`, says so when there are no spans, and stops on
 * SIGINT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/client/index.js';
import { runZablabCli, ZABLAB_CLI } from '../helpers/zablab.js';

interface Snapshot {
  leader: number | null;
  servers: { id: number; mode: string; serving: boolean; epoch: number | null; zxid: string | null }[];
  markers: { kind: string; label: string }[];
  waterfall: { servers: number; spans: { stage: string; serverId: number }[] } | null;
  waterfallNote: string;
  regions: Record<string, string>;
}

let tmp: string;
const ensembles: string[] = [];
const watchers: ChildProcess[] = [];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-watch-e2e-'));
});

afterAll(async () => {
  for (const w of watchers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  for (const dir of ensembles) await runZablabCli(['ensemble', 'down', '--dir', dir], { timeoutMs: 30_000 }).catch(() => undefined);
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function ensembleUp(name: string, voters: number, env: Record<string, string> = {}): Promise<string> {
  const dir = path.join(tmp, name);
  ensembles.push(dir);
  const r = await runZablabCli(['ensemble', 'up', '--voters', String(voters), '--dir', dir], { timeoutMs: 90_000, env });
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

/** `zablab watch` as a child process; resolves with its page's URL once printed. */
function watch(args: string[]): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [ZABLAB_CLI, 'watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  watchers.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^live: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m !== null) resolve({ url: m[1]!, child, exited });
    });
    void exited.then((code) => reject(new Error(`zablab watch exited (${code}) without a URL: ${out}${err}`)));
  });
}

async function snapshot(url: string): Promise<Snapshot> {
  const r = await fetch(new URL('live.json', url));
  expect(r.status).toBe(200);
  return (await r.json()) as Snapshot;
}

async function until(url: string, what: string, check: (s: Snapshot) => boolean, timeoutMs = 30_000): Promise<Snapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await snapshot(url);
    if (check(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify({ leader: s.leader, servers: s.servers, markers: s.markers, note: s.waterfallNote })}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function connectString(dir: string): string {
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'ensemble.json'), 'utf8')) as { servers: { host: string; clientPort: number }[] };
  return state.servers.map((s) => `${s.host}:${s.clientPort}`).join(',');
}

describe('zablab watch --dir', () => {
  it('follows an ensemble from `zablab ensemble up` through a leader kill, with a write\'s waterfall', async () => {
    const dir = await ensembleUp('spans', 3, { ZABLAB_SPANS_DIR: path.join(tmp, 'spans-dir') });
    const { url, child, exited } = await watch(['--dir', dir]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const first = await until(url, 'every server serving, one leader', (s) => s.servers.length === 3 && s.servers.every((x) => x.serving) && s.leader !== null);
    const leader = first.leader!;
    expect(first.servers.find((x) => x.id === leader)?.mode).toBe('leader');
    expect(first.regions['servers']).toContain(`<tr data-server="${leader}" data-mode="leader">`);
    expect(first.regions['throughput']).toContain('zablab watch sees the servers, not the clients');

    // Writes through the ensemble: their spans (every request traced) make a waterfall.
    const client = await ZkClient.connect({ connectString: connectString(dir) });
    try {
      await client.create('/watched', Buffer.from('0'));
      for (let i = 1; i <= 10; i++) await client.setData('/watched', Buffer.from(String(i)));
    } finally {
      await client.close();
    }
    const drawn = await until(url, 'a waterfall with spans from more than one server', (s) => (s.waterfall?.servers ?? 0) >= 2);
    expect(drawn.waterfall!.spans.some((sp) => sp.stage === 'proposal' && sp.serverId === leader)).toBe(true);
    expect(drawn.regions['waterfall']).toContain('data-testid="live-waterfall"');

    const kill = await runZablabCli(['ensemble', 'kill', '--dir', dir, '--leader'], { timeoutMs: 30_000 });
    expect(kill.code, kill.stderr).toBe(0);
    const after = await until(url, 'a new leader', (s) => s.leader !== null && s.leader !== leader);
    expect(after.servers.find((x) => x.id === leader)).toMatchObject({ mode: 'down', serving: false, zxid: null });
    expect(after.markers.some((m) => m.kind === 'leader' && m.label === `leader: server ${after.leader}`)).toBe(true);
    expect(after.regions['events']).toContain(`leader: server ${after.leader}`);
    // The new leader's epoch is above the old one's.
    expect(after.servers.find((x) => x.id === after.leader)!.epoch).toBeGreaterThan(first.servers.find((x) => x.id === leader)!.epoch!);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  }, 120_000);

  it('says there are no spans when the ensemble writes none', async () => {
    const dir = await ensembleUp('nospans', 1);
    const { url, child, exited } = await watch(['--dir', dir]);
    const s = await until(url, 'the standalone server', (x) => x.servers[0]?.mode === 'standalone');
    expect(s.waterfall).toBeNull();
    expect(s.regions['waterfall']).toContain('no spans: the servers write no spans files');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 60_000);

  it('a directory without an ensemble is one error line', async () => {
    const r = await runZablabCli(['watch', '--dir', path.join(tmp, 'nothing')], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/ensemble\.json not found: run `zablab ensemble up --dir/);
  });
});
