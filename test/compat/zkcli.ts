/**
 * Apache's command-line client, zkCli.sh (the Java client), run once per call: with `args` as
 * one command, or with a script (one command a line) on stdin. Output is parsed by the suites.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findZooKeeper } from '../../src/harness/drivers/zookeeper.js';

const CLI_TIMEOUT_MS = 60_000;
const OUTPUT_MAX_BYTES = 1 << 20;

export function zkCliPath(): string | null {
  const home = process.env['ZOOKEEPER_HOME'];
  const candidates = [
    ...(home !== undefined && home !== '' ? [path.join(home, 'bin', 'zkCli.sh')] : []),
    '/usr/share/zookeeper/bin/zkCli.sh',
  ];
  return candidates.find((p) => fs.existsSync(p)) ?? null;
}

export interface CliRun {
  code: number | null;
  /** stdout and stderr interleaved as written (zkCli prints results to both). */
  output: string;
  /** output without the connection banner, the watcher lines and SLF4J noise. */
  lines: string[];
}

/** Runs zkCli.sh once: with `args` as one command, or with `script` (one command a line) on stdin. */
export async function zkCli(cli: string, server: string, args: string[], script?: string, jvmFlags: string[] = []): Promise<CliRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-zkcli-'));
  const outFile = path.join(dir, 'out.txt');
  const fd = fs.openSync(outFile, 'w');
  try {
    // One file for both streams keeps "Created /x" (stderr) and results (stdout) in order.
    const child = spawn(cli, ['-server', server, ...args], {
      stdio: [script === undefined ? 'ignore' : 'pipe', fd, fd],
      env: { ...process.env, JVMFLAGS: ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', ...jvmFlags].join(' ') },
    });
    if (script !== undefined) child.stdin?.end(`${script}\nquit\n`);
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`zkCli.sh ${args.join(' ')} did not finish within ${CLI_TIMEOUT_MS} ms`));
      }, CLI_TIMEOUT_MS);
      child.once('error', reject);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const output = fs.readFileSync(outFile, 'utf8').slice(0, OUTPUT_MAX_BYTES);
    return { code, output, lines: meaningfulLines(output) };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const noise = [/^SLF4J:/, /^Connecting to /, /^Welcome to ZooKeeper!/, /^JLine support/, /^WATCHER::/, /^WatchedEvent /, /^\s*$/];
function meaningfulLines(output: string): string[] {
  return output.split('\n').filter((l) => !noise.some((re) => re.test(l)));
}

/**
 * JVM flags for a zkCli session over TLS (ClientCnxnSocketNetty with PEM stores). Debian's
 * zkCli.sh puts only zookeeper.jar on its classpath, and Netty's TLS needs netty-codec and
 * netty-resolver too: the java launcher takes the last -cp, so a full one is passed here
 * (without a logging backend, so that zkCli prints what it always prints).
 */
export function zkCliTlsFlags(stores: { keyStore: string; trustStore: string }): string[] {
  const install = findZooKeeper();
  const classpath = install.ok ? install.classpath.filter((j) => !/(slf4j-log4j|log4j-1|logback)[^/\\]*\.jar$/.test(j)) : [];
  return [
    '-cp',
    classpath.join(path.delimiter),
    '-Dzookeeper.client.secure=true',
    '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    `-Dzookeeper.ssl.keyStore.location=${stores.keyStore}`,
    '-Dzookeeper.ssl.keyStore.type=PEM',
    `-Dzookeeper.ssl.trustStore.location=${stores.trustStore}`,
    '-Dzookeeper.ssl.trustStore.type=PEM',
  ];
}
