/**
 * Every span ServerTelemetry makes, with an in-memory exporter. The servers of an ensemble
 * are played here by several ServerTelemetry objects, called in the order a real host calls
 * them, with the traceparent strings passed along as the quorum channel carries them.
 */
import { SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { Code, OpCode } from '../../../src/jute/index.js';
import { formatTraceparent, parseTraceparent, setupTelemetry } from '../../../src/telemetry/index.js';
import { makeZxid } from '../../../src/zab/index.js';
import { learn, lead, request, setDataTxn, traced } from './helpers.js';

function attr(span: { attributes: Record<string, unknown> }, key: string): unknown {
  return span.attributes[key];
}

describe('zk.request', () => {
  it('a read: op, path, session and the reply code; NONODE is an answer, not a failure', () => {
    const s = traced(1);
    s.tel.startedStandalone();
    const read = request(OpCode.getData, '/app/config', 0xabcn, 42);
    s.tel.requestStarted(read);
    s.tel.requestFinished(read, Code.NONODE, false);
    const [span] = s.named('zk.request');
    expect(span).toBeDefined();
    expect(attr(span!, 'zk.op')).toBe('getData');
    expect(attr(span!, 'zk.path')).toBe('/app/config');
    expect(attr(span!, 'zk.session.id')).toBe('0xabc');
    expect(attr(span!, 'zk.xid')).toBe(42);
    expect(attr(span!, 'zk.error.code')).toBe(Code.NONODE);
    expect(attr(span!, 'zk.error.name')).toBe('NONODE');
    expect(attr(span!, 'zab.role')).toBe('standalone');
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    expect(s.metrics().get('cnt_readlatency')).toBe(1);
    expect(s.metrics().get('cnt_updatelatency')).toBe(0);
  });

  it('a system error marks the span failed; a write counts in updatelatency', () => {
    const s = traced(1);
    const write = request(OpCode.setData, '/a');
    s.tel.requestStarted(write);
    s.tel.requestFinished(write, Code.CONNECTIONLOSS, true);
    expect(s.named('zk.request')[0]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'CONNECTIONLOSS' });
    expect(s.metrics().get('cnt_updatelatency')).toBe(1);
  });

  it('pings are not traced; a request the connection dropped ends without latency', () => {
    const s = traced(1);
    const ping = request(OpCode.ping, null);
    s.tel.requestStarted(ping);
    s.tel.requestFinished(ping, Code.OK, false);
    const dropped = request(OpCode.exists, '/x');
    s.tel.requestStarted(dropped);
    s.tel.requestAbandoned(dropped);
    expect(s.spans().map((x) => x.name)).toEqual(['zk.request']);
    expect(s.named('zk.request')[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(s.metrics().get('cnt_readlatency')).toBe(0);
  });
});

describe('one write through a follower: one trace on every server', () => {
  const L = 1;
  const F = 2;
  const O = 3;

  function run() {
    const leader = traced(L);
    const follower = traced(F);
    const observer = traced(O);
    lead(leader.tel, L);
    learn(follower.tel, L, 'FOLLOWING');
    learn(observer.tel, L, 'OBSERVING');
    const zxid = makeZxid(1n, 1n);

    // The client's write arrives at the follower, which forwards it with its traceparent.
    const clientReq = request(OpCode.setData, '/a');
    follower.tel.requestStarted(clientReq);
    const forwarded = follower.tel.traceparentOf(clientReq);
    // The leader proposes; the PROPOSAL carries the proposal span's traceparent.
    const leaderReq = request(OpCode.setData, '/a');
    const proposalTrace = leader.tel.proposalStarting(leaderReq, forwarded);
    leader.tel.proposalCreated(zxid, OpCode.setData);
    const txn = setDataTxn(zxid, proposalTrace);
    leader.tel.logAppended(zxid, txn.trace);
    follower.tel.messageReceived(L, { kind: 'proposal', txn });
    follower.tel.logAppended(zxid, txn.trace);
    const fsyncStarted = performance.now();
    follower.tel.logSynced(fsyncStarted);
    follower.tel.messageSent(L, { kind: 'ack', zxid });
    leader.tel.logSynced(fsyncStarted);
    leader.tel.messageReceived(F, { kind: 'ack', zxid });
    // Quorum (leader + follower): COMMIT to the follower, INFORM to the observer.
    leader.tel.messageSent(F, { kind: 'commit', zxid });
    leader.tel.messageSent(O, { kind: 'inform', txn });
    leader.tel.committedApplied(zxid);
    follower.tel.messageReceived(L, { kind: 'commit', zxid });
    follower.tel.committedApplied(zxid);
    observer.tel.messageReceived(L, { kind: 'inform', txn });
    observer.tel.logAppended(zxid, txn.trace);
    observer.tel.logSynced(performance.now());
    observer.tel.committedApplied(zxid);
    follower.tel.requestFinished(clientReq, Code.OK, true);
    return { leader, follower, observer, zxid };
  }

  it('zk.request → zab.proposal → zab.ack (leader, follower) and zab.commit (leader, follower, observer)', () => {
    const { leader, follower, observer } = run();
    const req = follower.named('zk.request')[0]!;
    const traceId = req.spanContext().traceId;
    const proposal = leader.named('zab.proposal')[0]!;
    expect(proposal.spanContext().traceId).toBe(traceId);
    expect(proposal.parentSpanContext?.spanId).toBe(req.spanContext().spanId);
    expect(attr(proposal, 'zab.zxid')).toBe('0x100000001');
    expect(attr(proposal, 'zab.epoch')).toBe(1);
    expect(attr(proposal, 'zab.role')).toBe('leader');
    expect(proposal.events.map((e) => e.name)).toEqual(['ack received', 'quorum', 'commit sent']);

    const acks = [...leader.named('zab.ack'), ...follower.named('zab.ack'), ...observer.named('zab.ack')];
    expect(acks.map((a) => attr(a, 'zab.server.id'))).toEqual([L, F]);
    for (const a of acks) {
      expect(a.spanContext().traceId).toBe(traceId);
      expect(a.parentSpanContext?.spanId).toBe(proposal.spanContext().spanId);
    }
    expect(follower.named('zab.ack')[0]!.events.map((e) => e.name)).toEqual(['appended', 'fsynced', 'ack sent']);
    expect(leader.named('zab.ack')[0]!.events.map((e) => e.name)).toEqual(['appended', 'fsynced']);

    const commits = [...leader.named('zab.commit'), ...follower.named('zab.commit'), ...observer.named('zab.commit')];
    expect(commits.map((c) => attr(c, 'zab.server.id'))).toEqual([L, F, O]);
    for (const c of commits) {
      expect(c.spanContext().traceId).toBe(traceId);
      expect(c.parentSpanContext?.spanId).toBe(proposal.spanContext().spanId);
      expect(c.events.map((e) => e.name)).toEqual(['applied']);
    }
    expect(attr(observer.named('zab.commit')[0]!, 'zab.role')).toBe('observer');
  });

  it('each group fsync is a zab.fsync span linked to the traces it made durable', () => {
    const { follower } = run();
    const [fsync] = follower.named('zab.fsync');
    expect(attr(fsync!, 'zab.fsync.txns')).toBe(1);
    expect(fsync!.links.map((l) => l.context.traceId)).toEqual([follower.named('zk.request')[0]!.spanContext().traceId]);
  });

  it('ZooKeeper metrics on each role: proposal/commit counts, ack and propagation latencies', () => {
    const { leader, follower, observer } = run();
    const l = leader.metrics();
    expect(l.get('proposal_count')).toBe(1);
    expect(l.get('commit_count')).toBe(1);
    expect(l.get('cnt_quorum_ack_latency')).toBe(1);
    expect(l.get('cnt_1_ack_latency')).toBe(1);
    expect(l.get('cnt_2_ack_latency')).toBe(1);
    expect(l.get('cnt_fsynctime')).toBe(1);
    const f = follower.metrics();
    expect(f.get('learner_proposal_received_count')).toBe(1);
    expect(f.get('learner_commit_received_count')).toBe(1);
    expect(f.get('cnt_proposal_latency')).toBe(1);
    expect(f.get('cnt_commit_propagation_latency')).toBe(1);
    expect(f.get('cnt_updatelatency')).toBe(1);
    expect(f.get('proposal_count')).toBe(0);
    const o = observer.metrics();
    expect(o.get('learner_commit_received_count')).toBe(1);
    expect(o.get('cnt_commit_propagation_latency')).toBe(1);
  });
});

describe('sampling', () => {
  const zxid = makeZxid(1n, 1n);
  const sampledParent = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };

  it('a learner honours the decision in the traceparent, whatever its own ratio', () => {
    // Its own root ratio would sample nothing; a sampled parent still gets its ack span...
    const f = traced(2, { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' });
    learn(f.tel, 1, 'FOLLOWING');
    f.tel.messageReceived(1, { kind: 'proposal', txn: setDataTxn(zxid, formatTraceparent(sampledParent)) });
    f.tel.messageSent(1, { kind: 'ack', zxid });
    expect(f.named('zab.ack')).toHaveLength(1);
    expect(f.named('zab.ack')[0]!.spanContext().traceId).toBe(sampledParent.traceId);
    // ...and with ratio 1, an unsampled parent gets none.
    const g = traced(3, { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' });
    learn(g.tel, 1, 'FOLLOWING');
    g.tel.messageReceived(1, { kind: 'proposal', txn: setDataTxn(zxid, formatTraceparent({ ...sampledParent, traceFlags: TraceFlags.NONE })) });
    g.tel.messageSent(1, { kind: 'ack', zxid });
    expect(g.named('zab.ack')).toHaveLength(0);
  });

  it('an unsampled request still forwards a traceparent, flagged not sampled', () => {
    const s = traced(2, { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' });
    const req = request(OpCode.create, '/x');
    s.tel.requestStarted(req);
    const tp = parseTraceparent(s.tel.traceparentOf(req));
    expect(tp).not.toBeNull();
    expect(tp!.traceFlags & TraceFlags.SAMPLED).toBe(0);
    s.tel.requestFinished(req, Code.OK, true);
    expect(s.spans()).toHaveLength(0);
  });

  it('with no exporter configured, tracing is off: no traceparent, no spans, metrics still counted', () => {
    const tel = setupTelemetry({ serverId: 1, env: {} });
    expect(tel.tracing).toBe(false);
    lead(tel, 1);
    const req = request(OpCode.setData, '/a');
    tel.requestStarted(req);
    expect(tel.traceparentOf(req)).toBeUndefined();
    expect(tel.proposalStarting(req, undefined)).toBeUndefined();
    tel.proposalCreated(zxid, OpCode.setData);
    tel.logAppended(zxid, undefined);
    tel.logSynced(performance.now());
    tel.committedApplied(zxid);
    tel.requestFinished(req, Code.OK, true);
    const m = new Map(tel.monitorValues());
    expect(m.get('proposal_count')).toBe(1);
    expect(m.get('commit_count')).toBe(1);
    expect(m.get('cnt_1_ack_latency')).toBe(1);
    expect(m.get('cnt_updatelatency')).toBe(1);
    expect(m.get('cnt_sync_processor_batch_size')).toBe(1);
  });
});
