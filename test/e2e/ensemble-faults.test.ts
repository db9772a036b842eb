/**
 * A real 3-voter + 1-observer ensemble (separate processes, real sockets and fsync) under a
 * write load while servers are SIGKILLed and restarted. ZAB's promises, checked end to end:
 * a new leader serves after the leader dies; no acknowledged write is lost; a follower and
 * the observer can die while writes keep flowing; restarted servers catch up (by DIFF when
 * they missed little, by SNAP when they missed more than the leader keeps in memory); at
 * the end every server has the same tree (same digest at the same zxid).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/client/index.js';
import { LocalEnsemble, fourLetterWord } from '../../src/harness/ensemble/index.js';

interface Load {
  acked: Map<string, string>;
  stop(): Promise<void>;
}

/** Workers creating unique znodes through any server; failed attempts are retried with a new name. */
function startLoad(connectString: string, workers: number): Load {
  const acked = new Map<string, string>();
  let stopping = false;
  const run = async (w: number) => {
    let client: ZkClient | null = null;
    for (let n = 0; !stopping; n++) {
      try {
        client ??= await ZkClient.connect({ connectString, sessionTimeoutMs: 20_000, connectTimeoutMs: 5_000 });
        const p = `/f/w${w}-${n}`;
        await client.create(p, Buffer.from(`v${w}-${n}`));
        acked.set(p, `v${w}-${n}`);
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await client?.close().catch(() => undefined);
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => run(w)));
  return {
    acked,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - start;
}

function mntrValue(text: string, key: string): string | undefined {
  return text
    .split('\n')
    .find((l) => l.startsWith(key + '\t'))
    ?.split('\t')[1];
}

describe('3 voters + 1 observer under faults (real processes)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-e2e-'));
  let ens: LocalEnsemble | null = null;
  afterAll(async () => {
    await ens?.down({ purge: true }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('survives leader, follower and observer kills without losing an acknowledged write', async () => {
    ens = await LocalEnsemble.up({
      voters: 3,
      observers: 1,
      dir,
      // Short ticks keep the test fast; a small commitLogCount makes a long absence reach past
      // the txns in memory into the leader's txn log (a SNAP if snapshotSizeFactor were -1).
      config: { tickTime: '200', initLimit: '25', syncLimit: '10', commitLogCount: '100', snapshotSizeFactor: '1' },
    });
    const e = ens;
    const setup = await ZkClient.connect({ connectString: e.connectString() });
    await setup.create('/f');
    await setup.close();
    const load = startLoad(e.connectString(), 4);
    await until('first writes', () => load.acked.size >= 200);

    // 1. SIGKILL the leader: a new leader is elected and writes resume.
    const oldLeader = (await e.leader())!;
    const before = load.acked.size;
    await e.kill(oldLeader.id, 'SIGKILL');
    await until('writes after the leader died', () => load.acked.size >= before + 200);
    const newLeader = (await e.leader())!;
    expect(newLeader.id).not.toBe(oldLeader.id);

    // 2. The old leader comes back and catches up by DIFF.
    await e.start(oldLeader.id);

    // 3. A follower and the observer die; two voters keep committing.
    const follower = e.servers.find((s) => s.role === 'voter' && s.id !== newLeader.id && s.id !== oldLeader.id)!;
    const observer = e.servers.find((s) => s.role === 'observer')!;
    await e.kill(follower.id, 'SIGKILL');
    await e.kill(observer.id, 'SIGKILL');
    const whileDown = load.acked.size;
    // More than commitLogCount txns while they are away: the leader DIFFs them from its txn log.
    await until('writes with a follower and the observer down', () => load.acked.size >= whileDown + 400);

    // 4. Both restart and catch up.
    await e.start(follower.id);
    await e.start(observer.id);
    await load.stop();

    // 5. Every server converges on the same tree, holding every acknowledged write.
    await until(
      'all servers at the same zxid',
      async () => {
        const st = await e.status();
        const z = new Set(st.map((s) => s.zxid));
        return st.every((s) => s.zxid !== null) && z.size === 1;
      },
      30_000,
    );
    // Digests first: opening a session below is itself a txn and moves the zxid. A server
    // that loaded a tree reports its digest once it has counted it (in idle steps).
    const digests = new Set<string>();
    await until(
      'every server reports its tree digest',
      async () => {
        digests.clear();
        for (const s of e.servers) {
          const mntr = await fourLetterWord(s.host, s.clientPort, 'mntr', 5_000);
          const digest = mntrValue(mntr, 'zk_tree_digest');
          if (digest === undefined) return false;
          digests.add(`${mntrValue(mntr, 'zk_last_processed_zxid')} ${digest}`);
        }
        return true;
      },
      10_000,
    );
    expect(digests.size, `tree digests differ: ${[...digests].join(' | ')}`).toBe(1);
    for (const s of e.servers) {
      const c = await ZkClient.connect({ connectString: `${s.host}:${s.clientPort}` });
      const { children } = await c.getChildren('/f');
      const present = new Set(children.map((x) => `/f/${x}`));
      const lost = [...load.acked.keys()].filter((p) => !present.has(p));
      expect(lost, `acknowledged writes missing on server ${s.id}`).toEqual([]);
      await c.close();
    }

    // The leader's log says how each restarted server was synced.
    const leaderLog = fs.readFileSync(e.server((await e.leader())!.id).logFile, 'utf8');
    expect(leaderLog).toMatch(new RegExp(`learner synced learner=${follower.id} mode=DIFF fromLog=true`));
    expect(leaderLog).toMatch(new RegExp(`learner synced learner=${observer.id} mode=DIFF fromLog=true`));
  }, 180_000);
});
