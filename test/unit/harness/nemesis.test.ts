/**
 * Nemeses as a scenario writes them and as the harness computes them: partitions by mode, a
 * heal of every cut, random-voter, repeating schedules (every/for) and their expansion into
 * the steps a run takes and --dry-run shows; the sides of random-halves, isolate-leader and
 * bridge; what those sides mean for each pair of servers (the grudge), for the compose
 * driver's networks and for the local driver's book; and the rewrite of ZooKeeper's election
 * handshake that keeps dial-backs inside the peer relay.
 */
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../../../src/harness/errors.js';
import { networksNeeded, peerNetworksFor, staleLinks } from '../../../src/harness/drivers/compose-networks.js';
import { parseListeningPorts } from '../../../src/harness/drivers/listening-ports.js';
import { PartitionBook } from '../../../src/harness/drivers/partitions.js';
import { InitialMessageRewriter, initialMessage, PROTOCOL_VERSION_V2 } from '../../../src/harness/drivers/zk-initial-message.js';
import {
  bridge,
  cutFor,
  firingRandom,
  grudgeOf,
  isolateLeader,
  leaderKeepsQuorum,
  quorumSize,
  randomHalves,
  sameSide,
  sidesText,
  type Sides,
} from '../../../src/harness/nemesis/index.js';
import { describeScenario, expandRuns, parseScenario } from '../../../src/harness/scenario/index.js';
import { faultSteps } from '../../../src/harness/scenario/schedule.js';
import { seededRandom } from '../../helpers/random.js';

const SRC = 'bench/n.yaml';

function parseError(yaml: string): string {
  try {
    parseScenario(yaml, SRC);
  } catch (err) {
    expect(err).toBeInstanceOf(HarnessError);
    return (err as HarnessError).message;
  }
  throw new Error(`expected ${JSON.stringify(yaml)} to be refused`);
}

const scenario = (faults: string[], extra: string[] = ['ensemble: {voters: 5}']): string => ['name: n', ...extra, 'workload: {duration: 60s}', 'faults:', ...faults.map((f) => `  - ${f}`), ''].join('\n');

