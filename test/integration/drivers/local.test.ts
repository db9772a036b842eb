/** The `local` driver (zablab servers as local processes) against the driver conformance suite, with every fault and spans. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { driverFor, localDriver, parseMntr } from '../../../src/harness/drivers/index.js';
import { zablabCliPath } from '../../../src/harness/ensemble/index.js';
import { runDriverConformance } from './conformance.js';

const built = fs.existsSync(zablabCliPath());

runDriverConformance('local', localDriver, {
  faults: true,
  partition: true,
  spans: true,
  program: 'zablab',
  skip: built ? null : 'zablab is not built (run `npm run build`)',
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
