/**
 * report.html in a real headless Chromium (playwright-core, Debian's /usr/bin/chromium),
 * opened as a file:// URL the way a user double-clicks it: every chart renders with its
 * series and markers, the log-scale toggle works, nothing is logged as an error and nothing
 * is requested but the file itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareResults, renderComparisonHtml, writeReports } from '../../src/harness/report/index.js';
import { makeResultsFixture } from '../helpers/results-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const chromiumMissing = !fs.existsSync(CHROMIUM);
if (chromiumMissing && process.env['CI'] === 'true') {
  throw new Error(`${CHROMIUM} is missing; CI must install it (apt-get install -y chromium)`);
}
if (chromiumMissing) {
  console.warn(`report-browser: skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
}

interface Opened {
  page: Page;
  url: string;
  requests: string[];
  consoleErrors: string[];
  pageErrors: string[];
}

/**
 * The little of the DOM the in-page checks use: the project compiles without lib "dom", and
 * functions given to page.evaluate run in the page, so they reach it through globalThis.
 */
interface BoxLike {
  width: number;
  height: number;
}
interface ElementLike {
  getAttribute(name: string): string | null;
  getBoundingClientRect(): BoxLike;
  getBBox(): BoxLike;
  querySelectorAll(selector: string): ArrayLike<ElementLike> & Iterable<ElementLike>;
}
interface PageGlobals {
  document: { querySelector(selector: string): ElementLike | null; querySelectorAll(selector: string): ArrayLike<ElementLike> & Iterable<ElementLike> };
  hacked?: number;
}

let browser: Browser;
let tmp: string;