describe('fault syntax: partitions by mode, heal of every cut, random-voter, every/for', () => {
  it('parses modes, target-less heals, random-voter and repeating faults', () => {
    const s = parseScenario(
      scenario([
        '{at: 5s, action: partition, mode: random-halves}',
        '{at: 10s, action: heal}',
        '{at: 12s, action: partition, mode: isolate-leader}',
        '{at: 15s, action: heal, mode: all}',
        '{at: 20s, action: pause, target: random-voter, every: 5s, for: 30s}',
        '{at: 21s, action: partition, mode: bridge, every: 10s, for: 20s}',
        '{at: 55s, action: kill, target: random-voter}',
      ]),
      SRC,
    );
    expect(s.faults).toEqual([
      { atMs: 5_000, action: 'partition', target: null, mode: 'random-halves' },
      { atMs: 10_000, action: 'heal', target: null },
      { atMs: 12_000, action: 'partition', target: null, mode: 'isolate-leader' },
      { atMs: 15_000, action: 'heal', target: null },
      { atMs: 20_000, action: 'pause', target: 'random-voter', repeat: { everyMs: 5_000, forMs: 30_000 } },
      { atMs: 21_000, action: 'partition', target: null, mode: 'bridge', repeat: { everyMs: 10_000, forMs: 20_000 } },
      { atMs: 55_000, action: 'kill', target: 'random-voter' },
    ]);
  });

  it('a scenario seed reaches every run; without one, runs have none until they start', () => {
    const runs = expandRuns(parseScenario(`${scenario(['{at: 5s, action: partition, mode: random-halves}'])}seed: 42\nrepeats: 2\n`, SRC));
    expect(runs.map((r) => r.seed)).toEqual([42, 42]);
    expect(expandRuns(parseScenario(scenario(['{at: 5s, action: partition, mode: random-halves}']), SRC))[0]?.seed).toBeUndefined();
    expect(parseError('name: n\nseed: -1\n')).toContain('seed must be an integer from 0 to 4294967295, got -1');
  });

  const refused: [string, string, string[]][] = [
    ['partition with neither target nor mode', scenario(['{at: 1s, action: partition}']), [':5: faults[0].target or mode is required: a partition cuts off one server (target: leader, 3, ...) or cuts the network by a mode (random-halves, isolate-leader, bridge)']],
    ['partition with both', scenario(['{at: 1s, action: partition, target: leader, mode: bridge}']), ['faults[0].mode cannot go with a target']],
    ['an unknown mode', scenario(['{at: 1s, action: partition, mode: halves}']), ['faults[0].mode must be one of random-halves, isolate-leader, bridge, got "halves"']],
    ['a mode on kill', scenario(['{at: 1s, action: kill, target: leader, mode: bridge}']), ['faults[0].mode is for partition (random-halves, isolate-leader, bridge) and heal (all), not for kill']],
    ['a heal mode other than all', scenario(['{at: 1s, action: partition, mode: bridge}', '{at: 2s, action: heal, mode: bridge}']), ['faults[1].mode must be one of all, got "bridge"']],
    ['a heal of everything with nothing cut', scenario(['{at: 1s, action: heal}']), ['faults[0].action needs an earlier partition: a heal without a target removes every cut, and none is in effect here']],
    ['two partitions by mode without a heal', scenario(['{at: 1s, action: partition, mode: bridge}', '{at: 2s, action: partition, mode: random-halves}']), ['faults[1].action cannot run: the partition of faults[0] is still in effect (heal it first']],
    ['last after a partition by mode', scenario(['{at: 1s, action: partition, mode: isolate-leader}', '{at: 2s, action: heal, target: last}']), ['faults[1].target is last, but faults[0] hit no one server']],
    ['every without for', scenario(['{at: 1s, action: kill, target: leader, every: 5s}']), ['faults[0].for is required with every']],
    ['for without every', scenario(['{at: 1s, action: kill, target: leader, for: 5s}']), ['faults[0].every is required with for']],
    ['a repeating resume', scenario(['{at: 1s, action: pause, target: 1}', '{at: 2s, action: resume, target: 1, every: 5s, for: 10s}']), ['faults[1].every is for kill, pause, partition: a repeating fault undoes its own firings (resume, restart, heal), so resume cannot repeat']],
    ['a repeating fault on last', scenario(['{at: 1s, action: pause, target: 1}', '{at: 2s, action: resume, target: last}', '{at: 3s, action: pause, target: last, every: 5s, for: 10s}']), ['faults[2].target cannot be last on a repeating fault']],
    ['every below a second', scenario(['{at: 1s, action: pause, target: random-voter, every: 500ms, for: 10s}']), ['faults[0].every must be a duration from 1s to 24h']],
    ['too many firings', scenario(['{at: 1s, action: pause, target: random-voter, every: 1s, for: 2h}']), ['faults[0].every (1s) fires 7200 times in for (2h); at most 1000']],
    ['a schedule that ends after the window', scenario(['{at: 40s, action: pause, target: random-voter, every: 5s, for: 20s}']), ['run n: faults[0].for (20s) ends the repetition at 1m, which must be before workload.duration (1m)']],
    ['overlapping pause schedules', scenario(['{at: 1s, action: pause, target: random-voter, every: 5s, for: 20s}', '{at: 10s, action: pause, target: leader, every: 5s, for: 10s}']), ['faults[1].at (10s) falls in the repeating pause faults[0] (1s to 21s): two repeating pause faults may not overlap']],
    ['a partition by mode inside a repeating one', scenario(['{at: 1s, action: partition, mode: bridge, every: 5s, for: 20s}', '{at: 10s, action: partition, mode: isolate-leader}']), ['faults[1].at (10s) falls in the repeating partition faults[0] (1s to 21s)']],
    ['a mode with too few voters', scenario(['{at: 1s, action: partition, mode: random-halves}'], ['ensemble: {voters: 2}']), ['run n: faults[0].mode is random-halves, which needs at least 3 voters (one side that can hold a quorum and one that cannot); this run has 2']],
    ['partition on zookeeper with peer TLS', scenario(['{at: 1s, action: partition, mode: isolate-leader}'], ['ensemble: {driver: zookeeper, voters: 3, peerSecurity: tls}']), ["faults[0].action is partition, which driver zookeeper cannot do with peerSecurity tls: its relay must rewrite ZooKeeper's election handshake"]],
  ];

  it.each(refused)('refuses %s, naming the field', (_what, yaml, parts) => {
    const msg = parseError(yaml);
    expect(msg.startsWith(SRC)).toBe(true);
    for (const part of parts) expect(msg).toContain(part);
  });

  it('a pause of a random voter is resumed with target last', () => {
    const s = parseScenario(scenario(['{at: 5s, action: pause, target: random-voter}', '{at: 10s, action: resume, target: last}']), SRC);
    expect(s.faults.map((f) => f.target)).toEqual(['random-voter', 'last']);
    expect(parseError(scenario(['{at: 5s, action: pause, target: random-voter}', '{at: 10s, action: resume, target: random-voter}']))).toContain('faults[1].target must be last or a server id to resume');
  });

  it('accepts a heal inside a repeating partition, a partition of one server during one, and kills of random voters', () => {
    const s = parseScenario(
      scenario(['{at: 1s, action: partition, mode: random-halves, every: 5s, for: 20s}', '{at: 7s, action: partition, target: 1}', '{at: 8s, action: heal}', '{at: 30s, action: kill, target: random-voter, every: 5s, for: 20s}']),
      SRC,
    );
    expect(s.faults).toHaveLength(4);
  });
});

