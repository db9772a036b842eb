/**
 * Peer security on real transports over 127.0.0.1: quorum authentication (a mutual HMAC
 * challenge over the ensemble's secret) and quorum TLS (certificates from src/harness/tls).
 * A connection that claims a member id gets nothing and changes nothing until it has proven
 * the claim: no message reaches the owner, no established link is replaced or nudged away,
 * and a recorded handshake cannot be replayed. Unfinished handshakes are bounded without
 * locking real peers out.
 */
import crypto from 'node:crypto';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createCertificateAuthority, type CertificateAuthority } from '../../../src/harness/tls/index.js';
import type { QuorumAuthOptions } from '../../../src/server/quorum/peer-auth.js';
import { PeerTls } from '../../../src/server/quorum/peer-tls.js';
import { NUDGE_GRACE_MS, PENDING_INBOUND_MAX, type TransportOptions } from '../../../src/server/quorum/transport.js';
import type { Message } from '../../../src/zab/index.js';
import { FakePeer } from '../../helpers/fake-peer.js';
import { addresses, closeAll, ensemble, Node, rawConnect, sleep, waitFor } from './helpers.js';

let nodes: Node[] = [];
const fakes: FakePeer[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) f.close();
  await closeAll(nodes);
  nodes = [];
});

function secretOf(text: string): crypto.KeyObject {
  return crypto.createSecretKey(Buffer.from(text, 'utf8'));
}

const SECRET = secretOf('the ensemble secret, 32+ chars long');
const AUTH: QuorumAuthOptions = { secret: SECRET, learnerRequire: true, serverRequire: true };

function note(from: number, epoch: number): Message {
  return { kind: 'notification', state: 'LOOKING', leader: from, zxid: 0n, electionEpoch: BigInt(epoch), peerEpoch: 0n, recovering: false };
}

/** Every pair talks on both channels; resolves once each message arrived. */
async function exchange(all: Node[], seq: number): Promise<void> {
  for (const n of all) {
    for (const p of all) {
      if (p === n) continue;
      n.transport.send(p.id, { kind: 'ping', zxid: BigInt(seq) });
      n.transport.send(p.id, note(n.id, seq));
    }
  }
  const got = (n: Node, from: number): boolean =>
    n.from(from).some((m) => m.kind === 'ping' && m.zxid === BigInt(seq)) && n.from(from).some((m) => m.kind === 'notification' && m.electionEpoch === BigInt(seq));
  await waitFor(() => all.every((n) => all.every((p) => p === n || got(n, p.id))), `messages of round ${seq} on both channels`);
}

async function fake(port: number, claimed: number, channel: 'quorum' | 'election', opts: Parameters<typeof FakePeer.dial>[3] = {}): Promise<FakePeer> {
  const f = await FakePeer.dial(port, claimed, channel, opts);
  fakes.push(f);
  return f;
}

function portOf(n: Node, channel: 'quorum' | 'election'): number {
  const a = n.peers.find((p) => p.id === n.id)!;
  return channel === 'quorum' ? a.quorumPort : a.electionPort;
}

function refusals(n: Node): string[] {
  return n.logLines.filter((l) => l.includes('peer connection refused'));
}

