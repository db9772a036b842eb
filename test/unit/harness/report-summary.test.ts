/**
 * summary.md and timeline.csv from the fixture: the exact rows a user pastes in a ticket or
 * loads in a spreadsheet.
 */
import { describe, expect, it } from 'vitest';
import { renderSummary, renderTimelineCsv } from '../../../src/harness/report/index.js';
import { makeResultsFixture } from '../../helpers/results-fixture.js';

/** The lines of the markdown table that follows `heading` (header, rule and rows). */
function tableAfter(md: string, heading: string): string[] {
  const lines = md.split('\n');
  const start = lines.indexOf(heading);
  expect(start, `heading "${heading}" in summary.md`).toBeGreaterThanOrEqual(0);
  const first = lines.findIndex((l, i) => i > start && l.startsWith('|'));
  const out: string[] = [];
  for (let i = first; i < lines.length && lines[i]!.startsWith('|'); i++) out.push(lines[i]!);
  return out;
}

/** A table row's cells, trimmed (escaped pipes stay inside their cell). */
function cells(row: string): string[] {
  return row
    .slice(2, -2)
    .split(/(?<!\\) \| /)
    .map((c) => c.trim());
}

describe('summary.md', () => {
  const md = renderSummary(makeResultsFixture());

  it('starts with what ran where: tool, date, host, scenarios, runs and failures', () => {
    expect(md.split('\n').slice(0, 8)).toEqual([
      '# zablab bench results',
      '',
      '- tool: zablab 0.1.0',
      '- created: 2025-03-01 12:00:05 UTC',
      '- host: 2 CPUs, linux, Node v20.19.0',
      '- scenarios: readmix, leader-kill',
      '- runs: 7 (1 failed)',
      '',
    ]);
    expect(tableAfter(md, '## Failed runs').map(cells)).toEqual([
      ['run', 'error'],
      ['-------------', '-'.repeat(83)],
      ['leader-kill#3', 'the ensemble did not serve within 60000 ms: server 2 is looking (see s2/server.log)'],
    ]);
  });

  it('has a table per scenario: topology, read %, ops/s with separators, latencies in ms, errors by code', () => {
    const readmix = tableAfter(md, '## Scenario readmix');
    expect(readmix[0]).toBe('| run                              | topology                             | read % |  ops/s |      p50 |     p99 |   p99.9 | errors |');
    expect(readmix[1]).toBe('| -------------------------------- | ------------------------------------ | -----: | -----: | -------: | ------: | ------: | ------ |');
    expect(readmix.slice(2).map(cells)).toEqual([
      ['readmix/observers=0,readPct=50#1', '3 voters + 0 observers, local/zablab', '50', '8,210', '1.52 ms', '6.48 ms', '12.9 ms', '0'],
      ['readmix/observers=0,readPct=90#1', '3 voters + 0 observers, local/zablab', '90', '14,875', '0.940 ms', '4.21 ms', '9.87 ms', '0'],
      ['readmix/observers=2,readPct=50#1', '3 voters + 2 observers, local/zablab', '50', '7,906', '1.61 ms', '7.02 ms', '14.3 ms', '0'],
      ['readmix/observers=2,readPct=90#1', '3 voters + 2 observers, local/zablab', '90', '19,343', '0.810 ms', '3.95 ms', '8.76 ms', '0'],
    ]);
    expect(tableAfter(md, '## Scenario leader-kill').slice(2).map(cells)).toEqual([
      ['leader-kill#1', '3 voters + 0 observers, local/zablab', '80', '9,120', '1.88 ms', '213 ms', '1,480 ms', '44 (CONNECTIONLOSS 41, TIMEOUT 3)'],
      ['leader-kill#2', '3 voters + 0 observers, local/zablab', '80', '9,343', '1.88 ms', '213 ms', '1,480 ms', '44 (CONNECTIONLOSS 41, TIMEOUT 3)'],
      ['leader-kill#3', '3 voters + 0 observers, local/zablab', '80', 'failed', '—', '—', '—', '0'],
    ]);
    expect(md).toContain('Kill the leader under an 80 % read load, then restart it.\n\nSource: `bench/leader-kill.yaml`');
  });

  it('names how clients and peers were reached: +tls for the client port, +peer-tls for sslQuorum', () => {
    const r = makeResultsFixture();
    r.runs[0]!.ensemble = { ...r.runs[0]!.ensemble, tls: true, peerSecurity: 'tls' };
    r.runs[1]!.ensemble = { ...r.runs[1]!.ensemble, peerSecurity: 'none' };
    const rows = tableAfter(renderSummary(r), '## Scenario readmix').slice(2).map(cells);
    expect(rows.map((row) => row[1])).toEqual([
      '3 voters + 0 observers, local/zablab+tls+peer-tls',
      '3 voters + 0 observers, local/zablab',
      '3 voters + 2 observers, local/zablab',
      '3 voters + 2 observers, local/zablab',
    ]);
  });

  it('has a recovery row per fault, and median / max over the repeats of a cell', () => {
    expect(tableAfter(md, '## Recovery').map(cells)).toEqual([
      ['run', 'fault', 'at', 'target', 'leader elected', 'first write', 'back in service', '90 % throughput', 'write unavailable'],
      ['-------------', '-------', '-----:', '-------------', '-------------:', '----------:', '--------------:', '--------------:', '----------------:'],
      // Each kind of fault has its own columns: "first write" after a restart would time the restart itself.
      ['leader-kill#1', 'kill', '5.0 s', 'leader (id 3)', '812 ms', '1,035 ms', '—', '2,100 ms', '1,000 ms'],
      ['leader-kill#1', 'restart', '12.0 s', 'last (id 3)', '—', '—', '2,900 ms', '—', '0 ms'],
      ['leader-kill#2', 'kill', '5.0 s', 'leader (id 3)', '640 ms', '905 ms', '—', '1,800 ms', '900 ms'],
      ['leader-kill#2', 'restart', '12.0 s', 'last (id 3)', '—', '—', '2,900 ms', '—', '0 ms'],
    ]);
    expect(tableAfter(md, '### Recovery over repeats (median / max)').slice(2).map(cells)).toEqual([
      ['leader-kill', 'kill', 'leader', '2', '726 ms / 812 ms', '970 ms / 1,035 ms', '—', '1,950 ms / 2,100 ms', '950 ms / 1,000 ms'],
      ['leader-kill', 'restart', 'last', '2', '—', '—', '2,900 ms / 2,900 ms', '—', '0 ms / 0 ms'],
    ]);
  });

  it('leaves out recovery over repeats when every cell ran once', () => {
    const r = makeResultsFixture();
    r.runs = r.runs.filter((x) => x.name !== 'leader-kill#2');
    const text = renderSummary(r);
    expect(text).toContain('## Recovery');
    expect(text).not.toContain('Recovery over repeats');
  });

  it('has the write breakdown per stage and server, and the configuration of every run', () => {
    const b = tableAfter(md, '### readmix/observers=2,readPct=50#1: 4,000 writes').map(cells);
    expect(b[0]).toEqual(['stage', 'server', 'role', 'count', 'mean', 'p50', 'p99']);
    expect(b.slice(2, 4)).toEqual([
      ['request', '1', 'leader', '4,000', '3.10 ms', '2.79 ms', '9.30 ms'],
      ['queue', '1', 'leader', '4,000', '0.210 ms', '0.189 ms', '0.630 ms'],
    ]);
    expect(b).toHaveLength(2 + 15);
    const config = tableAfter(md, '## Configuration').map(cells);
    expect(config[0]).toEqual(['run', 'ensemble', 'zoo.cfg', 'load', 'workload']);
    expect(config[2]).toEqual([
      'readmix/observers=0,readPct=50#1',
      '3 voters + 0 observers, local/zablab',
      'tickTime=200, snapCount=10000',
      'native',
      '50 % reads (getData 1), writes (setData 1); 2 clients × 8 connections × 16 in flight; closed loop; 256 B values, 1,000 keys; 20.0 s measured after 5.0 s warm-up',
    ]);
    expect(config).toHaveLength(2 + 7);
  });

  it('is valid GitHub markdown: every table row has as many cells as its header, pipes and tags are escaped', () => {
    const r = makeResultsFixture();
    r.runs[0]!.name = 'a|b <img src=x onerror=alert(1)>';
    r.runs[0]!.ensemble.config = { 'weird|key': 'line1\nline2' };
    const text = renderSummary(r);
    expect(text).toContain('a\\|b &lt;img src=x onerror=alert(1)>');
    expect(text).not.toContain('<img');
    let header: number | null = null;
    for (const line of text.split('\n')) {
      if (!line.startsWith('|')) {
        header = null;
        continue;
      }
      const n = cells(line).length;
      header ??= n;
      expect(n, line).toBe(header);
    }
  });

  it('says so when there are no runs', () => {
    const r = makeResultsFixture();
    r.runs = [];
    expect(renderSummary(r)).toContain('No runs.');
  });
});

