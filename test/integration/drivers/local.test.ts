/** The `local` driver (zablab servers as local processes) against the driver conformance suite, with every fault and spans. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { driverFor, localDriver, parseMntr } from '../../../src/harness/drivers/index.js';
import { zablabCliPath } from '../../../src/harness/ensemble/index.js';
import { runDriverConformance } from './conformance.js';

const built = fs.existsSync(zablabCliPath());

runDriverConformance('local', localDriver, {
  faults: true,
  partition: true,
  addObserver: true,
  spans: true,
  program: 'zablab',
  skip: built ? null : 'zablab is not built (run `npm run build`)',
});

describe.skipIf(!built)('local: spansSample', () => {
  it('traces about that share of requests (parent-based: a sampled request is traced whole)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-sample-'));
    const spansDir = path.join(dir, 'spans');
    const h = await localDriver().up({ voters: 1, observers: 0, config: {}, dir: path.join(dir, 'ensemble'), spansDir, spansSample: 0.05 });
    try {
      const client = await ZkClient.connect({ connectString: h.connectString() });
      const reads = 1_000;
      try {
        await Promise.all(Array.from({ length: reads }, () => client.exists('/')));
      } finally {
        await client.close();
      }
      await h.down();
      const lines = fs.readFileSync(path.join(spansDir, 'server-1.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
      const traced = lines.map((l) => JSON.parse(l) as { name: string; attributes: Record<string, unknown> }).filter((s) => s.name === 'zk.request' && s.attributes['zk.op'] === 'exists').length;
      // 5 % of 1,000: 50 expected; outside 10..150 has a probability far below 1e-9.
      expect(traced).toBeGreaterThanOrEqual(10);
      expect(traced).toBeLessThanOrEqual(150);
    } finally {
      await h.down();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('driverFor and parseMntr', () => {
  it('driverFor names each driver', () => {
    for (const name of ['local', 'zookeeper', 'external', 'compose'] as const) expect(driverFor(name).name).toBe(name);
  });

  it('parseMntr: numbers parsed, text kept, lines without a tab skipped', () => {
    const m = parseMntr(
      [
        'zk_version\t3.8.0-zablab-0.1.0, built on 2026-01-31 12:00 UTC',
        'zk_server_state\tfollower',
        'zk_avg_latency\t0.5',
        'zk_znode_count\t7',
        'zk_peer_state\tfollowing - broadcast',
        'zk_big\t123456789012345678901',
        'not a metric line',
        '',
      ].join('\n'),
    );
    expect(m).toEqual({
      zk_version: '3.8.0-zablab-0.1.0, built on 2026-01-31 12:00 UTC',
      zk_server_state: 'follower',
      zk_avg_latency: 0.5,
      zk_znode_count: 7,
      zk_peer_state: 'following - broadcast',
      zk_big: '123456789012345678901',
    });
    expect(parseMntr('This ZooKeeper instance is not currently serving requests\n')).toEqual({});
  });
});