async function open(file: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const url = pathToFileURL(file).href;
  const opened: Opened = { page, url, requests: [], consoleErrors: [], pageErrors: [] };
  page.on('request', (r) => opened.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') opened.consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => opened.pageErrors.push(e.message));
  await page.goto(url, { waitUntil: 'load' });
  return opened;
}

interface ChartInfo {
  width: number;
  height: number;
  series: number;
  drawnSeries: number;
  markers: number;
  faultMarkers: number;
  leaderMarkers: number;
  marks: number;
}

/** What a chart drew, measured in the page: its box, and the series and markers with a box of their own. */
function chartInfo(page: Page, testId: string): Promise<ChartInfo | null> {
  return page.evaluate((id) => {
    const { document } = globalThis as unknown as PageGlobals;
    const svg = document.querySelector(`svg[data-testid="${id}"]`);
    if (svg === null) return null;
    const box = svg.getBoundingClientRect();
    const drawn = (el: ElementLike): boolean => {
      const b = el.getBBox();
      return b.width > 0 || b.height > 0;
    };
    const series = [...svg.querySelectorAll('g.series')];
    return {
      width: box.width,
      height: box.height,
      series: series.length,
      drawnSeries: series.filter(drawn).length,
      markers: svg.querySelectorAll('g.marker').length,
      faultMarkers: [...svg.querySelectorAll('g.marker-fault')].filter(drawn).length,
      leaderMarkers: [...svg.querySelectorAll('g.marker-leader')].filter(drawn).length,
      marks: svg.querySelectorAll('.dot, .bar, .point, .segment, polyline').length,
    };
  }, testId);
}

beforeAll(async () => {
  if (chromiumMissing) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-report-browser-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(chromiumMissing)('report.html in Chromium', () => {
  it('renders every chart with its series and markers, with no errors and no requests', async () => {
    const results = makeResultsFixture();
    results.runs[1]!.name = 'readmix/<script>window.hacked=1</script>#1';
    writeReports(tmp, results);
    const o = await open(path.join(tmp, 'report.html'));

    // Charts the fixture calls for, and what each must show (series, markers).
    const expected: Record<string, { series: number; faults?: number; leaders?: number }> = {
      'chart-throughput-vs-read': { series: 3 },
      'chart-p99-vs-read': { series: 3 },
      'chart-latency-percentiles': { series: 5 },
      'chart-latency-by-op': { series: 2 },
      'chart-recovery-kill': { series: 1 },
      'chart-recovery-restart': { series: 1 },
      'chart-breakdown-2': { series: 0 },
    };
    for (const i of [0, 1, 2, 3]) {
      expected[`chart-timeline-ops-${i}`] = { series: 3, faults: 0, leaders: 0 };
      expected[`chart-timeline-p99-${i}`] = { series: 3, faults: 0, leaders: 0 };
    }
    for (const i of [4, 5]) {
      // ops/s, getData, setData and errors; kill + restart, "no leader" + "leader → 2" (the warm-up election is not drawn).
      expected[`chart-timeline-ops-${i}`] = { series: 4, faults: 2, leaders: 2 };
      expected[`chart-timeline-p99-${i}`] = { series: 3, faults: 2, leaders: 2 };
    }
    for (const i of [0, 4, 5]) for (const k of [0, 1, 2]) expected[`chart-metric-${i}-${k}`] = { series: 3, faults: i === 0 ? 0 : 2, leaders: 0 };

    const found = await o.page.evaluate(() => [...(globalThis as unknown as PageGlobals).document.querySelectorAll('svg.chart')].map((s) => s.getAttribute('data-testid')));
    expect(found.filter((id) => id !== 'chart-latency-percentiles-log').sort()).toEqual(Object.keys(expected).sort());

    for (const [id, want] of Object.entries(expected)) {
      const info = await chartInfo(o.page, id);
      expect(info, id).not.toBeNull();
      expect(info!.width, `${id} width`).toBeGreaterThan(100);
      expect(info!.height, `${id} height`).toBeGreaterThan(100);
      expect(info!.marks, `${id} draws something`).toBeGreaterThan(0);
      expect(info!.series, `${id} series`).toBe(want.series);
      expect(info!.drawnSeries, `${id} drawn series`).toBe(want.series);
      if (want.faults !== undefined) expect(info!.faultMarkers, `${id} fault markers`).toBe(want.faults);
      if (want.leaders !== undefined) expect(info!.leaderMarkers, `${id} leader markers`).toBe(want.leaders);
    }
    // The stacked breakdown: one row per server, six stages (request and ack are in the table only).
    const breakdown = await o.page.evaluate(() => {
      const svg = (globalThis as unknown as PageGlobals).document.querySelector('svg[data-testid="chart-breakdown-2"]')!;
      return { rows: svg.querySelectorAll('g.row').length, stages: new Set([...svg.querySelectorAll('.segment')].map((s) => s.getAttribute('data-segment'))).size };
    });
    expect(breakdown).toEqual({ rows: 5, stages: 6 });

    // Marker labels read like the events they mark.
    const labels = await o.page.locator('svg[data-testid="chart-timeline-ops-4"] .marker-label').allTextContents();
    expect(labels).toEqual(['kill leader (id 3)', 'no leader', 'leader → 2', 'restart last (id 3)']);

    // The hostile run name is text, not markup; nothing ran.
    expect(await o.page.evaluate(() => (globalThis as unknown as PageGlobals).hacked)).toBeUndefined();
    expect(await o.page.locator('table[data-testid="table-runs"]').innerText()).toContain('readmix/<script>window.hacked=1</script>#1');

    // The failed run is listed at the top with its error.
    expect(await o.page.locator('[data-testid="failed-runs"]').innerText()).toContain('leader-kill#3: the ensemble did not serve within 60000 ms');

    expect(o.pageErrors).toEqual([]);
    expect(o.consoleErrors).toEqual([]);
    expect(o.requests).toEqual([o.url]);
    await o.page.close();
  });

  it('switches the latency percentiles to a log scale with the toggle (CSS only)', async () => {
    writeReports(tmp, makeResultsFixture());
    const o = await open(path.join(tmp, 'report.html'));
    const visible = async (id: string): Promise<boolean> => ((await chartInfo(o.page, id))?.width ?? 0) > 0;
    expect([await visible('chart-latency-percentiles'), await visible('chart-latency-percentiles-log')]).toEqual([true, false]);
    await o.page.locator('label[for="latency-log"]').click();
    expect([await visible('chart-latency-percentiles'), await visible('chart-latency-percentiles-log')]).toEqual([false, true]);
    const log = await chartInfo(o.page, 'chart-latency-percentiles-log');
    expect(log!.drawnSeries).toBe(5);
    // Ticks are decades on the log chart.
    const ticks = await o.page.locator('svg[data-testid="chart-latency-percentiles-log"] .y-axis .tick').allTextContents();
    expect(ticks).toEqual(expect.arrayContaining(['1', '10', '100', '1k']));
    // Tooltips are SVG titles on every bar.
    const tip = await o.page.locator('svg[data-testid="chart-latency-percentiles-log"] rect.bar title').first().textContent();
    expect(tip).toMatch(/ · p50: \d[\d.,]* ms$/);
    expect(o.pageErrors).toEqual([]);
    expect(o.consoleErrors).toEqual([]);
    expect(o.requests).toEqual([o.url]);
    await o.page.close();
  });

  it('renders the comparison page with its A/B charts', async () => {
    const a = makeResultsFixture();
    const b = makeResultsFixture();
    b.runs[0]!.throughput.opsPerSec *= 1.5;
    const file = path.join(tmp, 'compare.html');
    fs.writeFileSync(file, renderComparisonHtml(compareResults(a, b)));
    const o = await open(file);
    for (const id of ['chart-compare-throughput', 'chart-compare-p99']) {
      const info = await chartInfo(o.page, id);
      expect(info!.width, id).toBeGreaterThan(100);
      expect(info!.drawnSeries, id).toBe(2);
    }
    expect(await o.page.locator('table[data-testid="table-comparison"] td.better').count()).toBeGreaterThan(0);
    expect(o.pageErrors).toEqual([]);
    expect(o.consoleErrors).toEqual([]);
    expect(o.requests).toEqual([o.url]);
    await o.page.close();
  });
});
