/** zablab's log lines as OpenTelemetry log records (OTEL_LOGS_EXPORTER), through a real SDK LoggerProvider. */
import { SeverityNumber } from '@opentelemetry/api-logs';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/server/log.js';
import { teeToOtelLogs } from '../../../src/telemetry/log-bridge.js';

describe('teeToOtelLogs', () => {
  it('each line at the log level or above: written as before and emitted with severity, body, fields and server id', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    const lines: string[] = [];
    const base = createLogger({ serverId: 3, level: 'info', write: (l) => lines.push(l) });
    const log = teeToOtelLogs(base, provider.getLogger('zablab'), 'info', 3);

    log.debug('not at this level', { x: 1 });
    log.info('serving', { mode: 'standalone', zxid: 5n, port: 2181 });
    log.warn('disk slow', { error: new Error('EIO'), detail: { ms: 12 } });
    await provider.forceFlush();

    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('INFO [myid:3] serving mode=standalone zxid=5 port=2181');
    const records = exporter.getFinishedLogRecords();
    expect(records.map((r) => [r.severityNumber, r.severityText, r.body])).toEqual([
      [SeverityNumber.INFO, 'INFO', 'serving'],
      [SeverityNumber.WARN, 'WARN', 'disk slow'],
    ]);
    expect(records[0]!.attributes).toEqual({ 'zab.server.id': 3, mode: 'standalone', zxid: '5', port: 2181 });
    expect(records[1]!.attributes).toEqual({ 'zab.server.id': 3, error: 'EIO', detail: '{"ms":12}' });
    await provider.shutdown();
  });
});
