/**
 * A session that asks to connect while its server elects a leader is held and answered as
 * soon as the server serves (zablab waits where ZooKeeper closes at once); a server that
 * has gone without a leader for two ticks refuses at once, as ZooKeeper does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalEnsemble } from '../../src/harness/ensemble/index.js';
import { connectRequestFrame, rawConnect, waitUntil } from '../helpers/raw-session.js';

// A server is held for a tick: long enough that starting a Node process and electing fits
// in it even when CI runs many test files at once on two cores (3 s did not, once).
const TICK_MS = 6_000;

describe('handshakes during an election (real processes)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-e2e-eh-'));
  let ens: LocalEnsemble | null = null;
  afterAll(async () => {
    await ens?.down({ purge: true }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('holds a ConnectRequest until the election ends, then grants the session', async () => {
    ens = await LocalEnsemble.up({ voters: 3, observers: 0, dir, config: { tickTime: String(TICK_MS) } });
    const leader = (await ens.leader())!;
    const [survivor, other] = ens.servers.filter((s) => s.id !== leader.id) as [typeof leader, typeof leader];
    // The survivor loses its leader and cannot elect one alone: it elects, and waits. The
    // follower goes first so the two cannot elect each other between the kills.
    await ens.kill(other.id);
    await ens.kill(leader.id);
    // A ConnectRequest that arrives before the survivor notices is closed with the follower's
    // sessions; this test is about the ones that arrive during the election.
    const electing = async (): Promise<boolean> => (await ens!.status()).find((s) => s.id === survivor.id)?.mode === 'not serving';
    const deadline = Date.now() + TICK_MS;
    while (!(await electing())) {
      if (Date.now() > deadline) throw new Error(`server ${survivor.id} still serves without its leader`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const c = await rawConnect(survivor.host, survivor.clientPort);
    c.socket.write(connectRequestFrame());
    const sentAt = Date.now();
    await ens.start(other.id);
    await waitUntil(() => c.sessionId !== null || c.closed, 'an answer to the ConnectRequest', TICK_MS + 2_000);
    expect(c.closed).toBe(false);
    expect(c.sessionId).not.toBe(0n);
    expect(Date.now() - sentAt).toBeLessThan(TICK_MS);
    c.socket.destroy();

    // Without a quorum for longer than two ticks, a ConnectRequest is refused at once.
    await ens.kill(other.id);
    await new Promise((resolve) => setTimeout(resolve, 2 * TICK_MS + 200));
    const late = await rawConnect(survivor.host, survivor.clientPort);
    late.socket.write(connectRequestFrame());
    await late.waitForClose(1_000);
    expect(late.sessionId).toBe(null);
  }, 120_000);
});
