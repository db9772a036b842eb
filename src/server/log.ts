/**
 * A tiny structured logger: one line per event on stderr,
 * `<ISO time> <LEVEL> [myid:<id>] <message> key=value ...`.
 * Cheap enough to leave in hot paths at debug level (filtered before formatting).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
}

export interface LoggerOptions {
  serverId?: number;
  /** Default: $ZABLAB_LOG_LEVEL, else 'info'. */
  level?: LogLevel;
  /** Default: process.stderr. */
  write?: (line: string) => void;
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const LOG_LEVEL_ENV = 'ZABLAB_LOG_LEVEL';

/** Longest field value written; a runaway value (a whole znode, a stack) must not flood the log. */
const FIELD_VALUE_MAX_CHARS = 2048;

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/** The level named by $ZABLAB_LOG_LEVEL (case-insensitive), or undefined when unset or invalid. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel | undefined {
  const v = env[LOG_LEVEL_ENV]?.trim().toLowerCase();
  return v !== undefined && isLogLevel(v) ? v : undefined;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const threshold = rank[opts.level ?? logLevelFromEnv() ?? 'info'];
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const who = opts.serverId === undefined ? '' : ` [myid:${opts.serverId}]`;
  const emit = (level: LogLevel, msg: string, fields?: object): void => {
    if (rank[level] < threshold) return;
    write(`${new Date().toISOString()} ${level.toUpperCase()}${who} ${msg}${formatFields(fields)}\n`);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

function formatFields(fields: object | undefined): string {
  if (fields === undefined) return '';
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out += ` ${k}=${formatValue(v)}`;
  }
  return out;
}

function formatValue(v: unknown): string {
  let s: string;
  if (v instanceof Error) s = v.message;
  else if (typeof v === 'string') s = v;
  else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null) s = String(v);
  else {
    try {
      s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  if (s.length > FIELD_VALUE_MAX_CHARS) s = `${s.slice(0, FIELD_VALUE_MAX_CHARS)}...(${s.length} chars)`;
  // Quote only when needed so that the common case stays grep-friendly.
  return s === '' || /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}
