/**
 * The large-state fields of a workload as a user writes them: populate, sessions, watches and
 * watchMode parse with their defaults, a matrix may vary them, --dry-run says what a run builds,
 * and each mistake names the field, what was found and what would do.
 */
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../../../src/harness/errors.js';
import { builtinScenario, describeRun, expandRuns, loadScenarioFile, parseScenario } from '../../../src/harness/scenario/index.js';

const SRC = 'bench/state.yaml';

function parseError(yaml: string): string {
  try {
    parseScenario(yaml, SRC);
  } catch (err) {
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe('ZABLAB_BENCH_SCENARIO');
    return (err as HarnessError).message;
  }
  throw new Error('expected the scenario to be refused');
}

describe('workload.populate, sessions, watches, watchMode', () => {
  it('default to no extra state', () => {
    const w = parseScenario('name: x\n', SRC).workload;
    expect([w.populate, w.sessions, w.watches, w.watchMode]).toEqual([0, 0, 0, 'oneShot']);
  });

  it('parse as written, and --dry-run says what the run builds before its window', () => {
    const s = parseScenario('name: big\nworkload: {populate: 1000000, sessions: 10000, watches: 10, watchMode: persistent}\n', SRC);
    expect(s.workload).toMatchObject({ populate: 1_000_000, sessions: 10_000, watches: 10, watchMode: 'persistent' });
    const line = describeRun(expandRuns(s)[0]!);
    expect(line).toContain('1000000 znodes populated; 10000 sessions held x 10 persistent watches');
  });

  it('may be held without watches, and populated without sessions', () => {
    expect(parseScenario('name: x\nworkload: {sessions: 500}\n', SRC).workload.sessions).toBe(500);
    expect(describeRun(expandRuns(parseScenario('name: x\nworkload: {populate: 10}\n', SRC))[0]!)).toMatch(/10 znodes populated; 5s warm-up/);
  });

  it('a matrix may vary them; each run is checked with its cell applied', () => {
    const s = parseScenario('name: m\nworkload: {populate: 100, sessions: 10, watches: 5}\nmatrix:\n  workload.watchMode: [oneShot, persistent]\n  workload.populate: [100, 1000]\n', SRC);
    expect(expandRuns(s).map((r) => [r.name, r.workload.watchMode, r.workload.populate])).toEqual([
      ['m/watchMode=oneShot,populate=100', 'oneShot', 100],
      ['m/watchMode=oneShot,populate=1000', 'oneShot', 1000],
      ['m/watchMode=persistent,populate=100', 'persistent', 100],
      ['m/watchMode=persistent,populate=1000', 'persistent', 1000],
    ]);
    // A cell that populates fewer znodes than a session watches cannot run.
    expect(parseError('name: m\nworkload: {populate: 100, sessions: 10, watches: 50}\nmatrix:\n  workload.populate: [100, 20]\n')).toContain(
      'run m/populate=20: workload.watches (50 per session) must be at most workload.populate (20)',
    );
  });

  it.each([
    ['a negative populate', 'workload: {populate: -1}', ':2: workload.populate must be an integer from 0 to 10000000, got -1'],
    ['too many sessions', 'workload: {sessions: 100001}', 'workload.sessions must be an integer from 0 to 100000, got 100001'],
    ['a fractional watch count', 'workload: {watches: 1.5}', 'workload.watches must be an integer from 0 to 100000, got 1.5'],
    ['an unknown watch mode', 'workload: {watchMode: recursive}', 'workload.watchMode must be one of oneShot, persistent, got "recursive"'],
    ['watches without sessions', 'workload: {populate: 100, watches: 3}', 'workload.watches is 3, but workload.sessions is 0: watches are set by the held sessions'],
    ['watches without populated znodes', 'workload: {sessions: 10, watches: 3}', 'workload.watches is 3, but workload.populate is 0: watches are set on populated znodes'],
    ['more watches per session than znodes', 'workload: {populate: 5, sessions: 10, watches: 6}', 'workload.watches (6 per session) must be at most workload.populate (5)'],
    ['too many watches in all', 'workload: {populate: 200000, sessions: 100000, watches: 101}', 'workload.watches × workload.sessions is 10100000 watches; at most 10000000'],
    ['a typo', 'workload: {session: 10}', 'workload.session is not a workload field (did you mean sessions?)'],
  ])('refuses %s with a message that says what is allowed', (_what, workload, message) => {
    const text = parseError(`name: x\n${workload}\n`);
    expect(text.startsWith(SRC)).toBe(true);
    expect(text).toContain(message);
  });
});

describe('the shipped large-state scenarios', () => {
  it('large-state: 3 voters and a spare observer at 100k and 1M znodes, a follower restarted and an observer added, both programs', () => {
    const runs = expandRuns(loadScenarioFile(builtinScenario('large-state')));
    expect(runs.map((r) => [r.ensemble.driver, r.workload.populate])).toEqual([
      ['local', 100_000],
      ['zookeeper', 100_000],
      ['local', 1_000_000],
      ['zookeeper', 1_000_000],
    ]);
    for (const r of runs) expect([r.ensemble.voters, r.workload.sessions, r.workload.watches]).toEqual([3, 10_000, 10]);
  });

  it('large-state-standalone: one server at 1M znodes killed and started again inside the window, both programs', () => {
    const runs = expandRuns(loadScenarioFile(builtinScenario('large-state-standalone')));
    expect(runs.map((r) => r.ensemble.driver)).toEqual(['local', 'zookeeper']);
    for (const r of runs) {
      expect([r.ensemble.voters, r.ensemble.observers, r.workload.populate]).toEqual([1, 0, 1_000_000]);
      expect(describeRun(r)).toContain('faults: 5s kill leader, 6s restart last');
    }
  });

  it('large-state-snapshots: one server at 1M znodes writing a snapshot every few seconds under load, both programs', () => {
    const runs = expandRuns(loadScenarioFile(builtinScenario('large-state-snapshots')));
    expect(runs.map((r) => r.ensemble.driver)).toEqual(['local', 'zookeeper']);
    for (const r of runs) {
      expect([r.ensemble.voters, r.ensemble.observers, r.workload.populate, r.workload.readPct]).toEqual([1, 0, 1_000_000, 50]);
      expect(r.ensemble.config).toMatchObject({ snapCount: '10000' });
    }
  });
});
