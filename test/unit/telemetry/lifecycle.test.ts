/**
 * Spans and metrics of a server's life outside a single write: election, discovery, sync
 * (on the learner and per learner on the leader), losing the role mid-write, snapshots and
 * session expiry.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { OpCode } from '../../../src/jute/index.js';
import { makeZxid } from '../../../src/zab/index.js';
import { learn, lead, request, setDataTxn, traced } from './helpers.js';

describe('election → discovery → sync → serving', () => {
  it('a follower: one span per phase, each the child of the one before; ZooKeeper timings recorded', () => {
    const s = traced(2);
    learn(s.tel, 1, 'FOLLOWING');
    const [election] = s.named('zab.election');
    const [discovery] = s.named('zab.discovery');
    const [sync] = s.named('zab.sync');
    expect(election!.attributes).toMatchObject({ 'zab.leader.id': 1, 'zab.election.votes': 3, 'zab.election.epoch': 1, 'zab.reason': 'startup', 'zab.role': 'follower' });
    expect(discovery!.parentSpanContext?.spanId).toBe(election!.spanContext().spanId);
    expect(discovery!.attributes['zab.epoch']).toBe(1);
    expect(sync!.parentSpanContext?.spanId).toBe(discovery!.spanContext().spanId);
    expect(sync!.attributes).toMatchObject({ 'zab.sync.mode': 'DIFF', 'zab.sync.txns': 0 });
    const m = s.metrics();
    expect(m.get('looking_count')).toBe(1);
    expect(m.get('cnt_election_time')).toBe(1);
    expect(m.get('cnt_unavailable_time')).toBe(1);
    expect(m.get('cnt_follower_sync_time')).toBe(1);
    expect(m.get('cnt_observer_sync_time')).toBe(0);
  });

  it('proposals that arrive during sync count in zab.sync.txns and get no span of their own', () => {
    const s = traced(3);
    s.tel.peerEvent({ kind: 'looking', electionEpoch: 1n, reason: 'startup' });
    s.tel.peerEvent({ kind: 'elected', leader: 1, electionEpoch: 1n, state: 'OBSERVING', votesReceived: 2, ticks: 1 });
    s.tel.peerEvent({ kind: 'discovered', epoch: 2n, leader: 1 });
    s.tel.messageReceived(1, { kind: 'snap', zxid: makeZxid(1n, 5n) });
    for (let i = 6n; i <= 8n; i++) s.tel.messageReceived(1, { kind: 'proposal', txn: setDataTxn(makeZxid(1n, i), undefined) });
    s.tel.peerEvent({ kind: 'synced', epoch: 2n, leader: 1, mode: 'SNAP' });
    s.tel.peerEvent({ kind: 'serving', epoch: 2n, leader: 1, state: 'OBSERVING' });
    expect(s.named('zab.sync')[0]!.attributes).toMatchObject({ 'zab.sync.mode': 'SNAP', 'zab.sync.txns': 3 });
    expect(s.named('zab.ack')).toHaveLength(0);
    expect(s.metrics().get('cnt_observer_sync_time')).toBe(1);
  });

  it('the leader: one zab.sync per learner, from its FOLLOWERINFO to in sync; diff_count and snap_count', () => {
    const s = traced(1);
    lead(s.tel, 1);
    s.tel.messageReceived(2, { kind: 'followerinfo', acceptedEpoch: 0n, lastZxid: 0n, observer: false, recovering: false });
    s.tel.messageReceived(2, { kind: 'followerinfo', acceptedEpoch: 0n, lastZxid: 0n, observer: false, recovering: false }); // resent
    s.tel.messageReceived(3, { kind: 'followerinfo', acceptedEpoch: 0n, lastZxid: 0n, observer: true, recovering: false });
    s.tel.peerEvent({ kind: 'learnerSynced', learner: 2, mode: 'DIFF', txns: 4, observer: false, fromLog: false });
    s.tel.peerEvent({ kind: 'learnerSynced', learner: 3, mode: 'SNAP', txns: 0, observer: true, fromLog: false });
    const perLearner = s.named('zab.sync').filter((x) => x.attributes['zab.peer.id'] !== undefined);
    expect(perLearner.map((x) => [x.attributes['zab.peer.id'], x.attributes['zab.sync.mode'], x.attributes['zab.sync.txns']])).toEqual([
      [2, 'DIFF', 4],
      [3, 'SNAP', 0],
    ]);
    expect(s.metrics().get('diff_count')).toBe(1);
    expect(s.metrics().get('snap_count')).toBe(1);
    // A SNAP streams as it is encoded: the host reports its bytes once the last piece is out.
    s.tel.snapSent(1234);
    expect(s.metrics().get('zab_snap_bytes_sent')).toBe(1234);
  });
});

describe('losing the role', () => {
  it('LOOKING ends every open proposal, ack and commit span as failed, with the reason', () => {
    const s = traced(1);
    lead(s.tel, 1);
    const zxid = makeZxid(1n, 1n);
    const req = request(OpCode.create, '/x');
    s.tel.requestStarted(req);
    const tp = s.tel.proposalStarting(req);
    s.tel.proposalCreated(zxid, OpCode.create);
    s.tel.logAppended(zxid, tp);
    s.tel.peerEvent({ kind: 'looking', electionEpoch: 2n, reason: 'not sufficient followers synced' });
    const proposal = s.named('zab.proposal')[0]!;
    expect(proposal.status).toEqual({ code: SpanStatusCode.ERROR, message: 'LOOKING: not sufficient followers synced' });
    expect(s.named('zab.ack')[0]!.status.code).toBe(SpanStatusCode.ERROR);
    // A proposal that never reached quorum is not counted as committed.
    s.tel.committedApplied(zxid);
    expect(s.metrics().get('commit_count')).toBe(0);
    expect(s.metrics().get('looking_count')).toBe(2);
  });

  it('a proposal the core refused (not leading) ends failed and counts nothing', () => {
    const s = traced(1);
    const req = request(OpCode.create, '/x');
    s.tel.requestStarted(req);
    s.tel.proposalStarting(req);
    s.tel.proposalCreated(null, OpCode.create);
    expect(s.named('zab.proposal')[0]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'not leading' });
    expect(s.metrics().get('proposal_count')).toBe(0);
  });
});

describe('leader bookkeeping', () => {
  it('pending_syncs: a learner sync waits for the proposals before it', () => {
    const s = traced(1);
    lead(s.tel, 1);
    const z1 = makeZxid(1n, 1n);
    s.tel.proposalStarting(request(OpCode.create, '/x'));
    s.tel.proposalCreated(z1, OpCode.create);
    s.tel.syncQueued();
    expect(s.tel.pendingSyncCount).toBe(1);
    s.tel.messageSent(2, { kind: 'commit', zxid: z1 });
    expect(s.tel.pendingSyncCount).toBe(0);
    s.tel.syncQueued(); // nothing outstanding: answered at once, never pending
    expect(s.tel.pendingSyncCount).toBe(0);
  });
});

describe('snapshots and session expiry', () => {
  it('zab.snapshot spans the write; snapshottime records its duration; a skipped one says so', async () => {
    const s = traced(1);
    await s.tel.snapshot(Promise.resolve({ zxid: makeZxid(1n, 9n), durationMs: 12.5 }));
    await s.tel.snapshot(Promise.resolve(null));
    await expect(s.tel.snapshot(Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    await new Promise((r) => setImmediate(r));
    const spans = s.named('zab.snapshot');
    expect(spans.map((x) => x.attributes['zab.zxid'] ?? x.attributes['zab.reason'])).toEqual([
      '0x100000009',
      'skipped: a snapshot was already being written',
      'snapshot failed: Error: disk full',
    ]);
    expect(spans[2]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(s.metrics().get('cnt_snapshottime')).toBe(1);
    expect(s.metrics().get('sum_snapshottime')).toBe(12.5);
  });

  it('zab.session.expire is the parent of the closeSession proposal', () => {
    const s = traced(1);
    lead(s.tel, 1);
    const close = request(OpCode.closeSession, null, 0x99n, 0);
    s.tel.sessionExpiring(close, 4000);
    s.tel.proposalStarting(close);
    s.tel.proposalCreated(makeZxid(1n, 1n), OpCode.closeSession);
    s.tel.committedApplied(makeZxid(1n, 1n));
    const [expire] = s.named('zab.session.expire');
    expect(expire!.attributes).toMatchObject({ 'zk.session.id': '0x99', 'zk.session.timeout_ms': 4000 });
    const [proposal] = s.named('zab.proposal');
    expect(proposal!.parentSpanContext?.spanId).toBe(expire!.spanContext().spanId);
    expect(proposal!.attributes['zk.op']).toBe('closeSession');
    // No learner to tell: deciding and applying are one step, and still a commit.
    expect(s.named('zab.commit')).toHaveLength(1);
    expect(s.metrics().get('commit_count')).toBe(1);
  });
});
