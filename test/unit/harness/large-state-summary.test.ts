/**
 * What state costs, from samples to the report: where populated znodes go and how many fit in
 * one multi, the RSS read from /proc, the per-server summary (— where nothing was measured:
 * Apache ZooKeeper has no event loop, compose has no pid), the report's tables, and the
 * results.json reader that refuses a damaged section.
 */
import { describe, expect, it } from 'vitest';
import { JuteWriter } from '../../../src/jute/index.js';
import { BUCKET_CHILDREN, MULTI_BYTES_MAX, opsPerMulti, populatePath, watchedIndexes } from '../../../src/harness/load/state/index.js';
import { rssBytesOf } from '../../../src/harness/measure/proc-stats.js';
import { RESOURCE_METRICS, summarizeResources } from '../../../src/harness/measure/resources-summary.js';
import { renderReportHtml, renderSummary } from '../../../src/harness/report/index.js';
import type { MetricSample, RunResult } from '../../../src/harness/report/results.js';
import { validateResults } from '../../../src/harness/report/validate.js';
import { HarnessError } from '../../../src/harness/errors.js';
import { makeResultsFixture } from '../../helpers/results-fixture.js';
// The client's own multi encoder: what a populate batch weighs on the wire.
import { writeMulti } from '../../../src/client/ops.js';

describe('populated znodes', () => {
  it('go 10,000 to a bucket, named so that they sort', () => {
    expect(populatePath(0)).toBe('/zablab-populate/b0000/n0000000');
    expect(populatePath(BUCKET_CHILDREN - 1)).toBe('/zablab-populate/b0000/n0009999');
    expect(populatePath(BUCKET_CHILDREN)).toBe('/zablab-populate/b0001/n0010000');
    expect(populatePath(9_999_999)).toBe('/zablab-populate/b0999/n9999999');
  });

  it.each([0, 128, 4_096, 100_000, 1_000_000])('a multi of %i-byte values stays under a quarter of jute.maxbuffer', (valueSize) => {
    const n = opsPerMulti(valueSize, 10_000_000);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(1_000);
    const w = new JuteWriter();
    const value = Buffer.alloc(valueSize);
    writeMulti(w, Array.from({ length: n }, (_, i) => ({ op: 'create' as const, path: populatePath(9_999_999 - i), data: value })), (p) => p);
    // One value of a megabyte cannot be split: it goes alone.
    if (valueSize < MULTI_BYTES_MAX) expect(w.toBuffer().length).toBeLessThanOrEqual(MULTI_BYTES_MAX);
    else expect(n).toBe(1);
  });

  it('1,000 creates of 128 bytes go in one multi', () => {
    expect(opsPerMulti(128, 1_000_000)).toBe(1_000);
  });

  it('each session watches different znodes, and the sessions cover them evenly', () => {
    const seen = new Map<number, number>();
    for (let s = 0; s < 50; s++) {
      const mine = watchedIndexes(s, 10, 200);
      expect(new Set(mine).size).toBe(10);
      for (const i of mine) seen.set(i, (seen.get(i) ?? 0) + 1);
    }
    expect(seen.size).toBe(200);
    expect([...seen.values()].every((n) => n === 500 / 200 || n === Math.ceil(500 / 200) || n === Math.floor(500 / 200))).toBe(true);
  });
});

describe('RSS from /proc', () => {
  it('reads a live process (this one) and nothing for a pid that does not exist', () => {
    const rss = rssBytesOf(process.pid);
    expect(rss).not.toBeNull();
    // Node with vitest loaded holds tens of MiB, within a factor of what the process says of itself.
    expect(rss!).toBeGreaterThan(process.memoryUsage().rss / 2);
    expect(rss!).toBeLessThan(process.memoryUsage().rss * 2);
    expect(rssBytesOf(2 ** 22 + 12_345)).toBeNull();
  });
});

function sample(t: number, id: number, values: Record<string, number>): MetricSample {
  return { t, id, values };
}

describe('per-server summary', () => {
  const members = [
    { id: 2, role: 'voter' as const },
    { id: 1, role: 'voter' as const },
    { id: 3, role: 'observer' as const },
  ];
  const rss = [
    { id: 1, samples: [{ t: -2, bytes: 100 }, { t: -1, bytes: 300 }, { t: 0, bytes: 200 }] },
    { id: 2, samples: [] },
    { id: 3, samples: [] },
  ];
  const K = RESOURCE_METRICS;
  const metrics = [
    sample(-1, 1, { [K.heapUsedBytes]: 50, [K.eventLoopDelayP99Ms]: 2, [K.eventLoopDelayMaxMs]: 9, [K.gcPauseMaxMs]: 1.5 }),
    sample(0, 1, { [K.heapUsedBytes]: 70, [K.eventLoopDelayP99Ms]: 4, [K.eventLoopDelayMaxMs]: 5, [K.gcPauseMaxMs]: 3 }),
    // Server 2: no pid (compose), but zablab reports its own RSS.
    sample(-1, 2, { [K.rssBytes]: 400 }),
    sample(0, 2, { [K.rssBytes]: 350, outstanding_requests: 3 }),
    // Server 3: a server that reports none of these keys (Apache ZooKeeper).
    sample(0, 3, { outstanding_requests: 1 }),
  ];

  it('takes RSS end and max from /proc, heap and event-loop maxima from mntr, in id order', () => {
    const r = summarizeResources(members, rss, metrics, 1_000);
    expect(r.everyMs).toBe(1_000);
    expect(r.rss.map((x) => x.id)).toEqual([1, 2, 3]);
    expect(r.servers[0]).toEqual({ id: 1, role: 'voter', rssSource: 'proc', rssBytesEnd: 200, rssBytesMax: 300, heapUsedBytesMax: 70, eventLoopDelayP99MsMax: 4, eventLoopDelayMsMax: 9, gcPauseMsMax: 3 });
  });

  it("falls back to the server's own RSS where the harness knows no pid", () => {
    const r = summarizeResources(members, rss, metrics, 1_000);
    expect(r.servers[1]).toMatchObject({ id: 2, rssSource: 'mntr', rssBytesEnd: 350, rssBytesMax: 400, heapUsedBytesMax: null });
  });

  it('leaves what nothing measured null, never 0', () => {
    const r = summarizeResources(members, rss, metrics, 1_000);
    expect(r.servers[2]).toEqual({ id: 3, role: 'observer', rssSource: null, rssBytesEnd: null, rssBytesMax: null, heapUsedBytesMax: null, eventLoopDelayP99MsMax: null, eventLoopDelayMsMax: null, gcPauseMsMax: null });
  });
});

