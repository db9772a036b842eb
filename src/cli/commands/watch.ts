/** `zablab watch --dir DIR`: the live view of an ensemble started with `zablab ensemble up`. */
import path from 'node:path';
import { LivePoller, LiveServer, LiveState, livePort, watchedEnsemble } from '../../harness/live/index.js';
import type { CliCommand, CliIO, ParsedArgs } from '../registry.js';

export const watchCommand: CliCommand = {
  name: 'watch',
  summary: 'serve a live view of an ensemble started with `zablab ensemble up`',
  description: [
    'Serves a page on 127.0.0.1 (prints `live: http://127.0.0.1:PORT/`) that updates twice a',
    'second: each server\'s role, epoch, zxid and whether it serves (srvr), outstanding requests',
    '(mntr), leader changes, and the waterfall of a recent sampled write built from the spans',
    'files, when the servers write them: start the ensemble with ZABLAB_SPANS_DIR=DIR set',
    '(ensemble.json records it) or pass --spans DIR. Throughput and latency per op need the',
    'clients: `zablab bench --live` shows them. Runs until Ctrl-C.',
  ].join('\n'),
  options: {
    dir: { type: 'string', short: 'd', valueName: '<DIR>', description: 'the ensemble directory (holds ensemble.json)', required: true },
    port: { type: 'string', valueName: '<port>', description: 'port of the page on 127.0.0.1 (default: a free port)' },
    spans: { type: 'string', valueName: '<DIR>', description: 'the servers\' spans directory (default: the one ensemble.json records)' },
  },
  run: async (args: ParsedArgs, io: CliIO): Promise<number> => {
    const dir = args.string('dir')!;
    const spans = args.string('spans');
    const ensemble = watchedEnsemble(dir, spans === undefined ? null : path.resolve(spans));
    const state = new LiveState('watch');
    const server = await LiveServer.start(state, livePort(args.string('port') ?? '', '--port'), `zablab watch: ${path.basename(path.resolve(dir))}`);
    const poller = new LivePoller(ensemble, state).start();
    io.stdout(`live: ${server.url}\n`);
    io.stderr(`watching ${ensemble.members.length} servers of ${path.resolve(dir)}${ensemble.spansDir === null ? ' (no spans directory: no waterfall)' : ''}; Ctrl-C stops\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await poller.stop();
    await server.close();
    return 0;
  },
};
