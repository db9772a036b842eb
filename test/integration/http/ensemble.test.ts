/**
 * The HTTP face of a real 3-voter ensemble (separate `zablab server` processes, real sockets
 * and fsync; run `npm run build` first): a write through a follower's REST face is read on
 * the other servers, the quorum commands describe the ensemble, and fault control isolates a
 * follower (it stops being ready and refuses REST requests with 503) and heals it — only for a
 * caller with the ensemble's token (DIR/admin-token, as `zablab ensemble up` writes it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEnsemble, type EnsembleServer } from '../../../src/harness/ensemble/index.js';
import { zablabBuilt } from '../../helpers/zablab.js';
import { http, type JsonReply } from './harness.js';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!zablabBuilt())('HTTP face of a 3-voter ensemble (real processes)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-http-ens-'));
  let ens: LocalEnsemble | null = null;
  let leader: EnsembleServer;
  let followers: EnsembleServer[];
  let token: string;
  const call = (s: EnsembleServer, method: string, url: string, body?: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }): Promise<JsonReply> =>
    http(`http://127.0.0.1:${s.httpPort}`, method, url, body, { ...(body !== undefined && url.startsWith('/v1/faults') ? { 'content-type': 'application/json' } : {}), ...headers });

  beforeAll(async () => {
    ens = await LocalEnsemble.up({ voters: 3, observers: 0, dir, config: { tickTime: '200', initLimit: '25', syncLimit: '5' } });
    leader = (await ens.leader())!;
    followers = ens.servers.filter((s) => s.id !== leader.id);
    token = ens.adminToken()!;
  }, 90_000);
  afterAll(async () => {
    await ens?.down({ purge: true }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a write through a follower is read back on that follower at once and on every other server', async () => {
    const [f1, f2] = followers as [EnsembleServer, EnsembleServer];
    const created = await call(f1, 'POST', '/v1/znodes/via-follower', 'hello');
    expect(created.status, created.text).toBe(201);
    const zxid = (created.body as { stat: { czxid: string } }).stat.czxid;
    expect(BigInt(zxid) >> 32n).toBeGreaterThan(0n); // a zxid of this leader's epoch
    // The follower answered once the txn committed and applied here: a read on it sees the write.
    expect((await call(f1, 'GET', '/v1/znodes/via-follower')).body).toMatchObject({ data: Buffer.from('hello').toString('base64') });
    for (const s of [f2, leader]) {
      await until(`server ${s.id} to apply the write`, async () => (await call(s, 'GET', '/v1/znodes/via-follower')).status === 200);
      expect((await call(s, 'GET', '/v1/znodes/via-follower')).body).toMatchObject({ stat: { czxid: zxid } });
    }
    const set = await call(f2, 'PUT', '/v1/znodes/via-follower?version=0', 'again');
    expect(set.status).toBe(200);
    expect((await call(f2, 'PUT', '/v1/znodes/via-follower?version=0', 'stale')).status).toBe(409);
  });

  it('readyz is ready on every server in broadcast', async () => {
    for (const s of ens!.servers) {
      const r = await call(s, 'GET', '/readyz');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'ready', zabState: 'broadcast', peerState: s.id === leader.id ? 'LEADING' : 'FOLLOWING' });
    }
  });

  it('the quorum commands describe the ensemble as ZooKeeper 3.8 does', async () => {
    for (const s of ens!.servers) {
      const isLeader = s.id === leader.id;
      const lead = (await call(s, 'GET', '/commands/leader')).body;
      expect(lead).toEqual({ is_leader: isLeader, leader_id: leader.id, leader_ip: '127.0.0.1', command: 'leader', error: null });

      const zab = (await call(s, 'GET', '/commands/zabstate')).body as Record<string, unknown>;
      expect(Object.keys(zab)).toEqual([
        'myid', 'is_leader', 'quorum_address', 'election_address', 'client_address', 'voting',
        'last_zxid', 'zab_epoch', 'zab_counter', 'zabstate', 'command', 'error',
      ]);
      expect(zab).toMatchObject({ myid: s.id, is_leader: isLeader, voting: true, zabstate: 'broadcast', client_address: `127.0.0.1:${s.clientPort}` });
      expect(zab['quorum_address']).toMatchObject({ one: `127.0.0.1:${s.quorumPort}`, all_ports: [s.quorumPort] });

      const view = (await call(s, 'GET', '/commands/voting_view')).body as { current_config: Record<string, unknown> };
      expect(Object.keys(view.current_config).sort()).toEqual(['1', '2', '3']);
      expect(view.current_config[String(s.id)]).toEqual({
        server_addresses: [`127.0.0.1:${s.quorumPort}`],
        election_addresses: [`127.0.0.1:${s.electionPort}`],
        client_address: `127.0.0.1:${s.clientPort}`,
        learner_type: 'participant',
      });

      const mntr = (await call(s, 'GET', '/commands/mntr')).body as Record<string, unknown>;
      expect(mntr).toMatchObject({ server_state: isLeader ? 'leader' : 'follower', peer_state: isLeader ? 'leading - broadcast' : 'following - broadcast', quorum_size: 2 });
      if (isLeader) expect(mntr).toMatchObject({ learners: 2, synced_followers: 2, synced_observers: 0, synced_non_voting_followers: 0 });
      else expect(mntr).not.toHaveProperty('learners');
    }
  });

  it('faults: GET shows the state, POST validates whole requests and applies them', async () => {
    const f = followers[0]!;
    expect((await call(f, 'GET', '/v1/faults')).body).toEqual({ serverId: f.id, cut: [], delayMs: {}, dropRate: {} });
    const bad = await call(f, 'POST', '/v1/faults', JSON.stringify({ delayMs: { '*': 5 }, cut: [f.id] }));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'ZABLAB_HTTP_FAULT_ARGUMENT', zkCode: null } });
    // Nothing of a refused request was applied.
    expect((await call(f, 'GET', '/v1/faults')).body).toMatchObject({ delayMs: {} });
    const ok = await call(f, 'POST', '/v1/faults', JSON.stringify({ delayMs: { '*': 2 }, dropRate: { [String(leader.id)]: 0 } }));
    expect(ok.body).toEqual({ serverId: f.id, cut: [], delayMs: { '*': 2 }, dropRate: {} });
    expect((await call(f, 'POST', '/v1/faults', JSON.stringify({ heal: 'all' }))).body).toMatchObject({ delayMs: {} });
  });

  it('fault control needs the token: without it (or cross-site) 401/403 and nothing is cut', async () => {
    const [f1, f2] = followers as [EnsembleServer, EnsembleServer];
    expect(fs.statSync(path.join(dir, 'admin-token')).mode & 0o777).toBe(0o600);
    const cutAll = JSON.stringify({ cut: [leader.id, f2.id] });
    const none = await call(f1, 'POST', '/v1/faults', cutAll, {});
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: { code: 'ZABLAB_HTTP_UNAUTHORIZED' } });
    expect((await call(f1, 'GET', '/v1/faults', undefined, {})).status).toBe(401);
    // A page's text/plain POST carries no token; even with one it is refused as cross-site.
    const csrf = await call(f1, 'POST', '/v1/faults', cutAll, { authorization: `Bearer ${token}`, 'content-type': 'text/plain' });
    expect(csrf.status).toBe(403);
    expect(csrf.body).toMatchObject({ error: { code: 'ZABLAB_HTTP_CROSS_ORIGIN', message: expect.stringContaining('takes a JSON body') } });
    // Nothing was cut: the follower stays in broadcast.
    expect((await call(f1, 'GET', '/v1/faults')).body).toEqual({ serverId: f1.id, cut: [], delayMs: {}, dropRate: {} });
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await call(f1, 'GET', '/readyz')).status).toBe(200);
  });

  it('an isolated follower is not ready and answers REST requests 503; healed, it catches up', async () => {
    const [f1, f2] = followers as [EnsembleServer, EnsembleServer];
    const cut = await call(f1, 'POST', '/v1/faults', JSON.stringify({ cut: [leader.id, f2.id] }));
    expect(cut.body).toMatchObject({ cut: [leader.id, f2.id].sort((a, b) => a - b) });
    await until('the isolated follower to leave broadcast', async () => (await call(f1, 'GET', '/readyz')).status === 503);
    expect((await call(f1, 'GET', '/readyz')).body).toMatchObject({ status: 'unavailable', peerState: 'LOOKING', zabState: 'election' });
    const refused = await call(f1, 'POST', '/v1/znodes/while-isolated', 'x');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: { code: 'CONNECTIONLOSS', zkCode: -4 } });
    expect((await call(f1, 'GET', '/v1/znodes/via-follower')).status).toBe(503);
    // The other two still form a quorum.
    expect((await call(f2, 'POST', '/v1/znodes/while-isolated', 'y')).status).toBe(201);

    await call(f1, 'POST', '/v1/faults', JSON.stringify({ heal: 'all' }));
    await until('the healed follower to serve again', async () => (await call(f1, 'GET', '/readyz')).status === 200, 60_000);
    // A new REST session is made on the next request, and the follower has the write it missed.
    const got = await call(f1, 'GET', '/v1/znodes/while-isolated');
    expect(got.status, got.text).toBe(200);
    expect(got.body).toMatchObject({ data: Buffer.from('y').toString('base64') });
    expect((await call(f1, 'POST', '/v1/znodes/after-heal', 'z')).status).toBe(201);
  }, 120_000);
});