/** The fixture's first run, with a large state and resources like a run against Apache ZooKeeper. */
function withState(): { results: ReturnType<typeof makeResultsFixture>; run: RunResult } {
  const results = makeResultsFixture();
  const run = results.runs[0]!;
  run.ensemble.program = 'zookeeper';
  run.ensemble.driver = 'zookeeper';
  run.populate = { znodes: 5_000, created: 5_000, existing: 0, root: '/zablab-populate', opsPerMulti: 1_000, multis: 5, durationMs: 400, createsPerSec: 12_500 };
  run.sessions = { sessions: 50, opened: 50, workers: 1, members: 3, openMs: 120, watchMode: 'oneShot', watchesPerSession: 10, watches: 500, watchMs: 80, watchEvents: 100, expired: 0 };
  run.resources = summarizeResources(
    [1, 2, 3].map((id) => ({ id, role: 'voter' as const })),
    [1, 2, 3].map((id) => ({ id, samples: [{ t: -1, bytes: 200 * 1024 * 1024 }, { t: 5, bytes: 250 * 1024 * 1024 }] })),
    [],
    1_000,
  );
  return { results, run };
}

describe('the report', () => {
  it('summary.md has the large state and a resources row per server, — for the event loop a JVM lacks', () => {
    const { results, run } = withState();
    const md = renderSummary(results);
    expect(md).toContain('## Large state');
    expect(md).toMatch(new RegExp(`\\| ${run.name.replace(/[/|.]/g, '.')} +\\| +5,000 \\| +400 ms \\| +12,500 \\| +50 of 50 \\| +120 ms \\| +500 oneShot \\| +80.0 ms \\| +100 \\| +0 \\|`));
    const rows = md.split('\n').filter((l) => l.includes('zookeeper/zookeeper') && l.includes('250 MiB'));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/\| +250 MiB \| +250 MiB \| +— \| +— \| +— \| +— \|$/);
  });

  it('report.html has the tables and, per run, an RSS chart and an event-loop chart', () => {
    const { results } = withState();
    const html = renderReportHtml(results);
    expect(html).toContain('id="state-cost"');
    expect(html).toContain('data-testid="table-large-state"');
    expect(html).toContain('data-testid="table-resources"');
    expect(html).toContain('data-testid="chart-rss-0"');
    expect(html).toContain('Event-loop delay: none in a JVM');
    // Without large state or resources the section is not there at all.
    expect(renderReportHtml(makeResultsFixture())).not.toContain('id="state-cost"');
  });

  it('results.json with the new sections reads back; a damaged one names the field', () => {
    const { results } = withState();
    const copy = JSON.parse(JSON.stringify(results)) as unknown;
    expect(validateResults(copy).runs[0]!.populate?.createsPerSec).toBe(12_500);
    const bad = JSON.parse(JSON.stringify(results)) as { runs: { resources: { servers: { eventLoopDelayMsMax: unknown }[] } }[] };
    bad.runs[0]!.resources.servers[1]!.eventLoopDelayMsMax = 'slow';
    expect(() => validateResults(bad)).toThrow(HarnessError);
    expect(() => validateResults(bad)).toThrow(/\$\.runs\[0\]\.resources\.servers\[1\]\.eventLoopDelayMsMax must be a number, got "slow"/);
  });

  it('reads results written before GC pauses were sampled, and names a bad one', () => {
    const { results } = withState();
    const older = JSON.parse(JSON.stringify(results)) as { runs: { resources: { servers: { gcPauseMsMax?: unknown }[] } }[] };
    for (const s of older.runs[0]!.resources.servers) delete s.gcPauseMsMax;
    expect(validateResults(older).runs[0]!.resources!.servers[0]!.gcPauseMsMax).toBeUndefined();
    older.runs[0]!.resources.servers[0]!.gcPauseMsMax = 'long';
    expect(() => validateResults(older)).toThrow(/\$\.runs\[0\]\.resources\.servers\[0\]\.gcPauseMsMax must be a number, got "long"/);
  });
});