describe('timeline.csv', () => {
  const csv = renderTimelineCsv(makeResultsFixture());
  const lines = csv.trimEnd().split('\n');

  it('has the header first, then per run and second an `all` row and one row per op', () => {
    expect(lines[0]).toBe('run,t,op,ops,errors,p50_ms,p99_ms');
    expect(lines.slice(1, 4)).toEqual([
      '"readmix/observers=0,readPct=50#1",0,all,8210,0,1.52,6.48',
      '"readmix/observers=0,readPct=50#1",0,getData,4105,0,1.216,4.536',
      '"readmix/observers=0,readPct=50#1",0,setData,4105,0,2.432,6.48',
    ]);
    // 6 successful runs × 20 s × (all + 2 ops); the failed run has no timeline.
    expect(lines).toHaveLength(1 + 6 * 20 * 3);
    expect(csv.endsWith('\n')).toBe(true);
  });

  it('shows the fault in the leader-kill rows: errors and a p99 spike in second 5', () => {
    const row = lines.find((l) => l.startsWith('leader-kill#1,5,all,'));
    expect(row).toBe('leader-kill#1,5,all,443,40,1.88,1800');
  });

  it('quotes names with commas or quotes (RFC 4180)', () => {
    const r = makeResultsFixture();
    r.runs[0]!.name = 'say "hi", then';
    expect(renderTimelineCsv(r).split('\n')[1]).toBe('"say ""hi"", then",0,all,8210,0,1.52,6.48');
  });
});
