/**
 * Nemeses on real zablab processes (the `local` driver, zablab's fault hook): 5 voters cut into
 * random halves (the minority stops serving, the majority keeps a leader and takes writes),
 * the leader isolated (the rest elect a new one, the old one stops serving), a heal after
 * each (everyone serves again); then a whole run (runOne) with a repeating random-halves
 * partition and a repeating pause of a random voter, whose results record every step.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { localDriver, type EnsembleHandle } from '../../../src/harness/drivers/index.js';
import { zablabCliPath } from '../../../src/harness/ensemble/index.js';
import { nativeLoadDriver } from '../../../src/harness/load/native/index.js';
import { cutFor, firingRandom, isolateLeader, quorumSize, randomHalves, sidesText } from '../../../src/harness/nemesis/index.js';
import { runOne, SilentProgress } from '../../../src/harness/index.js';
import { expandRuns, parseScenario } from '../../../src/harness/scenario/index.js';
import { seededRandom } from '../../helpers/random.js';
import { at, poll as pollFor, servingExactly as servingOnly, writeVia } from '../../helpers/partitions.js';
import { withClient } from '../../helpers/with-client.js';

const built = fs.existsSync(zablabCliPath());
const VOTERS = [1, 2, 3, 4, 5];
/** Quick timeouts: a follower cut from its leader gives up after syncLimit × tickTime = 1 s. */
const FAST = { tickTime: '250', initLimit: '20', syncLimit: '4' };
const SEED = Number(process.env['ZABLAB_NEMESIS_SEED'] ?? 5);
const poll = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> => pollFor(what, check, timeoutMs, 100);
const servingExactly = (h: EnsembleHandle, serving: readonly number[]): Promise<number> => servingOnly(h, serving, 20_000, 100);

describe.skipIf(!built)('local driver: partitions by mode on 5 voters', () => {
  let dir: string;
  let h: EnsembleHandle;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-nemeses-'));
    h = await localDriver().up({ voters: 5, observers: 0, config: FAST, dir: path.join(dir, 'ensemble'), timeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await h?.down();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it(`random-halves (seed ${SEED}): the minority stops serving, the majority keeps a leader and takes writes; heal: everyone serves`, async () => {
    const { sides } = randomHalves({ voters: VOTERS, observers: [] }, seededRandom(SEED));
    const [majority, minority] = sides as [number[], number[]];
    expect(majority).toHaveLength(quorumSize(5));
    await h.partitionSides(sides);
    const leader = await servingExactly(h, majority);
    expect(majority).toContain(leader);
    await writeVia(h, majority, '/halves-majority');
    // The minority cannot take a write: it has no quorum, so it does not serve at all.
    await expect(writeVia(h, minority, '/halves-minority', 3_000), sidesText(sides)).rejects.toThrow();
    await h.healSides();
    await h.waitServing(30_000);
    const data = await withClient(at(h, minority), async (c) => {
      await c.sync('/halves-majority');
      return (await c.getData('/halves-majority')).data?.toString();
    });
    expect(data).toBe('/halves-majority');
    expect((await withClient(at(h, VOTERS), (c) => c.exists('/halves-minority'))) === null).toBe(true);
  }, 60_000);

  it('isolate-leader: the other four elect a new leader and take writes, the old leader stops serving; heal: it follows again', async () => {
    const old = (await h.leader())!;
    expect(old).not.toBeNull();
    const rest = VOTERS.filter((id) => id !== old);
    await h.partitionSides(isolateLeader({ voters: VOTERS, observers: [] }, old).sides);
    const next = await servingExactly(h, rest);
    expect(next).not.toBe(old);
    await writeVia(h, rest, '/isolated');
    await expect(writeVia(h, [old], '/isolated-old', 3_000)).rejects.toThrow();
    await h.healAll();
    await h.waitServing(30_000);
    expect((await h.status()).find((s) => s.id === old)?.mode).toBe('follower');
    await writeVia(h, [old], '/after-isolation');
  }, 60_000);
});

describe.skipIf(!built)('local driver: a run with a repeating random-halves partition and a repeating pause of a random voter', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-nemeses-run-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fires every step, undoes each firing before the next and at the end, and records sides and servers', async () => {
    const yaml = [
      'name: nemeses',
      'ensemble: {driver: local, voters: 5, config: {tickTime: 250, initLimit: 20, syncLimit: 4}}',
      'workload: {readPct: 50, clients: 1, connections: 2, keys: 20, rate: 200, duration: 9s, warmup: 1s}',
      `seed: ${SEED}`,
      'faults:',
      '  - {at: 1s, action: partition, mode: random-halves, every: 3s, for: 6s}',
      '  - {at: 1500ms, action: pause, target: random-voter, every: 2s, for: 4s}',
      '',
    ].join('\n');
    const [plan] = expandRuns(parseScenario(yaml, 'nemeses.yaml'));
    const result = await runOne(plan!, { dir, ensembleDriver: localDriver(), loadDriver: nativeLoadDriver, progress: new SilentProgress() });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('ok');
    expect(result.seed).toBe(SEED);
    const steps = result.recovery.map((r) => `${r.fault} ${r.schedule?.fault}#${r.schedule?.firing}`);
    expect(steps).toEqual(['partition 0#1', 'pause 1#1', 'pause 1#2', 'partition 0#2', 'resume 1#end', 'heal 0#end']);
    const [part1, pause1, pause2, part2, resumeEnd, healEnd] = result.recovery;
    // The sides are the seed's: the ones --dry-run shows for this seed.
    for (const [r, firing] of [
      [part1!, 0],
      [part2!, 1],
    ] as const) {
      expect(r.mode).toBe('random-halves');
      expect(r.sides).toEqual(cutFor('random-halves', { voters: VOTERS, observers: [] }, firingRandom(SEED, 0, firing), null).sides);
      expect(r.serverId).toBeNull();
    }
    expect(part2!.undid).toEqual({ action: 'heal', serverId: null });
    expect(VOTERS).toContain(pause1!.serverId);
    expect(VOTERS).toContain(pause2!.serverId);
    expect(pause1!.target).toBe('random-voter');
    expect(pause2!.undid).toEqual({ action: 'resume', serverId: pause1!.serverId });
    expect(resumeEnd).toMatchObject({ fault: 'resume', serverId: pause2!.serverId });
    expect(healEnd).toMatchObject({ fault: 'heal', target: 'sides', serverId: null });
    expect(result.recovery.map((r) => r.atMs)).toEqual([...result.recovery.map((r) => r.atMs)].sort((a, b) => a - b));
    expect(healEnd!.atMs).toBeGreaterThanOrEqual(7_000);
  }, 90_000);
});

