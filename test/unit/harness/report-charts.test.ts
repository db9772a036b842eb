/** The SVG chart module: scales, gaps, log axes, markers, limits and escaping. */
import { describe, expect, it } from 'vitest';
import { groupedBarChart, lineChart, linearScale, logScale, niceStep, stackedBarChart, stripPlot } from '../../../src/harness/report/charts/index.js';
import { downsample } from '../../../src/harness/report/charts/line.js';
import { formatDeltaPct, formatMs, formatOpsPerSec } from '../../../src/harness/report/index.js';

function count(svg: string, pattern: RegExp): number {
  return svg.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

describe('scales', () => {
  it('picks 1-2-5 steps and nice linear ticks that cover the data', () => {
    expect([niceStep(10, 5), niceStep(97, 5), niceStep(0.9, 5), niceStep(4_000, 5)]).toEqual([2, 20, 0.2, 1_000]);
    const s = linearScale(3, 97, [0, 100], { includeZero: true });
    expect(s.ticks).toEqual([0, 20, 40, 60, 80, 100]);
    expect([s.map(0), s.map(50), s.map(100)]).toEqual([0, 50, 100]);
    expect(linearScale(0.1, 0.7, [0, 1]).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    // One value still gets a readable axis.
    expect(linearScale(5, 5, [0, 1]).ticks.length).toBeGreaterThan(1);
  });

  it('spans whole decades on a log scale, with 2 and 5 between when there are few', () => {
    const s = logScale(0.4, 80, [100, 0]);
    expect(s.domain).toEqual([0.1, 100]);
    expect(s.ticks).toEqual([0.1, 1, 10, 100]);
    expect(s.map(1)).toBeCloseTo(100 * (2 / 3), 9);
    expect(s.shows(0)).toBe(false);
    expect(logScale(1.5, 40, [0, 1]).ticks).toEqual([1, 2, 5, 10, 20, 50, 100]);
  });
});

describe('lineChart', () => {
  it('draws one group per series, breaks lines at gaps, and puts a tooltip on each point', () => {
    const svg = lineChart({
      testId: 't',
      title: 'T',
      xLabel: 'time (s)',
      yLabel: 'ops/s',
      series: [
        { name: 'a', points: [{ x: 0, y: 1 }, { x: 1, y: 2 }, { x: 2, y: null }, { x: 3, y: 4 }, { x: 4, y: 5 }] },
        { name: 'b', points: [{ x: 0, y: 3, tip: 'b at zero' }] },
      ],
    });
    expect(svg).toMatch(/^<svg [^>]*class="chart chart-line" data-testid="t"[^>]*data-series-count="2" data-marker-count="0"/);
    expect(count(svg, /class="series"/)).toBe(2);
    expect(count(svg, /<polyline /)).toBe(2);
    expect(count(svg, /class="dot"/)).toBe(5);
    expect(svg).toContain('<title>b at zero</title>');
    expect(svg).toContain('>time (s)</text>');
    expect(svg).toContain('>ops/s</text>');
  });

  it('drops values ≤ 0 on a log scale instead of drawing them at the bottom', () => {
    const svg = lineChart({ testId: 't', title: 'T', xLabel: 'x', yLabel: 'y', yScale: 'log', series: [{ name: 'a', points: [0, 1, 10, 0, 100].map((y, x) => ({ x, y })) }] });
    expect(count(svg, /class="dot"/)).toBe(3);
    expect(svg).toContain('>log scale</text>');
  });

  it('draws markers inside the x domain only and labels them', () => {
    const svg = lineChart({
      testId: 't',
      title: 'T',
      xLabel: 'x',
      yLabel: 'y',
      xDomain: [0, 10],
      series: [{ name: 'a', points: [{ x: 0, y: 1 }, { x: 10, y: 1 }] }],
      markers: [
        { x: -3, label: 'leader → 1', kind: 'leader' },
        { x: 5, label: 'kill leader (id 2)', kind: 'fault' },
        { x: 6, label: 'leader → 3', kind: 'leader' },
      ],
    });
    expect(svg).toContain('data-marker-count="2"');
    expect(count(svg, /class="marker marker-fault"/)).toBe(1);
    expect(count(svg, /class="marker marker-leader"/)).toBe(1);
    expect(svg).toContain('class="marker-label" fill="#c0392b" text-anchor="start">kill leader (id 2)</text>');
  });

  it('downsamples a long series but keeps every spike and dip; says "no data" when there is none', () => {
    const points = Array.from({ length: 10_000 }, (_, x) => ({ x, y: x === 4_321 ? 900 : x === 7_777 ? -50 : x % 10 }));
    const kept = downsample(points, 1_000);
    expect(kept.length).toBeLessThanOrEqual(1_000);
    expect(kept.find((p) => p.y === 900)?.x).toBe(4_321);
    expect(kept.find((p) => p.y === -50)?.x).toBe(7_777);
    expect(kept.map((p) => p.x)).toEqual([...kept.map((p) => p.x)].sort((a, b) => a - b));
    // A gap stays a gap.
    expect(downsample([...points.slice(0, 5_000), { x: 5_000, y: null }, ...points.slice(5_001)], 1_000).some((p) => p.y === null)).toBe(true);
    const svg = lineChart({ testId: 't', title: 'T', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points }] });
    expect(Number(/data-points="(\d+)"/.exec(svg)![1])).toBeLessThanOrEqual(1_200);
    // Too dense for dots: the line alone, with the series name as its tooltip.
    expect(count(svg, /class="dot"/)).toBe(0);
    expect(svg).toContain('<title>a</title></polyline>');
    expect(lineChart({ testId: 't', title: 'T', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [{ x: 0, y: null }] }] })).toContain('>no data</text>');
  });

  it('escapes series names, titles and tooltips', () => {
    const svg = lineChart({ testId: 'a"b', title: '<T>', xLabel: 'x', yLabel: 'y', series: [{ name: '<s>', points: [{ x: 0, y: 1 }] }, { name: 'b&c', points: [{ x: 0, y: 2 }] }] });
    expect(svg).not.toMatch(/<(s|T)>/);
    expect(svg).toContain('data-testid="a&quot;b"');
    expect(svg).toContain('>&lt;T&gt;</text>');
    expect(svg).toContain('data-series="&lt;s&gt;"');
    expect(svg).toContain('>b&amp;c</text>');
  });
});

