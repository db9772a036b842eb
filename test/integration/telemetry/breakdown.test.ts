/**
 * The write breakdown of a real ensemble (3 voters + 1 observer as processes, spans files
 * under ZABLAB_SPANS_DIR) after a few hundred writes through a follower and the leader:
 * every stage is there, an ack row per voter, an apply row per server, the observer applies
 * but never acks, and the stages fit inside the request they belong to.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { LocalEnsemble } from '../../../src/harness/ensemble/index.js';
import { BREAKDOWN_STAGES, readWriteBreakdown } from '../../../src/harness/measure/breakdown.js';
import { poll, teardown, tempDir, zablabBuilt } from '../ensemble/support.js';

const WRITES_PER_CLIENT = 150;

describe.skipIf(!zablabBuilt())('write breakdown of a real ensemble', () => {
  let dir: string | undefined;
  let spansDir: string;
  let ensemble: LocalEnsemble;

  beforeAll(async () => {
    dir = tempDir('zablab-breakdown-');
    spansDir = path.join(dir, 'spans');
    ensemble = await LocalEnsemble.up({ voters: 3, observers: 1, dir, env: { ZABLAB_SPANS_DIR: spansDir }, timeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await teardown(dir);
  }, 60_000);

  it('every stage, an ack row per voter, an apply row per server; the observer applies but never acks', async () => {
    const statuses = await ensemble.status();
    const leader = ensemble.server(statuses.find((s) => s.mode === 'leader')!.id);
    const follower = ensemble.server(statuses.find((s) => s.mode === 'follower')!.id);
    const startedAt = Date.now();
    const clients = await Promise.all(
      [follower, leader].map((s) => ZkClient.connect({ connectString: `${s.host}:${s.clientPort}`, connectTimeoutMs: 10_000 })),
    );
    try {
      await clients[0]!.create('/bd', null);
      // Pipelined, so that writes queue and group-commit as they do under load.
      await Promise.all(
        clients.map((c, k) => Promise.all(Array.from({ length: WRITES_PER_CLIENT }, (_, i) => c.create(`/bd/w-${k}-${i}`, Buffer.from('x'))))),
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    const voters = ensemble.servers.filter((s) => s.role === 'voter').map((s) => s.id);
    const all = ensemble.servers.map((s) => s.id);
    const observer = ensemble.servers.find((s) => s.role === 'observer')!.id;

    // Spans reach the files within 2 s; wait until every server's applies of our writes are there.
    const writes = 2 * WRITES_PER_CLIENT + 1;
    const reading = await poll(
      'the breakdown of every write',
      () => {
        const r = readWriteBreakdown(spansDir, { fromEpochMs: startedAt, toEpochMs: Date.now() });
        const applies = all.map((id) => r.breakdown?.stages.find((s) => s.stage === 'apply' && s.serverId === id)?.count ?? 0);
        return Promise.resolve(r.breakdown !== null && r.breakdown.writes >= writes && applies.every((n) => n >= writes) ? r : undefined);
      },
      20_000,
      250,
    );
    const b = reading.breakdown!;
    expect(reading.malformedLines).toBe(0);
    const stagesSeen = new Set(b.stages.map((s) => s.stage));
    expect([...stagesSeen]).toEqual([...BREAKDOWN_STAGES]);
    const serversOf = (stage: string): number[] => b.stages.filter((s) => s.stage === stage).map((s) => s.serverId!);
    expect(serversOf('ack')).toEqual(voters);
    expect(serversOf('append')).toEqual(voters);
    expect(serversOf('fsync')).toEqual(voters);
    expect(serversOf('apply')).toEqual(all);
    expect(serversOf('ack')).not.toContain(observer);
    expect(b.stages.find((s) => s.stage === 'apply' && s.serverId === observer)!.role).toBe('observer');
    // The leader decides: quorum and commitSent are its own rows.
    expect(serversOf('quorum')).toEqual([leader.id]);
    expect(b.stages.find((s) => s.stage === 'quorum')!.role).toBe('leader');
    // Requests came through both clients' servers.
    expect(serversOf('request').sort()).toEqual([leader.id, follower.id].sort());

    for (const s of b.stages) {
      expect(s.count, `${s.stage}/${s.serverId}`).toBeGreaterThan(0);
      for (const v of [s.meanMs, s.p50Ms, s.p99Ms]) expect(v, `${s.stage}/${s.serverId}`).toBeGreaterThanOrEqual(0);
      expect(s.p50Ms).toBeLessThanOrEqual(s.p99Ms);
    }
    // A write waits in its queue, then for a quorum, all inside its request. The quorum row mixes
    // the writes of both servers, so the parts fit the whole only on average, roughly.
    const mean = (stage: string, id: number): number => b.stages.find((s) => s.stage === stage && s.serverId === id)!.meanMs;
    for (const id of [leader.id, follower.id]) {
      expect(mean('queue', id) + mean('quorum', leader.id), `server ${id}`).toBeLessThanOrEqual(1.25 * mean('request', id) + 0.05);
    }
  });
});
