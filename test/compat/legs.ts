/**
 * The servers every compatibility suite runs against: Apache ZooKeeper (which proves the
 * assertions themselves are right) and zablab, each started with the same zoo.cfg entries.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startZablab } from '../helpers/zablab.js';
import { startZooKeeper, zookeeperAvailable } from '../helpers/zookeeper.js';
import type { ServerHandle } from '../helpers/zookeeper.js';

export type { ServerHandle } from '../helpers/zookeeper.js';

export interface CompatLeg {
  name: 'zookeeper' | 'zablab';
  /** False only for the zookeeper leg on a machine without Apache ZooKeeper; CI has it. */
  available: boolean;
  start: () => Promise<ServerHandle>;
}

/** One leg per server, both started with `config` (zoo.cfg entries); `zookeeperJvmFlags` only for Apache ZooKeeper. */
export function compatLegs(config: Record<string, string>, opts: { zookeeperJvmFlags?: string[] } = {}): CompatLeg[] {
  return [
    { name: 'zookeeper', available: zookeeperAvailable(), start: () => startZooKeeper({ config, jvmFlags: opts.zookeeperJvmFlags ?? [] }) },
    { name: 'zablab', available: true, start: () => startZablab({ config }) },
  ];
}

/** Polls `done` every 10 ms until it holds; throws with `what` after timeoutMs. */
export async function waitUntil(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
