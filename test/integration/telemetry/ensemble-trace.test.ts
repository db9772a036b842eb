/**
 * One write, one trace, across a real ensemble (3 voters + 1 observer as processes): a
 * client writes through a follower; the spans files under ZABLAB_SPANS_DIR must hold ONE
 * trace with the follower's zk.request, the leader's zab.proposal, a zab.ack from every
 * voter and a zab.commit on every server. And with ratio sampling, every server honours the
 * decision made where the write arrived: a trace is complete everywhere or absent everywhere.
 * The harness's write breakdown, read from the same files, has every stage on the servers
 * that do it.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { LocalEnsemble, type EnsembleServer } from '../../../src/harness/ensemble/index.js';
import { BREAKDOWN_STAGES, readWriteBreakdown } from '../../../src/harness/measure/breakdown.js';
import { readSpansFile, spansFileName, type SpanRecord } from '../../../src/telemetry/index.js';
import { poll, teardown, tempDir, zablabBuilt } from '../ensemble/support.js';

/** Writes per client in the breakdown test (pipelined, so that they group-commit as under load). */
const WRITES_PER_CLIENT = 150;

function spansOf(dir: string, servers: EnsembleServer[]): Map<number, SpanRecord[]> {
  return new Map(servers.map((s) => [s.id, readSpansFile(spansFileName(dir, s.id))]));
}

function serverOf(span: SpanRecord): number {
  return Number(span.attributes['zab.server.id']);
}

async function followerOf(ensemble: LocalEnsemble): Promise<{ leader: EnsembleServer; follower: EnsembleServer }> {
  const statuses = await ensemble.status();
  const leaderId = statuses.find((s) => s.mode === 'leader')?.id;
  const followerId = statuses.find((s) => s.mode === 'follower')?.id;
  if (leaderId === undefined || followerId === undefined) throw new Error(`no leader or follower: ${JSON.stringify(statuses)}`);
  return { leader: ensemble.server(leaderId), follower: ensemble.server(followerId) };
}