describe('schedule expansion', () => {
  it('every: 5s, for: 30s fires at at, at+5s, ... while before at+30s, and ends at at+30s', () => {
    const s = parseScenario(scenario(['{at: 10s, action: partition, mode: random-halves, every: 5s, for: 30s}']), SRC);
    const steps = faultSteps(s.faults);
    expect(steps.map((x) => [x.atMs, x.kind, x.firing])).toEqual([
      [10_000, 'fire', 0],
      [15_000, 'fire', 1],
      [20_000, 'fire', 2],
      [25_000, 'fire', 3],
      [30_000, 'fire', 4],
      [35_000, 'fire', 5],
      [40_000, 'end', 6],
    ]);
  });

  it('interleaves faults by time; at one instant an end goes before a firing', () => {
    const s = parseScenario(scenario(['{at: 5s, action: pause, target: random-voter, every: 4s, for: 10s}', '{at: 15s, action: kill, target: leader}', '{at: 15s, action: partition, mode: bridge, every: 3s, for: 4s}']), SRC);
    expect(faultSteps(s.faults).map((x) => `${x.atMs / 1_000}s ${x.kind} ${x.fault}#${x.firing}`)).toEqual([
      '5s fire 0#0',
      '9s fire 0#1',
      '13s fire 0#2',
      '15s end 0#3',
      '15s fire 1#0',
      '15s fire 2#0',
      '18s fire 2#1',
      '19s end 2#2',
    ]);
  });

  it('--dry-run shows each step, and with a seed the sides random-halves and bridge will cut', () => {
    const yaml = `${scenario(['{at: 10s, action: partition, mode: random-halves, every: 5s, for: 10s}', '{at: 30s, action: partition, mode: bridge}', '{at: 35s, action: heal}', '{at: 40s, action: pause, target: random-voter, every: 5s, for: 6s}'])}seed: 7\n`;
    const text = describeScenario(parseScenario(yaml, SRC));
    const lines = text.split('\n');
    expect(lines[0]).toContain('faults: 10s partition random-halves every 5s for 10s, 30s partition bridge, 35s heal all, 40s pause random-voter every 5s for 6s; seed 7');
    const sides = (fault: number, firing: number, mode: 'random-halves' | 'bridge'): string => {
      const cut = cutFor(mode, { voters: [1, 2, 3, 4, 5], observers: [] }, firingRandom(7, fault, firing), null);
      return `${sidesText(cut.sides)}${cut.bridge === undefined ? '' : ` (bridge ${cut.bridge})`}`;
    };
    expect(lines.slice(1)).toEqual([
      `  10s partition random-halves (faults[0] firing 1): ${sides(0, 0, 'random-halves')}`,
      `  15s partition random-halves (faults[0] firing 2, after healing firing 1's cut): ${sides(0, 1, 'random-halves')}`,
      "  20s heal (end of faults[0]: undoes firing 2)",
      `  30s partition bridge: ${sides(1, 0, 'bridge')}`,
      '  35s heal all',
      '  40s pause random-voter (faults[3] firing 1)',
      "  45s pause random-voter (faults[3] firing 2, after resuming firing 1's server)",
      '  46s resume (end of faults[3]: undoes firing 2)',
    ]);
    // The same seed, the same text: a dry run shows what the run will cut.
    expect(describeScenario(parseScenario(yaml, SRC))).toBe(text);
  });

  it('without a seed, --dry-run says where the random choices come from', () => {
    const text = describeScenario(parseScenario(scenario(['{at: 10s, action: partition, mode: random-halves}', '{at: 20s, action: heal}']), SRC));
    expect(text.split('\n').slice(1)).toEqual(['  10s partition random-halves', '  20s heal all', "  random choices come from the run's seed, drawn when it starts and recorded in results.json (set seed: to replay them)"]);
  });
});