describe('quorum authentication', () => {
  const opts: Partial<TransportOptions> = { security: { auth: AUTH } };

  test('servers that share the secret connect on both channels and exchange messages, with no warnings', async () => {
    nodes = await ensemble([1, 2, 3], opts);
    await waitFor(() => nodes.every((n) => n.transport.stats().connections === 4), 'all connections up');
    await exchange(nodes, 1);
    for (const n of nodes) expect(n.warnings(), n.warnings().join('')).toEqual([]);
    expect(nodes[0]!.logLines.find((l) => l.includes('peer transport listening'))).toContain('auth=required');
  });

  test('a server with another secret connects to nobody and delivers nothing; the others keep their links', async () => {
    const peers = await addresses([1, 2, 3]);
    const one = new Node(1, peers, opts);
    const two = new Node(2, peers, opts);
    const stranger = new Node(3, peers, { security: { auth: { ...AUTH, secret: secretOf('another secret, also 32+ chars') } } });
    nodes = [one, two, stranger];
    await Promise.all(nodes.map((n) => n.transport.start()));
    await waitFor(() => one.transport.stats().connections === 2 && two.transport.stats().connections === 2, 'servers 1 and 2 connected');
    await waitFor(() => refusals(one).length > 0 && refusals(stranger).length > 0, 'refusals on both sides');
    for (let i = 0; i < 5; i++) {
      stranger.transport.send(1, { kind: 'ping', zxid: BigInt(i) });
      stranger.transport.send(2, note(3, i));
    }
    await sleep(300);
    expect(stranger.transport.stats().connections).toBe(0);
    expect(one.from(3)).toEqual([]);
    expect(two.from(3)).toEqual([]);
    expect(one.disconnects).toEqual([]);
    expect(refusals(one)[0]).toContain('server 3 failed to prove that it knows the quorum secret');
    expect(refusals(stranger).join('\n')).toMatch(/answered with a wrong proof|failed to prove/);
    await exchange([one, two], 2);
  });

  for (const channel of ['quorum', 'election'] as const) {
    test(`on the ${channel} port, a connection claiming a member id changes nothing and delivers nothing until it proves the claim`, async () => {
      nodes = await ensemble([1, 2, 3], opts);
      const [one, two] = nodes as [Node, Node, Node];
      await waitFor(() => nodes.every((n) => n.transport.stats().connections === 4), 'all connections up');
      await sleep(NUDGE_GRACE_MS + 100); // nudges would now drop an established link
      const before = { received: two.received.length, connections: two.transport.stats().connections };
      const attempts: FakePeer[] = [];
      // A higher id's connection would replace server 3's link; a lower id's is a nudge that would drop server 1's.
      for (const claimed of [3, 1]) {
        for (const auth of ['guess', 'none'] as const) {
          const f = await fake(portOf(two, channel), claimed, channel, { auth });
          // Pipelined after the proof, as a peer that assumes it got in would.
          f.send(channel === 'quorum' ? { kind: 'followerinfo', acceptedEpoch: 0n, lastZxid: 0n, observer: false, recovering: false } : note(claimed, 999));
          attempts.push(f);
        }
      }
      for (const f of attempts) expect(await f.closedWithin(2000)).toBe(true);
      await sleep(200);
      expect(two.received.length).toBe(before.received);
      expect(two.disconnects).toEqual([]);
      expect(one.disconnects).toEqual([]);
      expect(two.transport.stats().connections).toBe(before.connections);
      for (const f of attempts) {
        // At most a challenge: no handshake answer, no message.
        expect(f.frames.map((x) => x.type).filter((t) => t !== 'challenge')).toEqual([]);
      }
      expect(refusals(two).length).toBeGreaterThan(0);
      expect(two.logLines.filter((l) => l.includes('connected to a peer')).length).toBe(4); // its four real links, once each
      await exchange(nodes, 3);
    });
  }

  test('a recorded handshake cannot be replayed on a new connection', async () => {
    nodes = await ensemble([1, 2, 3], opts, [1, 2]); // server 3 is down; its id is free to claim
    const two = nodes[1]!;
    await waitFor(() => two.transport.stats().connections === 2, 'servers 1 and 2 connected');
    // A member that knows the secret gets in, and is answered with a proof.
    const member = await fake(portOf(two, 'quorum'), 3, 'quorum', { auth: { secret: SECRET, acceptorId: 2 } });
    await waitFor(() => member.frames.some((f) => f.type === 'handshake'), 'the answer');
    const answer = member.frames.find((f) => f.type === 'handshake');
    expect(answer?.type === 'handshake' && answer.handshake.proof?.length).toBe(32);
    member.send({ kind: 'ping', zxid: 77n });
    await waitFor(() => two.from(3).length === 1, 'the member message');
    member.close();
    await waitFor(() => two.disconnects.includes(3), 'the member gone');
    // Its nonce and proof, replayed: the acceptor's nonce is new, so the proof no longer fits.
    const replay = await fake(portOf(two, 'quorum'), 3, 'quorum', { nonce: member.nonce!, proof: member.sentProof! });
    expect(await replay.closedWithin(2000)).toBe(true);
    expect(replay.frames.map((f) => f.type)).toEqual(['challenge']);
    expect(refusals(two).at(-1)).toContain('server 3 failed to prove that it knows the quorum secret');
    expect(two.from(3).length).toBe(1);
  });

  test('connections that never finish their handshake are bounded, oldest first, and do not lock a real peer out', async () => {
    nodes = await ensemble([1, 2], { ...opts, connectTimeoutMs: 5000 });
    const [one, two] = nodes as [Node, Node];
    await waitFor(() => nodes.every((n) => n.transport.stats().connections === 2), 'connected');
    // Three times the bound, all silent, all still open when server 2 comes back.
    const idle = await Promise.all(Array.from({ length: 3 * PENDING_INBOUND_MAX }, () => rawConnect(portOf(one, 'quorum'))));
    await sleep(100);
    const open = idle.filter((c) => !c.socket.destroyed).length;
    expect(open).toBeLessThanOrEqual(PENDING_INBOUND_MAX + 5);
    const restartedAt = Date.now();
    await two.restart();
    await waitFor(() => one.transport.stats().connections === 2 && two.transport.stats().connections === 2, 'reconnected despite the flood', 3000);
    expect(Date.now() - restartedAt).toBeLessThan(3000);
    await exchange(nodes, 4);
    // One line per second, however many were dropped.
    expect(one.logLines.filter((l) => l.includes('too many unfinished handshakes')).length).toBeLessThanOrEqual(2);
    for (const c of idle) c.socket.destroy();
  });
});

