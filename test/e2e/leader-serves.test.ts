/**
 * `leaderServes=no`: the leader coordinates and takes no client sessions of its own (clients
 * are refused there and go to a learner), while writes through learners still commit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/client/index.js';
import { LocalEnsemble } from '../../src/harness/ensemble/index.js';

describe('leaderServes=no (real processes)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-e2e-ls-'));
  let ens: LocalEnsemble | null = null;
  afterAll(async () => {
    await ens?.down({ purge: true }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses sessions on the leader and serves them on the followers', async () => {
    ens = await LocalEnsemble.up({ voters: 3, observers: 0, dir, config: { tickTime: '200', leaderServes: 'no' } });
    const leader = (await ens.leader())!;
    await expect(
      ZkClient.connect({ connectString: `${leader.host}:${leader.clientPort}`, connectTimeoutMs: 2_000 }),
    ).rejects.toThrow();
    const follower = ens.servers.find((s) => s.id !== leader.id)!;
    const c = await ZkClient.connect({ connectString: `${follower.host}:${follower.clientPort}` });
    await c.create('/via-follower', Buffer.from('ok'));
    expect((await c.getData('/via-follower')).data?.toString()).toBe('ok');
    await c.close();
  }, 60_000);
});