const ids = (from: number, n: number): number[] => Array.from({ length: n }, (_, k) => from + k);

/** Voters on a side. */
const votersOn = (side: readonly number[], voters: readonly number[]): number => side.filter((id) => voters.includes(id)).length;

describe('sides', () => {
  it('random-halves: always a side with a strict majority of the voters and one without, every member on exactly one side', () => {
    for (let v = 3; v <= 15; v++) {
      for (const o of [0, 1, 2, 3]) {
        const voters = ids(1, v);
        const observers = ids(v + 1, o);
        for (let seed = 1; seed <= 20; seed++) {
          const { sides } = randomHalves({ voters, observers }, seededRandom(seed * 1_000 + v * 10 + o));
          expect(sides).toHaveLength(2);
          const [major, minor] = sides as [number[], number[]];
          expect(votersOn(major, voters)).toBe(quorumSize(v));
          expect(votersOn(minor, voters)).toBe(v - quorumSize(v));
          expect(votersOn(minor, voters)).toBeLessThan(quorumSize(v));
          expect([...major, ...minor].sort((a, b) => a - b)).toEqual([...voters, ...observers]);
          expect(minor.filter((id) => observers.includes(id))).toHaveLength(Math.floor(o / 2));
        }
      }
    }
  });

  it('random-halves draws different splits from different seeds, the same from the same', () => {
    const m = { voters: ids(1, 5), observers: [] };
    const splits = new Set(Array.from({ length: 30 }, (_, s) => sidesText(randomHalves(m, seededRandom(s)).sides)));
    expect(splits.size).toBeGreaterThan(3);
    expect(sidesText(randomHalves(m, firingRandom(9, 0, 2)).sides)).toBe(sidesText(randomHalves(m, firingRandom(9, 0, 2)).sides));
  });

  it.each([
    [3, 1, 1],
    [5, 2, 2],
    [7, 3, 3],
    [4, 2, 1],
    [6, 3, 2],
  ])('bridge with %i voters: %i – bridge – %i, neither side a quorum without the bridge, each reaches the other only through it', (v, left, right) => {
    const voters = ids(1, v);
    for (let seed = 1; seed <= 20; seed++) {
      const cut = bridge({ voters, observers: [] }, seededRandom(seed));
      const b = cut.bridge!;
      const [a, c] = cut.sides as [number[], number[]];
      expect(a).toContain(b);
      expect(c).toContain(b);
      const aOnly = a.filter((id) => id !== b);
      const cOnly = c.filter((id) => id !== b);
      expect(aOnly).toHaveLength(left);
      expect(cOnly).toHaveLength(right);
      expect(aOnly.filter((id) => cOnly.includes(id))).toEqual([]);
      expect(votersOn(aOnly, voters)).toBeLessThan(quorumSize(v));
      expect(votersOn(cOnly, voters)).toBeLessThan(quorumSize(v));
      // Every pair across the halves is cut; the bridge reaches everyone.
      const grudge = grudgeOf(voters, cut.sides);
      expect(grudge.get(b)).toEqual(new Set());
      for (const x of aOnly) expect(grudge.get(x)).toEqual(new Set(cOnly));
      for (const y of cOnly) expect(grudge.get(y)).toEqual(new Set(aOnly));
    }
  });

  it('bridge with 5 voters puts the leader of a half with a quorum (3 with the bridge)', () => {
    const cut = bridge({ voters: ids(1, 5), observers: [6, 7] }, seededRandom(3));
    const [a, c] = cut.sides as [number[], number[]];
    expect(votersOn(a, ids(1, 5))).toBe(3);
    expect(votersOn(c, ids(1, 5))).toBe(3);
    expect(a.filter((id) => id > 5).length + c.filter((id) => id > 5).length).toBe(2);
  });

  it('isolate-leader: the leader alone, every other member together; it needs a leader and a voter', () => {
    expect(isolateLeader({ voters: ids(1, 5), observers: [6] }, 3).sides).toEqual([[3], [1, 2, 4, 5, 6]]);
    expect(() => cutFor('isolate-leader', { voters: ids(1, 3), observers: [] }, seededRandom(1), null)).toThrow('no server reports itself leader now');
    expect(() => isolateLeader({ voters: ids(1, 3), observers: [4] }, 4)).toThrow('server 4 is not a voter');
    expect(() => randomHalves({ voters: [1, 2], observers: [] }, seededRandom(1))).toThrow('random-halves needs at least 3 voters');
  });

  it('the grudge is symmetric, and leaderKeepsQuorum says whether the leader keeps a quorum', () => {
    const sides: Sides = [
      [1, 2, 3],
      [3, 4, 5],
    ];
    const grudge = grudgeOf(ids(1, 5), sides);
    for (const [a, cut] of grudge) for (const b of cut) expect(grudge.get(b)?.has(a)).toBe(true);
    expect(sameSide(sides, 1, 5)).toBe(false);
    expect(sameSide(sides, 3, 5)).toBe(true);
    expect(leaderKeepsQuorum(sides, ids(1, 5), 1)).toBe(true);
    expect(leaderKeepsQuorum([[1], [2, 3, 4, 5]], ids(1, 5), 1)).toBe(false);
    expect(leaderKeepsQuorum([[1, 2], [3, 4, 5]], ids(1, 5), 1)).toBe(false);
  });
});