describe.skipIf(!zablabBuilt())('one trace per write across the ensemble', () => {
  let dir: string | undefined;
  let spansDir: string;
  let ensemble: LocalEnsemble;

  beforeAll(async () => {
    dir = tempDir('zablab-trace-');
    spansDir = path.join(dir, 'spans');
    ensemble = await LocalEnsemble.up({ voters: 3, observers: 1, dir, env: { ZABLAB_SPANS_DIR: spansDir }, timeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await teardown(dir);
  }, 60_000);

  it('a write through a follower: zk.request → zab.proposal → zab.ack on every voter, zab.commit on every server', async () => {
    const { leader, follower } = await followerOf(ensemble);
    const client = await ZkClient.connect({ connectString: `${follower.host}:${follower.clientPort}`, connectTimeoutMs: 10_000 });
    let zxid: bigint;
    try {
      const { stat } = await client.create('/traced', Buffer.from('one write'));
      zxid = stat.czxid;
    } finally {
      await client.close();
    }
    const zxidHex = '0x' + zxid.toString(16);
    const voters = ensemble.servers.filter((s) => s.role === 'voter').map((s) => s.id);
    const all = ensemble.servers.map((s) => s.id);

    // Spans leave every server within 2 s (500 ms batches); allow for a loaded machine.
    const trace = await poll(
      'every span of the write in the spans files',
      () => {
        const files = spansOf(spansDir, ensemble.servers);
        const request = files.get(follower.id)!.find((s) => s.name === 'zk.request' && s.attributes['zk.path'] === '/traced');
        if (request === undefined) return Promise.resolve(undefined);
        const spans = [...files.values()].flat().filter((s) => s.traceId === request.traceId);
        const acks = new Set(spans.filter((s) => s.name === 'zab.ack').map(serverOf));
        const commits = new Set(spans.filter((s) => s.name === 'zab.commit').map(serverOf));
        const complete = voters.every((v) => acks.has(v)) && all.every((id) => commits.has(id));
        return Promise.resolve(complete ? { request, spans } : undefined);
      },
      20_000,
      250,
    );

    const { request, spans } = trace;
    expect(request.attributes['zk.op']).toMatch(/^create2?$/);
    expect(request.attributes['zab.role']).toBe('follower');
    expect(request.parentSpanId).toBeNull();

    const proposals = spans.filter((s) => s.name === 'zab.proposal');
    expect(proposals).toHaveLength(1);
    const proposal = proposals[0]!;
    expect(serverOf(proposal)).toBe(leader.id);
    expect(proposal.parentSpanId).toBe(request.spanId);
    expect(proposal.attributes['zab.zxid']).toBe(zxidHex);
    expect(proposal.events.map((e) => e.name)).toEqual(expect.arrayContaining(['quorum', 'commit sent']));

    const acks = spans.filter((s) => s.name === 'zab.ack');
    expect(acks.map(serverOf).sort()).toEqual(voters);
    for (const ack of acks) {
      expect(ack.parentSpanId).toBe(proposal.spanId);
      expect(ack.attributes['zab.zxid']).toBe(zxidHex);
      const events = ack.events.map((e) => e.name);
      expect(events).toEqual(expect.arrayContaining(['fsynced']));
      if (serverOf(ack) !== leader.id) expect(events).toEqual(['appended', 'fsynced', 'ack sent']);
    }

    const commits = spans.filter((s) => s.name === 'zab.commit');
    expect(commits.map(serverOf).sort()).toEqual(all);
    for (const commit of commits) {
      expect(commit.parentSpanId).toBe(proposal.spanId);
      expect(commit.events.map((e) => e.name)).toContain('applied');
      expect(BigInt(commit.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(commit.startTimeUnixNano));
    }
    const observer = ensemble.servers.find((s) => s.role === 'observer')!;
    expect(commits.find((c) => serverOf(c) === observer.id)!.attributes['zab.role']).toBe('observer');
    // Every span names the service and the server it came from.
    for (const s of spans) expect(s.resource['service.name']).toBe('zablab');
  });

  it('each server recorded its election, discovery and sync; the leader one sync per learner', () => {
    const files = spansOf(spansDir, ensemble.servers);
    for (const s of ensemble.servers) {
      const names = files.get(s.id)!.map((x) => x.name);
      expect(names, `server ${s.id}`).toEqual(expect.arrayContaining(['zab.election', 'zab.discovery', 'zab.sync']));
      const election = files.get(s.id)!.find((x) => x.name === 'zab.election' && x.attributes['zab.leader.id'] !== undefined)!;
      expect(Number(election.attributes['zab.election.votes'])).toBeGreaterThan(0);
    }
  });

  it('the write breakdown (harness): every stage, an ack row per voter, an apply row per server; the observer applies but never acks', async () => {
    const { leader, follower } = await followerOf(ensemble);
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

describe.skipIf(!zablabBuilt())('ratio sampling is decided once, where the write arrives', () => {
  let dir: string | undefined;
  let spansDir: string;
  let ensemble: LocalEnsemble;

  beforeAll(async () => {
    dir = tempDir('zablab-sampling-');
    spansDir = path.join(dir, 'spans');
    ensemble = await LocalEnsemble.up({
      voters: 3,
      observers: 0,
      dir,
      env: { ZABLAB_SPANS_DIR: spansDir, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' },
      timeoutMs: 60_000,
    });
  }, 90_000);

  afterAll(async () => {
    await teardown(dir);
  }, 60_000);

  it('a sampled write is traced on every voter, an unsampled one on none', async () => {
    const { follower } = await followerOf(ensemble);
    const writes = 24;
    const client = await ZkClient.connect({ connectString: `${follower.host}:${follower.clientPort}`, connectTimeoutMs: 10_000 });
    const zxids: string[] = [];
    try {
      for (let i = 0; i < writes; i++) zxids.push('0x' + (await client.create(`/sampled-${i}`, null)).stat.czxid.toString(16));
      // One last write, always after the others: once its commit is everywhere, so are theirs.
      await client.sync('/');
    } finally {
      await client.close();
    }
    // Wait out two flush periods, then compare what each voter recorded per zxid.
    await new Promise((r) => setTimeout(r, 2_000));
    const files = spansOf(spansDir, ensemble.servers);
    const commitsBy = (id: number): Set<string> =>
      new Set(files.get(id)!.filter((s) => s.name === 'zab.commit').map((s) => String(s.attributes['zab.zxid'])));
    const traced = zxids.filter((z) => commitsBy(follower.id).has(z));
    expect(traced.length, 'some writes sampled').toBeGreaterThan(0);
    expect(traced.length, 'some writes not sampled').toBeLessThan(writes);
    for (const s of ensemble.servers) {
      const mine = zxids.filter((z) => commitsBy(s.id).has(z));
      expect(mine, `server ${s.id} traced exactly the sampled writes`).toEqual(traced);
    }
    const requests = files.get(follower.id)!.filter((s) => s.name === 'zk.request' && String(s.attributes['zk.path']).startsWith('/sampled-'));
    expect(requests).toHaveLength(traced.length);
  });
});
