/** `zablab server --config zoo.cfg`: one server in the foreground until SIGTERM or SIGINT. */
import { loadConfig } from '../../server/config.js';
import { ExitCode } from '../../server/fatal.js';
import { StorageError } from '../../storage/index.js';
import { createLogger, isLogLevel, LOG_LEVEL_ENV, LOG_LEVELS, type Logger, type LogLevel } from '../../server/log.js';
import { teeToOtelLogs } from '../../telemetry/log-bridge.js';
import { exportRequested } from '../../telemetry/otel-env.js';
import { UsageError, type CliCommand, type CliIO, type ParsedArgs } from '../registry.js';

/** A server that has not closed this long after SIGTERM is abandoned (exit 1). */
export const SHUTDOWN_TIMEOUT_MS = 15_000;
/**
 * What the SDK has not exported this long after the server closed is dropped: a stop must
 * not wait on a collector that is gone (the OTLP exporters retry for up to 10 s each).
 */
export const OTEL_SHUTDOWN_TIMEOUT_MS = 5_000;

export const serverCommand: CliCommand = {
  name: 'server',
  summary: 'run one zablab server in the foreground',
  description: [
    'Runs one server as zoo.cfg says: standalone when the file lists no server.N lines,',
    'otherwise as member <myid> of the ensemble (dataDir/myid holds the id). Settings',
    'ZooKeeper knows but zablab does not implement are reported as warnings, except quorum',
    'security settings (ssl.quorum.*, quorum.auth.*), which stop it: ignoring one could leave',
    'the peer ports open.',
    'OpenTelemetry export (traces and metrics over OTLP http/protobuf, http/json or grpc) is',
    "configured by the standard OTEL_* variables, as in any OpenTelemetry Node service; it",
    'starts when an exporter other than none or an OTLP endpoint is set.',
    `Stops cleanly on SIGTERM or SIGINT. Log level: --log-level or $${LOG_LEVEL_ENV} (${LOG_LEVELS.join(', ')}).`,
  ].join('\n'),
  options: {
    config: { type: 'string', short: 'c', valueName: '<zoo.cfg>', description: 'ZooKeeper-style config file', required: true },
    'log-level': { type: 'string', valueName: '<level>', description: `log level: ${LOG_LEVELS.join(', ')} (default: info)` },
  },
  run: runServer,
};

async function runServer(args: ParsedArgs, io: CliIO): Promise<number> {
  const level = logLevel(args, io);
  const cfg = loadConfig(args.string('config')!);
  const baseLog = createLogger({ serverId: cfg.serverId, level: level.level });
  // The SDK is loaded only when asked for: it is large, and most servers (tests, benchmarks) export nothing.
  // Its own warnings go to the plain log: a failing log export must not log into itself.
  const otel = exportRequested(process.env) ? (await import('../../telemetry/node-sdk.js')).startNodeSdk({ serverId: cfg.serverId, warn: (m) => baseLog.warn(m) }) : null;
  const log = otel === null ? baseLog : teeToOtelLogs(baseLog, otel.logger, level.level, cfg.serverId);
  if (level.warning !== undefined) log.warn(level.warning);
  for (const w of cfg.warnings) log.warn(w);

  // Listen for signals before starting, so that one arriving mid-start still stops us cleanly.
  const stop = waitForStopSignal(log);
  try {
    const { startServer } = await import('../../server/index.js');
    let server;
    try {
      server = await startServer(cfg, otel === null ? { log } : { log, otel });
    } catch (err) {
      // A data directory the server cannot use (damaged, unreadable): one line, and
      // ZooKeeper's exit code for it, so that supervisors and scripts can tell.
      if (!(err instanceof StorageError)) throw err;
      log.error(err.message);
      return err.code === 'ZABLAB_STORAGE_DAMAGED' || err.code === 'ZABLAB_STORAGE_IO' ? ExitCode.UNABLE_TO_ACCESS_DATADIR : ExitCode.UNEXPECTED_ERROR;
    }
    const signal = await stop.signal;
    log.info('shutting down', { signal });
    const closed = await withTimeout(server.close(), SHUTDOWN_TIMEOUT_MS);
    if (!closed) {
      log.error('server did not close in time; exiting anyway', { timeoutMs: SHUTDOWN_TIMEOUT_MS });
      return 1;
    }
  } finally {
    stop.dispose();
    // What the server's last spans and metrics left in the SDK's batches goes out now.
    if (otel !== null) {
      const done = await withTimeout(otel.shutdown(), OTEL_SHUTDOWN_TIMEOUT_MS).catch((err: unknown) => baseLog.warn('OpenTelemetry SDK failed to shut down', { error: String(err) }));
      if (done === false) baseLog.warn('OpenTelemetry SDK did not export everything in time; the rest is dropped', { timeoutMs: OTEL_SHUTDOWN_TIMEOUT_MS });
    }
  }
  log.info('stopped');
  return 0;
}

/** true when `p` settles first, false after `ms`. */
async function withTimeout(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function logLevel(args: ParsedArgs, io: CliIO): { level: LogLevel; warning?: string } {
  const flag = args.string('log-level');
  if (flag !== undefined) {
    const v = flag.toLowerCase();
    if (!isLogLevel(v)) {
      throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${flag}"`, 'zablab server --help');
    }
    return { level: v };
  }
  const env = io.env[LOG_LEVEL_ENV];
  if (env === undefined || env.trim() === '') return { level: 'info' };
  const v = env.trim().toLowerCase();
  if (isLogLevel(v)) return { level: v };
  return { level: 'info', warning: `${LOG_LEVEL_ENV}="${env}" is not one of ${LOG_LEVELS.join(', ')}; using info` };
}

/** SIGTERM/SIGINT resolve `signal`; a second one while closing exits at once. */
function waitForStopSignal(log: Logger): { signal: Promise<NodeJS.Signals>; dispose(): void } {
  let received: NodeJS.Signals | undefined;
  let resolve!: (s: NodeJS.Signals) => void;
  const signal = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const onSignal = (s: NodeJS.Signals): void => {
    if (received !== undefined) {
      log.warn('second signal while shutting down; exiting now', { signal: s });
      process.exit(1);
    }
    received = s;
    resolve(s);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal,
    dispose: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}
