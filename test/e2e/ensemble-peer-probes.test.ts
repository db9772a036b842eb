/**
 * The attacker probes of issue #12 against a real 3-voter `ensemble up` (separate processes,
 * real sockets): a process on the same host that reaches the peer ports and claims a member
 * id it cannot prove.
 *  1. A fake learner (FOLLOWERINFO, ACKEPOCH) under an id above the leader's gets no znode data.
 *  2. The same fake learner cannot forward writes carrying `super` auth.
 *  3. Fake handshakes at 20 Hz on every quorum and election port cause no leader change and
 *     no write outage for a client writing all along, and do not slow the election that
 *     replaces a killed leader.
 * Under both credentials `ensemble up` can generate (the quorum secret, its default, and
 * mutual TLS). The control runs probes 1 and 2 against ZooKeeper's open default
 * (--peer-security none), where they succeed: the probes are real attacks.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ZkClient, digestId } from '../../src/client/index.js';
import { LocalEnsemble, type EnsembleServer, type PeerSecurityMode } from '../../src/harness/ensemble/index.js';
import { OpCode, Perms, SetDataRequest, DeleteRequest } from '../../src/jute/index.js';
import { AckedWriter } from '../helpers/acked-writer.js';
import { fakeLearner, floodPeerPorts, forgedSuperRequest, type FakePeer } from '../helpers/fake-peer.js';

const SECRET = `vault-${crypto.randomBytes(8).toString('hex')}`;
const OWNER = digestId('owner', 'owner-password');

/** A 3-voter ensemble with two digest-protected znodes, and the fake peers a test opened. */
class Target {
  ensemble!: LocalEnsemble;
  owner!: ZkClient;
  readonly fakes: FakePeer[] = [];
  private dir = '';