describe('what the drivers make of sides', () => {
  it('local book: wanted cuts are the grudge plus partitioned servers; servable is the quorum side, null for a bridge', () => {
    const book = new PartitionBook(ids(1, 6), ids(1, 5));
    book.setSides([
      [1, 2, 4],
      [3, 5, 6],
    ]);
    expect([...book.wanted(1)].sort()).toEqual([3, 5, 6]);
    expect(book.servable()).toEqual([1, 2, 4]);
    book.partition(2);
    expect([...book.wanted(1)].sort()).toEqual([2, 3, 5, 6]);
    expect(book.servable()).toEqual([]);
    book.setSides([
      [1, 2, 3, 6],
      [3, 4, 5],
    ]);
    book.heal(2);
    expect(book.servable()).toBeNull();
    book.healAll();
    expect(book.wanted(1)).toEqual(new Set());
    expect(book.servable()).toEqual(ids(1, 6));
    expect(() => book.setSides([[1, 2, 3]])).toThrow('servers 4, 5, 6 are on no side');
    expect(() => book.setSides([[1, 2, 3, 4, 5, 6, 9]])).toThrow('server 9, which is not a member');
  });

  it('compose: a network per side of two or more (the first is peers), a bridge on two, a loner and a partitioned server on none', () => {
    const all = ids(1, 5);
    const plain = peerNetworksFor(all, new Set(), null);
    expect([...plain.values()].map((s) => [...s])).toEqual([[0], [0], [0], [0], [0]]);
    const bridged = peerNetworksFor(all, new Set(), [
      [1, 2, 3],
      [3, 4, 5],
    ]);
    expect(Object.fromEntries([...bridged].map(([id, s]) => [id, [...s]]))).toEqual({ 1: [0], 2: [0], 3: [0, 1], 4: [1], 5: [1] });
    expect(networksNeeded(bridged)).toBe(2);
    const isolated = peerNetworksFor(all, new Set([5]), [[2], [1, 3, 4, 5]]);
    expect(Object.fromEntries([...isolated].map(([id, s]) => [id, [...s]]))).toEqual({ 1: [0], 2: [], 3: [0], 4: [0], 5: [] });
    expect(networksNeeded(isolated)).toBe(1);
  });

  it('compose: after a move, the links that can carry traffic again but lost an address are stale, on both ends', () => {
    const all = ids(1, 5);
    const plain = peerNetworksFor(all, new Set(), null);
    const halves = peerNetworksFor(all, new Set(), [
      [2, 3, 4],
      [1, 5],
    ]);
    const asObject = (m: Map<number, Set<number>>): Record<number, number[]> => Object.fromEntries([...m].map(([id, s]) => [id, [...s].sort()]));
    // Cut: 1 and 5 moved together to a network of their own; the majority's links never moved.
    expect(asObject(staleLinks(plain, halves))).toEqual({ 1: [5], 5: [1] });
    // Heal: 1 and 5 are back on peers with new addresses: every link to them is new.
    expect(asObject(staleLinks(halves, plain))).toEqual({ 1: [2, 3, 4, 5], 2: [1, 5], 3: [1, 5], 4: [1, 5], 5: [1, 2, 3, 4] });
    // A bridge keeps its address on peers: only the far half's links to it are new.
    const bridged = peerNetworksFor(all, new Set(), [
      [1, 2, 3],
      [3, 4, 5],
    ]);
    expect(asObject(staleLinks(plain, bridged))).toEqual({ 3: [4, 5], 4: [3, 5], 5: [3, 4] });
  });
});

