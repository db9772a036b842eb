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
import { JuteWriter, OpCode, Perms, SetDataRequest, DeleteRequest } from '../../src/jute/index.js';
import { encodeApp } from '../../src/server/quorum/app-messages.js';
import { FakePeer } from '../helpers/fake-peer.js';

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
    let fake: FakePeer;
    try {
      fake = await FakePeer.dial(leader.quorumPort, claimed, 'quorum');
    } catch {
      return null;
    }
    this.fakes.push(fake);
    // Goes on as soon as the leader answers the handshake (or refuses it), before the real member redials.
    await fake.answered(2000);
    fake.send({ kind: 'followerinfo', acceptedEpoch: 0n, lastZxid: 0n, observer: false, recovering: false });
    if ((await fake.waitFor('leaderinfo', 3000)) !== undefined) fake.send({ kind: 'ackepoch', currentEpoch: 0n, lastZxid: 0n });
    const newleader = await fake.waitFor('newleader', 3000);
    if (newleader?.kind === 'newleader') fake.send({ kind: 'ack', zxid: newleader.zxid });
    return fake;
  }

  /** Every 50 ms, on every server's quorum and election port, a handshake claiming another member's id (an election notification on the election port). Returns the stop. */
  flood(): () => void {
    const e = this.ensemble;
    const ids = e.servers.map((s) => s.id);
    const timer = setInterval(() => {
      for (const s of e.servers) {
        for (const channel of ['quorum', 'election'] as const) {
          const others = ids.filter((id) => id !== s.id);
          const claimed = others[Math.floor(Math.random() * others.length)]!;
          FakePeer.dial(channel === 'quorum' ? s.quorumPort : s.electionPort, claimed, channel).then(
            (f) => {
              this.fakes.push(f);
              if (channel === 'election') f.send({ kind: 'notification', state: 'LOOKING', leader: claimed, zxid: 1n << 40n, electionEpoch: 1000n, peerEpoch: 1000n, recovering: false });
              setTimeout(() => f.close(), 200);
            },
            () => undefined,
          );
        }
      }
    }, 50);
    return () => clearInterval(timer);
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
      fake?.send({ kind: 'app', payload: request(sid, 1, OpCode.setData, (w) => SetDataRequest.write(w, { path: '/vault', data: Buffer.from('forged'), version: -1 })) });
      fake?.send({ kind: 'app', payload: request(sid, 2, OpCode.delete, (w) => DeleteRequest.write(w, { path: '/guarded', version: -1 })) });
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

/** A client creating znodes one after another, recording when each was acknowledged. */
class Writer {
  private readonly acks: number[] = [];
  failures = 0;
  private writing = true;
  private done: Promise<void> = Promise.resolve();

  private constructor(private readonly client: ZkClient) {}

  static async start(connectString: string, prefix: string): Promise<Writer> {
    const w = new Writer(await ZkClient.connect({ connectString, sessionTimeoutMs: 30_000 }));
    w.done = (async () => {
      for (let i = 0; w.writing; i++) {
        try {
          await w.client.create(`/w/${prefix}-${i}`, Buffer.from('x'));
          w.acks.push(Date.now());
        } catch {
          w.failures++;
          await sleep(20);
        }
      }
    })();
    return w;
  }

  async stop(): Promise<void> {
    this.writing = false;
    await this.done;
    await this.client.close().catch(() => undefined);
  }

  acksBetween(from: number, to: number): number {
    return this.acks.filter((x) => x >= from && x <= to).length;
  }

  /** The longest time in [from, to] without an acknowledged write. */
  longestGapMs(from: number, to: number): number {
    const marks = [from, ...this.acks.filter((x) => x >= from && x <= to), to];
    return Math.max(...marks.slice(1).map((x, i) => x - marks[i]!));
  }

  async firstAckAfter(t: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ack = this.acks.find((x) => x > t);
      if (ack !== undefined) return ack;
      if (Date.now() > deadline) throw new Error(`no write acknowledged within ${timeoutMs} ms`);
      await sleep(20);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function request(sessionId: bigint, cxid: number, type: number, write: (w: JuteWriter) => void): Uint8Array {
  const w = new JuteWriter(64);
  write(w);
  return encodeApp({ kind: 'request', sessionId, cxid, type, body: w.toBuffer(), authInfo: [{ scheme: 'super', id: 'super' }], trace: '' });
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
      const writer = await Writer.start(e.connectString(), 'steady');
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
      const writer = await Writer.start(e.connectString(), 'election');
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