  async up(peerSecurity: PeerSecurityMode): Promise<void> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `zablab-probes-${peerSecurity}-`));
    this.ensemble = await LocalEnsemble.up({ voters: 3, observers: 0, dir: this.dir, peerSecurity });
    this.owner = await ZkClient.connect({ connectString: this.ensemble.connectString() });
    await this.owner.addAuth('digest', Buffer.from('owner:owner-password'));
    const acl = [{ perms: Perms.ALL, id: OWNER }];
    await this.owner.create('/vault', Buffer.from(SECRET), { acl });
    await this.owner.create('/guarded', Buffer.from('keep me'), { acl });
    await this.owner.create('/w', null);
  }

  async down(): Promise<void> {
    for (const f of this.fakes) f.close();
    await this.owner?.close().catch(() => undefined);
    await this.ensemble?.down({ purge: true }).catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The leader, after making sure some member has a higher id (a higher id's connection is the one the leader accepts). */
  async leaderBelowTop(): Promise<{ leader: EnsembleServer; claimed: number }> {
    const e = this.ensemble;
    const top = Math.max(...e.servers.map((s) => s.id));
    for (let attempt = 0; attempt < 3; attempt++) {
      const leader = await e.leader();
      if (leader !== null && leader.id < top) return { leader, claimed: top };
      if (leader !== null) {
        await e.kill(leader.id, 'SIGKILL');
        await e.waitServing();
        await e.start(leader.id);
      } else {
        await e.waitServing();
      }
    }
    throw new Error('no leader below the top id');
  }

  /** A fake learner that runs discovery with the leader as far as the leader lets it; null when it cannot even connect (TLS). */
  async fakeLearner(leader: EnsembleServer, claimed: number): Promise<FakePeer | null> {
    const fake = await fakeLearner(leader.quorumPort, claimed);
    if (fake !== null) this.fakes.push(fake);
    return fake;
  }

  /** Fake handshakes at 20 Hz on every server's quorum and election port (floodPeerPorts). Returns the stop. */
  flood(): () => void {
    return floodPeerPorts(this.ensemble.servers);
  }

  /** Probe 1: what a fake learner received. */
  async probeSnapshot(): Promise<{ kinds: string[]; leakedData: boolean; leakedHash: boolean }> {
    const { leader, claimed } = await this.leaderBelowTop();
    const fake = await this.fakeLearner(leader, claimed);
    if (fake === null) return { kinds: [], leakedData: false, leakedHash: false };
    await sleep(500);
    fake.close();
    return { kinds: fake.messages().map((m) => m.kind), leakedData: fake.received().includes(SECRET), leakedHash: fake.received().includes(OWNER.id) };
  }

  /** Probe 2: requests with super auth forwarded by a fake learner; what /vault and /guarded hold afterwards. */
  async probeForgedWrites(): Promise<{ vault: string | undefined; guarded: boolean }> {
    const { leader, claimed } = await this.leaderBelowTop();
    // Anyone may open a session; the forged requests name it.
    const attacker = await ZkClient.connect({ connectString: this.ensemble.connectString() });
    try {
      const fake = await this.fakeLearner(leader, claimed);
      const sid = attacker.sessionId;
      fake?.send({ kind: 'app', payload: forgedSuperRequest(sid, 1, OpCode.setData, (w) => SetDataRequest.write(w, { path: '/vault', data: Buffer.from('forged'), version: -1 })) });
      fake?.send({ kind: 'app', payload: forgedSuperRequest(sid, 2, OpCode.delete, (w) => DeleteRequest.write(w, { path: '/guarded', version: -1 })) });
      await sleep(1500);
      fake?.close();
      await this.ensemble.waitServing();
      const reader = await ZkClient.connect({ connectString: this.ensemble.connectString() });
      try {
        await reader.addAuth('digest', Buffer.from('owner:owner-password'));
        await reader.sync('/');
        const vault = (await reader.getData('/vault')).data?.toString();
        return { vault, guarded: (await reader.exists('/guarded')) !== null };
      } finally {
        await reader.close().catch(() => undefined);
      }
    } finally {
      await attacker.close().catch(() => undefined);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

for (const mode of ['secret', 'tls'] as const) {
  describe(`a process on the same host claiming a member id (--peer-security ${mode})`, () => {
    const t = new Target();
    beforeAll(() => t.up(mode), 120_000);
    afterAll(() => t.down());

    test('a fake learner gets no znode data from the leader', async () => {
      const got = await t.probeSnapshot();
      for (const k of ['leaderinfo', 'snap', 'diff', 'trunc', 'proposal', 'commit', 'newleader']) expect(got.kinds).not.toContain(k);
      expect(got.leakedData).toBe(false);
      expect(got.leakedHash).toBe(false); // the password hash in the ACL
    }, 120_000);

    test('a fake learner cannot forward writes with super auth', async () => {
      expect(await t.probeForgedWrites()).toEqual({ vault: SECRET, guarded: true });
    }, 120_000);

    test('fake handshakes at 20 Hz on every peer port cause no leader change and no write outage', async () => {
      const e = t.ensemble;
      await e.waitServing();
      const before = await e.leader();
      expect(before).not.toBeNull();
      const writer = await AckedWriter.start(e.connectString(), '/w', 'steady');
      await sleep(500);
      const epochBefore = (await e.status()).find((s) => s.id === before!.id)!.epoch;
      const stopFlood = t.flood();
      const floodStart = Date.now();
      await sleep(8000);
      stopFlood();
      const floodEnd = Date.now();
      await sleep(300);
      await writer.stop();

      const after = await e.leader();
      const epochAfter = (await e.status()).find((s) => s.id === after?.id)?.epoch;
      expect({ leader: after?.id, epoch: epochAfter }).toEqual({ leader: before!.id, epoch: epochBefore });
      expect(writer.longestGapMs(floodStart, floodEnd)).toBeLessThan(1000);
      expect(writer.acksBetween(floodStart, floodEnd)).toBeGreaterThan(100);
      expect(writer.failures).toBe(0);
      // The fakes were refused, in a few rate-limited lines (about one a second, with times=N), not one each.
      const refusals = fs.readFileSync(e.server(before!.id).logFile, 'utf8').split('\n').filter((l) => l.includes('peer connection refused'));
      expect(refusals.length).toBeGreaterThan(0);
      expect(refusals.length).toBeLessThan(40);
      expect(refusals.some((l) => /times=\d+/.test(l))).toBe(true);
    }, 120_000);

    test('under the same flood, a killed leader is replaced within seconds: the election is not stalled', async () => {
      const e = t.ensemble;
      await e.waitServing();
      const writer = await AckedWriter.start(e.connectString(), '/w', 'election');
      const stopFlood = t.flood();
      try {
        await sleep(1000);
        const leader = await e.leader();
        const killedAt = Date.now();
        await e.kill(leader!.id, 'SIGKILL');
        const resumedAt = await writer.firstAckAfter(killedAt, 20_000);
        // A new leader was elected and serves writes; an election that fakes could stall would not finish.
        expect(resumedAt - killedAt).toBeLessThan(5000);
        const next = await e.leader();
        expect(next?.id).not.toBe(leader!.id);
      } finally {
        stopFlood();
        await writer.stop();
      }
    }, 120_000);
  });
}

describe("control: the same probes against ZooKeeper's open default (--peer-security none) succeed", () => {
  const t = new Target();
  beforeAll(() => t.up('none'), 120_000);
  afterAll(() => t.down());

  test('the fake learner is synced with the data and the password hash', async () => {
    const got = await t.probeSnapshot();
    expect(got.kinds).toContain('leaderinfo');
    expect(got.kinds).toContain('newleader');
    expect(got.leakedData).toBe(true);
  }, 120_000);

  test('its forged writes with super auth are applied', async () => {
    expect(await t.probeForgedWrites()).toEqual({ vault: 'forged', guarded: false });
  }, 120_000);
});
