/**
 * `zablab bench --live` as a user meets it: the built CLI runs a small bench that kills the
 * leader, and headless Chromium (Debian's /usr/bin/chromium through playwright-core) watches
 * the page it serves on 127.0.0.1. The page must update without a reload, show the kill and
 * the leader change as markers, draw the waterfall of a write with spans from more than one
 * server, let the keyboard reach every region (each named), and ask nothing of any other
 * address. A busy or bad port is one error line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsFile } from '../../src/harness/report/results.js';
import { runZablabCli, ZABLAB_CLI } from '../helpers/zablab.js';

const CHROMIUM = '/usr/bin/chromium';
const chromiumMissing = !fs.existsSync(CHROMIUM);
if (chromiumMissing && process.env['CI'] === 'true') {
  throw new Error(`${CHROMIUM} is missing; CI must install it (apt-get install -y chromium)`);
}
if (chromiumMissing) console.warn(`live-view: skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

/** Short, with writes sampled often enough that a traced write reaches the page within seconds. */
const SCENARIO = `
name: live-leader-kill
ensemble: {driver: local, voters: 3, observers: 0}
workload:
  readPct: 70
  reads: {getData: 1}
  writes: {setData: 1}
  valueSize: 64
  keys: 200
  clients: 1
  connections: 4
  pipelining: 8
  duration: 14s
  warmup: 2s
load: {driver: native}
faults:
  - {at: 5s, action: kill, target: leader}
  - {at: 10s, action: restart, target: last}
spans: 0.2
`;

let tmp: string;
let browser: Browser | undefined;
/** A bench still running when a test fails: Ctrl-C'd (it stops its servers) before tmp goes. */
const benches: ChildProcess[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-live-e2e-'));
  if (!chromiumMissing) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }
});