/** TLS 1.3 finishes the client's side before the server has checked the client's certificate: either way the connection must end with nothing received. */
async function refusedInTls(port: number, channel: 'quorum' | 'election', tlsOptions: NonNullable<Parameters<typeof FakePeer.dial>[3]>['tls']): Promise<void> {
  let f: FakePeer;
  try {
    f = await fake(port, 3, channel, { tls: tlsOptions });
  } catch {
    return;
  }
  expect(await f.closedWithin(2000)).toBe(true);
  expect(f.frames).toEqual([]);
}

describe('quorum TLS', () => {
  let ca: CertificateAuthority;
  let tlsOf: (o?: Partial<ConstructorParameters<typeof PeerTls>[0]>) => PeerTls;
  let serverPem: { keyPem: string; certPem: string };
  beforeAll(async () => {
    ca = await createCertificateAuthority();
    serverPem = await ca.issueServer({ hosts: ['127.0.0.1', 'localhost'] });
    tlsOf = (o = {}) => new PeerTls({ key: serverPem.keyPem, cert: serverPem.certPem, ca: ca.certPem, hostnameVerification: true, protocols: ['TLSv1.2', 'TLSv1.3'], ...o });
  });

  test('servers with certificates from the trusted CA connect on both channels, with and without the secret', async () => {
    nodes = await ensemble([1, 2, 3], { security: { tls: tlsOf(), auth: AUTH } });
    await waitFor(() => nodes.every((n) => n.transport.stats().connections === 4), 'all connections up');
    await exchange(nodes, 1);
    await closeAll(nodes);
    nodes = await ensemble([1, 2, 3], { security: { tls: tlsOf({ protocols: ['TLSv1.3'] }) } });
    await waitFor(() => nodes.every((n) => n.transport.stats().connections === 4), 'all connections up (TLS only)');
    await exchange(nodes, 2);
    for (const n of nodes) expect(n.warnings(), n.warnings().join('')).toEqual([]);
  });

  test('a dialer without a certificate, or with one another CA issued, is refused in the TLS handshake and changes nothing', async () => {
    nodes = await ensemble([1, 2, 3], { security: { tls: tlsOf() } });
    const two = nodes[1]!;
    await waitFor(() => nodes.every((n) => n.transport.stats().connections === 4), 'all connections up');
    const other = await createCertificateAuthority();
    const foreign = await other.issueServer({ hosts: ['127.0.0.1'] });
    const before = two.received.length;
    for (const channel of ['quorum', 'election'] as const) {
      await refusedInTls(portOf(two, channel), channel, { ca: ca.certPem });
      await refusedInTls(portOf(two, channel), channel, { ca: ca.certPem, key: foreign.keyPem, cert: foreign.certPem });
    }
    await sleep(200);
    expect(two.received.length).toBe(before);
    expect(two.disconnects).toEqual([]);
    expect(two.transport.stats().connections).toBe(4);
    await waitFor(() => refusals(two).length > 0, 'a refusal logged');
    expect(refusals(two)[0]).toContain('TLS: ');
  });

  test('a certificate from the trusted CA that names no member (a client certificate) cannot claim a member id', async () => {
    nodes = await ensemble([1, 2, 3], { security: { tls: tlsOf() } });
    const two = nodes[1]!;
    await waitFor(() => nodes.every((n) => n.transport.stats().connections === 4), 'all connections up');
    const client = await ca.issueClient();
    const f = await fake(portOf(two, 'quorum'), 3, 'quorum', { tls: { ca: ca.certPem, key: client.keyPem, cert: client.certPem }, auth: 'none' });
    f.send({ kind: 'followerinfo', acceptedEpoch: 0n, lastZxid: 0n, observer: false, recovering: false });
    expect(await f.closedWithin(2000)).toBe(true);
    expect(f.frames).toEqual([]);
    expect(two.disconnects).toEqual([]);
    await waitFor(() => refusals(two).some((l) => l.includes('names neither 127.0.0.1')), 'the refusal');
  });

  test('a server with sslQuorum among servers without it connects to nobody, and both sides say why', async () => {
    const peers = await addresses([1, 2, 3]);
    nodes = [new Node(1, peers, {}), new Node(2, peers, {}), new Node(3, peers, { security: { tls: tlsOf() } })];
    const [one, , three] = nodes as [Node, Node, Node];
    await Promise.all(nodes.map((n) => n.transport.start()));
    const hint = 'set sslQuorum the same on every server';
    await waitFor(() => one.warnings().some((l) => l.includes(hint)) && three.warnings().some((l) => l.includes(hint)), 'a hint on both sides');
    expect(three.transport.stats().connections).toBe(0);
    expect(one.from(3)).toEqual([]);
  });

  test('with hostnameVerification the dialer refuses a certificate for another host; without it the link comes up', async () => {
    const elsewhere = await ca.issueServer({ hosts: ['zk9.example.com'] });
    const wrongName = { key: elsewhere.keyPem, cert: elsewhere.certPem };
    // Server 1 shows a certificate for another host; server 2 dials it and checks.
    const peers = await addresses([1, 2]);
    const one = new Node(1, peers, { security: { tls: tlsOf(wrongName) } });
    const two = new Node(2, peers, { security: { tls: tlsOf() } });
    nodes = [one, two];
    await Promise.all(nodes.map((n) => n.transport.start()));
    await waitFor(() => refusals(two).some((l) => l.includes('TLS: ERR_TLS_CERT_ALTNAME_INVALID')), "server 2 refusing server 1's certificate");
    expect(two.transport.stats().connections).toBe(0);
    await closeAll(nodes);
    const lax = { hostnameVerification: false };
    nodes = [new Node(1, peers, { security: { tls: tlsOf({ ...wrongName, ...lax }) } }), new Node(2, peers, { security: { tls: tlsOf(lax) } })];
    await Promise.all(nodes.map((n) => n.transport.start()));
    await waitFor(() => nodes.every((n) => n.transport.stats().connections === 2), 'connected without hostname verification');
    await exchange(nodes, 5);
  });
});
