/** What the partition tests of several drivers ask of an ensemble: who serves, and writes through chosen members. */
import { ZkClient } from '../../src/client/index.js';
import type { EnsembleHandle, MemberStatus } from '../../src/harness/drivers/index.js';
import { poll } from '../integration/ensemble/support.js';

export { poll };

export function modes(st: readonly MemberStatus[]): string {
  return st.map((s) => `${s.id}=${s.mode}`).join(' ');
}

/** The client addresses of these members only. */
export function at(h: EnsembleHandle, ids: readonly number[]): string {
  return h.members
    .filter((m) => ids.includes(m.id))
    .map((m) => `${m.host}:${m.clientPort}`)
    .join(',');
}

/** A write through these members only; rejects when none of them serves. */
export async function writeVia(h: EnsembleHandle, ids: readonly number[], znode: string, connectTimeoutMs = 15_000): Promise<void> {
  const client = await ZkClient.connect({ connectString: at(h, ids), connectTimeoutMs });
  try {
    await client.create(znode, Buffer.from(znode));
  } finally {
    await client.close();
  }
}

/** Waits until exactly the members `serving` serve (one of them leading) and every other member is looking; the leader's id. */
export async function servingExactly(h: EnsembleHandle, serving: readonly number[], timeoutMs: number, stepMs = 100): Promise<number> {
  let last: MemberStatus[] = [];
  return poll(
    `${serving.join(',')} serving and the rest looking`,
    async () => {
      last = await h.status();
      const on = last.filter((s) => serving.includes(s.id));
      const off = last.filter((s) => !serving.includes(s.id));
      const leaders = on.filter((s) => s.mode === 'leader');
      if (leaders.length !== 1 || !on.every((s) => s.mode === 'leader' || s.mode === 'follower') || !off.every((s) => s.mode === 'looking')) return undefined;
      return leaders[0]!.id;
    },
    timeoutMs,
    stepMs,
  ).catch((err: Error) => {
    throw new Error(`${err.message} (last: ${modes(last)})`);
  });
}
