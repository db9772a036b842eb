/**
 * zablab's log lines as OpenTelemetry log records too, for OTEL_LOGS_EXPORTER: each line
 * the log writes is also emitted to the process's LoggerProvider (the NodeSDK's, or a no-op
 * one), with its fields as attributes. The log itself is unchanged.
 */
import { SeverityNumber, type AnyValue, type LogAttributes, type Logger as OtelLogger } from '@opentelemetry/api-logs';

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

/** The shape of zablab's Logger (src/server/log.ts). */
export interface LevelLogger {
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
}

const SEVERITY: Record<LogLevelName, SeverityNumber> = {
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
};
const RANK: Record<LogLevelName, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function attributeValue(v: unknown): AnyValue {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Error) return v.message;
  if (v === null) return null;
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

function attributes(fields: object | undefined, serverId: number): LogAttributes {
  const out: LogAttributes = { 'zab.server.id': serverId };
  if (fields === undefined) return out;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = attributeValue(v);
  return out;
}

/** `log`, also emitting each line at `level` or above to `otel`. */
export function teeToOtelLogs<L extends LevelLogger>(log: L, otel: OtelLogger, level: LogLevelName, serverId: number): L {
  const emit = (l: LogLevelName, msg: string, fields?: object): void => {
    log[l](msg, fields);
    if (RANK[l] < RANK[level]) return;
    otel.emit({ severityNumber: SEVERITY[l], severityText: l.toUpperCase(), body: msg, attributes: attributes(fields, serverId) });
  };
  return {
    ...log,
    debug: (msg: string, fields?: object) => emit('debug', msg, fields),
    info: (msg: string, fields?: object) => emit('info', msg, fields),
    warn: (msg: string, fields?: object) => emit('warn', msg, fields),
    error: (msg: string, fields?: object) => emit('error', msg, fields),
  };
}
