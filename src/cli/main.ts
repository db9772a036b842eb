#!/usr/bin/env node
/** The `zablab` command (package.json "bin"). */
import { loadCommands } from './commands/index.js';
import { runCli, type CliProgram } from './registry.js';
import { packageVersion } from './version.js';

const program: CliProgram = {
  name: 'zablab',
  version: packageVersion(),
  summary: 'a ZooKeeper-compatible coordination server whose every ZAB step is observable, and its benchmark harness',
  commands: await loadCommands(process.argv[2]),
};

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

const code = await runCli(program, process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  env: process.env,
});
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
// Exit explicitly: a command is done when it returns, whatever timers or sockets remain.
process.exit(code);
