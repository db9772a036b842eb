/**
 * Scenarios as a user writes them: the shipped bench/*.yaml files parse and expand into the
 * runs they promise; a mistake in a file is reported with the file, line, field, what was
 * found and what is allowed; matrices expand in the order written and every run is checked
 * with its cell applied.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HarnessError } from '../../../src/harness/errors.js';
import {
  builtinScenario,
  builtinScenarioNames,
  describeScenario,
  describeRun,
  expandRuns,
  formatDurationMs,
  loadScenarioFile,
  parseDurationMs,
  parseScenario,
  type Scenario,
} from '../../../src/harness/scenario/index.js';

const SRC = 'bench/x.yaml';

function errorOf(fn: () => unknown): HarnessError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe('ZABLAB_BENCH_SCENARIO');
    return err as HarnessError;
  }
  throw new Error('expected a HarnessError');
}

function parseError(yaml: string): string {
  return errorOf(() => parseScenario(yaml, SRC)).message;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'zablab-scenario-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('shipped scenarios', () => {
  const expected: Record<string, number> = {
    quickstart: 1,
    'observers-vs-followers': 16,
    snapcount: 3,
    'outstanding-limit': 3,
    'leader-kill': 20,
    'leader-kill-observers': 20,
    standalone: 4,
    'compare-zookeeper': 4,
    tls: 16,
    partitions: 2,
    'tracing-overhead': 18,
  };

  it('are all found as built-ins', () => {
    expect(builtinScenarioNames()).toEqual(expect.arrayContaining(Object.keys(expected)));
  });

  it.each(Object.entries(expected))('%s parses and expands into %i runs, each short enough for a 2-core machine', (name, runs) => {
    const s = loadScenarioFile(builtinScenario(name));
    expect(s.name).toBe(name);
    expect(s.description).not.toBe('');
    const plans = expandRuns(s);
    expect(plans).toHaveLength(runs);
    expect(new Set(plans.map((p) => p.name)).size).toBe(runs);
    // One line per run; a run with repeating faults or partitions by mode adds its timeline, indented.
    expect(describeScenario(s).split('\n').filter((l) => !l.startsWith('  '))).toHaveLength(runs);
    for (const p of plans) {
      expect(p.workload.warmupMs + p.workload.durationMs).toBeLessThanOrEqual(60_000);
      expect(p.ensemble.voters + p.ensemble.observers).toBeLessThanOrEqual(7);
    }
  });

  it('quickstart: 3 voters, 80 % reads, a leader kill and a restart inside the window, spans on', () => {
    const [run] = expandRuns(loadScenarioFile(builtinScenario('quickstart')));
    expect(run?.name).toBe('quickstart');
    expect(run?.ensemble).toMatchObject({ driver: 'local', voters: 3, observers: 0 });
    expect(run?.load.driver).toBe('native');
    expect(run?.workload).toMatchObject({
      readPct: 80,
      reads: { getData: 8, exists: 1, getChildren: 1 },
      writes: { setData: 3, create: 1, delete: 1 },
      clients: 2,
      connections: 4,
      durationMs: 20_000,
      warmupMs: 3_000,
      rate: null,
    });
    expect(run?.faults).toEqual([
      { atMs: 8_000, action: 'kill', target: 'leader' },
      { atMs: 14_000, action: 'restart', target: 'last' },
    ]);
    expect(run?.spans).toBe(true);
    // Ensemble start (~3 s) + warm-up + window must leave room under a minute.
    expect(3_000 + (run?.workload.warmupMs ?? 0) + (run?.workload.durationMs ?? 0)).toBeLessThan(60_000);
  });

  it('partitions: 5 voters on zablab and Apache ZooKeeper with history on, random halves, the leader isolated and killed, one seed for both', () => {
    const runs = expandRuns(loadScenarioFile(builtinScenario('partitions')));
    expect(runs.map((r) => [r.ensemble.driver, r.ensemble.voters, r.seed, r.history])).toEqual([
      ['local', 5, 20261207, true],
      ['zookeeper', 5, 20261207, true],
    ]);
    expect(runs[0]?.faults.map((f) => [f.action, f.mode ?? f.target, f.repeat?.everyMs ?? null])).toEqual([
      ['partition', 'random-halves', 8_000],
      ['partition', 'isolate-leader', 8_000],
      ['kill', 'leader', 6_000],
    ]);
  });

  it('observers-vs-followers holds the cells that answer its question', () => {
    const names = expandRuns(loadScenarioFile(builtinScenario('observers-vs-followers'))).map((r) => r.name);
    for (const readPct of [0, 50, 90, 99]) {
      expect(names).toContain(`observers-vs-followers/voters=3,observers=0,readPct=${readPct}`);
      expect(names).toContain(`observers-vs-followers/voters=3,observers=2,readPct=${readPct}`);
      expect(names).toContain(`observers-vs-followers/voters=5,observers=0,readPct=${readPct}`);
    }
  });

  it('compare-zookeeper runs both programs with native load, and outstanding-limit is open loop', () => {
    const cmp = expandRuns(loadScenarioFile(builtinScenario('compare-zookeeper')));
    expect(cmp.map((r) => [r.ensemble.driver, r.workload.readPct, r.load.driver])).toEqual([
      ['local', 0, 'native'],
      ['local', 90, 'native'],
      ['zookeeper', 0, 'native'],
      ['zookeeper', 90, 'native'],
    ]);
    const limits = expandRuns(loadScenarioFile(builtinScenario('outstanding-limit')));
    expect(limits.map((r) => r.ensemble.config.globalOutstandingLimit)).toEqual(['100', '1000', '10000']);
    expect(limits.every((r) => r.workload.rate === 40_000)).toBe(true);
  });
});

describe('defaults', () => {
  it('a file with only a name is a 3-voter local ensemble under a 50 % read closed-loop load for 30 s', () => {
    const s = parseScenario('name: minimal\n', SRC);
    expect(s).toEqual<Scenario>({
      name: 'minimal',
      description: '',
      ensemble: { driver: 'local', voters: 3, observers: 0, tls: false, config: {} },
      workload: {
        readPct: 50,
        reads: { getData: 1 },
        writes: { setData: 1 },
        valueSize: 128,
        keys: 1_000,
        clients: 2,
        connections: 8,
        pipelining: 16,
        rate: null,
        durationMs: 30_000,
        warmupMs: 5_000,
        populate: 0,
        sessions: 0,
        watches: 0,
        watchMode: 'oneShot',
      },
      load: { driver: 'native' },
      faults: [],
      repeats: 1,
      matrix: {},
      spans: false,
      spansSample: 1,
      history: false,
      source: SRC,
    });
    expect(expandRuns(s).map((r) => [r.name, r.repeat, r.cell])).toEqual([['minimal', 1, {}]]);
  });

  it('history: false unless asked; with it, a run describes the register workload instead of the mix', () => {
    expect(expandRuns(parseScenario('name: x\n', SRC)).map((r) => r.history)).toEqual([false]);
    const runs = expandRuns(parseScenario('name: h\nhistory: true\nworkload: {readPct: 60, keys: 5, duration: 10s, warmup: 1s}\n', SRC));
    expect(runs.map((r) => r.history)).toEqual([true]);
    expect(describeRun(runs[0]!)).toBe(
      'h: local 3 voters; native load, 2 clients x 8 connections, closed loop, pipelining 16; history: register workload on 5 keys, 60% reads (sync + getData), writes half setData of unique values, half cas (setData at a version), plus set adds and counter increments; checked after the run; 1s warm-up + 10s; no faults',
    );
  });

  it('spans: a share of requests traces that share; true traces every request', () => {
    const sampled = expandRuns(parseScenario('name: x\nspans: 0.1\n', SRC));
    expect(sampled.map((r) => [r.spans, r.spansSample])).toEqual([[true, 0.1]]);
    expect(describeRun(sampled[0]!)).toMatch(/; spans 10 %$/);
    expect(expandRuns(parseScenario('name: x\nspans: true\n', SRC)).map((r) => [r.spans, r.spansSample])).toEqual([[true, 1]]);
  });

  it('spans may be a matrix field: 0 is off, so [0, 1] is one run without spans and one tracing every request', () => {
    const runs = expandRuns(parseScenario('name: x\nmatrix:\n  spans: [0, 0.01, 1]\n', SRC));
    expect(runs.map((r) => [r.name, r.spans, r.spansSample])).toEqual([
      ['x/spans=0', false, 1],
      ['x/spans=0.01', true, 0.01],
      ['x/spans=1', true, 1],
    ]);
    expect(describeRun(runs[0]!)).not.toMatch(/; spans/);
    expect(describeRun(runs[1]!)).toMatch(/; spans 1 %$/);
    expect(describeRun(runs[2]!)).toMatch(/; spans$/);
    // The matrix wins over the scenario's own spans, as for any other field.
    const over = expandRuns(parseScenario('name: x\nspans: 0.1\nmatrix: {spans: [0, true]}\n', SRC));
    expect(over.map((r) => [r.spans, r.spansSample])).toEqual([[false, 1], [true, 1]]);
    expect(expandRuns(parseScenario('name: x\nspans: 0\n', SRC)).map((r) => r.spans)).toEqual([false]);
    expect(parseError('name: x\nmatrix:\n  spans: [0, 2]\n')).toBe('bench/x.yaml:3: matrix.spans[1] must be true, false, 0 (off) or the share of requests to trace (0.0001 to 1, e.g. 0.1), got 2');
  });

  it('tracing-overhead: the load of the script it replaces, with tracing off, 1 % and 100 %', () => {
    const runs = expandRuns(loadScenarioFile(builtinScenario('tracing-overhead')));
    for (const r of runs) {
      expect(r.ensemble).toMatchObject({ driver: 'local', voters: 1, observers: 0 });
      expect(r.workload).toMatchObject({ reads: { getData: 1 }, writes: { setData: 1 }, valueSize: 100, keys: 1_000, clients: 2, connections: 4, pipelining: 64, rate: null, durationMs: 10_000, warmupMs: 3_000 });
      expect(r.faults).toEqual([]);
    }
    expect(new Set(runs.map((r) => `${r.workload.readPct} ${r.spans} ${r.spansSample}`))).toEqual(
      new Set(['0 false 1', '0 true 0.01', '0 true 1', '100 false 1', '100 true 0.01', '100 true 1']),
    );
    expect(runs.filter((r) => r.name.startsWith('tracing-overhead/readPct=0,spans=0#'))).toHaveLength(3);
  });

  it('empty sections mean defaults; given weights replace the default ones; config values become zoo.cfg text', () => {
    const s = parseScenario(
      ['name: x', 'ensemble:', '  config: {snapCount: 1000, forceSync: false, autopurge.purgeInterval: 1}', 'workload:', '  reads: {exists: 2}', 'load:', 'faults:', 'matrix:'].join('\n'),
      SRC,
    );
    expect(s.ensemble.config).toEqual({ snapCount: '1000', forceSync: 'false', 'autopurge.purgeInterval': '1' });
    expect(s.workload.reads).toEqual({ exists: 2 });
    expect(s.workload.writes).toEqual({ setData: 1 });
    expect(s.load.driver).toBe('native');
    expect(s.faults).toEqual([]);
    expect(s.matrix).toEqual({});
  });

  it('external: members are the listed servers; zookeeperHome stays only on zookeeper runs', () => {
    const ext = parseScenario('name: x\nensemble:\n  driver: external\n  voters: 7\n  servers:\n    - {host: db1.example, clientPort: 2181, httpPort: 8080}\n    - {host: db2.example, clientPort: 2181}\n', SRC);
    const [run] = expandRuns(ext);
    expect(run?.ensemble).toMatchObject({ driver: 'external', voters: 2, observers: 0 });
    expect(run?.ensemble.external).toEqual([
      { host: 'db1.example', clientPort: 2181, httpPort: 8080 },
      { host: 'db2.example', clientPort: 2181 },
    ]);
    const token = parseScenario('name: x\nensemble:\n  driver: external\n  adminTokenFile: /etc/zk/admin-token\n  servers: [{host: db1.example, clientPort: 2181, httpPort: 8080}]\n', SRC);
    expect(expandRuns(token)[0]?.ensemble.adminTokenFile).toBe('/etc/zk/admin-token');
    const zk = parseScenario('name: x\nensemble: {zookeeperHome: /opt/zookeeper}\nmatrix:\n  ensemble.driver: [local, zookeeper]\n', SRC);
    expect(expandRuns(zk).map((r) => r.ensemble.zookeeperHome)).toEqual([undefined, '/opt/zookeeper']);
  });
});

describe('validation errors name the file, line, field, what was found and what is allowed', () => {
  const cases: [string, string, string[]][] = [
    ['a word for readPct', 'name: x\nworkload:\n  readPct: lots\n', ['bench/x.yaml:3: workload.readPct must be a number from 0 to 100, got "lots"']],
    ['an unknown fault action', 'name: x\nfaults:\n  - {at: 1s, action: kill, target: leader}\n  - {at: 2s, action: nuke, target: last}\n', ['bench/x.yaml:4: faults[1].action must be one of kill, pause, resume, restart, partition, heal, add-observer, got "nuke"']],
    ['a typo in a top-level key', 'name: x\nworkloads: {}\n', [':2: workloads is not a scenario field (did you mean workload?); allowed: name, description, ensemble, workload, load, faults, repeats, spans, history, seed, matrix']],
    ['a typo in a workload key', 'name: x\nworkload:\n  readPcnt: 3\n', [':3: workload.readPcnt is not a workload field (did you mean readPct?); allowed: readPct,', 'warmup, populate, sessions, watches, watchMode, reads, writes']],
    ['a typo in an ensemble key', 'name: x\nensemble: {observer: 2}\n', ['ensemble.observer is not an ensemble field (did you mean observers?); allowed: driver, voters, observers, spareObservers, tls, peerSecurity, config, servers, adminTokenFile, zookeeperHome']],
    ['an empty file', '', ['bench/x.yaml: is empty', 'name']],
    ['a comment-only file', '# nothing yet\n', ['bench/x.yaml: is empty']],
    ['a list instead of a mapping', '- a\n- b\n', ['bench/x.yaml: must hold a mapping of scenario fields (name, description', 'got a list']],
    ['broken YAML', 'name: x\nworkload: [1\n', ['bench/x.yaml: is not valid YAML', 'line']],
    ['a duplicate key', 'name: x\nname: y\n', ['bench/x.yaml: is not valid YAML: Map keys must be unique at line 2']],
    ['two documents', 'name: x\n---\nname: y\n', ['bench/x.yaml: is not valid YAML', 'multiple documents']],
    ['a missing name', 'workload: {readPct: 1}\n', ["name is required: lowercase letters, digits and '-'"]],
    ['an upper-case name', 'name: Quick\n', [":1: name must be lowercase letters, digits and '-' (at most 64 characters), got \"Quick\""]],
    ['an unknown ensemble driver', 'name: x\nensemble: {driver: k8s}\n', ['ensemble.driver must be one of local, zookeeper, external, compose, got "k8s"']],
    ['zero voters', 'name: x\nensemble: {voters: 0}\n', ['ensemble.voters must be an integer from 1 to 15, got 0']],
    ['fractional observers', 'name: x\nensemble: {observers: 1.5}\n', ['ensemble.observers must be an integer from 0 to 15, got 1.5']],
    ['a layout key in config', 'name: x\nensemble:\n  config:\n    clientPort: 2181\n', [':4: ensemble.config.clientPort cannot be set: the ensemble driver owns dataDir', 'server.N']],
    ['a server.N line in config', 'name: x\nensemble: {config: {server.1: "127.0.0.1:2888:3888"}}\n', ['ensemble.config.server.1 cannot be set']],
    ['a bad config key', 'name: x\nensemble: {config: {"snap count": 1}}\n', ['ensemble.config["snap count"] is not a zoo.cfg key: keys are letters, digits, \'.\' and \'_\'']],
    ['a list as a config value', 'name: x\nensemble: {config: {snapCount: [1]}}\n', ['ensemble.config.snapCount must be a zoo.cfg value (a string, number or true/false), got a list']],
    ['servers without driver external', 'name: x\nensemble: {servers: [{host: a, clientPort: 2181}]}\n', ['run x: ensemble.servers is only for driver external (this run\'s driver is local)']],
    ['a token file without driver external', 'name: x\nensemble: {adminTokenFile: /t}\n', ['run x: ensemble.adminTokenFile is only for driver external (the other drivers make their own token)']],
    ['external without servers', 'name: x\nensemble: {driver: external}\n', ['run x: ensemble.servers is required with driver external']],
    ['an external server without a port', 'name: x\nensemble: {driver: external, servers: [{host: a}]}\n', ['ensemble.servers[0].clientPort is required']],
    ['faults on an external ensemble', 'name: x\nensemble: {driver: external, servers: [{host: a, clientPort: 2181}]}\nfaults: [{at: 1s, action: kill, target: leader}]\n', ['run x: faults are not possible with driver external']],
    ['a write op under reads', 'name: x\nworkload: {reads: {setData: 1}}\n', ['workload.reads.setData belongs under workload.writes; workload.reads takes getData, exists, getChildren']],
    ['an unknown write op', 'name: x\nworkload: {writes: {upsert: 1}}\n', ['workload.writes.upsert is not a write op; allowed: setData, create, delete, multi, sync']],
    ['a negative weight', 'name: x\nworkload: {writes: {create: -1}}\n', ['workload.writes.create must be a number from 0 to 1000000, got -1']],
    ['reads that weigh nothing', 'name: x\nworkload: {readPct: 50, reads: {getData: 0}}\n', ['run x: workload.reads must give some read op a weight above 0 when readPct is 50']],
    ['no writes under a write share', 'name: x\nworkload: {readPct: 90, writes: {}}\n', ['run x: workload.writes must give some write op a weight above 0 when readPct is 90']],
    ['a huge value', 'name: x\nworkload: {valueSize: 2000000}\n', ['workload.valueSize must be an integer from 0 to 1048576, got 2000000']],
    ['no keys', 'name: x\nworkload: {keys: 0}\n', ['workload.keys must be an integer from 1 to 1000000, got 0']],
    ['too many clients', 'name: x\nworkload: {clients: 65}\n', ['workload.clients must be an integer from 1 to 64, got 65']],
    ['too many connections', 'name: x\nworkload: {connections: 2000}\n', ['workload.connections must be an integer from 1 to 1024, got 2000']],
    ['zero pipelining', 'name: x\nworkload: {pipelining: 0}\n', ['workload.pipelining must be an integer from 1 to 1024, got 0']],
    ['a rate with a separator', 'name: x\nworkload: {rate: 40_000}\n', ['workload.rate must be a number of ops/s from 1 to 10000000 (open loop), or null for closed loop, got "40_000"']],
    ['a duration with a bad unit', 'name: x\nworkload: {duration: 5x}\n', ['workload.duration must be a duration from 1s to 24h (e.g. 500ms, 30s, 2m, 1m30s, or a number of seconds), got "5x"']],
    ['a too short duration', 'name: x\nworkload: {duration: 500ms}\n', ['workload.duration must be a duration from 1s to 24h', 'got "500ms"']],
    ['a too long warm-up', 'name: x\nworkload: {warmup: 2h}\n', ['workload.warmup must be a duration from 0s to 1h']],
    ['an unknown load driver', 'name: x\nload: {driver: wrk}\n', ['load.driver must be one of native, http, got "wrk"']],
    ['http load on ZooKeeper', 'name: x\nensemble: {driver: zookeeper}\nload: {driver: http}\n', ['run x: load.driver is http, which is not possible with ensemble driver zookeeper', 'use load.driver: native']],
    ['multi over http', 'name: x\nworkload: {writes: {multi: 1}}\nload: {driver: http}\n', ['run x: workload.writes.multi is not possible with load.driver http, which supports only getData, exists, getChildren, setData, create, delete']],
    ['http on an external server without an HTTP port', 'name: x\nensemble: {driver: external, servers: [{host: a, clientPort: 2181}]}\nload: {driver: http}\n', ['run x: ensemble.servers[0].httpPort is required with load.driver http']],
    ['a fault without a target', 'name: x\nfaults: [{at: 1s, action: kill}]\n', ['faults[0].target is required for kill (e.g. {at: 10s, action: kill, target: leader})']],
    ['a fault with an unknown key', 'name: x\nfaults: [{at: 1s, action: kill, target: leader, when: now}]\n', ['faults[0].when is not a fault field; allowed: at, action, target, mode, every, for']],
    ['an unknown target', 'name: x\nfaults: [{at: 1s, action: kill, target: boss}]\n', ['faults[0].target must be one of leader, follower, observer, random-voter, last or a server id (1 to 45), got "boss"']],
    ['a fault after the window', 'name: x\nfaults: [{at: 30s, action: kill, target: leader}]\n', ['run x: faults[0].at (30s) must be within the measured window, from 0s to before workload.duration (30s)']],
    ['faults out of order', 'name: x\nfaults:\n  - {at: 9s, action: kill, target: leader}\n  - {at: 5s, action: restart, target: last}\n', [':4: faults[1].at (5s) is before faults[0].at (9s): list faults in the order they fire']],
    ['last with nothing before it', 'name: x\nfaults: [{at: 1s, action: kill, target: last}]\n', ['faults[0].target is last, but no earlier fault hit a server']],
    ['resume without a pause', 'name: x\nfaults:\n  - {at: 1s, action: kill, target: leader}\n  - {at: 2s, action: resume, target: last}\n', ['faults[1].action needs a server that an earlier fault paused', 'no earlier pause']],
    ['restart without a kill', 'name: x\nfaults:\n  - {at: 1s, action: pause, target: 2}\n  - {at: 2s, action: restart, target: 2}\n', ['faults[1].action needs a server that an earlier fault killed', 'no earlier kill']],
    ['restart of a role target', 'name: x\nfaults:\n  - {at: 1s, action: kill, target: leader}\n  - {at: 2s, action: restart, target: leader}\n', ['faults[1].target must be last or a server id to restart: leader picks a server that is up']],
    ['a kill of a killed server', 'name: x\nfaults:\n  - {at: 1s, action: kill, target: 1}\n  - {at: 2s, action: kill, target: 1}\n', ['faults[1].action cannot run: faults[1] (kill 1) hits a server that is already killed (restart it first)']],
    ['heal without a partition', 'name: x\nfaults: [{at: 1s, action: heal, target: 1}]\n', ['faults[0].action needs a server that an earlier fault partitioned']],
    ['a follower in a 1-voter ensemble', 'name: x\nensemble: {voters: 1}\nfaults: [{at: 1s, action: kill, target: follower}]\n', ['run x: faults[0].target is follower, but this run has 1 voter and so no follower']],
    ['an id outside the ensemble', 'name: x\nensemble: {observers: 1}\nfaults: [{at: 1s, action: kill, target: 5}]\n', ["run x: faults[0].target is server 5, but this run's members are 1 to 4 (voters 1 to 3, observers 4 to 4)"]],
    ['repeats out of range', 'name: x\nrepeats: 0\n', ['repeats must be an integer from 1 to 1000, got 0']],
    ['spans neither a boolean nor a share', 'name: x\nspans: yes\n', ['spans must be true, false, 0 (off) or the share of requests to trace (0.0001 to 1, e.g. 0.1), got "yes"']],
    ['spans as a share out of range', 'name: x\nspans: 1.5\n', ['spans must be true, false, 0 (off) or the share of requests to trace (0.0001 to 1, e.g. 0.1), got 1.5']],
    ['history neither true nor false', 'name: x\nhistory: yes\n', [':2: history must be true or false, got "yes"']],
    ['history with http load', 'name: x\nhistory: true\nload: {driver: http}\n', [':2: run x: history is true, but the http load driver (autocannon on the REST face) sends neither versioned setData nor sync', 'load.driver: native']],
    ['a matrix path that cannot vary', 'name: x\nmatrix: {workload.reads: [1]}\n', ['matrix.workload.reads is not a field a matrix can vary; allowed: ensemble.driver, ensemble.voters, ensemble.observers, ensemble.spareObservers, ensemble.tls, ensemble.peerSecurity, ensemble.config.<key>, workload.readPct,', 'load.driver']],
    ['a matrix over a layout key', 'name: x\nmatrix: {ensemble.config.dataDir: [a, b]}\n', ['matrix.ensemble.config.dataDir cannot be set']],
    ['an empty matrix list', 'name: x\nmatrix: {workload.readPct: []}\n', ['matrix.workload.readPct must be a non-empty list of values, got a list']],
    ['a matrix scalar instead of a list', 'name: x\nmatrix: {workload.readPct: 50}\n', ['matrix.workload.readPct must be a non-empty list of values, got 50']],
    ['a bad matrix value', 'name: x\nmatrix:\n  workload.readPct:\n    - 0\n    - 500\n', [':5: matrix.workload.readPct[1] must be a number from 0 to 100, got 500']],
    ['a bad matrix duration', 'name: x\nmatrix: {workload.duration: [10s, soon]}\n', ['matrix.workload.duration[1] must be a duration from 1s to 24h']],
    ['a repeated matrix value', 'name: x\nmatrix: {ensemble.observers: [1, 1]}\n', ['matrix.ensemble.observers[1] repeats the value 1: each value of a matrix list must be different']],
    ['a matrix value unsafe in run names', 'name: x\nmatrix: {ensemble.config.x: ["a/b", c]}\n', ['matrix.ensemble.config.x[0] must be made of letters, digits', 'got "a/b"']],
    ['too many runs', 'name: x\nrepeats: 10\nmatrix: {workload.readPct: [1,2,3,4,5,6,7,8,9,10,11], workload.clients: [1,2,3,4,5,6,7,8,9,10]}\n', ['matrix expands into 1100 runs (11 × 10 × 10 repeats); at most 1000']],
  ];

  it.each(cases)('%s', (_what, yaml, parts) => {
    const message = parseError(yaml);
    expect(message.startsWith('bench/x.yaml')).toBe(true);
    for (const part of parts) expect(message).toContain(part);
  });

  it('a scenario file longer than the limit is refused before parsing', () => {
    expect(parseError(`name: x\ndescription: "${'a'.repeat(1_100_000)}"\n`)).toMatch(/^bench\/x\.yaml: is \d+ characters long; a scenario file may have at most 1048576/);
  });
});

describe('matrix expansion', () => {
  const yaml = [
    'name: grid',
    'ensemble:',
    '  voters: 3',
    'workload:',
    '  duration: 20s',
    'repeats: 2',
    'matrix:',
    '  ensemble.observers: [0, 2]',
    '  workload.readPct: [50, 90]',
    '  ensemble.config.snapCount: [1000]',
    '',
  ].join('\n');

  it('takes the keys in the order written (the first varying slowest), values in order, repeats innermost', () => {
    const runs = expandRuns(parseScenario(yaml, SRC));
    expect(runs.map((r) => r.name)).toEqual([
      'grid/observers=0,readPct=50,snapCount=1000#1',
      'grid/observers=0,readPct=50,snapCount=1000#2',
      'grid/observers=0,readPct=90,snapCount=1000#1',
      'grid/observers=0,readPct=90,snapCount=1000#2',
      'grid/observers=2,readPct=50,snapCount=1000#1',
      'grid/observers=2,readPct=50,snapCount=1000#2',
      'grid/observers=2,readPct=90,snapCount=1000#1',
      'grid/observers=2,readPct=90,snapCount=1000#2',
    ]);
    expect(runs.map((r) => r.repeat)).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
  });

  it('applies each cell to its run and leaves the scenario untouched', () => {
    const s = parseScenario(yaml, SRC);
    const runs = expandRuns(s);
    const last = runs[runs.length - 1];
    expect(last?.cell).toEqual({ 'ensemble.observers': 2, 'workload.readPct': 90, 'ensemble.config.snapCount': 1000 });
    expect(last?.ensemble).toMatchObject({ voters: 3, observers: 2, config: { snapCount: '1000' } });
    expect(last?.workload.readPct).toBe(90);
    expect(last?.scenario).toBe('grid');
    expect(s.ensemble.observers).toBe(0);
    expect(s.ensemble.config).toEqual({});
    expect(s.workload.readPct).toBe(50);
    expect(s.matrix).toEqual({ 'ensemble.observers': [0, 2], 'workload.readPct': [50, 90], 'ensemble.config.snapCount': [1000] });
  });

  it('matrix durations and drivers take the same forms as their fields; one repeat adds no #', () => {
    const s = parseScenario('name: d\nmatrix:\n  workload.duration: [10s, 1m30s]\n  load.driver: [native, http]\n', SRC);
    const runs = expandRuns(s);
    expect(runs.map((r) => r.name)).toEqual(['d/duration=10s,driver=native', 'd/duration=10s,driver=http', 'd/duration=1m30s,driver=native', 'd/duration=1m30s,driver=http']);
    expect(runs.map((r) => [r.workload.durationMs, r.load.driver])).toEqual([
      [10_000, 'native'],
      [10_000, 'http'],
      [90_000, 'native'],
      [90_000, 'http'],
    ]);
  });

  it('names runs by full path where two fields share a last segment', () => {
    const s = parseScenario('name: c\nmatrix:\n  ensemble.driver: [local]\n  load.driver: [native, http]\n', SRC);
    expect(expandRuns(s).map((r) => r.name)).toEqual(['c/ensemble.driver=local,load.driver=native', 'c/ensemble.driver=local,load.driver=http']);
  });

  it('allows exactly 1,000 runs', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1).join(', ');
    const s = parseScenario(`name: big\nrepeats: 10\nmatrix:\n  workload.keys: [${values}]\n`, SRC);
    expect(expandRuns(s)).toHaveLength(1_000);
  });
});

describe('ensemble.tls', () => {
  it('tls.yaml runs both programs plaintext and over TLS on the client port and between peers, with native load', () => {
    const runs = expandRuns(loadScenarioFile(builtinScenario('tls')));
    const cells = [
      ['local', 'none', false],
      ['local', 'none', true],
      ['local', 'tls', false],
      ['local', 'tls', true],
      ['zookeeper', 'none', false],
      ['zookeeper', 'none', true],
      ['zookeeper', 'tls', false],
      ['zookeeper', 'tls', true],
    ] as const;
    expect(runs.map((r) => [r.name, r.ensemble.driver, r.ensemble.peerSecurity, r.ensemble.tls, r.load.driver])).toEqual(
      cells.flatMap(([driver, peers, tls]) =>
        [1, 2].map((i) => [`tls/driver=${driver},peerSecurity=${peers},tls=${tls}#${i}`, driver, peers, tls, 'native']),
      ),
    );
    expect(describeRun(runs[6]!)).toMatch(/^tls\/driver=local,peerSecurity=tls,tls=true#1: local 3 voters over TLS, peers tls; native load/);
  });

  it('is a boolean, and only for drivers that make certificates and for native load', () => {
    expect(parseScenario('name: t\nensemble: {tls: true}\n', SRC).ensemble.tls).toBe(true);
    expect(parseError('name: t\nensemble: {tls: yes please}\n')).toBe('bench/x.yaml:2: ensemble.tls must be true or false, got "yes please"');
    expect(parseError('name: t\nensemble: {tls: true, driver: compose}\n')).toContain(
      'ensemble.tls is true, but driver compose cannot serve TLS: the local and zookeeper drivers make the run\'s certificates and secureClientPorts',
    );
    expect(parseError('name: t\nload: {driver: http}\nmatrix:\n  ensemble.tls: [false, true]\n')).toContain(
      'run t/tls=true: matrix.ensemble.tls is true, but the http load drives the REST face, not the client port: TLS is measured with load.driver: native',
    );
  });
});

describe('ensemble.peerSecurity', () => {
  it('is none, secret or tls, for the drivers that make peer credentials; Apache ZooKeeper has no secret', () => {
    expect(parseScenario('name: t\nensemble: {peerSecurity: tls}\n', SRC).ensemble.peerSecurity).toBe('tls');
    expect(parseScenario('name: t\n', SRC).ensemble.peerSecurity).toBeUndefined();
    expect(parseError('name: t\nensemble: {peerSecurity: open}\n')).toContain('ensemble.peerSecurity must be one of');
    expect(parseError('name: t\nensemble: {peerSecurity: tls, driver: compose}\n')).toContain(
      'ensemble.peerSecurity is set, but driver compose has its own peer credentials: peerSecurity is for the local and zookeeper drivers',
    );
    expect(parseError('name: t\nensemble: {driver: zookeeper}\nmatrix:\n  ensemble.peerSecurity: [none, secret]\n')).toContain(
      "run t/peerSecurity=secret: matrix.ensemble.peerSecurity is secret, zablab's own quorum authentication: Apache ZooKeeper runs with none or tls (sslQuorum)",
    );
  });
});

describe('each run is checked with its cell applied', () => {
  it('a fault on an observer fails in the cell with 0 observers, naming the run and the line', () => {
    const msg = parseError('name: obs\nmatrix:\n  ensemble.observers: [2, 0]\nfaults:\n  - {at: 1s, action: kill, target: observer}\n');
    expect(msg).toBe('bench/x.yaml:5: run obs/observers=0: faults[0].target is observer, but this run has 0 observers');
  });

  it('http load fails in the zookeeper cell of a driver matrix', () => {
    expect(parseError('name: h\nload: {driver: http}\nmatrix:\n  ensemble.driver: [local, zookeeper]\n')).toContain('run h/driver=zookeeper: load.driver is http, which is not possible with ensemble driver zookeeper');
  });

  it('history fails in the http cell of a load driver matrix', () => {
    expect(parseError('name: h\nhistory: true\nmatrix:\n  load.driver: [native, http]\n')).toBe(
      "bench/x.yaml:2: run h/driver=http: history is true, but the http load driver (autocannon on the REST face) sends neither versioned setData nor sync, which a history's cas and reads need: record histories with load.driver: native",
    );
  });

  it('a fault past a shorter matrix duration fails in that cell', () => {
    expect(parseError('name: f\nfaults: [{at: 15s, action: kill, target: leader}]\nmatrix:\n  workload.duration: [30s, 10s]\n')).toContain('run f/duration=10s: faults[0].at (15s) must be within the measured window, from 0s to before workload.duration (10s)');
  });

  it('a server id beyond the smaller topology fails in that cell', () => {
    expect(parseError('name: i\nfaults: [{at: 1s, action: kill, target: 5}]\nmatrix:\n  ensemble.voters: [5, 3]\n')).toContain("run i/voters=3: faults[0].target is server 5, but this run's members are 1 to 3");
  });

  it('a read share of 100 in a cell lets http run even with a multi weight', () => {
    const s = parseScenario('name: r\nload: {driver: http}\nworkload: {writes: {multi: 1}}\nmatrix:\n  workload.readPct: [100]\n', SRC);
    expect(expandRuns(s)).toHaveLength(1);
    expect(parseError('name: r\nload: {driver: http}\nworkload: {writes: {multi: 1}}\nmatrix:\n  workload.readPct: [100, 99]\n')).toContain('run r/readPct=99: workload.writes.multi is not possible with load.driver http');
  });

  it('expandRuns re-checks a Scenario built in code, naming the source and the run', () => {
    const s = parseScenario('name: code\nmatrix:\n  ensemble.observers: [0, 1]\n', 'scenarios/code.yaml');
    s.faults = [{ atMs: 1_000, action: 'kill', target: 'observer' }];
    expect(errorOf(() => expandRuns(s)).message).toBe('scenarios/code.yaml: run code/observers=0: faults[0].target is observer, but this run has 0 observers');
    s.matrix = { 'workload.readPct': [150] };
    expect(errorOf(() => expandRuns(s)).message).toBe('scenarios/code.yaml: run code/readPct=150: matrix.workload.readPct[0] must be a number from 0 to 100, got 150');
  });

  it('a kill, a restart by id after a role kill, and pause/resume chains on last are accepted', () => {
    const s = parseScenario(
      [
        'name: chain',
        'ensemble: {observers: 1}',
        'faults:',
        '  - {at: 1s, action: kill, target: leader}',
        '  - {at: 2s, action: restart, target: last}',
        '  - {at: 3s, action: pause, target: observer}',
        '  - {at: 4s, action: partition, target: last}',
        '  - {at: 5s, action: resume, target: last}',
        '  - {at: 6s, action: heal, target: last}',
        '  - {at: 7s, action: kill, target: follower}',
        '  - {at: 8s, action: restart, target: 2}',
        '',
      ].join('\n'),
      SRC,
    );
    expect(s.faults.map((f) => f.target)).toEqual(['leader', 'last', 'observer', 'last', 'last', 'last', 'follower', { id: 2 }]);
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    [' 10s ', 10_000],
    [0, 0],
    [20, 20_000],
    [0.25, 250],
  ] as const)('%j is %i ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', '10', '5x', '-1s', 's', '1 s', '10sec', 'soon', '1e3s'] as const)('%j is not a duration', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, null, true, {}])('%j is not a duration', (value) => {
    expect(parseDurationMs(value)).toBeUndefined();
  });

  it('formats whole milliseconds in the shortest exact form', () => {
    expect([0, 500, 1_000, 1_500, 90_000, 3_600_000, 86_400_000].map(formatDurationMs)).toEqual(['0s', '500ms', '1s', '1s500ms', '1m30s', '1h', '24h']);
  });

  it('fault times accept the same forms', () => {
    const s = parseScenario('name: t\nfaults:\n  - {at: 0, action: pause, target: 1}\n  - {at: 1500ms, action: resume, target: last}\n  - {at: 2.5, action: kill, target: leader}\n', SRC);
    expect(s.faults.map((f) => f.atMs)).toEqual([0, 1_500, 2_500]);
  });
});

describe('files and descriptions', () => {
  it('loads a scenario from a file and names the file in its errors', () => {
    const good = path.join(tmp, 'good.yaml');
    writeFileSync(good, 'name: from-file\nworkload: {readPct: 90}\n');
    expect(loadScenarioFile(good)).toMatchObject({ name: 'from-file', source: good, workload: { readPct: 90 } });
    const bad = path.join(tmp, 'bad.yaml');
    writeFileSync(bad, 'name: from-file\nworkload: {readPct: 900}\n');
    expect(errorOf(() => loadScenarioFile(bad)).message).toBe(`${bad}:2: workload.readPct must be a number from 0 to 100, got 900`);
  });

  it('a missing file or a directory is a clear error', () => {
    const missing = path.join(tmp, 'nope.yaml');
    expect(errorOf(() => loadScenarioFile(missing)).message).toMatch(/nope\.yaml: no such file: give the path of a scenario YAML file \(built-in ones: .*quickstart/);
    expect(errorOf(() => loadScenarioFile(tmp)).message).toContain(': is not a file');
  });

  it('an unknown built-in names the ones there are', () => {
    expect(errorOf(() => builtinScenario('quick-start')).message).toMatch(/^there is no built-in scenario "quick-start"; built-in ones: .*leader-kill.*quickstart/);
    expect(errorOf(() => builtinScenario('../package')).message).toContain('there is no built-in scenario');
  });

  it('describes one run per line: name, driver, topology, mix, durations and faults', () => {
    const text = describeScenario(
      parseScenario(
        [
          'name: show',
          'ensemble: {voters: 3, config: {snapCount: 5000}}',
          'workload: {readPct: 80, reads: {getData: 8, exists: 1}, writes: {setData: 3}, rate: 1000, duration: 20s, warmup: 3s}',
          'load: {driver: http}',
          'faults: [{at: 8s, action: kill, target: leader}, {at: 14s, action: restart, target: last}]',
          'spans: true',
          'matrix: {ensemble.observers: [0, 2]}',
        ].join('\n'),
        SRC,
      ),
    );
    expect(text.split('\n')).toEqual([
      'show/observers=0: local 3 voters (snapCount=5000); http load, 2 clients x 8 connections, open loop at 1000 ops/s; 80% reads: reads (getData 8, exists 1), writes (setData 3); 128 B values, 1000 keys; 3s warm-up + 20s; faults: 8s kill leader, 14s restart last; spans',
      'show/observers=2: local 3 voters + 2 observers (snapCount=5000); http load, 2 clients x 8 connections, open loop at 1000 ops/s; 80% reads: reads (getData 8, exists 1), writes (setData 3); 128 B values, 1000 keys; 3s warm-up + 20s; faults: 8s kill leader, 14s restart last; spans',
    ]);
  });
});