describe("ZooKeeper's election handshake through the relay", () => {
  const rest = Buffer.from([0, 0, 0, 4, 1, 2, 3, 4]);

  it('rewrites the dialer’s address however the bytes are split, and keeps what follows', () => {
    for (const version of [undefined, PROTOCOL_VERSION_V2]) {
      const original = Buffer.concat([initialMessage(2n, '127.0.0.1:38002', version), rest]);
      const expected = Buffer.concat([initialMessage(2n, '127.0.0.1:40123', version), rest]);
      for (let split = 1; split < original.length; split++) {
        const r = new InitialMessageRewriter('127.0.0.1:40123');
        const out = Buffer.concat([r.push(original.subarray(0, split)), r.push(original.subarray(split))]);
        expect(out.equals(expected), `split at ${split}`).toBe(true);
      }
      // Once done, later bytes pass unchanged.
      const r = new InitialMessageRewriter('127.0.0.1:40123');
      r.push(original);
      expect(r.push(initialMessage(2n, 'x:1', version)).equals(initialMessage(2n, 'x:1', version))).toBe(true);
    }
  });

  it('passes through what it does not know: an old server’s bare id, a length ZooKeeper would refuse', () => {
    const bareId = Buffer.alloc(8);
    bareId.writeBigInt64BE(3n);
    expect(new InitialMessageRewriter('h:1').push(bareId).equals(bareId)).toBe(true);
    const bad = initialMessage(1n, 'a:1');
    bad.writeInt32BE(1_000_000, 16);
    expect(new InitialMessageRewriter('h:1').push(bad).equals(bad)).toBe(true);
  });
});

describe('listening ports from /proc/net/tcp', () => {
  it('keeps LISTEN sockets on 127.0.0.1, the wildcard and their IPv6 forms; not other states or addresses', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0',
      '   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0',
      '   2: 0200007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0',
      '   3: 0100007F:1F92 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    const tcp6 = [
      '  sl  local_address                         remote_address                        st',
      '   0: 0000000000000000FFFF00000100007F:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 5 1',
      '   1: 00000000000000000000000001000000:1F94 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 6 1',
    ].join('\n');
    expect([...parseListeningPorts(tcp)].sort()).toEqual([22, 8080]);
    expect([...parseListeningPorts(tcp6)].sort()).toEqual([8083, 8084]);
  });
});
