#!/usr/bin/env node
/** The `zablab` command (package.json "bin"). */
import fs from 'node:fs';
import { commands } from './commands/index.js';
import { runCli, type CliProgram } from './registry.js';

/** package.json sits two levels up from both src/cli/main.ts and dist/cli/main.js. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

const program: CliProgram = {
  name: 'zablab',
  version: packageVersion(),
  summary: 'a ZooKeeper-compatible coordination server whose every ZAB step is observable, and its benchmark harness',
  commands,
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
