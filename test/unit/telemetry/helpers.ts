/** ServerTelemetry wired to an in-memory span exporter, and the ZAB steps a server reports. */
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { OpCode, encodeLoggedTxn } from '../../../src/jute/index.js';
import { setupTelemetry, type ServerTelemetry, type TelemetryEnv, type TracedRequest } from '../../../src/telemetry/index.js';
import type { Txn } from '../../../src/zab/index.js';

export interface Traced {
  tel: ServerTelemetry;
  spans(): ReadableSpan[];
  named(name: string): ReadableSpan[];
  metrics(): Map<string, number>;
}

export function traced(serverId: number, env: TelemetryEnv = {}): Traced {
  const exporter = new InMemorySpanExporter();
  const tel = setupTelemetry({ serverId, env, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return {
    tel,
    spans: () => exporter.getFinishedSpans(),
    named: (name) => exporter.getFinishedSpans().filter((s) => s.name === name),
    metrics: () => new Map(tel.monitorValues()),
  };
}

export function request(type: number, path: string | null, sessionId = 0x1234n, cxid = 1): TracedRequest {
  let body = Buffer.alloc(0);
  if (path !== null) {
    body = Buffer.alloc(4 + Buffer.byteLength(path) + 4);
    body.writeInt32BE(Buffer.byteLength(path), 0);
    body.write(path, 4);
  }
  return { sessionId, cxid, type, body, receivedAtMs: performance.now() };
}

/** A setData txn as the leader logs and proposes it. */
export function setDataTxn(zxid: bigint, trace?: string, timeMs = Date.now()): Txn {
  const data = encodeLoggedTxn({
    hdr: { clientId: 0x1234n, cxid: 1, zxid, time: BigInt(timeMs), type: OpCode.setData },
    body: { type: OpCode.setData, record: { path: '/a', data: Buffer.from('v'), version: 1 } },
  });
  return trace === undefined ? { zxid, data } : { zxid, data, trace };
}

export function lead(tel: ServerTelemetry, id: number, epoch = 1n): void {
  tel.peerEvent({ kind: 'looking', electionEpoch: 1n, reason: 'startup' });
  tel.peerEvent({ kind: 'elected', leader: id, electionEpoch: 1n, state: 'LEADING', votesReceived: 3, ticks: 4 });
  tel.peerEvent({ kind: 'discovered', epoch, leader: id });
  tel.peerEvent({ kind: 'synced', epoch, leader: id, mode: null });
  tel.peerEvent({ kind: 'serving', epoch, leader: id, state: 'LEADING' });
}

export function learn(tel: ServerTelemetry, leader: number, state: 'FOLLOWING' | 'OBSERVING', epoch = 1n): void {
  tel.peerEvent({ kind: 'looking', electionEpoch: 1n, reason: 'startup' });
  tel.peerEvent({ kind: 'elected', leader, electionEpoch: 1n, state, votesReceived: 3, ticks: 4 });
  tel.peerEvent({ kind: 'discovered', epoch, leader });
  tel.messageReceived(leader, { kind: 'diff', zxid: 0n });
  tel.peerEvent({ kind: 'synced', epoch, leader, mode: 'DIFF' });
  tel.peerEvent({ kind: 'serving', epoch, leader, state });
}