describe('groupedBarChart, stripPlot, stackedBarChart', () => {
  it('draws a bar per category and series with a value, none for null', () => {
    const svg = groupedBarChart({
      testId: 'b',
      title: 'B',
      categories: ['r1', 'r2', 'r3'],
      series: [
        { name: 'p50', values: [1, 2, null] },
        { name: 'p99', values: [4, 8, 16] },
      ],
      yLabel: 'latency (ms)',
      formatValue: formatMs,
    });
    expect(count(svg, /class="bar"/)).toBe(5);
    expect(svg).toContain('<title>r2 · p99: 8.00 ms</title>');
    expect(svg).toContain('data-category-count="3"');
    expect(count(svg, /class="legend-item"/)).toBe(2);
  });

  it('slants long category labels and keeps them inside the chart', () => {
    const names = Array.from({ length: 8 }, (_, i) => `scenario/observers=${i},readPct=90#1`);
    const svg = groupedBarChart({ testId: 'b', title: 'B', categories: names, series: [{ name: 'x', values: names.map((_, i) => i + 1) }], yLabel: 'y' });
    expect(svg).toContain('rotate(-30');
    const firstLabel = /<g class="category"><title>[^<]*<\/title><text x="([\d.]+)"/.exec(svg)!;
    // The first label's anchor is far enough right for its slanted text (about 0.87 × its width) to fit.
    expect(Number(firstLabel[1])).toBeGreaterThan(26 * 11 * 0.58 * 0.87 - 1);
  });

  it('summarizes each group of a strip plot as a box with quartiles, and shows every value', () => {
    const svg = stripPlot({
      testId: 's',
      title: 'S',
      groups: ['leader elected', 'first write'],
      series: [{ name: '3v+0o', values: [[{ v: 100 }, { v: 200 }, { v: 300 }, { v: 400 }, { v: 500 }], [{ v: 50, tip: 'run#1' }]] }],
      yLabel: 'ms',
      formatValue: formatMs,
    });
    expect(count(svg, /class="point"/)).toBe(6);
    expect(count(svg, /class="box"/)).toBe(2);
    expect(svg).toContain('<title>3v+0o · leader elected: median 300 ms, quartiles 200 ms–400 ms, min 100 ms, max 500 ms, n=5</title>');
    expect(svg).toContain('<title>run#1: 50.0 ms</title>');
  });

  it('stacks segments per row with one colour per segment name', () => {
    const svg = stackedBarChart({
      testId: 'k',
      title: 'K',
      rows: [
        { label: 'server 1 (leader)', segments: [{ name: 'queue', value: 0.2 }, { name: 'quorum', value: 1.8 }] },
        { label: 'server 2 (follower)', segments: [{ name: 'fsync', value: 1.2 }, { name: 'queue', value: 0 }] },
      ],
      xLabel: 'mean time (ms)',
      formatValue: formatMs,
    });
    expect(count(svg, /class="segment"/)).toBe(3);
    expect(svg).toContain('data-series-count="3"');
    const fill = (name: string): string[] => [...svg.matchAll(new RegExp(`data-segment="${name}"[^>]*fill="(#[0-9a-f]+)"`, 'g'))].map((m) => m[1]!);
    expect(new Set([...fill('queue'), ...fill('quorum'), ...fill('fsync')]).size).toBe(3);
    expect(svg).toContain('>2.00 ms</text>');
  });
});

describe('number formats', () => {
  it('formats for people: separators, three significant digits, signs', () => {
    expect([formatOpsPerSec(1_234.4), formatOpsPerSec(56.78), formatOpsPerSec(3.214), formatOpsPerSec(0)]).toEqual(['1,234', '56.8', '3.21', '0']);
    expect([formatMs(2.349), formatMs(0.4123), formatMs(12.34), formatMs(1_234.5), formatMs(0), formatMs(null)]).toEqual(['2.35 ms', '0.412 ms', '12.3 ms', '1,235 ms', '0 ms', '—']);
    expect([formatDeltaPct(12.34), formatDeltaPct(-4), formatDeltaPct(0.01), formatDeltaPct(null)]).toEqual(['+12.3 %', '-4.0 %', '0.0 %', '—']);
  });
});