afterAll(async () => {
  await browser?.close();
  for (const b of benches) {
    if (b.exitCode !== null || b.signalCode !== null) continue;
    const closed = new Promise((resolve) => b.once('close', resolve));
    b.kill('SIGINT');
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Bench {
  url: Promise<string>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `zablab bench ... --live` as a child process: its live URL once printed, and its end. */
function startBench(args: string[], timeoutMs: number): Bench {
  const child = spawn(process.execPath, [ZABLAB_CLI, 'bench', ...args], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  benches.push(child);
  let stdout = '';
  let stderr = '';
  let gotUrl: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolve, reject) => {
    gotUrl = resolve;
    child.once('close', () => reject(new Error(`bench ended without a live URL; stdout:\n${stdout}\nstderr:\n${stderr}`)));
  });
  url.catch(() => undefined);
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    const m = /^live: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(stdout);
    if (m !== null) gotUrl(m[1]!);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench did not exit within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { url, done };
}

/** Evaluated in the page (the project compiles without lib "dom": expressions as strings). */
function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

/**
 * Until the expression is true in the page. (page.waitForFunction with a string evaluates it
 * with eval, which the page's Content-Security-Policy rightly refuses.)
 */
async function waitInPage(page: Page, expression: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await inPage<boolean>(page, expression))) {
    if (Date.now() > deadline) throw new Error(`not true in the page within ${timeoutMs} ms: ${expression}`);
    await page.waitForTimeout(250);
  }
}

describe.skipIf(chromiumMissing)('zablab bench --live', () => {
  it('shows a leader kill live: markers, the new leader, a write\'s waterfall across servers', async () => {
    const scenario = path.join(tmp, 'live.yaml');
    fs.writeFileSync(scenario, SCENARIO);
    const out = path.join(tmp, 'out');
    const bench = startBench([scenario, '--out', out, '--live'], 150_000);
    const url = await bench.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    const problems: string[] = [];
    let navigations = 0;
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    await page.goto(url, { waitUntil: 'load' });
    await inPage(page, 'window.stillHere = 42');

    // The servers as they report themselves, then the kill and the leader change (the runner's
    // fault marker and the leader marker, in the list and on the throughput timeline).
    await waitInPage(page, 'document.querySelectorAll("#servers tr[data-server]").length === 3', 60_000);
    const leaderBefore = await inPage<string>(page, 'document.querySelector("#servers tr[data-mode=leader] th")?.textContent ?? ""');
    expect(leaderBefore).toMatch(/^[123]$/);
    await waitInPage(page, '[...document.querySelectorAll("#events li.event-fault")].some((li) => /kill leader \\(server \\d\\)/.test(li.textContent))', 60_000);
    await waitInPage(page, `[...document.querySelectorAll("#events li.event-leader")].some((li) => /leader: server [123]/.test(li.textContent) && !li.textContent.includes("server ${leaderBefore}"))`, 30_000);
    await waitInPage(page, 'document.querySelector("[data-testid=live-throughput] .marker-leader") !== null && document.querySelector("[data-testid=live-throughput] .marker-fault") !== null', 10_000);
    // The killed server is shown as not serving while it is down (the table follows srvr polls, twice a second).
    await waitInPage(page, `document.querySelector("#servers tr[data-server='${leaderBefore}'] td:nth-of-type(5)")?.textContent === "no"`, 5_000);
    const shot = process.env['ZABLAB_LIVE_SCREENSHOT'];
    if (shot !== undefined && shot !== '') await page.screenshot({ path: shot, fullPage: true });

    // A sampled write, drawn from the spans of more than one server.
    await waitInPage(page, 'Number(document.querySelector("#waterfall .waterfall")?.dataset.servers ?? 0) >= 2', 30_000);
    const rows = await inPage<string[]>(page, '[...document.querySelectorAll("[data-testid=live-waterfall] .op-label")].map((t) => t.textContent)');
    expect(rows.some((r) => r.startsWith('proposal on s'))).toBe(true);
    expect(rows.some((r) => r.startsWith('commit on s'))).toBe(true);
    expect(new Set(rows.map((r) => /on s(\d+)/.exec(r)?.[1])).size).toBeGreaterThanOrEqual(2);
    // Throughput and p99 per op.
    expect(await inPage<number>(page, 'document.querySelectorAll("[data-testid=live-throughput] .series").length')).toBeGreaterThanOrEqual(2);
    expect(await inPage<number>(page, 'document.querySelectorAll("[data-testid=live-latency] .series").length')).toBeGreaterThanOrEqual(1);
    expect(await inPage<string>(page, 'document.querySelector("#runs .current-run")?.textContent ?? ""')).toContain('1 of 1');

    // Updated without a reload: the sequence moves, the page's own state stays, one navigation.
    const seq1 = Number(await inPage<string>(page, 'document.body.dataset.seq'));
    await page.waitForTimeout(1_500);
    const seq2 = Number(await inPage<string>(page, 'document.body.dataset.seq'));
    expect(seq2).toBeGreaterThan(seq1);
    expect(await inPage<number>(page, 'window.stillHere')).toBe(42);
    expect(navigations).toBe(1);

    // Keyboard and screen readers: each region is named, and Tab reaches it.
    for (const name of ['Servers', 'Throughput per op', 'p99 latency per op', 'Outstanding requests', 'Write waterfall', 'Faults and leader changes', 'Runs']) {
      await expect(page.getByRole('region', { name }).count(), name).resolves.toBe(1);
    }
    expect(await page.getByRole('status').count()).toBe(1);
    expect(await page.getByRole('table').count()).toBe(1);
    expect(await page.getByRole('img', { name: /^Write 0x[0-9a-f]+/ }).count()).toBe(1);
    const focused = new Set<string>();
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      focused.add(await inPage<string>(page, 'document.activeElement?.id ?? ""'));
    }
    for (const id of ['region-servers', 'region-throughput', 'region-latency', 'region-outstanding', 'region-waterfall', 'region-events', 'region-runs']) expect(focused, id).toContain(id);

    // Nothing but the page and its live.json, from this server; no errors.
    const origin = new URL(url).origin;
    expect(requests.filter((r) => new URL(r).origin !== origin)).toEqual([]);
    expect(problems).toEqual([]);

    const r = await bench.done;
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as ResultsFile;
    expect(results.runs[0]?.status).toBe('ok');
    // The bench is over: so is its page server.
    await expect(fetch(url)).rejects.toThrow();
    await page.close();
  }, 180_000);
});

describe('zablab bench --live with a bad port', () => {
  it('a port in use is one error line, before anything starts', async () => {
    const busy = http.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const out = path.join(tmp, 'busy');
      const r = await runZablabCli(['bench', '--live', String(port), '--out', out], { timeoutMs: 30_000, cwd: tmp });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`zablab: live view: port ${port} on 127.0.0.1 is in use; choose another port (or 0 for any free one)\n`);
      expect(fs.existsSync(out)).toBe(false);
    } finally {
      busy.close();
    }
  });

  it('a port that is not a number is one error line', async () => {
    const r = await runZablabCli(['bench', '--live=web', '--out', path.join(tmp, 'nan')], { timeoutMs: 30_000, cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('zablab: --live takes a port from 1 to 65535 (or 0 for any free one), got "web"\n');
  });
});
