/**
 * Cutting the leader off from its peers (through the transport's fault hook, since netem is
 * not available): it stops serving writes, the majority elects a new leader and keeps
 * committing, and after the heal the old leader rejoins as a follower with the new writes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/client/index.js';
import { adminAuthHeaders, LocalEnsemble, type EnsembleServer } from '../../src/harness/ensemble/index.js';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

/** POST /v1/faults with the ensemble's token (DIR/admin-token). */
async function faults(e: LocalEnsemble, s: EnsembleServer, body: object): Promise<void> {
  const res = await fetch(`http://${s.host}:${s.httpPort}/v1/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...adminAuthHeaders(e.adminToken()) },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.text()).toBe(200);
}

describe('partitioning the leader (real processes)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-e2e-part-'));
  let ens: LocalEnsemble | null = null;
  afterAll(async () => {
    await ens?.down({ purge: true }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an isolated leader stops serving; the majority elects a new one; the heal brings it back', async () => {
    ens = await LocalEnsemble.up({ voters: 3, observers: 0, dir, config: { tickTime: '200', initLimit: '10', syncLimit: '5' } });
    const e = ens;
    const old = (await e.leader())!;
    const others = e.servers.filter((s) => s.id !== old.id);
    const c = await ZkClient.connect({ connectString: others.map((s) => `${s.host}:${s.clientPort}`).join(',') });
    await c.create('/before', Buffer.from('1'));

    await faults(e, old, { cut: others.map((s) => s.id) });
    for (const s of others) await faults(e, s, { cut: [old.id] });

    // The majority side elects a leader among itself and commits.
    await until('a new leader on the majority side', async () => {
      const st = await e.status();
      return st.some((s) => s.mode === 'leader' && s.id !== old.id);
    });
    await c.create('/during', Buffer.from('2'));
    // The old leader, without a synced quorum for syncLimit, has stepped down and serves nothing.
    await until('the isolated leader to stop serving', async () => {
      const st = (await e.status()).find((s) => s.id === old.id)!;
      return st.mode !== 'leader' && st.mode !== 'follower';
    });
    const ready = await fetch(`http://${old.host}:${old.httpPort}/readyz`);
    expect(ready.status).toBe(503);

    for (const s of e.servers) await faults(e, s, { heal: 'all' });
    await until('the old leader to rejoin as a follower', async () => {
      const st = (await e.status()).find((s) => s.id === old.id)!;
      return st.mode === 'follower';
    });
    const direct = await ZkClient.connect({ connectString: `${old.host}:${old.clientPort}` });
    await direct.sync('/');
    expect((await direct.getData('/during')).data?.toString()).toBe('2');
    expect((await direct.getData('/before')).data?.toString()).toBe('1');
    await direct.close();
    await c.close();
  }, 90_000);
});
