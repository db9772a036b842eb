/**
 * GET /metrics text, read back by a real Prometheus text parser: ZooKeeper's names and
 * types, values from the server's view, zero series for what nothing recorded yet.
 */
import { describe, expect, it } from 'vitest';
import { OpCode } from '../../../src/jute/index.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheusText, setupTelemetry, type GaugeValues } from '../../../src/telemetry/index.js';
import { makeZxid } from '../../../src/zab/index.js';
import { lead, request } from './helpers.js';
import { LEADER_NAMES, ZOOKEEPER_NAMES, parsePrometheus } from './prom-parse.js';

function view(overrides: Partial<GaugeValues> = {}): GaugeValues {
  return {
    role: 'follower',
    outstandingRequests: 3,
    avgLatencyMs: 1.5,
    minLatencyMs: 0,
    maxLatencyMs: 9,
    packetsReceived: 100,
    packetsSent: 99,
    numAliveConnections: 4,
    znodeCount: 12,
    watchCount: 2,
    ephemeralsCount: 1,
    approximateDataSize: 345,
    globalSessions: 4,
    uptimeMs: 60_000,
    throttledOps: 7,
    connectionDropProbability: 0.25,
    lastProcessedZxid: makeZxid(3n, 17n),
    quorum: { quorumSize: 3, epoch: 3n, acceptedEpoch: 3n, lastLoggedZxid: makeZxid(3n, 18n) },
    ...overrides,
  };
}

describe('renderPrometheus', () => {
  it('every ZooKeeper metric name is present, with ZooKeeper types, before anything happened', async () => {
    const tel = setupTelemetry({ serverId: 2, env: {} });
    tel.setView(() => view());
    const families = parsePrometheus(await tel.renderPrometheus());
    for (const name of ZOOKEEPER_NAMES) expect(families.has(name), name).toBe(true);
    for (const name of LEADER_NAMES) expect(families.has(name), `${name} only on a leader`).toBe(false);
    expect(families.get('proposal_count')).toMatchObject({ type: 'COUNTER', metrics: [{ value: '0' }] });
    expect(families.get('fsynctime')!.type).toBe('HISTOGRAM');
    expect(families.get('fsynctime')!.metrics[0]).toMatchObject({ count: '0', sum: '0' });
    expect(families.get('znode_count')).toMatchObject({ type: 'GAUGE', metrics: [{ value: '12' }] });
    expect(families.get('throttled_ops')).toMatchObject({ type: 'COUNTER', metrics: [{ value: '7' }] });
    expect(families.get('connection_drop_probability')).toMatchObject({ type: 'GAUGE', metrics: [{ value: '0.25' }] });
    expect(families.get('connection_rejected')).toMatchObject({ type: 'COUNTER', metrics: [{ value: '0' }] });
    expect(families.get('quorum_size')!.metrics[0]!.value).toBe('3');
    expect(families.get('zab_epoch')!.metrics[0]!.value).toBe('3');
    expect(Number(families.get('zab_last_zxid')!.metrics[0]!.value)).toBe(Number(makeZxid(3n, 18n)));
    const roles = families.get('zab_role')!.metrics.map((m) => [m.labels?.['role'], m.value]);
    expect(roles).toEqual([
      ['looking', '0'],
      ['leader', '0'],
      ['follower', '1'],
      ['observer', '0'],
      ['standalone', '0'],
    ]);
    await tel.shutdown();
  });

  it('recorded values: counters count, histograms bucket in ms, ack_latency per acking server (label key)', async () => {
    const tel = setupTelemetry({ serverId: 1, env: {} });
    tel.setView(() => view({ role: 'leader', leader: { learners: 2, syncedFollowers: 1, syncedObservers: 1, outstandingProposals: 0 } }));
    lead(tel, 1);
    const zxid = makeZxid(1n, 1n);
    tel.proposalStarting(request(OpCode.create, '/x'));
    tel.proposalCreated(zxid, OpCode.create);
    tel.logAppended(zxid, undefined);
    tel.logSynced(performance.now() - 3);
    tel.messageReceived(2, { kind: 'ack', zxid });
    tel.messageSent(2, { kind: 'commit', zxid });
    const text = await tel.renderPrometheus();
    const families = parsePrometheus(text);
    expect(families.get('proposal_count')!.metrics[0]!.value).toBe('1');
    expect(families.get('commit_count')!.metrics[0]!.value).toBe('1');
    const fsync = families.get('fsynctime')!.metrics[0]!;
    expect(fsync.count).toBe('1');
    expect(Number(fsync.sum)).toBeGreaterThanOrEqual(3);
    expect(fsync.buckets!['1']).toBe('0');
    expect(fsync.buckets!['+Inf']).toBe('1');
    // parse-prometheus-text-format folds labelled histograms into one (a known limit of it): read those lines directly.
    expect(families.get('ack_latency')!.type).toBe('HISTOGRAM');
    expect(text).toMatch(/^ack_latency_count\{key="1"\} 1$/m);
    expect(text).toMatch(/^ack_latency_count\{key="2"\} 1$/m);
    for (const name of LEADER_NAMES) expect(families.has(name), name).toBe(true);
    expect(families.get('learners')!.metrics[0]!.value).toBe('2');
    expect(families.get('synced_observers')!.metrics[0]!.value).toBe('1');
    expect(tel.prometheus.contentType).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(await tel.prometheus.collect()).toContain('# TYPE proposal_count counter');
    await tel.shutdown();
  });

  it('names and label values are escaped so that any parser reads them back', () => {
    const text = renderPrometheusText([], {
      specs: [{ name: 'odd.name-1', kind: 'counter', unit: '1', on: 'all', help: 'line one\nline "two" \\ three' }],
      bucketsOf: () => [],
    });
    const families = parsePrometheus(text);
    expect(families.get('odd_name_1')).toMatchObject({ type: 'COUNTER', help: 'line one\nline "two" \\ three', metrics: [{ value: '0' }] });
  });
});
